/// What stored tuples cost: bytes per tuple of binary relations, indexes built only when read,
/// and the `.memory` listing. Structural counts, not timings: they hold on any machine.
import Testing

@testable import DQ

@Suite struct MemoryTests {
  private func session() -> (Session, () -> String) {
    var options = Session.Options()
    options.format = .tsv
    let s = Session(options: options, loadDataset: false)
    var out = ""
    s.write = { out += $0 }
    s.report = { out += "error: \($0.message)\n" }
    return (s, { out })
  }

  @Test(arguments: [1_000, 50_000, 123_457, 400_000])
  func binaryRelationStaysWithinSixteenBytesATuple(_ n: Int) {
    let r = Relation(arity: 2)
    for i in 0..<n { r.insert([Value(i % 1_000), Value(i / 1_000)]) }
    #expect(r.count == n)
    // 8 bytes of row, at most 5 / (7/12) of table.
    #expect(Double(r.bytes) / Double(n) <= 16.6 + 200.0 / Double(n))
  }

  @Test func reserveKeepsTheTableWithinItsLoad() {
    let r = Relation(arity: 2)
    r.reserve(100_000)
    for i in 0..<100_000 { r.insert([Value(i), Value(i)]) }
    #expect(Double(r.bytes) / 100_000 <= 16.6)
  }

  @Test func indexesAreBuiltWhenFirstRead() {
    let (s, output) = session()
    // The plan scans `a` and looks `b` up by its first column; with `a` empty no lookup runs,
    // and the index on `b` must not be built.
    _ = s.run(SourceFile(name: "t.dq", text: """
      .decl a(x)
      b(1, 10). b(1, 11). b(2, 20).
      q(X, Y) :- a(X), b(X, Y).
      ?- q(X, Y).
      """))
    let b = s.database.relation("b", arity: 2)
    #expect(b.indexes.map(\.columns) == [[0]], "the plan no longer looks b up: this test needs another program")
    #expect(b.indexes.allSatisfy { !$0.isBuilt }, "an index on b was built though nothing read it")
    // The first lookup builds it over the rows already there; later inserts keep it current.
    _ = s.run(SourceFile(name: "t2.dq", text: "a(1).\n?- q(X, Y).\nb(1, 12).\n?- q(X, Y).\n"))
    #expect(b.indexes.allSatisfy { $0.isBuilt })
    #expect(output().hasSuffix("X\tY\n1\t10\n1\t11\n\nX\tY\n1\t10\n1\t11\n1\t12\n"))
  }

  @Test func memoryListingShowsStoredRelations() {
    let (s, output) = session()
    _ = s.run(SourceFile(name: "t.dq", text: """
      e(1, 2). e(2, 3).
      p(X, Y) :- e(X, Y).
      ?- p(X, Y).
      .memory
      .memory zzz
      """))
    let text = output()
    #expect(text.contains("│ relation │ arity │ tuples │ bytes │ bytes/tuple │ indexes │ facts bytes │"))
    #expect(text.contains("│ e        │     2 │      2 │"))
    #expect(text.contains("│ p        │     2 │      2 │"))
    #expect(text.contains("4 tuples in 2 relations"))
    #expect(text.contains("No stored relation name contains 'zzz'."))
  }
}
