/// A tiny, obviously correct bottom-up evaluator over the AST, used only as a test oracle.
///
/// It works on `Constant`s and name-to-value bindings, evaluates every rule of a stratum over the
/// whole database again and again until nothing changes (no deltas, no indexes, no planning), and
/// takes strata from `Stratifier.stratify`. Supported: positive atoms, negation, comparisons,
/// `X = expr`, integer arithmetic, and count/sum/min/max aggregates.
@testable import DQ

struct NaiveEvaluator {
  typealias Tuple = [Constant]
  typealias Binding = [String: Constant]

  struct Failure: Error, CustomStringConvertible {
    var description: String
  }

  /// Relation name to its set of tuples.
  private(set) var relations: [String: Set<Tuple>] = [:]
  /// For speed only: relation, column and value to the tuples having that value there.
  private var byColumn: [String: [Int: [Constant: [Tuple]]]] = [:]

  /// Evaluates `rules` (facts are rules with an empty body) to their least fixpoint.
  init(rules: [Rule]) throws {
    let strata: [Stratifier.Stratum]
    switch Stratifier.stratify(rules: rules) {
    case .success(let s): strata = s
    case .failure(let e): throw Failure(description: "not stratifiable: \(e.diagnostics.map(\.message))")
    }
    for stratum in strata {
      let members = Set(stratum.relations)
      let stratumRules = rules.filter { members.contains($0.head.name) }
      var changed = true
      while changed {
        changed = false
        for rule in stratumRules {
          for binding in try solve(rule.body, [:], outside: Set(rule.head.variables)) {
            let tuple = try rule.head.arguments.map { try value($0, binding) }
            if relations[rule.head.name, default: []].insert(tuple).inserted {
              changed = true
              for (column, v) in tuple.enumerated() { byColumn[rule.head.name, default: [:]][column, default: [:]][v, default: []].append(tuple) }
            }
          }
        }
      }
    }
  }

  func tuples(_ name: String) -> Set<Tuple> { relations[name] ?? [] }

  /// Every binding (extending `binding`) under which all `literals` hold. `outside` are the
  /// variables of the scopes around the literals (the head's, and for an aggregate's body
  /// those of every scope around its braces): with the literals' own, they group aggregates.
  func solve(_ literals: [Literal], _ binding: Binding, outside: Set<String> = []) throws -> [Binding] {
    var scope = outside
    for l in literals {
      if case .aggregate(let g) = l { scope.formUnion(g.result.variables) } else { scope.formUnion(l.variables) }
    }
    return try solve(literals, binding, scope: scope)
  }

  private func solve(_ literals: [Literal], _ binding: Binding, scope: Set<String>) throws -> [Binding] {
    if literals.isEmpty { return [binding] }
    // Take the first literal that can run now; a positive atom always can.
    guard let i = literals.firstIndex(where: { isReady($0, binding, scope) }) else {
      throw Failure(description: "no literal can run in \(literals.map(\.description))")
    }
    var rest = literals
    let literal = rest.remove(at: i)
    var out: [Binding] = []
    for b in try step(literal, binding, scope) { out += try solve(rest, b, scope: scope) }
    return out
  }

  private func isBound(_ t: Term, _ b: Binding) -> Bool { t.variables.allSatisfy { b[$0] != nil } }

  private func isReady(_ l: Literal, _ b: Binding, _ scope: Set<String>) -> Bool {
    switch l {
    case .positive: return true
    case .negative(let a, _):
      return a.arguments.allSatisfy { t in t.variables.allSatisfy { b[$0] != nil || $0.hasPrefix("_#") } }
    case .comparison(let op, let x, let y, _):
      if isBound(x, b) && isBound(y, b) { return true }
      if op != .equal { return false }
      if case .variable = x, isBound(y, b) { return true }
      if case .variable = y, isBound(x, b) { return true }
      return false
    case .aggregate(let g):
      // Ready once its grouping variables (those of the braces also in an enclosing scope) are.
      let groups = Set(g.body.flatMap(\.variables)).intersection(scope)
      return groups.allSatisfy { b[$0] != nil } && (g.result.variableName != nil || isBound(g.result, b))
    }
  }

  /// The bindings one literal allows, given `b`.
  private func step(_ l: Literal, _ b: Binding, _ scope: Set<String>) throws -> [Binding] {
    switch l {
    case .positive(let a):
      // Read only the tuples that agree on the first bound argument (a plain filter would do too).
      for (column, t) in a.arguments.enumerated() where isBound(t, b) {
        let key = try value(t, b)
        return (byColumn[a.name]?[column]?[key] ?? []).compactMap { unify(a.arguments, $0, b) }
      }
      return tuples(a.name).compactMap { unify(a.arguments, $0, b) }
    case .negative(let a, _):
      let matches = tuples(a.name).contains { unify(a.arguments, $0, b) != nil }
      return matches ? [] : [b]
    case .comparison(let op, let x, let y, _):
      if op == .equal, case .variable(let v, _) = x, b[v] == nil { return [b.merging([v: try value(y, b)]) { $1 }] }
      if op == .equal, case .variable(let v, _) = y, b[v] == nil { return [b.merging([v: try value(x, b)]) { $1 }] }
      return try Self.holds(op, value(x, b), value(y, b)) ? [b] : []
    case .aggregate(let g):
      // Distinct bindings of the variables local to the braces.
      let inner = try solve(g.body, b, outside: scope)
      let local = Set(g.body.flatMap(\.variables)).filter { b[$0] == nil }.sorted()
      var seen = Set<[Constant?]>()
      var distinct: [Binding] = []
      for i in inner where seen.insert(local.map { i[$0] }).inserted { distinct.append(i) }
      let result: Constant
      switch g.function {
      case .count:
        result = .integer(Int64(distinct.count))
      case .sum:
        var total: Int64 = 0
        for d in distinct {
          guard case .integer(let v) = try value(g.value!, d) else { throw Failure(description: "sum of a non-integer") }
          total += v
        }
        result = .integer(total)
      case .min, .max:
        let values = try distinct.map { try value(g.value!, $0) }
        guard var best = values.first else { return [] }
        for v in values.dropFirst() {
          let c = Self.compare(v, best)
          if (g.function == .min && c < 0) || (g.function == .max && c > 0) { best = v }
        }
        result = best
      }
      if case .variable(let v, _) = g.result, b[v] == nil { return [b.merging([v: result]) { $1 }] }
      return Self.holds(.equal, try value(g.result, b), result) ? [b] : []
    }
  }

  /// Matches terms against a tuple: bound terms must equal, unbound variables are bound.
  private func unify(_ terms: [Term], _ tuple: Tuple, _ b: Binding) -> Binding? {
    var out = b
    for (t, c) in zip(terms, tuple) {
      if case .variable(let v, _) = t {
        if let existing = out[v] {
          if existing != c { return nil }
        } else {
          out[v] = c
        }
      } else {
        guard let v = try? value(t, out), v == c else { return nil }
      }
    }
    return out
  }

  /// The value of a term under a binding (integer arithmetic only).
  func value(_ t: Term, _ b: Binding) throws -> Constant {
    switch t {
    case .variable(let v, _):
      guard let c = b[v] else { throw Failure(description: "unbound \(v)") }
      return c
    case .constant(let c, _): return c
    case .negate(let x, _):
      guard case .integer(let i) = try value(x, b) else { throw Failure(description: "negate a non-integer") }
      return .integer(-i)
    case .binary(let op, let x, let y, _):
      guard case .integer(let i) = try value(x, b), case .integer(let j) = try value(y, b) else {
        throw Failure(description: "arithmetic on a non-integer")
      }
      switch op {
      case .add: return .integer(i + j)
      case .subtract: return .integer(i - j)
      case .multiply: return .integer(i * j)
      case .divide: return .integer(i / j)  // Swift truncates toward zero, as dq does.
      case .modulo:
        let m = i % j
        return .integer(m != 0 && (m < 0) != (j < 0) ? m + j : m)
      }
    }
  }

  // MARK: - The contract's value order

  static func rank(_ c: Constant) -> Int {
    switch c {
    case .integer, .decimal: return 0
    case .date: return 1
    case .symbol: return 2
    }
  }

  /// Numbers < dates < symbols; numbers numerically, dates by day, symbols by code points.
  static func compare(_ a: Constant, _ b: Constant) -> Int {
    if rank(a) != rank(b) { return rank(a) < rank(b) ? -1 : 1 }
    switch (a, b) {
    case (.integer(let x), .integer(let y)): return x < y ? -1 : (x > y ? 1 : 0)
    case (.date(let x), .date(let y)): return x < y ? -1 : (x > y ? 1 : 0)
    case (.symbol(let x), .symbol(let y)):
      let u = Array(x.unicodeScalars.map(\.value)), v = Array(y.unicodeScalars.map(\.value))
      return u.lexicographicallyPrecedes(v) ? -1 : (u == v ? 0 : 1)
    default:
      let x = number(a), y = number(b)
      return x < y ? -1 : (x > y ? 1 : 0)
    }
  }

  private static func number(_ c: Constant) -> Double {
    switch c {
    case .integer(let i): return Double(i)
    case .decimal(let d): return d
    default: return .nan
    }
  }

  /// `=` and `!=` are identity (1 and 1.0 differ); the others follow the value order.
  static func holds(_ op: ComparisonOperator, _ a: Constant, _ b: Constant) -> Bool {
    let c = compare(a, b)
    switch op {
    case .equal: return a == b
    case .notEqual: return a != b
    case .less: return c < 0
    case .lessEqual: return c <= 0
    case .greater: return c > 0
    case .greaterEqual: return c >= 0
    }
  }
}
