/// Differential tests: the semi-naive engine (through `Session`) against `NaiveEvaluator` on
/// seeded random graphs, for recursive, mutually recursive, negated and aggregated programs.
import Testing

@testable import DQ

/// SplitMix64: a tiny deterministic generator, so a failing seed reproduces anywhere.
struct SplitMix64: RandomNumberGenerator {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

/// A random directed graph: 5 to 25 nodes, some edges (self-loops and repeats allowed).
struct RandomGraph {
  let seed: UInt64
  let nodes: Int
  let edges: [(Int, Int)]

  init(seed: UInt64) {
    var rng = SplitMix64(seed: seed)
    self.seed = seed
    let n = Int.random(in: 5...25, using: &rng)
    let count = Int.random(in: 0...(2 * n), using: &rng)
    var pairs: [(Int, Int)] = []
    for _ in 0..<count { pairs.append((Int.random(in: 0..<n, using: &rng), Int.random(in: 0..<n, using: &rng))) }
    nodes = n
    edges = pairs
  }

  var facts: String {
    (0..<nodes).map { "node(\($0))." }.joined(separator: " ") + "\n"
      + edges.map { "e(\($0.0), \($0.1))." }.joined(separator: " ") + "\n"
  }

  /// The facts cut into `parts` consecutive batches (nodes first, edges spread out).
  func batches(_ parts: Int) -> [String] {
    var out = [(0..<nodes).map { "node(\($0))." }.joined(separator: " ")]
    let size = max(1, (edges.count + parts - 1) / parts)
    var i = 0
    while i < edges.count {
      out.append(edges[i..<min(edges.count, i + size)].map { "e(\($0.0), \($0.1))." }.joined(separator: " "))
      i += size
    }
    return out
  }
}

/// A program run over each random graph, and the relations compared.
struct DifferentialProgram: Sendable, CustomTestStringConvertible {
  let name: String
  let rules: String
  let compared: [(name: String, arity: Int)]
  var testDescription: String { name }

  static let tc = "tc(X, Y) :- e(X, Y).\ntc(X, Z) :- tc(X, Y), e(Y, Z).\n"

  static let all: [DifferentialProgram] = [
    DifferentialProgram(name: "left-recursive closure", rules: tc, compared: [("tc", 2)]),
    DifferentialProgram(
      name: "right-recursive closure", rules: "tc(X, Y) :- e(X, Y).\ntc(X, Z) :- e(X, Y), tc(Y, Z).\n",
      compared: [("tc", 2)]),
    DifferentialProgram(
      name: "doubly recursive closure", rules: "tc(X, Y) :- e(X, Y).\ntc(X, Z) :- tc(X, Y), tc(Y, Z).\n",
      compared: [("tc", 2)]),
    DifferentialProgram(
      name: "same generation",
      rules: "sg(X, X) :- node(X).\nsg(X, Y) :- e(XP, X), sg(XP, YP), e(YP, Y).\n", compared: [("sg", 2)]),
    DifferentialProgram(
      name: "mutual recursion (odd and even walks)",
      rules: "odd(X, Y) :- e(X, Y).\nodd(X, Z) :- even(X, Y), e(Y, Z).\neven(X, Z) :- odd(X, Y), e(Y, Z).\n",
      compared: [("odd", 2), ("even", 2)]),
    DifferentialProgram(
      name: "stratified negation (unreachable pairs)",
      rules: tc + "un(X, Y) :- node(X), node(Y), not tc(X, Y).\ncyclic :- tc(X, X).\nacyclic :- not cyclic.\n",
      compared: [("tc", 2), ("un", 2), ("cyclic", 0), ("acyclic", 0)]),
    DifferentialProgram(
      name: "negation with anonymous variables",
      rules: "sink(X) :- node(X), not e(X, _).\nsource(X) :- node(X), not e(_, X).\n"
        + "isolated(X) :- sink(X), source(X).\nnoedges :- not e(_, _).\n",
      compared: [("sink", 1), ("source", 1), ("isolated", 1), ("noedges", 0)]),
    DifferentialProgram(
      name: "count (out-degree, reach size)",
      rules: tc + "deg(X, N) :- node(X), N = count : { e(X, _) }.\n"
        + "reach(X, N) :- node(X), N = count : { tc(X, Y) }.\nedges(N) :- N = count : { e(_, _) }.\n",
      compared: [("deg", 2), ("reach", 2), ("edges", 1)]),
    DifferentialProgram(
      name: "count over joins (the last atom's matching rows counted at once)",
      rules: tc + "two(X, N) :- node(X), N = count : { e(X, Y), e(Y, Z) }.\n"
        + "back(X, N) :- node(X), N = count : { tc(X, Y), e(Y, X) }.\n"
        + "pairs(N) :- N = count : { node(X), node(Y) }.\n"
        + "paths2(N) :- N = count : { e(X, Y), tc(Y, _) }.\n"
        + "loops(N) :- N = count : { e(X, Y), e(Y, X) }.\n",
      compared: [("two", 2), ("back", 2), ("pairs", 1), ("paths2", 1), ("loops", 1)]),
    DifferentialProgram(
      name: "min, max and sum over reachable nodes",
      rules: tc + "lo(X, M) :- node(X), M = min Y : { tc(X, Y) }.\n"
        + "hi(X, M) :- node(X), M = max Y : { tc(X, Y) }.\n"
        + "total(X, S) :- node(X), S = sum Y : { tc(X, Y) }.\n"
        + "weight(S) :- S = sum Y : { e(_, Y) }.\n",
      compared: [("lo", 2), ("hi", 2), ("total", 2), ("weight", 1)]),
    DifferentialProgram(
      name: "arithmetic in recursion (walk lengths up to 4)",
      rules: "len(X, Y, 1) :- e(X, Y).\nlen(X, Z, D) :- len(X, Y, D0), e(Y, Z), D0 < 4, D = D0 + 1.\n"
        + "short(X, Y, M) :- len(X, Y, _), M = min D : { len(X, Y, D) }.\n",
      compared: [("len", 3), ("short", 3)]),
    DifferentialProgram(
      name: "comparisons and joins (triangles, ordered pairs)",
      rules: "tri(X, Y, Z) :- e(X, Y), e(Y, Z), e(Z, X), X < Y, Y < Z.\n"
        + "up(X, Y) :- e(X, Y), X < Y.\nboth(X, Y) :- e(X, Y), e(Y, X), X != Y.\n"
        + "far(X, Y) :- e(X, Y), Y - X >= 3.\n",
      compared: [("tri", 3), ("up", 2), ("both", 2), ("far", 2)]),
    DifferentialProgram(
      name: "negation over aggregates over recursion",
      rules: tc + "deg(X, N) :- node(X), N = count : { tc(X, _) }.\n"
        + "top(X) :- deg(X, N), not bigger(N).\nbigger(N) :- deg(_, N), deg(_, M), M > N.\n",
      compared: [("deg", 2), ("top", 1), ("bigger", 1)]),
    DifferentialProgram(
      name: "points-to (mutual, non-linear; delta versions read fixed relations first)",
      rules: "pt(Y, X) :- e(Y, X), Y < X.\npt(Y, X) :- e(Z, Y), pt(Z, X).\n"
        + "hpt(H, W) :- e(Y, X), X < Y, pt(Y, H), pt(X, W).\n"
        + "pt(Y, W) :- e(X, Y), X > Y, pt(X, H), hpt(H, W).\n",
      compared: [("pt", 2), ("hpt", 2)]),
  ]
}

@Suite struct EvaluatorDifferentialTests {
  static let seeds: [UInt64] = Array(1...30)

  /// The answers of `?- name(V1, ..., Vn).` in the session, decoded.
  static func answers(
    _ session: Session, _ name: String, arity: Int, otherOrderMargin: Double = Budget.defaultOtherOrderMargin
  ) throws -> Set<[Constant]> {
    let variables = (0..<arity).map { "V\($0)" }
    let text = arity == 0 ? "?- \(name)." : "?- \(name)(\(variables.joined(separator: ", ")))."
    guard let query = TestDQ.query(text) else { throw NaiveEvaluator.Failure(description: "cannot parse \(text)") }
    let budget = Budget(maxTuples: 0, timeout: 0)
    budget.otherOrderMargin = otherOrderMargin
    let rows = try session.answers(query, budget: budget)
    return Set(rows.map { $0.map(session.database.store.decode) })
  }

  /// Differences between the engine and the oracle, as readable lines (empty when they agree).
  static func differences(
    _ session: Session, _ oracle: NaiveEvaluator, _ compared: [(name: String, arity: Int)],
    otherOrderMargin: Double = Budget.defaultOtherOrderMargin
  ) throws -> [String] {
    var out: [String] = []
    for (name, arity) in compared {
      let engine = try answers(session, name, arity: arity, otherOrderMargin: otherOrderMargin)
      let expected = oracle.tuples(name)
      if engine != expected {
        let missing = expected.subtracting(engine).map { "\($0)" }.sorted().prefix(5)
        let extra = engine.subtracting(expected).map { "\($0)" }.sorted().prefix(5)
        out.append("\(name): engine has \(engine.count), oracle \(expected.count); missing \(Array(missing)), extra \(Array(extra))")
      }
    }
    return out
  }

  @Test("Engine equals the naive oracle on 30 random graphs", arguments: DifferentialProgram.all)
  func engineMatchesOracle(_ program: DifferentialProgram) throws {
    let rules = TestDQ.rules(program.rules)
    var compared = 0
    var otherOrder = 0
    defer {
      #expect(compared > 0, "every relation of every seed was empty: the comparison proves nothing")
      // The second session runs delta versions in their other order (`RulePlan.alternative`)
      // whenever it can: in recursive programs with one, those runs are compared too.
      if program.name.hasPrefix("points-to") || program.name.hasPrefix("doubly") { #expect(otherOrder > 0) }
    }
    for seed in Self.seeds {
      let graph = RandomGraph(seed: seed)
      let oracle = try NaiveEvaluator(rules: TestDQ.rules(graph.facts) + rules)
      compared += program.compared.map { oracle.tuples($0.name).count }.reduce(0, +)
      for margin in [Budget.defaultOtherOrderMargin, 0] {
        let session = TestDQ.quietSession()
        let status = session.run(SourceFile(name: "graph.dq", text: graph.facts + program.rules))
        #expect(status == .ok, "seed \(seed)")
        let problems = try Self.differences(session, oracle, program.compared, otherOrderMargin: margin)
        if margin == 0 { otherOrder += session.database.alternativeRuns }
        #expect(
          problems.isEmpty,
          "seed \(seed), \(program.name), other-order margin \(margin):\n\(problems.joined(separator: "\n"))\n\(graph.facts)")
        if !problems.isEmpty { return }
      }
    }
  }

  @Test("Facts added between queries give the same answers as all at once", arguments: [0, 2, 5, 7, 8, 11].map { DifferentialProgram.all[$0] })
  func incrementalFactsMatchOracle(_ program: DifferentialProgram) throws {
    let rules = TestDQ.rules(program.rules)
    for seed in Self.seeds.prefix(15) {
      let graph = RandomGraph(seed: seed)
      let session = TestDQ.quietSession()
      #expect(session.run(SourceFile(name: "rules.dq", text: program.rules)) == .ok)
      var factsSoFar = ""
      for batch in graph.batches(3) {
        factsSoFar += batch + "\n"
        #expect(session.run(SourceFile(name: "batch.dq", text: batch)) == .ok)
        let oracle = try NaiveEvaluator(rules: TestDQ.rules(factsSoFar) + rules)
        let problems = try Self.differences(session, oracle, program.compared)
        #expect(problems.isEmpty, "seed \(seed), \(program.name), after\n\(factsSoFar):\n\(problems.joined(separator: "\n"))")
        if !problems.isEmpty { return }
      }
    }
  }

  @Test("Rules added after facts and queries give the same answers")
  func rulesAddedLater() throws {
    for seed in Self.seeds.prefix(10) {
      let graph = RandomGraph(seed: seed)
      let session = TestDQ.quietSession()
      #expect(session.run(SourceFile(name: "facts.dq", text: graph.facts)) == .ok)
      var rulesSoFar = ""
      for part in ["tc(X, Y) :- e(X, Y).", "un(X, Y) :- node(X), node(Y), not tc(X, Y).", "tc(X, Z) :- tc(X, Y), tc(Y, Z)."] {
        rulesSoFar += part + "\n"
        #expect(session.run(SourceFile(name: "rule.dq", text: part)) == .ok)
        let oracle = try NaiveEvaluator(rules: TestDQ.rules(graph.facts + rulesSoFar))
        let problems = try Self.differences(session, oracle, [("tc", 2), ("un", 2)])
        #expect(problems.isEmpty, "seed \(seed) after\n\(rulesSoFar):\n\(problems.joined(separator: "\n"))")
        if !problems.isEmpty { return }
      }
    }
  }

  @Test("The oracle itself agrees with hand-computed answers")
  func oracleSanity() throws {
    let oracle = try NaiveEvaluator(
      rules: TestDQ.rules(
        """
        e(1, 2). e(2, 3). e(3, 1). e(4, 4). node(1). node(2). node(3). node(4). node(5).
        tc(X, Y) :- e(X, Y).
        tc(X, Z) :- tc(X, Y), e(Y, Z).
        un(X) :- node(X), not tc(X, _).
        deg(X, N) :- node(X), N = count : { e(X, _) }.
        lo(X, M) :- node(X), M = min Y : { tc(X, Y) }.
        s(S) :- S = sum Y : { e(_, Y) }.
        """))
    #expect(oracle.tuples("tc").count == 10)
    #expect(oracle.tuples("un") == [[.integer(5)]])
    #expect(oracle.tuples("deg").contains([.integer(5), .integer(0)]))
    #expect(oracle.tuples("lo").count == 4)
    #expect(oracle.tuples("lo").contains([.integer(4), .integer(4)]))
    #expect(oracle.tuples("s") == [[.integer(10)]])
  }

  @Test("Engine equals the naive oracle on 600 random programs")
  func randomProgramsMatchOracle() throws {
    var checked = 0
    var nonEmpty: [String: Int] = [:]
    for seed in UInt64(1)...600 {
      var generator = RandomProgram(seed: seed)
      let text = generator.text()
      let session = TestDQ.quietSession()
      // Random rules can be unsafe; those are the resolver's business, not this test's.
      guard session.run(SourceFile(name: "random.dq", text: text)) == .ok else { continue }
      checked += 1
      let oracle = try NaiveEvaluator(rules: TestDQ.rules(text))
      for r in ["a", "b", "c"] where !oracle.tuples(r).isEmpty { nonEmpty[r, default: 0] += 1 }
      let problems = try Self.differences(session, oracle, [("a", 2), ("b", 2), ("c", 1)])
      #expect(problems.isEmpty, "seed \(seed):\n\(problems.joined(separator: "\n"))\n\(text)")
      if !problems.isEmpty { return }
    }
    #expect(checked > 300, "too few random programs were safe: \(checked)")
    // The programs must say something: most derive tuples at every level.
    #expect(["a", "b", "c"].allSatisfy { nonEmpty[$0, default: 0] > checked / 3 }, "\(nonEmpty) of \(checked)")
  }
}

extension EvaluatorDifferentialTests {
  @Test("Queries with aggregates nested two and three deep match the oracle")
  func nestedAggregateQueriesMatchOracle() throws {
    var answered = 0
    for seed in UInt64(1)...300 {
      var generator = RandomProgram(seed: seed)
      let program = generator.text()
      // The atom that binds X comes before the aggregate or after it (the planner must wait).
      let nested = generator.nestedAggregate("X")
      let query = seed % 2 == 0 ? "?- n(X), \(nested)." : "?- \(nested), n(X)."
      let session = TestDQ.quietSession()
      guard session.run(SourceFile(name: "random.dq", text: program)) == .ok else { continue }
      guard let q = TestDQ.query(query) else { Issue.record("cannot parse \(query)"); return }
      let engine = Set(try session.answers(q, budget: Budget(maxTuples: 0, timeout: 0)).map { $0.map(session.database.store.decode) })
      let oracle = try NaiveEvaluator(rules: TestDQ.rules(program))
      let expected = Set(try oracle.solve(q.body, [:]).map { b in q.shownVariables.compactMap { b[$0] } })
      if !expected.isEmpty { answered += 1 }
      #expect(engine == expected, "seed \(seed): \(query)\n\(program)")
      if engine != expected { return }
    }
    #expect(answered > 60, "too few queries had answers: \(answered)")
  }
}

/// A random stratified program over `e/2` and `n/1`: `a/2` may recurse, `b/2` reads `a` (with
/// negation, a count and arithmetic), `c/1` reads everything below it.
struct RandomProgram {
  var rng: SplitMix64
  init(seed: UInt64) { rng = SplitMix64(seed: seed) }

  private mutating func pick<T>(_ xs: [T]) -> T { xs[Int.random(in: 0..<xs.count, using: &rng)] }
  private mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &rng) < p }

  /// An argument: mostly variables, sometimes a constant or `_`.
  private mutating func argument(_ vars: [String]) -> String {
    if chance(0.15) { return String(Int.random(in: 0...4, using: &rng)) }
    if chance(0.1) { return "_" }
    return pick(vars)
  }

  private mutating func atom(_ name: String, _ arity: Int, _ vars: [String]) -> String {
    "\(name)(\((0..<arity).map { _ in argument(vars) }.joined(separator: ", ")))"
  }

  /// Variables of the body's positive atoms (the only ones that end up bound).
  private func positiveVariables(_ atoms: [String]) -> [String] {
    let names = ["X", "Y", "Z", "W"]
    return names.filter { v in atoms.contains { $0.contains("(\(v),") || $0.contains(" \(v),") || $0.contains(" \(v))") || $0.contains("(\(v))") } }
  }

  private mutating func rule(head: String, arity: Int, positives: [(String, Int)], negatable: [(String, Int)], extras: Bool) -> String {
    let vars = ["X", "Y", "Z", "W"]
    var body: [String] = []
    for _ in 0..<Int.random(in: 1...3, using: &rng) {
      let (name, n) = pick(positives)
      body.append(atom(name, n, vars))
    }
    var bound = positiveVariables(body)
    if bound.isEmpty { return "" }
    if !negatable.isEmpty && chance(0.4) {
      let (name, n) = pick(negatable)
      body.append("not " + atom(name, n, bound))
    }
    if chance(0.4) {
      let x = pick(bound), y = pick(bound)
      body.append("\(x) \(pick(["<", "!=", "<=", "=", ">"])) \(chance(0.3) ? String(Int.random(in: 0...4, using: &rng)) : y)")
    }
    if extras && chance(0.3) {
      body.append("V = \(pick(bound)) \(pick(["+", "-", "*"])) \(Int.random(in: 1...3, using: &rng))")
      bound.append("V")
    }
    if extras && chance(0.3) {
      let g = pick(bound)
      body.append("N = count : { \(pick(["e(\(g), _)", "a(\(g), _)", "a(_, \(g))", "n(\(g))", "e(\(g), W), a(W, _)", "a(_, W), e(W, \(g))", "n(W), e(\(g), W)"])) }")
      bound.append("N")
    }
    if extras && chance(0.3) {
      body.append(nestedAggregate(pick(bound)))
      bound.append("M")
    }
    let headArgs = (0..<arity).map { _ in chance(0.1) ? String(Int.random(in: 0...4, using: &rng)) : pick(bound) }
    return "\(head)(\(headArgs.joined(separator: ", "))) :- \(body.joined(separator: ", "))."
  }

  /// `M = ...` over an aggregate nested two or three deep whose inner braces use `g` (bound two
  /// or more levels out) and variables of the braces around them.
  mutating func nestedAggregate(_ g: String) -> String {
    let function = pick(["count", "sum P", "min P", "max P"])
    let inner = pick(["count", "sum Q", "min Q", "max Q"])
    let test = pick(["K > 0", "K >= 1", "K != 2", "K < 3"])
    return pick([
      "M = \(function) : { e(\(g), P), K = \(inner) : { a(P, Q), e(\(g), Q) }, \(test) }",
      "M = \(function) : { n(P), K = \(inner) : { e(\(g), Q), Q <= P }, \(test) }",
      "M = \(function) : { a(P, _), K = \(inner) : { a(\(g), Q), not e(Q, P) }, \(test) }",
      "M = \(function) : { e(P, \(g)), K = count : { n(Q), R = \(inner) : { e(P, Q), a(Q, \(g)) }, R > 0 }, \(test) }",
      "M = \(function) : { n(P), P != \(g), K = \(inner) : { e(P, Q), J = count : { a(Q, \(g)), e(\(g), P) }, J = 0 } }",
    ])
  }

  mutating func text() -> String {
    var lines: [String] = []
    for i in 0...4 where chance(0.7) { lines.append("n(\(i)).") }
    for _ in 0..<Int.random(in: 2...8, using: &rng) {
      lines.append("e(\(Int.random(in: 0...4, using: &rng)), \(Int.random(in: 0...4, using: &rng))).")
    }
    let base: [(String, Int)] = [("e", 2), ("n", 1)]
    lines.append(pick(["a(X, Y) :- e(X, Y).", "a(X, Y) :- e(Y, X).", "a(X, X) :- n(X).", "a(X, Y) :- e(X, Z), e(Z, Y)."]))
    for _ in 0..<Int.random(in: 1...3, using: &rng) {
      lines.append(rule(head: "a", arity: 2, positives: base + [("a", 2)], negatable: [("n", 1)], extras: false))
    }
    for _ in 0..<Int.random(in: 1...3, using: &rng) {
      lines.append(rule(head: "b", arity: 2, positives: base + [("a", 2)], negatable: [("a", 2), ("e", 2)], extras: true))
    }
    for _ in 0..<Int.random(in: 1...2, using: &rng) {
      lines.append(rule(head: "c", arity: 1, positives: base + [("a", 2), ("b", 2)], negatable: [("a", 2), ("b", 2)], extras: true))
    }
    // Make sure every compared relation exists, even when its rules came out empty.
    lines.append("a(9, 9) :- 0 = 1.\nb(9, 9) :- 0 = 1.\nc(9) :- 0 = 1.")
    return lines.filter { !$0.isEmpty }.joined(separator: "\n") + "\n"
  }
}
