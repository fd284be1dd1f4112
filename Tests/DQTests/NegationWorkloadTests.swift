/// What the negation workload's speed rests on: whole-tuple probes announced ahead
/// (`Executor.visitRowsProbingAhead`), rules that derive no tuple twice
/// (`BoundSteps.derivesDistinct`, `Relation.appendDistinct`) split across threads in the first
/// round (`DistinctSplit`), and small rounds kept on one thread. The same answers as the naive
/// evaluator, and the same rows in the same order for every thread count, on graphs large
/// enough that the loops run far past their look-ahead.
import Testing

@testable import DQ

@Suite struct NegationWorkloadTests {
  /// A random graph of `nodes` nodes and `edges` edges (repeats and self-loops allowed).
  static func graph(seed: UInt64, nodes: Int, edges: Int) -> String {
    var rng = SplitMix64(seed: seed)
    var text = (0..<nodes).map { "node(\($0))." }.joined(separator: " ") + "\n"
    for _ in 0..<edges {
      text += "e(\(Int.random(in: 0..<nodes, using: &rng)), \(Int.random(in: 0..<nodes, using: &rng))). "
    }
    return text + "\n"
  }

  /// Rules whose last step probes a relation for a whole tuple after a scan or a lookup: the
  /// tuple made of the row's columns (in and out of order), of earlier variables and of
  /// constants; a negation and a positive test; and heads that do and do not repeat tuples.
  static let rules = """
    tc(X, Y) :- e(X, Y).
    tc(X, Z) :- tc(X, Y), e(Y, Z).
    un(X, Y) :- node(X), node(Y), not tc(X, Y).
    back(X, Y) :- node(X), node(Y), not tc(Y, X), X != Y.
    both(X, Y) :- e(X, Y), e(Y, X).
    far(X, Y) :- node(X), tc(X, Y), not e(X, Y).
    nozero(X) :- node(X), not e(X, 0).
    reaches(X) :- node(X), node(Y), tc(X, Y).
    pair(X, Y, Z) :- tc(X, Y), e(Y, Z), not tc(Z, X).
    via(X, Z) :- e(X, Y), tc(Y, Z).
    two(X, Z) :- e(X, Y), e(Y, Z).
    deg(X, N) :- node(X), N = count : { tc(X, _) }.
    total(X, S) :- node(X), S = sum Y : { tc(X, Y) }.
    hi(X, M) :- node(X), M = max Z : { e(X, Y), tc(Y, Z) }.

    """

  static let compared: [(name: String, arity: Int)] = [
    ("tc", 2), ("un", 2), ("back", 2), ("both", 2), ("far", 2), ("nozero", 1), ("reaches", 1), ("pair", 3),
    ("via", 2), ("two", 2), ("deg", 2), ("total", 2), ("hi", 2),
  ]

  /// `ParallelRoundTests.run`, with probes announced ahead however small the relations.
  static func run(_ text: String, threads: Int, compared: [String]) -> ParallelRoundTests.Outcome {
    ParallelRoundTests.run(text, threads: threads, probeAheadFrom: 0, compared: compared)
  }

  @Test("Negations and tests over many bindings equal the naive evaluator", arguments: [UInt64(1), 2, 3])
  func manyBindingsMatchOracle(seed: UInt64) throws {
    let facts = Self.graph(seed: seed, nodes: 70, edges: 90)
    let oracle = try NaiveEvaluator(rules: TestDQ.rules(facts + Self.rules))
    let session = TestDQ.quietSession()
    session.options.probeAheadFrom = 0
    #expect(session.run(SourceFile(name: "graph.dq", text: facts + Self.rules)) == .ok)
    let problems = try EvaluatorDifferentialTests.differences(session, oracle, Self.compared)
    #expect(problems.isEmpty, "seed \(seed):\n\(problems.joined(separator: "\n"))")
    // Answers are sets: the relations themselves must hold no tuple twice either.
    for (name, _) in Self.compared {
      #expect(session.database.tables[name]?.rows.count == oracle.tuples(name).count, "seed \(seed): \(name)")
    }
    // The comparison means something: both kinds of result are there.
    #expect(oracle.tuples("un").count > 1000)
    #expect(oracle.tuples("tc").count > 500)
  }

  @Test("Rows and output are the same for 1, 2 and 4 threads", arguments: [UInt64(4), 5])
  func threadCountsAgree(seed: UInt64) {
    let text = Self.graph(seed: seed, nodes: 120, edges: 150) + Self.rules
      + "?- N = count : { un(X, Y) }.\n?- both(X, Y).\n?- pair(X, Y, Z), X < 3.\n"
    let names = Self.compared.map(\.name)
    let one = Self.run(text, threads: 1, compared: names)
    #expect(one.errors.isEmpty)
    #expect((one.rows["un"]?.count ?? 0) > 5000)
    for threads in [2, 4] {
      let many = Self.run(text, threads: threads, compared: names)
      #expect(many.sameResults(as: one), "seed \(seed), \(threads) threads")
    }
  }

  /// Rules that need no recursion and derive no tuple twice: with threads, the first round
  /// splits them (`DistinctSplit`), and nothing else is split.
  static let firstRound = """
    un(X, Y) :- node(X), node(Y), not e(X, Y).
    both(X, Y) :- e(X, Y), e(Y, X).
    far(X, Y, Z) :- e(X, Y), e(Y, Z), not e(X, Z), X != Z.

    """

  @Test("Large first-round rules are split across threads, with the same rows in the same order")
  func firstRoundSplits() throws {
    let text = Self.graph(seed: 9, nodes: 150, edges: 400) + Self.firstRound
      + "?- N = count : { un(X, Y) }.\n?- N = count : { both(X, Y) }.\n?- far(X, Y, Z), X < 5.\n"
    let names = ["un", "both", "far"]
    let one = Self.run(text, threads: 1, compared: names)
    #expect(one.parallelRuns == 0)
    #expect((one.rows["un"]?.count ?? 0) > 20_000)
    #expect((one.rows["far"]?.count ?? 0) > 500)
    for threads in [2, 3] {
      let many = Self.run(text, threads: threads, compared: names)
      #expect(many.parallelRuns >= 3, "\(threads) threads")
      #expect(many.sameResults(as: one), "\(threads) threads")
    }
    // And the rows are the naive evaluator's, each once.
    let session = ParallelRoundTests.session(threads: 2)
    session.options.probeAheadFrom = 0
    #expect(session.run(SourceFile(name: "p.dq", text: Self.graph(seed: 9, nodes: 150, edges: 400) + Self.firstRound)) == .ok)
    let oracle = try NaiveEvaluator(rules: TestDQ.rules(Self.graph(seed: 9, nodes: 150, edges: 400) + Self.firstRound))
    let problems = try EvaluatorDifferentialTests.differences(session, oracle, [("un", 2), ("both", 2), ("far", 3)])
    #expect(problems.isEmpty, "\(problems)")
    for name in names { #expect(session.database.tables[name]?.rows.count == oracle.tuples(name).count, "\(name)") }
  }

  @Test("A first-round rule costed for a split sorts its facts as a run would: e by the negation's column, rows as on one thread")
  func costingSortsFactsAsTheRunWould() {
    // The negation reads e by its second column before the lookup reads it by its first: a
    // run sorts e by the second; costing the rule for a split must not sort it by the first.
    var text = ""
    for x in 0..<40 { text += "a(\(x)).\n" }
    for k in 0..<400 { text += "e(\((k * 7) % 60), \(100 + (k * 13) % 97)).\n" }
    for x in stride(from: 0, to: 40, by: 3) { text += "e(61, \(x)).\n" }
    text += "p(X, Y) :- a(X), not e(_, X), e(X, Y).\n?- p(X, Y), X < 5.\n"
    let one = Self.run(text, threads: 1, compared: ["p", "e"])
    #expect(one.errors.isEmpty, "\(one.errors)")
    #expect((one.rows["p"]?.count ?? 0) > 50)
    let two = Self.run(text, threads: 2, compared: ["p", "e"])
    #expect(two.rows["e"] == one.rows["e"])
    #expect(two.sameResults(as: one))
  }

  @Test("The tuple limit stops a split first-round rule as it stops the rule on one thread")
  func tupleLimitStopsASplitRule() {
    let text = Self.graph(seed: 10, nodes: 150, edges: 200) + Self.firstRound + "?- N = count : { un(X, Y) }.\n"
    var messages: [[String]] = []
    for threads in [1, 2] {
      let s = ParallelRoundTests.session(threads: threads)
      s.options.maxTuples = 5_000
      var errors: [String] = []
      s.capture.onWrite = { _ in }
      s.capture.onReport = { errors.append($0.message) }
      #expect(s.run(SourceFile(name: "p.dq", text: text)) == .runtimeError)
      #expect(s.database.tables["un"]?.rows.count == 0)
      messages.append(errors)
    }
    #expect(messages[0] == messages[1])
    #expect(messages[0].first?.contains("the tuple limit") == true, "\(messages)")
  }

  @Test("A round whose delta is large but matches little runs on one thread; one that matches much is split")
  func smallRoundsAreNotSplit() {
    let closure = "tc(X, Y) :- e(X, Y).\ntc(X, Z) :- tc(X, Y), e(Y, Z).\n?- N = count : { tc(X, Y) }.\n"
    // 300 edges, none continuing another: the second round's delta (300 rows) is past the
    // minimum, but its lookups match nothing (estimated: one row each).
    let star = (1...300).map { "e(\($0), \(1000 + $0))." }.joined(separator: " ") + "\n"
    // And from each of their ends, 10 edges on: the same delta matches 3,000 rows.
    let fan = (1...300).map { x in (0..<10).map { "e(\(1000 + x), \(2000 + 10 * x + $0))." }.joined(separator: " ") }
      .joined(separator: "\n")
    var runs: [Int] = []
    var outputs: [String] = []
    for text in [star + closure, star + fan + "\n" + closure] {
      let s = ParallelRoundTests.session(threads: 2, minimumDelta: 100)
      var output = ""
      s.capture.onWrite = { output += $0 }
      s.capture.onReport = { _ in }
      #expect(s.run(SourceFile(name: "p.dq", text: text)) == .ok)
      runs.append(s.database.parallelRuns)
      outputs.append(output)
    }
    #expect(runs[0] == 0)
    #expect(runs[1] > 0)
    #expect(outputs == ["N\n300\n", "N\n6300\n"])
  }

  /// The bound form of the only rule of `text`, planned as the first round plans it.
  /// The bound plan reads the database's relations unretained: `database` must outlive it.
  static func bound(_ text: String, sizes: [String: Int] = [:], in database: Database) -> BoundRule? {
    let rules = TestDQ.rules(text)
    guard rules.count == 1 else { return nil }
    let plan = Planner.plan(rule: rules[0], deltaAtom: nil, size: { sizes[$0] ?? 10 }, recursive: [])
    return PlanBinder.bind(plan, to: database)
  }

  @Test("Rules whose every binding gives its own head tuple, and rules that can repeat one")
  func derivesDistinct() {
    let database = Database()
    defer { withExtendedLifetime(database) {} }
    let distinct = [
      "un(X, Y) :- node(X), node(Y), not tc(X, Y).",
      "p(X, Y, Z) :- e(X, Y), e(Y, Z).",
      "p(X, Y) :- e(X, Y), X < Y.",
      "p(X, Y, S) :- e(X, Y), S = X + Y.",
      "p(Y, X) :- e(X, Y), node(X).",
      "p(X) :- e(X, X).",
      "p(X, N) :- node(X), N = count : { e(X, _) }.",
      // A singleton variable matches one row (or none) per binding.
      "p(X, Y) :- e(X, Y), f(Y, W).",
    ]
    let repeating = [
      "n(X) :- e(X, _).",
      "p(X) :- e(X, Y).",
      "p(X, Z) :- e(X, Y), e(Y, Z).",
      "p(X, Z) :- e(X, Y), Z = Y + 1.",
      "p(X) :- e(X, Y), f(Y).",
      "p(Y) :- e(X, Y), node(X).",
      "p(1) :- node(X), e(X, X).",
    ]
    for text in distinct { #expect(Self.bound(text, in: database)?.derivesDistinct == true, "\(text)") }
    for text in repeating { #expect(Self.bound(text, in: database)?.derivesDistinct == false, "\(text)") }
  }

  @Test("A scan followed by a whole-tuple probe announces the probe ahead; other steps do not")
  func probeAheadIsPlanned() throws {
    let database = Database()
    defer { withExtendedLifetime(database) {} }
    let rule = try #require(Self.bound("un(X, Y) :- node(X), node(Y), not tc(X, Y).", in: database))
    let steps = rule.body.steps
    #expect(steps.map(\.kind) == [.scan, .scan, .absent])
    // The first scan is followed by a scan; the second by the probe: X comes from a slot, Y
    // from column 0 of node's row.
    #expect(steps[0].aheadCount == 0)
    #expect(steps[1].aheadCount == 2)
    #expect(steps[1].aheadColumnBuffer?[0] == -1)
    #expect(steps[1].aheadColumnBuffer?[1] == 0)
    #expect(steps[1].aheadIndexRef == nil)
    // A negation with an anonymous column reads an index: its key is announced to the index.
    let sink = try #require(Self.bound("s(X) :- node(X), not e(X, _).", in: database))
    #expect(sink.body.steps[0].aheadCount == 1)
    #expect(sink.body.steps[0].aheadIndexRef != nil)
    // So is a lookup, after a scan or first in an aggregate's body.
    let total = try #require(
      Self.bound("total(S, I, T) :- sold(S, I), T = sum Q : { sale(Id, S, I, Q) }.", sizes: ["sold": 10, "sale": 1000], in: database))
    #expect(total.body.steps.map(\.kind) == [.scan, .aggregate])
    #expect(total.body.steps[0].aheadCount == 2)
    #expect(total.body.steps[0].aheadIndexRef != nil)
    #expect(total.body.steps[0].aheadRelationRef?.takeUnretainedValue() === total.body.steps[1].aggregate?.body.steps[0].relation)
    // Arithmetic in the probe is not announced either.
    let next = try #require(Self.bound("s(X) :- node(X), not node(X + 1).", in: database))
    #expect(next.body.steps[0].aheadCount == 0)
  }

  @Test("A relation stored without its table finds its rows and deduplicates later inserts")
  func appendDistinctThenInsert() {
    let r = Relation(arity: 2)
    let tuples: [Value] = (0..<5000).flatMap { [Value($0 / 70), Value($0 % 70)] }
    tuples.withUnsafeBufferPointer { if let b = $0.baseAddress { r.appendDistinct(b, count: 5000) } }
    #expect(r.count == 5000)
    #expect(!r.holdsTable)
    #expect(r.find([3, 5]) == 3 * 70 + 5)
    #expect(!r.insert([0, 0]))
    #expect(r.insert([1000, 1]))
    #expect(r.count == 5001)
    // An index built before learns the rows appended after.
    let index = r.index(on: [0])
    let more: [Value] = [2000, 1, 2000, 2]
    more.withUnsafeBufferPointer { if let b = $0.baseAddress { r.appendDistinct(b, count: 2) } }
    #expect(index.first([2000]) != 0)
    #expect(r.find([2000, 2]) == 5002)
  }

  @Test("A second rule into the head of a distinct rule still drops repeats")
  func secondRuleDeduplicates() {
    let run = TestDQ.run(
      """
      a(1, 2). a(2, 3). b(2, 3). b(3, 4).
      p(X, Y) :- a(X, Y).
      p(X, Y) :- b(X, Y).
      ?- N = count : { p(X, Y) }.

      """)
    #expect(run.output == "N\n3\n")
  }
}
