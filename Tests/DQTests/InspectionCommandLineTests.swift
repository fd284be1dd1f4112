/// `--list`, `--why`, `--depth` and `--check` through the real binary.
import Foundation
import Testing

@Suite struct InspectionCommandLineTests {
  @Test func listShowsEveryRelationWithColumnsRowsAndDescription() throws {
    let r = try DQBinary.run(["--list"])
    #expect(r.status == 0)
    #expect(r.stdout.contains("│ relation "))
    #expect(r.stdout.contains("│ met "))
    #expect(r.stdout.contains("a, b, place, first, last"))
    #expect(r.stdout.contains("(rules) A and B met face to face"))
    #expect(r.stdout.hasSuffix(" relations\n"))
  }

  @Test func whyExplainsDownToQuotedSources() throws {
    let r = try DQBinary.run(["--why", "met(putin, abe, P, F, L)"])
    #expect(r.status == 0)
    #expect(r.stdout.contains("Answer 1: P = sochi, F = 2016-05-01, L = 2016-05-31"))
    #expect(r.stdout.contains("by rule met#"))
    #expect(r.stdout.contains("000_8314bbcf5688cc39.txt: “Abe already met Putin in May at Sochi"))
  }

  @Test func depthCutsTheTreeAndSaysHowToSeeMore() throws {
    let program = "e(1, 2). e(2, 3). e(3, 4). p(X, Y) :- e(X, Y). p(X, Z) :- e(X, Y), p(Y, Z)."
    let r = try DQBinary.run(["--no-dataset", "-e", program, "--why", "p(1, 4)", "--depth", "1"])
    #expect(r.status == 0)
    #expect(r.stdout.contains("deeper steps hidden"))
    let full = try DQBinary.run(["--no-dataset", "-e", program, "--why", "p(1, 4)"])
    #expect(!full.stdout.contains("deeper steps hidden"))
    #expect(full.stdout.contains("e(3, 4)   fact"))
    let repl = try DQBinary.run(["--no-dataset", "-e", program + "\n.why --depth 1 p(1, 4)\n"])
    #expect(repl.stdout.contains("deeper steps hidden"))
  }

  @Test func checkComparesWithExpectationsAndFailsOnADifference() throws {
    let dir = FileManager.default.temporaryDirectory
    let good = dir.appendingPathComponent("dq-check-good-\(UUID().uuidString).dq")
    let bad = dir.appendingPathComponent("dq-check-bad-\(UUID().uuidString).dq")
    defer {
      try? FileManager.default.removeItem(at: good)
      try? FileManager.default.removeItem(at: bad)
    }
    try "% options: --no-dataset --format tsv\np(1).\n?- p(X).\n% expect: X\n% expect: 1\n".write(to: good, atomically: true, encoding: .utf8)
    try "% options: --no-dataset --format tsv\np(1).\n?- p(X).\n% expect: X\n% expect: 2\n".write(to: bad, atomically: true, encoding: .utf8)
    let ok = try DQBinary.run(["--check", good.path])
    #expect(ok.status == 0)
    #expect(ok.stdout.hasSuffix(": ok\n"))
    let failed = try DQBinary.run(["--check", good.path, bad.path])
    #expect(failed.status == 1)
    #expect(failed.stdout.contains("FAILED"))
    #expect(failed.stdout.contains("  - 2"))
    #expect(failed.stdout.contains("  + 1"))
    #expect(failed.stdout.hasSuffix("1 passed, 1 failed\n"))
  }
}

@Suite struct GraphCommandLineTests {
  @Test func graphOptionPrintsDot() throws {
    let r = try DQBinary.run(["--graph", "met(X, Y, P, _, _), X < Y"])
    #expect(r.status == 0)
    #expect(r.stdout.hasPrefix("// ?- met(X, Y, P, _, _), X < Y.\ndigraph answers {\n"))
    #expect(r.stdout.contains("  \"abe\" -> \"putin\" [label=\"sochi\"];\n"))
    #expect(!r.stdout.contains("\"putin\" -> \"abe\""))
  }

  @Test func graphOptionRefusesOneColumn() throws {
    let r = try DQBinary.run(["--graph", "met(X, _, _, _, _)"])
    #expect(r.status == 64)
    #expect(r.stderr.contains("<--graph>:1:1: error: '.graph' draws a query with two or three shown variables; this one shows 1"))
  }
}
