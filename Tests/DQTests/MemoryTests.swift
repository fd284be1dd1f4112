/// What stored tuples cost: bytes per tuple of binary relations, indexes built only when read,
/// and the `.memory` listing. Structural counts, not timings: they hold on any machine.
#if os(Linux)
import Glibc
#endif
import Testing

@testable import DQ

@Suite struct MemoryTests {
  private func session() -> (Session, () -> String) {
    var options = Session.Options()
    options.format = .tsv
    let s = Session(options: options, loadDataset: false)
    var out = ""
    s.capture.onWrite = { out += $0 }
    s.capture.onReport = { out += "error: \($0.message)\n" }
    return (s, { out })
  }

  @Test(arguments: [1_000, 50_000, 123_457, 400_000])
  func binaryRelationOfFactsStaysWithinSixteenBytesATuple(_ n: Int) {
    let r = Relation(arity: 2)
    r.clusterable = true  // a relation of facts, which may keep its table at rest
    for i in 0..<n { r.insert([Value(i % 1_000), Value(i / 1_000)]) }
    #expect(r.count == n)
    // 8 bytes of row, at most (16/3) / (5/8) of table.
    #expect(Double(r.bytes) / Double(n) <= 16.54 + 200.0 / Double(n))
    // A derived relation doubles its table instead (it releases it when computed).
    let d = Relation(arity: 2)
    for i in 0..<n { d.insert([Value(i % 1_000), Value(i / 1_000)]) }
    #expect(Double(d.bytes) / Double(n) <= 8 + (16.0 / 3) / (7.0 / 16) + 200.0 / Double(n))
    d.settle()
    #expect(d.bytes == n * 8)
  }

  #if os(Linux)
  @Test("A fresh large table's part is mapped for writing before it is filled, and stays empty")
  func populateMapsAPartOfATable() throws {
    let table = SlotTable(slots: 1 << 20)  // 5.3 MiB: its own mapping
    defer { table.release() }
    /// Whether every page of groups `groups` is in memory (mincore).
    func resident(_ groups: Range<Int>) -> Bool {
      let page = 4096
      let low = Int(bitPattern: table.line(groups.lowerBound)) & ~(page - 1)
      let high = Int(bitPattern: table.line(groups.upperBound))
      var flags = [UInt8](repeating: 0, count: (high - low + page - 1) / page)
      guard let p = UnsafeMutableRawPointer(bitPattern: low), mincore(p, high - low, &flags) == 0 else { return false }
      return flags.allSatisfy { $0 & 1 == 1 }
    }
    let quarter = table.groupCount / 4
    // Pages of a fresh mapping are taken only when touched.
    #expect(!resident(quarter..<2 * quarter))
    // A kernel before 5.14 (or a sandbox) may not do it: the table is then filled as touched.
    try #require(table.populate(part: 0, of: 2), "MADV_POPULATE_WRITE is not supported here")
    #expect(resident(64..<2 * quarter - 64))
    #expect(!resident(3 * quarter..<table.groupCount - 64))
    #expect(table.find(0x1234_5678_9ABC_DEF0) { _ in true }.found == false)
  }
  #endif

  @Test func reserveKeepsTheTableWithinItsLoad() {
    let r = Relation(arity: 2)
    r.clusterable = true
    r.reserve(100_000)
    for i in 0..<100_000 { r.insert([Value(i), Value(i)]) }
    #expect(Double(r.bytes) / 100_000 <= 16.6)
  }

  @Test func indexesOfDerivedRelationsAreBuiltWhenFirstRead() {
    let (s, output) = session()
    // The plan scans `a` and looks `b` up by its first column; with `a` empty no lookup runs,
    // and the index on `b` must not be built. (`b` is derived: explicit facts are clustered
    // instead, before the plan runs; see `factsAreClusteredByTheirFirstLookup`.)
    _ = s.run(SourceFile(name: "t.dq", text: """
      .decl a(x)
      b0(1, 10). b0(1, 11). b0(2, 20).
      b(X, Y) :- b0(X, Y).
      q(X, Y) :- a(X), b(X, Y).
      ?- q(X, Y).
      """))
    let b = s.database.relation("b", arity: 2)
    #expect(b.indexes.map(\.columns) == [[0]], "the plan no longer looks b up: this test needs another program")
    #expect(b.indexes.allSatisfy { !$0.isBuilt }, "an index on b was built though nothing read it")
    // The first lookup builds it over the rows already there; later inserts keep it current.
    _ = s.run(SourceFile(name: "t2.dq", text: "a(1).\n?- q(X, Y).\nb0(1, 12).\n?- q(X, Y).\n"))
    #expect(b.indexes.allSatisfy { $0.isBuilt })
    #expect(output().hasSuffix("X\tY\n1\t10\n1\t11\n\nX\tY\n1\t10\n1\t11\n1\t12\n"))
  }

  @Test func factsAreClusteredByTheirFirstLookup() {
    let (s, output) = session()
    // 20,000 facts e(i, i mod 700), looked up by the second column.
    var text = ".decl e(a, b)\n"
    for i in 0..<20_000 { text += "e(\(i), \(i % 700)).\n" }
    text += "q(K, N) :- k(K), N = count : { e(_, K) }.\nk(3). k(699). k(700).\n?- q(K, N).\n"
    _ = s.run(SourceFile(name: "t.dq", text: text))
    #expect(output().hasSuffix("K\tN\n3\t29\n699\t28\n700\t0\n"))
    let e = s.database.relation("e", arity: 2)
    #expect(e.isClustered)
    #expect(!e.holdsTable, "a clustered relation keeps no deduplication table")
    #expect(e.indexes.count == 1 && e.indexes[0].isClustered)
    // 8 bytes of row and a directory of 700 keys.
    #expect(Double(e.bytes) / 20_000 < 8.5)
    // A new fact: the relation is written again, so it is no longer clustered; the directory
    // became a chained index over the rows where they are, which later inserts keep current
    // (no sort per query for a session that keeps adding facts).
    _ = s.run(SourceFile(name: "t2.dq", text: "e(99999, 3).\n"))
    #expect(!e.isClustered && e.holdsTable)
    #expect(e.indexes.count == 1 && e.indexes[0].isBuilt && !e.indexes[0].isClustered)
    _ = s.run(SourceFile(name: "t3.dq", text: "?- q(3, N).\n?- e(99999, 3).\n?- e(99999, 4).\ne(99998, 3).\n?- q(3, N).\n"))
    #expect(!e.isClustered)
    #expect(output().hasSuffix("N\n30\n\ntrue\n\nfalse\n\nN\n31\n"))
  }

  @Test func derivedRelationsReleaseTheirTableWhenComputed() {
    let (s, output) = session()
    _ = s.run(SourceFile(name: "t.dq", text: """
      edge(1, 2). edge(2, 3). edge(3, 4).
      path(X, Y) :- edge(X, Y).
      path(X, Z) :- path(X, Y), edge(Y, Z).
      ?- path(1, X).
      """))
    let path = s.database.relation("path", arity: 2)
    #expect(path.count == 6)
    #expect(!path.holdsTable)
    #expect(path.bytes == 6 * 8 + path.indexes.reduce(0) { $0 + $1.bytes })  // rows and the index the query read
    // A whole-tuple lookup rebuilds it.
    #expect(path.contains([2, 4]) && !path.contains([4, 1]))
    #expect(path.holdsTable)
    #expect(output().hasSuffix("X\n2\n3\n4\n"))
  }

  @Test func citationsFollowClusteredRows() {
    let s = Session()
    let db = s.database
    // Every fact's citation, before any plan has clustered anything.
    var before: [String: [[Value]: String]] = [:]
    for (name, t) in db.tables where t.facts == nil && t.rows.count > 1 && t.arity > 1 {
      for r in 0..<t.rows.count {
        let tuple = t.rows.row(r)
        before[name, default: [:]][tuple] = db.citation(of: name, tuple).map { "\($0.file): \($0.quote)" } ?? "-"
      }
    }
    #expect(before.count > 3)
    // A lookup on the last column of each: clusters them all.
    var clustered = 0
    for (name, _) in before {
      guard let t = db.tables[name] else { continue }
      var args = (0..<t.arity).map { "X\($0)" }
      args[t.arity - 1] = "_"
      let program = "zz_\(name)(\(args.dropLast().joined(separator: ", "))) :- \(name)(\(args.joined(separator: ", "))), \(name)(\(args.dropLast().joined(separator: ", ")), Y), Y = Y.\n?- zz_\(name)(\(args.dropLast().joined(separator: ", "))).\n"
      s.capture.onWrite = { _ in }
      _ = s.run(SourceFile(name: "c.dq", text: program))
      if t.rows.isClustered { clustered += 1 }
    }
    #expect(clustered > 3)
    func check() {
      for (name, facts) in before {
        for (tuple, cited) in facts {
          #expect((db.citation(of: name, tuple).map { "\($0.file): \($0.quote)" } ?? "-") == cited, "\(name)")
        }
      }
    }
    check()
    // Retracting a fact of a sorted relation rebuilds it; the other facts keep their citations.
    let sorted = before.filter { db.tables[$0.key]?.rows.isClustered == true }
    guard let (name, facts) = sorted.first(where: { $0.value.values.contains { $0 != "-" } }),
      let (tuple, _) = facts.first(where: { $0.value != "-" })
    else {
      Issue.record("no clustered relation with a cited fact")
      return
    }
    let text = "\(name)(\(tuple.map { db.store.source($0) }.joined(separator: ", ")))."
    #expect((try? s.retract(text).get()) == true, "\(text)")
    before[name]?[tuple] = nil
    check()
  }

  @Test func memoryListingShowsStoredRelations() {
    let (s, output) = session()
    _ = s.run(SourceFile(name: "t.dq", text: """
      e(1, 2). e(2, 3).
      p(X, Y) :- e(X, Y).
      ?- p(X, Y).
      .format table
      .memory
      .memory zzz
      .format tsv
      .memory e
      """))
    let text = output()
    // In TSV (as a program reads it): a header, then one line per relation.
    #expect(text.contains("\nrelation\tarity\ttuples\tbytes\tbytes/tuple\tindexes\tfacts bytes\ne\t2\t2\t"), "\(text)")
    #expect(text.contains("│ relation │ arity │ tuples │ bytes │ bytes/tuple │ indexes │ facts bytes │"))
    #expect(text.contains("│ e        │     2 │      2 │"))
    #expect(text.contains("│ p        │     2 │      2 │"))
    #expect(text.contains("4 tuples in 2 relations"))
    #expect(text.contains("No stored relation name contains 'zzz'."))
  }

  /// A session with `threads` threads that splits rounds from 2 delta rows on.
  private func session(threads: Int) -> Session {
    var options = Session.Options()
    options.format = .tsv
    options.warnings = false
    options.maxTuples = 0
    options.threads = threads
    options.parallelMinimumDelta = 2
    return Session(options: options, loadDataset: false)
  }

  @Test func aRuleThatDoesNotReadItsNewRowsStoresWhatItDerivesAsItRuns() {
    // 360,000 tuples from one run of one rule (2.9 MB of derivations): stored a chunk of
    // 128 KiB at a time, not buffered until the rule is done.
    let s = session(threads: 1)
    let facts = (0..<600).map { "a(\($0))." }.joined(separator: " ")
    _ = s.run(SourceFile(name: "t.dq", text: facts + "\np(X, Y) :- a(X), a(Y).\n?- N = count : { p(X, Y) }.\n"))
    #expect(s.database.tables["p"]?.rows.count == 360_000)
    #expect(s.database.largestBuffered > 0)
    #expect(s.database.largestBuffered <= 256 << 10, "\(s.database.largestBuffered) bytes buffered")
  }

  @Test func aSplitFirstRoundRuleHoldsAWaveNotEveryTuple() {
    // 640,000 tuples (5 MB) from one rule split across two threads (`DistinctSplit`): the
    // threads hold what one wave derives, not their halves of everything.
    let s = session(threads: 2)
    let facts = (0..<800).map { "a(\($0))." }.joined(separator: " ")
    _ = s.run(SourceFile(name: "t.dq", text: facts + "\np(X, Y) :- a(X), a(Y).\n?- N = count : { p(X, Y) }.\n"))
    #expect(s.database.tables["p"]?.rows.count == 640_000)
    #expect(s.database.parallelRuns == 1)
    #expect(s.database.largestBuffered > 0)
    #expect(s.database.largestBuffered <= 3 << 20, "\(s.database.largestBuffered) bytes buffered")
  }

  @Test func parallelRoundsHoldWhatTheyKeepNotEveryDerivation() {
    // `p` starts symmetric (640,000 tuples), so its second round derives every tuple again,
    // once each. The threads drop the stored ones as their outputs fill, so each holds a first
    // chunk (1 MiB), not its half of the round's derivations (2.6 MB, in 4 MiB of output).
    let s = session(threads: 2)
    let facts = (0..<800).map { "a(\($0))." }.joined(separator: " ")
    _ = s.run(SourceFile(name: "t.dq", text: facts + """

      e(X, Y) :- a(X), a(Y).
      p(X, Y) :- e(X, Y).
      p(Y, X) :- p(X, Y).
      ?- N = count : { p(X, Y) }.
      """))
    #expect(s.database.tables["p"]?.rows.count == 640_000)
    #expect(s.database.parallelRuns > 0)
    #expect(s.database.largestBuffered <= 3 << 20, "\(s.database.largestBuffered) bytes buffered")
  }
}
