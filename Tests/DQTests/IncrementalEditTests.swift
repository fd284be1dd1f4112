/// Edits after a computation: `.retract`, loading a file again, `.unload`, `.why` and limits,
/// with the incremental path checked to be the one taken (the session's counters).
import Foundation
import Testing

@testable import DQ

@Suite struct IncrementalEditTests {
  /// The shared file fixture (Support/SessionFolder.swift).
  typealias Fixture = SessionFolder

  static let closure = "path(X, Y) :- edge(X, Y).\npath(X, Z) :- path(X, Y), edge(Y, Z).\n"

  @Test func retractRemovesExactlyWhatLostItsLastDerivation() throws {
    let f = try Fixture(prefix: "dq-incr")
    // Two ways from 1 to 3: taking out one keeps path(1, 3); taking out both drops it.
    f.run("edge(1, 2). edge(2, 3). edge(1, 3). edge(3, 4).\n" + Self.closure)
    #expect(f.run("?- path(1, X).").out == "X\n2\n3\n4\n")
    let computed = f.recomputations
    f.run(".retract edge(1, 3)")
    #expect(f.run("?- path(1, X).").out == "X\n2\n3\n4\n")
    f.run(".retract edge(2, 3)")
    #expect(f.run("?- path(1, X).").out == "X\n2\n")
    #expect(f.run("?- path(X, 4).").out == "X\n3\n")
    #expect(f.recomputations == computed)
    #expect(f.updates >= 2)
  }

  @Test func whyAfterEditsExplainsWithWhatIsThere() throws {
    let f = try Fixture(prefix: "dq-incr")
    f.run("edge(1, 2). edge(2, 3). edge(1, 3).\n" + Self.closure)
    _ = f.run("?- path(1, 3).")
    f.run(".retract edge(1, 3)\nedge(3, 4).")
    let why = f.run(".why path(1, 4)").out
    // The derivation goes through 2 now, and names no retracted fact.
    #expect(why.contains("edge(2, 3)   fact"), "\(why)")
    #expect(why.contains("edge(3, 4)   fact"), "\(why)")
    #expect(!why.contains("edge(1, 3)"), "\(why)")
    // `.steps` shows the closure computed from scratch, with the edited facts.
    let steps = f.run(".steps path(1, X)").out
    #expect(steps.contains("path"), "\(steps)")
    #expect(f.run("?- path(1, X).").out == "X\n2\n3\n4\n")
  }

  @Test func reloadingAFileWithOtherFactsUpdatesWhatTheyDerive() throws {
    let f = try Fixture(prefix: "dq-incr")
    try f.write("g.dq", "edge(1, 2). edge(2, 3). edge(3, 4).\n" + Self.closure)
    f.run(".load \(f.path("g.dq"))")
    #expect(f.run("?- path(1, X).").out == "X\n2\n3\n4\n")
    let computed = f.recomputations
    // The same rules, one fact fewer and one more: path is updated, not computed again.
    try f.write("g.dq", "edge(1, 2). edge(3, 4). edge(4, 5).\n" + Self.closure)
    #expect(f.run(".reload").errors == [])
    #expect(f.run("?- path(X, Y).").out == "X\tY\n1\t2\n3\t4\n3\t5\n4\t5\n")
    #expect(f.recomputations == computed)
    // Other rules: computed again.
    try f.write("g.dq", "edge(1, 2). edge(3, 4). edge(4, 5).\npath(X, Y) :- edge(Y, X).\n")
    #expect(f.run(".reload").errors == [])
    #expect(f.run("?- path(X, Y).").out == "X\tY\n2\t1\n4\t3\n5\t4\n")
    #expect(f.recomputations == computed + 1)
  }

  @Test func unloadingFactsUpdatesTheRulesOfAnotherFile() throws {
    let f = try Fixture(prefix: "dq-incr")
    try f.write("rules.dq", Self.closure)
    try f.write("more.dq", "edge(3, 4). edge(4, 5).\n")
    f.run("edge(1, 2). edge(2, 3).\n.load \(f.path("rules.dq"))\n.load \(f.path("more.dq"))")
    #expect(f.run("?- path(1, X).").out == "X\n2\n3\n4\n5\n")
    let computed = f.recomputations
    #expect(f.run(".unload \(f.path("more.dq"))").errors == [])
    #expect(f.run("?- path(1, X).").out == "X\n2\n3\n")
    #expect(f.recomputations == computed)
    // Unloading the rules leaves edge and no path tuples derived by them.
    #expect(f.run(".unload \(f.path("rules.dq"))").errors == [])
    #expect(f.run("?- edge(X, Y).").out == "X\tY\n1\t2\n2\t3\n")
  }

  @Test func factsOfARelationWithRulesAreMaintainedToo() throws {
    let f = try Fixture(prefix: "dq-incr")
    f.run("edge(1, 2).\npath(5, 6).\n" + Self.closure)
    #expect(f.run("?- path(X, Y).").out == "X\tY\n1\t2\n5\t6\n")
    let computed = f.recomputations
    f.run("path(2, 7).\n.retract path(5, 6)")
    #expect(f.run("?- path(X, Y).").out == "X\tY\n1\t2\n2\t7\n")
    // A fact also derived stays when retracted as a fact.
    f.run("path(1, 2).\n.retract path(1, 2)")
    #expect(f.run("?- path(X, Y).").out == "X\tY\n1\t2\n2\t7\n")
    #expect(f.recomputations == computed)
  }

  @Test func aLimitStoppingAnUpdateLeavesTheStratumToBeComputedAgain() throws {
    let f = try Fixture(prefix: "dq-incr")
    let chain = (1..<40).map { "edge(\($0), \($0 + 1))." }.joined(separator: " ")
    f.run(chain + "\n" + Self.closure)
    #expect(f.run("?- N = count : { path(X, Y) }.").out == "N\n780\n")
    // 40 new tuples, 10 allowed: the update stops.
    f.run("edge(40, 41).")
    f.session.options.maxTuples = 10
    #expect(f.run("?- N = count : { path(X, Y) }.").errors.first?.contains("tuples") == true)
    f.session.options.maxTuples = 0
    let computed = f.recomputations
    #expect(f.run("?- N = count : { path(X, Y) }.").out == "N\n820\n")
    #expect(f.recomputations == computed + 1)
    // And edits after that are incremental again.
    f.run(".retract edge(20, 21)")
    #expect(f.run("?- N = count : { path(X, Y) }.").out == "N\n\(190 + 210)\n")
    #expect(f.recomputations == computed + 1)
  }

  @Test func anEdgeEveryPathUsesIsComputedAgainRatherThanDeletedAndRederived() throws {
    let f = try Fixture(prefix: "dq-incr")
    // A cycle of 60: every one of the 3,600 paths but a few uses each edge.
    let cycle = (0..<60).map { "edge(\($0), \(($0 + 1) % 60))." }.joined(separator: " ")
    f.run(cycle + "\n" + Self.closure)
    #expect(f.run("?- N = count : { path(X, Y) }.").out == "N\n3600\n")
    let computed = f.recomputations
    f.run(".retract edge(59, 0)")
    #expect(f.run("?- N = count : { path(X, Y) }.").out == "N\n1770\n")
    #expect(f.session.evaluation.overDeletionsAbandoned == 1)
    #expect(f.recomputations == computed + 1)
    // An edge little depends on is still deleted incrementally.
    f.run(".retract edge(58, 59)")
    #expect(f.run("?- N = count : { path(X, Y) }.").out == "N\n\(1770 - 59)\n")
    #expect(f.session.evaluation.overDeletionsAbandoned == 1)
    #expect(f.recomputations == computed + 1)
  }

  @Test func anEdgeInsideABigCycleIsDeletedByRankNotComputedAgain() throws {
    let f = try Fixture(prefix: "dq-incr")
    // A ring of 100 with a skip edge from each node to the one after next: every pair is
    // connected, nearly every path can use edge(0, 1), and every pair has a path without it.
    let n = 100
    let ring = (0..<n).map { "edge(\($0), \(($0 + 1) % n)). edge(\($0), \(($0 + 2) % n))." }.joined(separator: " ")
    f.run(ring + "\n" + Self.closure)
    #expect(f.run("?- N = count : { path(X, Y) }.").out == "N\n10000\n")
    let computed = f.recomputations
    f.run(".retract edge(0, 1)")
    #expect(f.run("?- N = count : { path(X, Y) }.").out == "N\n10000\n")
    // Only the pairs whose every shortest path used the edge were looked at: no recomputation.
    #expect(f.session.evaluation.overDeletionsAbandoned == 0)
    #expect(f.recomputations == computed)
    let why = f.run(".why path(0, 1)").out
    #expect(why.contains("edge(99, 1)   fact") && !why.contains("edge(0, 1)"), "\(why)")
    // Back again: the rows added get ranks above the rest, and later edits still work.
    f.run("edge(0, 1).")
    #expect(f.run("?- N = count : { path(X, Y) }.").out == "N\n10000\n")
    f.run(".retract edge(50, 51)")
    #expect(f.run("?- N = count : { path(X, Y) }.").out == "N\n10000\n")
    #expect(f.recomputations == computed)
    // With both edges into 1 gone, nothing reaches 1. (Node 1 is on every shortest path of
    // a quarter of the pairs: that much is deleted and derived again, or computed again.)
    f.run(".retract edge(0, 1)\n.retract edge(99, 1)")
    #expect(f.run("?- N = count : { path(X, Y) }.").out == "N\n\(n * n - n)\n")
    #expect(f.run("?- path(X, 1).").out == "X\n")
  }

  @Test func aRetractionThroughACycleOfThousandsOfRelationsCostsWhatItRemoves() throws {
    let f = try Fixture(prefix: "dq-incr")
    // A cycle of 3,000 relations: each fact goes round one relation per round (3,000 ranks).
    let n = 3_000
    var text = (1...10).map { "p0(\($0))." }.joined(separator: " ") + "\n"
    for i in 0..<n { text += "p\((i + 1) % n)(X) :- p\(i)(X).\n" }
    f.run(text)
    let all = (1...10).map { "\($0)\n" }.joined()
    #expect(f.run("?- p1500(X).").out == "X\n" + all)
    let computed = f.recomputations
    let clock = ContinuousClock()
    let started = clock.now
    f.run(".retract p0(1)")
    let rest = (2...10).map { "\($0)\n" }.joined()
    #expect(f.run("?- p1500(X).").out == "X\n" + rest)
    #expect(f.run("?- p0(X).").out == "X\n" + rest)
    #expect(f.session.evaluation.overDeletionsAbandoned == 0)
    #expect(f.recomputations == computed)
    // Each rank's work is that of the rules its tuples touch, not of the 3,000 relations.
    #expect(clock.now - started < .seconds(30))
  }

  @Test func memoryAfterEditsListsOnlyTheProgramsRelations() throws {
    let f = try Fixture(prefix: "dq-incr")
    f.run("edge(1, 2). edge(2, 3).\n" + Self.closure)
    _ = f.run("?- path(X, Y).")
    f.run("edge(3, 4).\n.retract edge(1, 2)")
    #expect(f.run("?- path(X, Y).").out == "X\tY\n2\t3\n2\t4\n3\t4\n")
    // The relations an update works in are gone once it is done.
    #expect(Set(f.session.database.tables.keys) == ["edge", "path"])
    let memory = f.run(".memory").out
    #expect(memory.contains("path") && !memory.contains("~path") && !memory.contains("-edge") && !memory.contains("+edge"), "\(memory)")
    #expect(f.updates >= 1)
  }

  /// The tuples column of `.memory REL` (tsv), or nil when it names no such relation.
  static func memoryTuples(_ f: Fixture, _ name: String) -> Int? {
    let line = f.run(".memory \(name)").out.split(separator: "\n").first { $0.hasPrefix(name + "\t") }
    return line.flatMap { Int($0.split(separator: "\t")[2]) }
  }

  @Test(
    "`.why`, `.steps` and `.memory` after an insert and a retraction show the relations as they are now",
    arguments: [false, true])
  func inspectionsAfterEdits(readied: Bool) throws {
    let f = try Fixture(prefix: "dq-incr")
    f.session.expectsEdits = readied
    f.run("edge(1, 2). edge(2, 3). edge(3, 4).\n" + Self.closure)
    #expect(f.run("?- path(1, X).").out == "X\n2\n3\n4\n")
    #expect(Self.memoryTuples(f, "path") == 6)
    let computed = f.recomputations

    // An insert: the new tuples are explained, counted and shown as a fresh session shows them.
    f.run("edge(4, 5).")
    // `.memory` brings a stored relation up to date before it counts it.
    #expect(Self.memoryTuples(f, "path") == 10)
    #expect(f.recomputations == computed, "the insert was not incremental")
    let why = f.run(".why path(1, 5)").out
    #expect(why.contains("edge(4, 5)   fact") && why.contains("by rule"), "\(why)")
    let steps = f.run(".steps path(1, X)").out
    let fresh = try Fixture(prefix: "dq-incr")
    fresh.run("edge(1, 2). edge(2, 3). edge(3, 4). edge(4, 5).\n" + Self.closure)
    #expect(steps == fresh.run(".steps path(1, X)").out)
    #expect(steps.contains("(1, 5)"), "\(steps)")

    // A retraction: the same, with what is left.
    let computedAgain = f.recomputations
    f.run(".retract edge(2, 3)")
    #expect(Self.memoryTuples(f, "path") == 4)
    #expect(f.recomputations == computedAgain, "the retraction was not incremental")
    #expect(f.run("?- path(1, X).").out == "X\n2\n")
    let whyAfter = f.run(".why path(3, 5)").out
    #expect(whyAfter.contains("edge(3, 4)   fact") && whyAfter.contains("edge(4, 5)   fact"), "\(whyAfter)")
    #expect(!f.run(".why path(1, X)").out.contains("edge(2, 3)"))
    let left = try Fixture(prefix: "dq-incr")
    left.run("edge(1, 2). edge(3, 4). edge(4, 5).\n" + Self.closure)
    #expect(f.run(".steps path(X, Y)").out == left.run(".steps path(X, Y)").out)
    // After `.steps` (which computes from scratch), edits are incremental again.
    f.run("edge(2, 3).")
    #expect(f.run("?- path(1, X).").out == "X\n2\n3\n4\n5\n")
    #expect(Self.memoryTuples(f, "path") == 10)
  }

  @Test func aStratumComputedWhenEditsFollowIsReadiedForThem() throws {
    // A script with no edit after its query: path is left at rest, without its table.
    let atRest = try Fixture(prefix: "dq-incr")
    atRest.run("edge(1, 2). edge(2, 3).\n" + Self.closure + "?- path(X, Y).\n")
    #expect(atRest.session.database.tables["path"]?.rows.holdsTable == false)
    #expect(atRest.run(".memory path").out.contains("\t-\t"))
    // An edit after the query: path keeps its table and is indexed by its second column, the
    // index the insert's first round reads (`path(X, Z) :- path(X, Y), +edge(Y, Z)`).
    let f = try Fixture(prefix: "dq-incr")
    f.run("edge(1, 2). edge(2, 3).\n" + Self.closure + "?- path(X, Y).\nedge(3, 4).\n")
    let rows = try #require(f.session.database.tables["path"]?.rows)
    #expect(rows.holdsTable)
    #expect(rows.indexes.filter(\.isBuilt).map(\.columns) == [[1]])
    let computed = f.recomputations
    #expect(f.run("?- path(X, 4).").out == "X\n1\n2\n3\n")
    // The insert built no other index of path, and did not compute it again.
    #expect(rows.indexes.filter(\.isBuilt).map(\.columns) == [[1]])
    #expect(f.run(".memory path").out.contains("\t(c2)\t"), "\(f.run(".memory path").out)")
    #expect(f.recomputations == computed)
    #expect(f.updates >= 1)
    // In the REPL every query may be followed by edits.
    let shell = try Fixture(prefix: "dq-incr")
    shell.session.expectsEdits = true
    shell.run("edge(1, 2). edge(2, 3).\n" + Self.closure)
    _ = shell.run("?- path(X, Y).")
    #expect(shell.session.database.tables["path"]?.rows.holdsTable == true)
  }

  @Test func aNewRuleComputesOnlyTheStrataItReaches() throws {
    let f = try Fixture(prefix: "dq-incr")
    f.run("edge(1, 2). edge(2, 3).\n" + Self.closure + "far(X) :- path(1, X), not edge(1, X).\nother(X) :- edge(X, _).\n")
    #expect(f.run("?- far(X).").out == "X\n3\n")
    #expect(f.run("?- other(X).").out == "X\n1\n2\n")
    let computed = f.recomputations
    // A rule of far: far is computed again, path and other are not.
    f.run("far(X) :- edge(X, 1).\nedge(3, 1).")
    #expect(f.run("?- far(X).").out == "X\n1\n3\n")
    #expect(f.run("?- other(X).").out == "X\n1\n2\n3\n")
    #expect(f.recomputations == computed + 1)
  }
}

extension SessionFolder {
  /// Strata computed from scratch, and strata brought up to date incrementally, so far.
  var recomputations: Int { session.evaluation.recomputations }
  var updates: Int { session.evaluation.incrementalUpdates }
}
