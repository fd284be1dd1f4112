/// Relations and indexes: set semantics, row numbers, index chains, growth and arity 0.
import Testing

@testable import DQ

@Suite struct RelationTests {
  /// The rows an index chain yields for `key`, newest first.
  private func chain(_ index: Index, _ key: [Value]) -> [Int] {
    var rows: [Int] = []
    var e = key.withUnsafeBufferPointer { index.first($0.baseAddress!) }
    while e != 0 {
      rows.append(Int(e) - 1)
      e = index.next[Int(e) - 1]
    }
    return rows
  }

  @Test func insertDeduplicates() {
    let r = Relation(arity: 2)
    #expect(r.insert([1, 2]))
    #expect(r.insert([2, 1]))
    #expect(!r.insert([1, 2]))
    #expect(r.count == 2)
    #expect(r.contains([1, 2]))
    #expect(r.contains([2, 1]))
    #expect(!r.contains([1, 1]))
    #expect(r.row(0) == [1, 2])
    #expect(r.row(1) == [2, 1])
    #expect(r[1, 0] == 2)
  }

  @Test func removingRowsRenumbersTheTableInPlace() {
    let r = Relation(arity: 2)
    var kept = (0..<20_000).map { [Value($0), Value($0 % 97)] }
    for t in kept { r.insert(t) }
    // A few rows out of many, then a few more (dead slots add up), then one at row 0.
    for removal in [[3, 1024, 1025, 5000, 19_999], [0, 1, 2, 700, 15_000], [0]] {
      let gone = removal.map { kept[$0] }
      r.removeRows(removal)
      for i in removal.reversed() { kept.remove(at: i) }
      #expect(r.count == kept.count)
      for (i, t) in kept.enumerated() where r.find(t) != i {
        Issue.record("row \(i) \(t) found at \(String(describing: r.find(t)))")
        return
      }
      for t in gone { #expect(r.find(t) == nil) }
      // Inserted again, a removed tuple goes to the end; a kept one is not inserted twice.
      #expect(!r.insert(kept[0]) && !r.insert(kept[kept.count - 1]))
    }
    #expect(r.insert([0, 0]))
    #expect(r.find([0, 0]) == r.count - 1 && r.count == kept.count + 1)
    // Many rows at once: the table is dropped and built again from the rows.
    r.removeRows(Array(0..<10_000))
    #expect(r.count == kept.count + 1 - 10_000)
    #expect(r.find(kept[10_000]) == 0 && r.find(kept[5]) == nil)
  }

  @Test("Removing rows renumbers the chained indexes in place: chains, sizes and vanished keys")
  func removingRowsKeepsChainedIndexes() {
    let r = Relation(arity: 2)
    var kept = (0..<5_000).map { [Value($0), Value($0 % 97)] }
    for t in kept { r.insert(t) }
    let byKey = r.index(on: [1])  // 97 keys
    let unique = r.index(on: [0])  // a key a row
    // Scattered rows; then every row of key 5 (the key leaves the index); then row 0 and the last.
    for step in 0..<3 {
      let removal = [[3, 1024, 1025, 2000, 4_999], kept.indices.filter { kept[$0][1] == 5 }, [0, kept.count - 6]][step]
      r.removeRows(removal)
      for i in removal.reversed() { kept.remove(at: i) }
      #expect(byKey.isBuilt && unique.isBuilt)
      for key in 0..<Value(97) {
        let expected = kept.indices.filter { kept[$0][1] == key }.reversed().map { $0 }
        #expect(chain(byKey, [key]) == expected, "key \(key)")
        let slot = [key].withUnsafeBufferPointer { byKey.slot($0.baseAddress!) }
        #expect(slot < 0 ? expected.isEmpty : byKey.count(atSlot: slot, low: 0, high: r.count) == expected.count)
      }
      for (i, t) in kept.enumerated() where chain(unique, [t[0]]) != [i] {
        Issue.record("row \(i) \(t): \(chain(unique, [t[0]]))")
        return
      }
      #expect(chain(unique, [3]).isEmpty)
    }
    #expect(byKey.distinctKeys == 96 && unique.distinctKeys == kept.count)
    // Rows added afterwards join the chains.
    r.insert([9_999, 5])
    #expect(chain(byKey, [5]) == [r.count - 1])
  }

  @Test func findGivesStableRowNumbers() {
    let r = Relation(arity: 3)
    for i in 0..<1000 { r.insert([Value(i), Value(i * 7), Value(i % 3)]) }
    for i in stride(from: 0, to: 1000, by: 37) {
      #expect(r.find([Value(i), Value(i * 7), Value(i % 3)]) == i)
    }
    #expect(r.find([1, 2, 3]) == nil)
  }

  @Test func arityZeroHoldsAtMostOneTuple() {
    let r = Relation(arity: 0)
    #expect(r.count == 0)
    #expect(!r.contains([]))
    #expect(r.insert([]))
    #expect(!r.insert([]))
    #expect(r.count == 1)
    #expect(r.contains([]))
    #expect(r.find([]) == 0)
    r.removeAll()
    #expect(r.count == 0)
    #expect(!r.contains([]))
  }

  @Test func arityOneAndWideRows() {
    let one = Relation(arity: 1)
    for v: Value in [5, 3, 5, 9, 3] { one.insert([v]) }
    #expect(one.count == 3)
    let wide = Relation(arity: 12)
    let t = (0..<12).map { Value($0) }
    #expect(wide.insert(t))
    #expect(!wide.insert(t))
    var u = t
    u[11] = 99
    #expect(wide.insert(u))
    #expect(wide.count == 2)
  }

  @Test func growsPastOneHundredThousandRows() {
    let r = Relation(arity: 2)
    let n = 150_000
    var inserted = 0
    for i in 0..<n where r.insert([Value(i), Value(i &* 2654435761 % 1000)]) { inserted += 1 }
    #expect(inserted == n)
    #expect(r.count == n)
    // Everything is still found at its row, and nothing extra.
    var missing = 0
    for i in 0..<n where r.find([Value(i), Value(i &* 2654435761 % 1000)]) != i { missing += 1 }
    #expect(missing == 0)
    #expect(!r.contains([Value(n), 0]))
    // Re-inserting changes nothing.
    var fresh = 0
    for i in stride(from: 0, to: n, by: 7) where r.insert([Value(i), Value(i &* 2654435761 % 1000)]) { fresh += 1 }
    #expect(fresh == 0)
    #expect(r.count == n)
  }

  /// A derived relation's table doubles while small and grows by half once large, so a large
  /// one holds at most 12/7 slots a tuple (doubling would leave up to 16/7): 1,400,000 tuples
  /// pass 7/8 of 1,572,864 slots, which doubling would take to 3,145,728 (2.25 a tuple).
  @Test func largeDerivedTableGrowsByHalf() {
    let r = Relation(arity: 2)
    let n = 1_400_000
    let tuples = (0..<n).flatMap { [Value($0 / 1000), Value($0 % 1000)] }
    #expect(tuples.withUnsafeBufferPointer { r.insertAll($0.baseAddress!, count: n) } == n)
    let slots = r.table.slotCount
    #expect(slots >= n * 8 / 7)
    #expect(slots * 7 <= n * 12, "\(slots) slots for \(n) tuples")
    // Every tuple is still found at its row.
    #expect(r.find([Value(1399), Value(999)]) == n - 1)
    #expect(r.find([Value(0), Value(0)]) == 0)
    #expect(!r.contains([Value(1400), Value(0)]))
  }

  /// A derived relation's table sizes come from one ladder: one whose table was released
  /// (`settle`) and rebuilt part way ends at the size of one that grew from empty.
  @Test func derivedTableSizesFollowOneLadder() {
    let n = 300_000
    let tuples = (0..<n).flatMap { [Value($0 / 1000), Value($0 % 1000)] }
    let grown = Relation(arity: 2), rebuilt = Relation(arity: 2)
    tuples.withUnsafeBufferPointer { p in
      _ = grown.insertAll(p.baseAddress!, count: n)
      _ = rebuilt.insertAll(p.baseAddress!, count: 1_000)
      rebuilt.settle()
      _ = rebuilt.insertAll(p.baseAddress! + 2_000, count: n - 1_000)
    }
    #expect(rebuilt.count == n)
    #expect(rebuilt.table.slotCount == grown.table.slotCount)
    #expect(Relation.rung(above: grown.table.slotCount / 2, orEqual: true) <= grown.table.slotCount)
    #expect(Relation.rung(above: 12) == 24)
    #expect(Relation.rung(above: 1_572_864) == 2_359_296)
  }

  @Test func largeValuesHashApart() {
    // Values that differ only in the high bits (the tag) are different tuples.
    let r = Relation(arity: 1)
    let tags: [Value] = [0, 1 << 29, 2 << 29, 3 << 29]
    for t in tags { for i in 0..<100 { r.insert([t | Value(i)]) } }
    #expect(r.count == 400)
  }

  @Test func reserveKeepsContents() {
    let r = Relation(arity: 2)
    r.insert([1, 1])
    r.reserve(100_000)
    #expect(r.contains([1, 1]))
    for i in 0..<1000 { r.insert([Value(i), 0]) }
    #expect(r.count == 1001)
  }

  // MARK: - Indexes

  @Test func indexChainsAreNewestFirst() {
    let r = Relation(arity: 2)
    r.insert([1, 10])  // row 0
    r.insert([2, 20])  // row 1
    r.insert([1, 11])  // row 2
    let index = r.index(on: [0])
    // Rows inserted after the index exists are added to it.
    r.insert([1, 12])  // row 3
    r.insert([3, 30])  // row 4
    #expect(chain(index, [1]) == [3, 2, 0])
    #expect(chain(index, [2]) == [1])
    #expect(chain(index, [3]) == [4])
    #expect(chain(index, [4]) == [])
  }

  @Test func indexOnSeveralColumns() {
    let r = Relation(arity: 3)
    for a in 0..<5 { for b in 0..<5 { for c in 0..<4 { r.insert([Value(a), Value(b), Value(c)]) } } }
    let index = r.index(on: [0, 2])
    let rows = chain(index, [3, 1])
    #expect(rows.count == 5)
    #expect(rows.allSatisfy { r[$0, 0] == 3 && r[$0, 2] == 1 })
    #expect(rows == rows.sorted(by: >))
  }

  // MARK: - Clustering

  @Test func sortedOrderIsAStableSortByTheColumns() {
    var rng = SystemRandomNumberGenerator()
    let n = 5_000
    // Values spread over all 32 bits in column 1, so every radix pass runs.
    var rows: [[Value]] = []
    for i in 0..<n {
      rows.append([Value(i), Value.random(in: 0..<8, using: &rng) << 29 | Value.random(in: 0..<50, using: &rng), Value.random(in: 0..<3, using: &rng)])
    }
    let flat = rows.flatMap { $0 }
    for columns in [[1], [2], [1, 2], [2, 1], [0]] {
      let order = flat.withUnsafeBufferPointer { Relation.sortedOrder($0.baseAddress!, arity: 3, count: n, by: columns) }
      let got = (0..<n).map { Int(order[$0]) }
      order.deallocate()
      let want = (0..<n).sorted { a, b in
        for c in columns where rows[a][c] != rows[b][c] { return rows[a][c] < rows[b][c] }
        return a < b
      }
      #expect(got == want, "columns \(columns)")
    }
  }

  @Test func binaryRowsSortInPlaceStably() {
    var rng = SystemRandomNumberGenerator()
    let n = 5_000
    // Keys spread over all 32 bits (so every pass runs) with many repeats; the other column
    // numbers the rows, so stability shows.
    let keys = (0..<n).map { _ in Value.random(in: 0..<8, using: &rng) << 29 | Value.random(in: 0..<40, using: &rng) }
    for column in [0, 1] {
      var flat = [Value](repeating: 0, count: 2 * n)
      for i in 0..<n {
        flat[2 * i + column] = keys[i]
        flat[2 * i + 1 - column] = Value(i)
      }
      flat.withUnsafeMutableBufferPointer { Relation.sortBinaryRows($0.baseAddress!, count: n, by: column) }
      let want = (0..<n).sorted { keys[$0] != keys[$1] ? keys[$0] < keys[$1] : $0 < $1 }
      #expect((0..<n).map { Int(flat[2 * $0 + 1 - column]) } == want, "column \(column)")
      #expect((0..<n).allSatisfy { flat[2 * $0 + column] == keys[Int(flat[2 * $0 + 1 - column])] })
    }
  }

  @Test func clusteredIndexFindsEveryKeysRows() {
    let r = Relation(arity: 2)
    r.clusterable = true
    // Runs of 1, 2, 3, ... 60 rows, inserted interleaved, and one run of 3,000.
    var expected: [Value: Set<Value>] = [:]
    for round in 0..<60 {
      for key in Value(round)..<60 {
        r.insert([key, Value(round)])
        expected[key, default: []].insert(Value(round))
      }
    }
    for j in 0..<3_000 { r.insert([1_000, Value(j)]); expected[1_000, default: []].insert(Value(j)) }
    let index = r.index(on: [0])
    r.cluster(by: index)
    #expect(r.isClustered && index.isClustered && !r.holdsTable)
    for (key, values) in expected {
      var k = key
      let rows = index.rows(&k)
      #expect(Set(rows.map { r[$0, 1] }) == values, "key \(key)")
      #expect(rows.allSatisfy { r[$0, 0] == key })
    }
    var missing: Value = 61
    #expect(index.rows(&missing).isEmpty)
    // Whole-tuple lookups still work (the table is rebuilt), and so do inserts.
    #expect(r.contains([1_000, 2_999]) && !r.contains([1_000, 3_000]))
    #expect(r.insert([1_000, 3_000]))
    #expect(!r.isClustered && !index.isClustered)
    #expect(!r.insert([59, 0]))
    // The index went on as a chained one, over the rows where they were, with the new row in it.
    #expect(index.isBuilt && chain(index, [1_000]).count == 3_001 && chain(index, [59]).count == 60)
    r.clusterForFirstLookup(by: index)
    #expect(!r.isClustered, "a built index is not sorted by again")
  }

  @Test func indexesAreSharedByColumns() {
    let r = Relation(arity: 2)
    let a = r.index(on: [1])
    let b = r.index(on: [1])
    #expect(a === b)
    #expect(r.index(on: [0]) !== a)
    #expect(r.index(on: [0, 1]).columns == [0, 1])
  }

  @Test func indexSurvivesGrowthAndManyKeys() {
    let r = Relation(arity: 2)
    let index = r.index(on: [1])
    let n = 120_000
    for i in 0..<n { r.insert([Value(i), Value(i % 997)]) }
    var total = 0
    for k in [0, 1, 500, 996] {
      let rows = chain(index, [Value(k)])
      #expect(rows.allSatisfy { r[$0, 1] == Value(k) })
      #expect(rows == rows.sorted(by: >))
      total += rows.count
    }
    let expected = [0, 1, 500, 996].map { k in (0..<n).filter { $0 % 997 == k }.count }.reduce(0, +)
    #expect(total == expected)
    #expect(chain(index, [997]).isEmpty)
  }

  @Test func removeAllEmptiesRowsAndIndexes() {
    let r = Relation(arity: 2)
    let index = r.index(on: [0])
    for i in 0..<100 { r.insert([Value(i % 10), Value(i)]) }
    r.removeAll()
    #expect(r.count == 0)
    #expect(!r.contains([1, 1]))
    #expect(chain(index, [1]).isEmpty)
    r.insert([1, 5])
    r.insert([1, 6])
    #expect(chain(index, [1]) == [1, 0])
    #expect(r.find([1, 6]) == 1)
  }

  @Test func insertAllMatchesOneByOne() {
    // Long batches with duplicates inside the batch and against rows already there, across the
    // prefetching window and several rehashes.
    var generator = SystemRandomNumberGenerator()
    var flat: [Value] = []
    for _ in 0..<50_000 { flat += [Value.random(in: 0..<300, using: &generator), Value.random(in: 0..<300, using: &generator)] }
    let batched = Relation(arity: 2), single = Relation(arity: 2)
    var fresh = 0
    for start in stride(from: 0, to: 50_000, by: 7_000) {
      let n = min(7_000, 50_000 - start)
      fresh += flat.withUnsafeBufferPointer { batched.insertAll($0.baseAddress! + start * 2, count: n) }
    }
    var expected = 0
    for i in 0..<50_000 where single.insert([flat[2 * i], flat[2 * i + 1]]) { expected += 1 }
    #expect(fresh == expected)
    #expect(batched.count == single.count)
    for r in 0..<single.count { #expect(batched.contains(single.row(r))) }
    // Short batches (shorter than the lookahead) too.
    let small = Relation(arity: 2)
    let three: [Value] = [1, 2, 1, 2, 3, 4]
    #expect(three.withUnsafeBufferPointer { small.insertAll($0.baseAddress!, count: 3) } == 2)
    #expect(three.withUnsafeBufferPointer { small.insertAll($0.baseAddress!, count: 0) } == 0)
  }

  @Test func indexCountsRowsPerKeyInAnyRange() {
    let r = Relation(arity: 2)
    for i in 0..<20_000 { r.insert([Value(i % 97), Value(i)]) }
    let index = r.index(on: [0])
    r.insert([Value(5), Value(100_000)])  // added after the index was built
    for key: Value in [0, 5, 96] {
      let at = [key].withUnsafeBufferPointer { index.slot($0.baseAddress!) }
      #expect(at >= 0)
      let rows = chain(index, [key])
      #expect(index.count(atSlot: at, low: 0, high: r.count) == rows.count)
      #expect(index.count(atSlot: at, low: 0, high: Int.max) == rows.count)
      #expect(index.count(atSlot: at, low: 5_000, high: 12_000) == rows.filter { (5_000..<12_000).contains($0) }.count)
      #expect(index.count(atSlot: at, low: 19_000, high: r.count) == rows.filter { $0 >= 19_000 }.count)
    }
    #expect([Value(97)].withUnsafeBufferPointer { index.slot($0.baseAddress!) } == -1)
  }

  // MARK: - Row ranges for semi-naive evaluation

  @Test func versionsTrackOldDeltaAndFull() {
    let r = Relation(arity: 1)
    r.insert([1])
    var v = RelationVersions(r)
    v.beginFirstRound()
    #expect(v.bounds(.full) == (0, 1))
    #expect(!v.hasDelta)
    r.insert([2])
    r.insert([3])
    let grew = v.mergeDeltaIntoFullAndPromoteNew()
    #expect(grew)
    #expect(v.bounds(.delta) == (1, 3))
    #expect(v.bounds(.old) == (0, 1))
    #expect(v.bounds(.full) == (0, 3))
    let grewAgain = v.mergeDeltaIntoFullAndPromoteNew()
    #expect(!grewAgain)
    #expect(v.bounds(.old) == (0, 3))
    #expect(v.bounds(.delta) == (3, 3))
  }
}
