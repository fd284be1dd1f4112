/// Differential tests of incremental evaluation: random programs and graphs, then random
/// sequences of inserted and retracted facts, with the relations compared after every step
/// against a session that computes them from scratch and against the naive evaluator.
import Testing

@testable import DQ

@Suite struct IncrementalDifferentialTests {
  /// A session kept across edits, its facts as text, and the rules.
  struct Edited {
    let session = TestDQ.quietSession()
    var facts: [String] = []
    let rules: String

    /// Whether some derived relation kept its deduplication table after being computed: the
    /// session readied it for edits (`Session.expectsEdits`).
    var readied: Bool { session.database.tables.values.contains { $0.hasRules && $0.rows.holdsTable } }

    /// The whole program as it stands, to compute from scratch.
    var text: String { facts.joined(separator: "\n") + "\n" + rules }

    mutating func insert(_ fact: String) {
      let status = session.run(SourceFile(name: "edit.dq", text: fact))
      #expect(status == .ok, "\(fact)")
      if !facts.contains(fact) { facts.append(fact) }
    }

    mutating func retract(_ fact: String) {
      guard case .success(let removed) = session.retract(fact) else {
        Issue.record("cannot retract \(fact)")
        return
      }
      #expect(removed == facts.contains(fact), "\(fact)")
      facts.removeAll { $0 == fact }
    }

    /// The relations, by the session kept, a fresh session, and the oracle: lines naming the
    /// differences (empty when all three agree).
    func differences(_ compared: [(name: String, arity: Int)]) throws -> [String] {
      let fresh = TestDQ.quietSession()
      #expect(fresh.run(SourceFile(name: "all.dq", text: text)) == .ok)
      let oracle = try NaiveEvaluator(rules: TestDQ.rules(text))
      var out = try EvaluatorDifferentialTests.differences(session, oracle, compared)
      for (name, arity) in compared {
        let kept = try EvaluatorDifferentialTests.answers(session, name, arity: arity)
        let scratch = try EvaluatorDifferentialTests.answers(fresh, name, arity: arity)
        if kept != scratch { out.append("\(name): kept \(kept.count) tuples, from scratch \(scratch.count)") }
      }
      return out
    }
  }

  /// A random edit: mostly inserts and retractions of `e` facts, some of `n`, and for a
  /// relation that also has rules (`also`), facts of it too.
  static func edit(_ state: inout Edited, _ rng: inout SplitMix64, nodes: Int, node: String = "n", also: String?) -> String {
    let x = Int.random(in: 0..<nodes, using: &rng), y = Int.random(in: 0..<nodes, using: &rng)
    let roll = Int.random(in: 0..<10, using: &rng)
    var fact = roll < 6 ? "e(\(x), \(y))." : roll < 8 ? "\(node)(\(x))." : "\(also ?? "e")(\(x), \(y))."
    // Half the edits take out a fact that is there (when there is one of that kind).
    let kind = String(fact.prefix { $0 != "(" }) + "("
    let present = state.facts.filter { $0.hasPrefix(kind) }
    if Bool.random(using: &rng), !present.isEmpty {
      fact = present[Int.random(in: 0..<present.count, using: &rng)]
      state.retract(fact)
      return ".retract " + fact
    }
    state.insert(fact)
    return fact
  }

  @Test("Random programs under random inserts and retractions equal a from-scratch evaluation and the oracle")
  func randomProgramsUnderEdits() throws {
    var incremental = 0
    var checked = 0
    var readied = 0
    for seed in UInt64(1)...150 {
      var generator = RandomProgram(seed: seed)
      let text = generator.text()
      let lines = text.split(separator: "\n").map(String.init)
      let rules = lines.filter { $0.contains(":-") }.joined(separator: "\n") + "\n"
      var state = Edited(rules: rules)
      // Half the sessions are the REPL's: strata computed from scratch keep their tables and
      // the indexes an insert reads, which every later edit then works with.
      state.session.expectsEdits = seed % 2 == 0
      guard state.session.run(SourceFile(name: "random.dq", text: text)) == .ok else { continue }
      state.facts = lines.filter { !$0.contains(":-") }
      checked += 1
      var rng = SplitMix64(seed: seed &* 7919)
      var steps: [String] = []
      _ = try state.differences([("a", 2), ("b", 2), ("c", 1)])
      if state.readied { readied += 1 }
      for _ in 0..<8 {
        steps.append(Self.edit(&state, &rng, nodes: 5, also: "a"))
        let problems = try state.differences([("a", 2), ("b", 2), ("c", 1)])
        #expect(problems.isEmpty, "seed \(seed) after \(steps):\n\(problems.joined(separator: "\n"))\n\(text)")
        if !problems.isEmpty { return }
      }
      incremental += state.session.evaluation.incrementalUpdates
    }
    #expect(checked > 80, "too few random programs were safe: \(checked)")
    // The comparisons must have gone through the incremental path, not only recomputation.
    #expect(incremental > checked * 4, "\(incremental) incremental updates over \(checked) programs")
    #expect(readied > checked / 4, "\(readied) of \(checked) programs were readied for edits")
  }

  @Test(
    "Recursive, negated and aggregated programs under random edits equal a from-scratch evaluation",
    arguments: DifferentialProgram.all)
  func programsUnderEdits(_ program: DifferentialProgram) throws {
    var incremental = 0
    for seed in UInt64(1)...12 {
      let graph = RandomGraph(seed: seed)
      var state = Edited(rules: program.rules)
      state.session.expectsEdits = seed % 2 == 0
      #expect(state.session.run(SourceFile(name: "graph.dq", text: graph.facts + program.rules)) == .ok)
      var facts = (0..<graph.nodes).map { "node(\($0))." }
      for (x, y) in graph.edges where !facts.contains("e(\(x), \(y)).") { facts.append("e(\(x), \(y)).") }
      state.facts = facts
      var rng = SplitMix64(seed: seed &+ 1000)
      var steps: [String] = []
      _ = try state.differences(program.compared)
      for _ in 0..<10 {
        steps.append(Self.edit(&state, &rng, nodes: graph.nodes + 2, node: "node", also: nil))
        let problems = try state.differences(program.compared)
        #expect(problems.isEmpty, "seed \(seed), \(program.name), after \(steps):\n\(problems.joined(separator: "\n"))\n\(graph.facts)")
        if !problems.isEmpty { return }
      }
      incremental += state.session.evaluation.incrementalUpdates
    }
    #expect(incremental > 0, "no stratum of \(program.name) was updated incrementally")
  }

  /// Programs for `retractionsInsideCycles`: recursion through one relation (left, right and
  /// doubly recursive), through two (mutual recursion, and two relations of one stratum with
  /// facts of one of them, `r`), with anonymous variables, and strata downstream.
  static let cyclicPrograms: [DifferentialProgram] =
    Array(DifferentialProgram.all.prefix(3)) + [
      DifferentialProgram(
        name: "mutual recursion (odd and even walks)",
        rules: "odd(X, Y) :- e(X, Y).\nodd(X, Z) :- even(X, Y), e(Y, Z).\neven(X, Z) :- odd(X, Y), e(Y, Z).\n",
        compared: [("odd", 2), ("even", 2)]),
      DifferentialProgram(
        name: "two recursive relations of one stratum, with facts of one",
        rules: "r(X, Y) :- e(X, Y).\nr(X, Z) :- s(X, Y), e(Y, Z).\ns(X, Y) :- r(X, Y), node(Y).\n"
          + "s(X, Z) :- s(X, Y), r(Y, Z).\nout(X) :- r(X, _).\nhub(X) :- s(X, _), s(_, X).\n"
          + "lonely(X) :- node(X), not hub(X).\nfan(X, N) :- node(X), N = count : { r(X, _) }.\n",
        compared: [("r", 2), ("s", 2), ("out", 1), ("hub", 1), ("lonely", 1), ("fan", 2)]),
      DifferentialProgram(
        name: "reachability with anonymous variables and arithmetic",
        rules: "reach(X, 0) :- node(X), X < 2.\nreach(Y, 1) :- reach(X, _), e(X, Y).\n"
          + "reach(Y, D) :- reach(X, D), e(X, _), e(_, Y), r2(X, Y), D = 1.\n"
          + "r2(X, Y) :- e(X, Y).\nr2(X, Z) :- r2(X, Y), reach(Y, _), e(Y, Z).\n"
          + "far(X) :- node(X), not reach(X, _).\n",
        compared: [("reach", 2), ("r2", 2), ("far", 1)]),
    ]

  /// A ring of `n` nodes with random chords: every edge of the ring is inside a cycle.
  static func ring(_ rng: inout SplitMix64) -> (nodes: Int, facts: [String]) {
    let n = Int.random(in: 6...14, using: &rng)
    var facts = (0..<n).map { "node(\($0))." } + (0..<n).map { "e(\($0), \(($0 + 1) % n))." }
    for _ in 0..<Int.random(in: 0...n, using: &rng) {
      let f = "e(\(Int.random(in: 0..<n, using: &rng)), \(Int.random(in: 0..<n, using: &rng)))."
      if !facts.contains(f) { facts.append(f) }
    }
    return (n, facts)
  }

  /// Rows of the left-recursive `tc` that come before every derivation of theirs (`.why`
  /// relies on none): each row not an edge needs a row tc(X, Y) before it and an edge e(Y, Z).
  static func rowsOutOfOrder(_ session: Session) -> [String] {
    guard let tc = session.database.tables["tc"]?.rows, let e = session.database.tables["e"]?.rows else { return [] }
    var edges: Set<[Value]> = []
    for r in 0..<e.count { edges.insert(e.row(r)) }
    var seen: [Value: [Value]] = [:]  // X: the Ys of the rows tc(X, Y) so far
    var out: [String] = []
    for r in 0..<tc.count {
      let t = tc.row(r)
      let derived = edges.contains(t) || (seen[t[0]] ?? []).contains { edges.contains([$0, t[1]]) }
      if !derived { out.append("row \(r): \(t.map(session.database.store.decode))") }
      seen[t[0], default: []].append(t[1])
    }
    return out
  }

  @Test(
    "Retractions of edges inside cycles, by rank, equal a from-scratch evaluation after every step",
    arguments: cyclicPrograms)
  func retractionsInsideCycles(_ program: DifferentialProgram) throws {
    var incremental = 0
    var parallel = 0
    for seed in UInt64(1)...10 {
      var rng = SplitMix64(seed: seed &* 31 &+ 7)
      let (n, facts) = Self.ring(&rng)
      var state = Edited(rules: program.rules)
      // Readied for edits (kept tables, the insert's indexes) with one thread and with two.
      state.session.expectsEdits = seed % 4 < 2
      if seed % 2 == 0 {
        // Rounds split across two threads from two delta rows on: the ranks must not change.
        state.session.options.threads = 2
        state.session.options.parallelMinimumDelta = 2
      }
      #expect(state.session.run(SourceFile(name: "ring.dq", text: facts.joined(separator: " ") + "\n" + program.rules)) == .ok)
      state.facts = facts
      var steps: [String] = []
      try state.session.evaluateAll(budget: state.session.makeBudget())
      _ = try state.differences(program.compared)
      for _ in 0..<12 {
        let roll = Int.random(in: 0..<10, using: &rng)
        let edges = state.facts.filter { $0.hasPrefix("e(") }
        let x = Int.random(in: 0..<n, using: &rng), y = Int.random(in: 0..<n, using: &rng)
        if roll < 5, !edges.isEmpty {
          let fact = edges[Int.random(in: 0..<edges.count, using: &rng)]
          state.retract(fact)
          steps.append(".retract " + fact)
        } else if roll < 7, program.compared.contains(where: { $0.name == "r" }) {
          let fact = "r(\(x), \(y))."
          if state.facts.contains(fact) {
            state.retract(fact)
            steps.append(".retract " + fact)
          } else {
            state.insert(fact)
            steps.append(fact)
          }
        } else {
          state.insert("e(\(x), \(y)).")
          steps.append("e(\(x), \(y)).")
        }
        // Brought up to date with the session's own budget (its threads), then compared.
        try state.session.evaluateAll(budget: state.session.makeBudget())
        var problems = try state.differences(program.compared)
        if program.name == DifferentialProgram.all[0].name { problems += Self.rowsOutOfOrder(state.session) }
        #expect(problems.isEmpty, "seed \(seed), \(program.name), after \(steps):\n\(problems.joined(separator: "\n"))\n\(facts)")
        if !problems.isEmpty { return }
      }
      incremental += state.session.evaluation.incrementalUpdates
      parallel += state.session.database.parallelRuns
      // Small strata are never given up on: every retraction went through rank deletion.
      #expect(state.session.evaluation.overDeletionsAbandoned == 0)
    }
    #expect(incremental > 10, "\(incremental) incremental updates for \(program.name)")
    #expect(parallel > 0, "no round of \(program.name) ran split across threads")
  }

  @Test("Inserting an edge into a computed closure extends it without computing it again")
  func insertedEdgeExtends() throws {
    let session = TestDQ.quietSession()
    let chain = (1..<50).map { "e(\($0), \($0 + 1))." }.joined(separator: " ")
    #expect(session.run(SourceFile(name: "c.dq", text: chain + "\ntc(X, Y) :- e(X, Y).\ntc(X, Z) :- tc(X, Y), e(Y, Z).\n")) == .ok)
    #expect(try EvaluatorDifferentialTests.answers(session, "tc", arity: 2).count == 49 * 50 / 2)
    let computed = session.evaluation.recomputations
    #expect(session.run(SourceFile(name: "edit.dq", text: "e(50, 51).")) == .ok)
    #expect(try EvaluatorDifferentialTests.answers(session, "tc", arity: 2).count == 50 * 51 / 2)
    #expect(session.evaluation.recomputations == computed)
    // The new tuples come after the old ones: the rows computed before kept their numbers.
    let rows = try #require(session.database.tables["tc"]?.rows)
    #expect(rows.count == 50 * 51 / 2)
    #expect(rows.row(rows.count - 1).map(session.database.store.decode).last == .integer(51))
    // Taking the edge out again leaves exactly the old closure, still without recomputing.
    guard case .success(true) = session.retract("e(50, 51).") else {
      Issue.record("e(50, 51) was not retracted")
      return
    }
    #expect(try EvaluatorDifferentialTests.answers(session, "tc", arity: 2).count == 49 * 50 / 2)
    #expect(session.evaluation.recomputations == computed)
  }

  @Test("A negated relation that changes makes the stratum reading it compute again, and only it")
  func negationRecomputes() throws {
    let session = TestDQ.quietSession()
    let text = "e(1, 2). e(2, 3). n(1). n(2). n(3). n(4).\ntc(X, Y) :- e(X, Y).\ntc(X, Z) :- tc(X, Y), e(Y, Z).\n"
      + "un(X) :- n(X), not tc(1, X).\n"
    #expect(session.run(SourceFile(name: "n.dq", text: text)) == .ok)
    #expect(try EvaluatorDifferentialTests.answers(session, "un", arity: 1) == [[.integer(1)], [.integer(4)]])
    let (computed, updated) = (session.evaluation.recomputations, session.evaluation.incrementalUpdates)
    #expect(session.run(SourceFile(name: "edit.dq", text: "e(3, 4).")) == .ok)
    #expect(try EvaluatorDifferentialTests.answers(session, "un", arity: 1) == [[.integer(1)]])
    // tc is extended; un, which negates it, is computed again.
    #expect(session.evaluation.incrementalUpdates == updated + 1)
    #expect(session.evaluation.recomputations == computed + 1)
  }
}
