/// Provenance: explains each answer of a query as a derivation tree, down to base facts and
/// the sentences they cite.
///
/// A derived tuple at row r of its relation was produced in a semi-naive round from tuples of
/// its own stratum that were already present, so at rows below r. Searching only such body
/// bindings gives a derivation that never goes round in a circle.
public struct Explainer {
  let session: Session
  /// Levels of rules shown before the tree is cut.
  public var maxDepth: Int
  /// Answers explained at most.
  public var maxAnswers: Int
  private let budget: Budget
  private let strata: [String: Int]
  /// When set, the trees are also drawn here, one node per line of the text (`.why --graph`).
  private var drawing: Drawing?

  public init(session: Session, maxDepth: Int = 6, maxAnswers: Int = 20) {
    self.session = session
    self.maxDepth = maxDepth
    self.maxAnswers = maxAnswers
    self.budget = session.makeBudget()
    var map: [String: Int] = [:]
    if case .success(let s) = Stratifier.stratify(rules: session.rules) {
      for (i, stratum) in s.enumerated() { for r in stratum.relations { map[r] = i } }
    }
    self.strata = map
  }

  private var store: ValueStore { session.database.store }

  // MARK: - Queries

  /// What `explain` says of a query with no answers.
  public static let noAnswers = "No answers, so nothing to explain.\n"

  /// The derivations of every answer of the query, as text.
  /// The derivations as a Graphviz DOT graph: one tree per answer, from the answer down to the
  /// facts, each derived tuple labelled with its rule; `noAnswers` when there are none.
  public func explainGraph(_ query: Query) throws(EvaluationError) -> String {
    var drawer = self
    let drawing = Drawing()
    drawer.drawing = drawing
    let text = try drawer.explain(query)
    if text == Self.noAnswers { return text }
    return drawing.dot(title: "\(query)")
  }

  public func explain(_ query: Query) throws(EvaluationError) -> String {
    let body = Self.nameAnonymous(query.body)
    let shown = query.shownVariables
    let all = body.variables
    let visible = all.filter { v in !v.hasPrefix("_#") && !isLocalToAggregate(v, body) }
    let rows = try session.bindings(of: body, variables: visible, budget: budget)
    if rows.isEmpty { return Self.noAnswers }
    var out = ""
    var seen: Set<[Value]> = []
    var explained = 0
    for row in rows {
      let binding = Dictionary(uniqueKeysWithValues: zip(visible, row))
      let key = shown.map { binding[$0] ?? 0 }
      guard seen.insert(key).inserted else { continue }
      if explained == maxAnswers {
        out += "… more answers not shown (at most \(maxAnswers)).\n"
        break
      }
      explained += 1
      let title = shown.isEmpty ? "true" : shown.map { "\($0) = \(store.source(binding[$0] ?? 0))" }.joined(separator: ", ")
      out += (explained > 1 ? "\n" : "") + "Answer \(explained): \(title)\n"
      let root = drawing?.node("Answer \(explained)\n\(title)", shape: "doubleoctagon", parent: nil)
      out += try explainLiterals(body, binding, prefix: "", depth: 0, parent: root)
    }
    return out
  }

  private func isLocalToAggregate(_ v: String, _ body: [Literal]) -> Bool {
    for l in body {
      if case .aggregate(let g) = l, !g.result.variables.contains(v) {
        let outside = Safety.variablesOutside(g, in: body, head: nil)
        if g.body.contains(where: { $0.variables.contains(v) }) && !outside.contains(v) { return true }
      }
    }
    return false
  }

  /// Gives each `_` in a positive atom a name, so the atom's whole tuple can be shown.
  private static func nameAnonymous(_ body: [Literal]) -> [Literal] {
    var fresh = 0
    return body.map { l in
      guard case .positive(var a) = l else { return l }
      a.arguments = a.arguments.map { t in
        if case .variable(let v, let s) = t, v.hasPrefix("_#") {
          fresh += 1
          return .variable("_Any\(fresh)#", s)
        }
        return t
      }
      return .positive(a)
    }
  }

  // MARK: - Trees

  private func explainLiterals(
    _ body: [Literal], _ binding: [String: Value], prefix: String, depth: Int, parent: Int?
  ) throws(EvaluationError) -> String {
    var out = ""
    for (i, l) in body.enumerated() {
      let last = i == body.count - 1
      let branch = prefix + (last ? "└─ " : "├─ ")
      let below = prefix + (last ? "   " : "│  ")
      switch l {
      case .positive(let a):
        let tuple = a.arguments.map { t in value(t, binding) }
        if tuple.contains(where: { $0 == nil }) {
          out += branch + "\(a)\n"
          drawing?.node("\(a)", shape: "box", parent: parent)
          continue
        }
        out += try explainTuple(a.name, tuple.compactMap { $0 }, branch: branch, below: below, depth: depth, parent: parent)
      case .negative(let a, _):
        out += branch + "not \(substitute(.positive(a), binding)): no such tuple\n"
        drawing?.node("not \(substitute(.positive(a), binding))\nno such tuple", shape: "box", style: "dashed", parent: parent)
      case .comparison:
        out += branch + "\(substitute(l, binding))\n"
        drawing?.node("\(substitute(l, binding))", shape: "plaintext", parent: parent)
      case .aggregate(let g):
        let result = value(g.result, binding).map(store.source) ?? "?"
        let what = g.function == .count ? "bindings counted" : "over the distinct bindings of its body"
        out += branch + "\(substitute(l, binding))  (\(g.function.rawValue) = \(result), \(what))\n"
        drawing?.node("\(substitute(l, binding))\n\(g.function.rawValue) = \(result)", shape: "box", parent: parent)
      }
    }
    return out
  }

  /// One tuple: a fact with its citation, or the rule that derived it and its body, recursively.
  private func explainTuple(
    _ name: String, _ tuple: [Value], branch: String, below: String, depth: Int, parent: Int?
  ) throws(EvaluationError) -> String {
    let text = "\(name)(\(tuple.map(store.source).joined(separator: ", ")))"
    let db = session.database
    if db.isFact(name, tuple) {
      var out = branch + text + "   fact\n"
      var label = text + "\nfact"
      if let c = db.citation(of: name, tuple) {
        out += below + "    \(c.file): “\(c.quote)”\n"
        label += "\n\(c.file)"
      }
      drawing?.node(label, shape: "box", style: "filled", parent: parent)
      return out
    }
    guard let table = db.tables[name], let row = table.rows.find(tuple) else {
      drawing?.node(text + "\n(not derived)", shape: "box", style: "dashed", parent: parent)
      return branch + text + "   (not derived)\n"
    }
    for (k, rule) in session.rules.enumerated() where rule.head.name == name {
      guard let (binding, body) = try derivation(rule, tuple, belowRow: row) else { continue }
      let number = session.rules[0...k].filter { $0.head.name == name }.count
      let place = "\(rule.span.file.name):\(rule.span.line)"
      var out = branch + text + "   by rule \(name)#\(number) at \(place)\n"
      out += below + "│  \(rule)\n"
      let me = drawing?.node(text + "\nrule \(name)#\(number)", shape: "ellipse", parent: parent)
      if depth + 1 >= maxDepth {
        out += below + "└─ … (deeper steps hidden; raise the depth to see them)\n"
        drawing?.node("… deeper steps hidden", shape: "plaintext", parent: me)
        return out
      }
      out += try explainLiterals(body, binding, prefix: below, depth: depth + 1, parent: me)
      return out
    }
    drawing?.node(text + "\n(no derivation found)", shape: "box", style: "dashed", parent: parent)
    return branch + text + "   (no derivation found)\n"
  }

  /// A binding of the rule's variables that derives `tuple` from tuples of its own stratum
  /// below `row`, or nil.
  private func derivation(_ rule: Rule, _ tuple: [Value], belowRow row: Int) throws(EvaluationError)
    -> ([String: Value], [Literal])?
  {
    var body = Self.nameAnonymous(rule.body)
    let shownBody = body
    for (t, v) in zip(rule.head.arguments, tuple) {
      let constant = Term.constant(store.decode(v), t.span)
      body.append(.comparison(.equal, t, constant, t.span))
    }
    let variables = body.variables.filter { !$0.hasPrefix("_#") && !isLocalToAggregate($0, body) }
    let myStratum = strata[rule.head.name]
    for candidate in try session.bindings(of: body, variables: variables, budget: budget) {
      let binding = Dictionary(uniqueKeysWithValues: zip(variables, candidate))
      var ok = true
      for l in body {
        guard case .positive(let a) = l, strata[a.name] == myStratum, let t = session.database.tables[a.name] else { continue }
        let instance = a.arguments.compactMap { value($0, binding) }
        guard instance.count == a.arity, let r = t.rows.find(instance), r < row || session.database.isFact(a.name, instance) else {
          ok = false
          break
        }
      }
      if ok { return (binding, shownBody) }
    }
    return nil
  }

  // MARK: - Substitution

  private func value(_ t: Term, _ binding: [String: Value]) -> Value? {
    switch t {
    case .variable(let v, _): return binding[v]
    case .constant(let c, _): return store.existingValue(c)
    default:
      guard case .constant(let c, _) = fold(substituteTerm(t, binding)) else { return nil }
      return store.existingValue(c)
    }
  }

  private func substituteTerm(_ t: Term, _ b: [String: Value]) -> Term {
    switch t {
    case .variable(let v, let s): return b[v].map { .constant(store.decode($0), s) } ?? t
    case .constant: return t
    case .binary(let op, let l, let r, let s): return .binary(op, substituteTerm(l, b), substituteTerm(r, b), s)
    case .negate(let x, let s): return .negate(substituteTerm(x, b), s)
    }
  }

  /// Folds integer arithmetic on constants (enough to show a derived value).
  private func fold(_ t: Term) -> Term {
    guard case .binary(let op, let l, let r, let s) = t,
      case .constant(.integer(let x), _) = fold(l), case .constant(.integer(let y), _) = fold(r)
    else { return t }
    switch op {
    case .add: let (v, o) = x.addingReportingOverflow(y); return o ? t : .constant(.integer(v), s)
    case .subtract: let (v, o) = x.subtractingReportingOverflow(y); return o ? t : .constant(.integer(v), s)
    case .multiply: let (v, o) = x.multipliedReportingOverflow(by: y); return o ? t : .constant(.integer(v), s)
    default: return t
    }
  }

  private func substitute(_ l: Literal, _ b: [String: Value]) -> Literal {
    switch l {
    case .positive(var a):
      a.arguments = a.arguments.map { substituteTerm($0, b) }
      return .positive(a)
    case .negative(var a, let s):
      a.arguments = a.arguments.map { substituteTerm($0, b) }
      return .negative(a, s)
    case .comparison(let op, let x, let y, let s):
      return .comparison(op, substituteTerm(x, b), substituteTerm(y, b), s)
    case .aggregate(var g):
      g.result = substituteTerm(g.result, b)
      g.body = g.body.map { substitute($0, b) }
      return .aggregate(g)
    }
  }
}

extension ValueStore {
  /// The value of a constant without interning anything new (nil for an unseen symbol).
  public func existingValue(_ c: Constant) -> Value? {
    if case .symbol(let s) = c { return existingSymbol(s) }
    return constant(c)
  }
}

/// The derivation trees of `.why --graph`: nodes with a label and a shape, each under its parent.
final class Drawing {
  private var lines: [String] = []
  private var count = 0

  /// Adds a node below `parent`; returns its number.
  @discardableResult
  func node(_ label: String, shape: String, style: String? = nil, parent: Int?) -> Int {
    count += 1
    let styled = style.map { ", style=\($0)" } ?? ""
    lines.append("  n\(count) [label=\(GraphDOT.quoted(label)), shape=\(shape)\(styled)];")
    if let parent { lines.append("  n\(parent) -> n\(count);") }
    return count
  }

  func dot(title: String) -> String {
    "// \(title.split(separator: "\n").joined(separator: " "))\ndigraph why {\n"
      + "  node [fontname=\"Helvetica\", fontsize=11];\n  edge [dir=back];\n"
      + lines.joined(separator: "\n") + "\n}\n"
  }
}
