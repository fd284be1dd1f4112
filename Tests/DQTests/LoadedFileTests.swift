/// Files as units of the session: loading a file again replaces what it added (reconsult),
/// `.reload` loads every file again, `.unload` takes one out; derived relations follow.
import DQ
import Foundation
import Testing

@Suite struct LoadedFileTests {
  /// The shared file fixture (Support/SessionFolder.swift).
  typealias Fixture = SessionFolder

  @Test func loadingAgainReplacesTheRulesAndFacts() throws {
    let f = try Fixture(prefix: "dq-loaded")
    try f.write("g.dq", "edge(1, 2). edge(2, 3).\npath(X, Y) :- edge(X, Y).\npath(X, Z) :- path(X, Y), edge(Y, Z).\n")
    f.run(".load \(f.path("g.dq"))")
    #expect(f.run("?- path(1, X).").out == "X\n2\n3\n")
    // The new version drops a fact and the recursive rule: the old ones must not linger, and
    // path, computed before, is computed again.
    try f.write("g.dq", "edge(1, 2). edge(3, 4).\npath(X, Y) :- edge(X, Y).\n")
    #expect(f.run(".load \(f.path("g.dq"))").errors == [])
    #expect(f.run("?- path(X, Y).").out == "X\tY\n1\t2\n3\t4\n")
    #expect(f.session.rules.count == 1)
  }

  @Test func reloadReadsEveryLoadedFileAgain() throws {
    let f = try Fixture(prefix: "dq-loaded")
    try f.write("a.dq", "a(1).\n.load b.dq\n")
    try f.write("b.dq", "b(1).\n")
    try f.write("c.dq", "c(1).\n")
    f.run(".load \(f.path("a.dq"))\n.load \(f.path("c.dq"))")
    try f.write("b.dq", "b(2).\n")
    try f.write("c.dq", "c(2).\n")
    #expect(f.run(".reload").errors == [])
    #expect(f.run("?- b(X).").out == "X\n2\n")
    #expect(f.run("?- c(X).").out == "X\n2\n")
    #expect(f.run("?- a(X).").out == "X\n1\n")
  }

  @Test func aFileLoadedByAnUnloadedFileIsReloadedOnItsOwn() throws {
    let f = try Fixture(prefix: "dq-loaded")
    try f.write("a.dq", ".load b.dq\n")
    try f.write("b.dq", "b(1).\n")
    f.run(".load \(f.path("a.dq"))")
    #expect(f.run(".unload \(f.path("a.dq"))").errors == [])
    try f.write("b.dq", "b(2).\n")
    #expect(f.run(".reload").errors == [])
    #expect(f.run("?- b(X).").out == "X\n2\n")
  }

  @Test func aNewVersionWithASyntaxErrorChangesNothing() throws {
    let f = try Fixture(prefix: "dq-loaded")
    try f.write("p.dq", "p(1).\nq(X) :- p(X).\n")
    f.run(".load \(f.path("p.dq"))")
    try f.write("p.dq", "p(2).\nq(X) :- p(X\n")
    #expect(!f.run(".reload").errors.isEmpty)
    #expect(f.run("?- q(X).").out == "X\n1\n")
  }

  @Test func reloadingMayChangeARelationsColumns() throws {
    let f = try Fixture(prefix: "dq-loaded")
    try f.write("r.dq", "r(1, 2).\n")
    f.run(".load \(f.path("r.dq"))")
    try f.write("r.dq", "r(1, 2, 3).\n")
    #expect(f.run(".reload").errors == [])
    #expect(f.run("?- r(X, Y, Z).").out == "X\tY\tZ\n1\t2\t3\n")
  }

  @Test func unloadKeepsFactsStatedElsewhere() throws {
    let f = try Fixture(prefix: "dq-loaded")
    try f.write("a.dq", "p(1). p(2). p(3).\nq(X) :- p(X), X > 1.\n")
    try f.write("b.dq", "p(3).\n")
    f.run("p(1).")
    f.run(".load \(f.path("a.dq"))\n.load \(f.path("b.dq"))")
    f.run("p(2).")
    #expect(f.run("?- q(X).").out == "X\n2\n3\n")
    #expect(f.run(".unload \(f.path("a.dq"))").errors == [])
    // p(1) was typed before, p(2) after, p(3) is b.dq's too: all stay; q went with a.dq.
    #expect(f.run("?- p(X).").out == "X\n1\n2\n3\n")
    #expect(f.session.rules.isEmpty)
    #expect(f.run(".unload \(f.path("b.dq"))").errors == [])
    #expect(f.run("?- p(X).").out == "X\n1\n2\n")
  }

  @Test func unloadTakesOutImportedRows() throws {
    let f = try Fixture(prefix: "dq-loaded")
    try f.write("rows.tsv", "1\t2\n3\t4\n")
    try f.write("i.dq", ".import rows.tsv e\n")
    f.run("e(1, 2).")
    f.run(".load \(f.path("i.dq"))")
    #expect(f.run("?- e(X, Y).").out == "X\tY\n1\t2\n3\t4\n")
    f.run(".unload \(f.path("i.dq"))")
    #expect(f.run("?- e(X, Y).").out == "X\tY\n1\t2\n")
  }

  @Test func importedRowsAnotherFileStatesStayWhenOneIsUnloaded() throws {
    let f = try Fixture(prefix: "dq-loaded")
    try f.write("rows.tsv", "1\t2\n3\t4\n")
    try f.write("a.dq", ".import rows.tsv e\n")
    try f.write("b.dq", "e(3, 4).\ne(5, 6).\n")
    f.run(".load \(f.path("a.dq"))")
    f.run(".load \(f.path("b.dq"))")
    f.run(".unload \(f.path("a.dq"))")
    // e(3, 4) is b.dq's too; e(1, 2) was a.dq's alone.
    #expect(f.run("?- e(X, Y).").out == "X\tY\n3\t4\n5\t6\n")
    // A retracted fact is gone from every file's record: loading a.dq again brings back its
    // rows, and unloading b.dq then takes e(5, 6) only.
    f.run(".retract e(3, 4)")
    f.run(".load \(f.path("a.dq"))")
    f.run(".unload \(f.path("b.dq"))")
    #expect(f.run("?- e(X, Y).").out == "X\tY\n1\t2\n3\t4\n")
  }

  @Test func aRelationForgottenAndNamedAgainWithOtherColumns() throws {
    let f = try Fixture(prefix: "dq-loaded")
    try f.write("a.dq", "p(1).\n")
    f.run(".load \(f.path("a.dq"))")
    f.run("p(1).")  // pinned: stated at the prompt too
    f.run(".retract p(1)")
    f.run(".unload \(f.path("a.dq"))")  // p is forgotten
    // p comes back with two columns: the pinned and recorded facts of the old p are not its.
    #expect(f.run("p(1, 2).").errors == [])
    #expect(f.run(".retract p(1, 2)").errors == [])
    try f.write("b.dq", "p(3, 4).\n")
    f.run(".load \(f.path("b.dq"))")
    #expect(f.run("p(3, 4).\n?- p(X, Y).").out == "X\tY\n3\t4\n")
  }

  @Test func relationsDerivedFromAnUnloadedFileAreComputedAgain() throws {
    let f = try Fixture(prefix: "dq-loaded")
    try f.write("facts.dq", "edge(1, 2). edge(2, 3).\n")
    f.run("reach(X, Y) :- edge(X, Y).\nreach(X, Z) :- reach(X, Y), edge(Y, Z).")
    f.run(".load \(f.path("facts.dq"))")
    #expect(f.run("?- reach(1, X).").out == "X\n2\n3\n")
    f.run(".unload \(f.path("facts.dq"))")
    #expect(f.run("?- reach(1, X).").out == "X\n")
    // The relation the prompt's rules read stays known.
    #expect(f.run("edge(1, 5).\n?- reach(1, X).").out == "X\n5\n")
  }

  @Test func factsOfARelationWithRulesLeaveItsAnswers() throws {
    let f = try Fixture(prefix: "dq-loaded")
    try f.write("pf.dq", "p(1).\nq(5).\n")
    f.run("p(X) :- q(X).")
    f.run(".load \(f.path("pf.dq"))")
    #expect(f.run("?- p(X).").out == "X\n1\n5\n")
    f.run(".unload \(f.path("pf.dq"))")
    #expect(f.run("?- p(X).").out == "X\n")
  }

  @Test func reloadAndUnloadNeedTheirWholeName() throws {
    let f = try Fixture(prefix: "dq-loaded")
    f.run("p(a).")
    let listing = f.run(".rel")
    #expect(listing.errors == [])
    #expect(listing.out.contains("p"))
    #expect(f.run(".unl x").errors == ["Unknown command '.unl'"])
  }
}
