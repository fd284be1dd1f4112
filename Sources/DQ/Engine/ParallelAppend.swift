import Dispatch

/// Appending a parallel round's derivations to a relation on several threads (`ParallelRound`).
///
/// The tuples come as segments (each thread's buffers, in slice order), none of them stored in
/// the relation yet (the threads dropped those), but with repeats among them. What is appended,
/// and in which order, is what `insertAll` over the segments one after another appends: each
/// distinct tuple once, at its first occurrence. The deduplication table is shared out by
/// groups: thread p owns the groups of the p-th range and handles exactly the tuples whose home
/// group is there (equal tuples have equal hashes, so one thread sees every copy of a tuple).
///
/// 1. (threads) Each thread probes its tuples, in order, within its own groups, and puts each
///    one it does not find in the table with a provisional value, `base + position` (past every
///    row number the round can give), so later copies find it; a search that would leave its
///    groups is set aside.
/// 2. (one thread) The set-aside tuples are probed across the whole table, in order.
/// 3. (one thread) Tuples seen first are copied, in order, to the end of the rows, and each gets
///    its row number; indexes learn the new rows.
/// 4. (threads) Each thread replaces the provisional values it placed by the row numbers: it
///    reads the marks in order, counting the first copies (the k-th is row `start + k`), and
///    sets the slots in its groups. A placed tuple's mark is its slot, so what step 4 needs is
///    4 bytes a tuple kept, not a list per thread (two threads' lists of 8-byte entries were
///    some 60 MB of the random 4,000-node closure's peak).
///
/// No thread writes a group another thread reads; the table is sized for every tuple before
/// step 1, so it never moves meanwhile.
extension Relation {
  /// Appends the tuples of `segments` not stored and not repeated earlier, in order, with
  /// `threads` threads; returns how many were appended. Fewer than `minimum` tuples (not
  /// worth starting threads for) go through `insertAll`, and a table of fewer than 8 times
  /// `minimum` rows is resized on one thread (`Budget.parallelMinimumDelta`, which tests lower).
  func appendNew(_ segments: [(UnsafePointer<Value>, Int)], threads: Int, minimum: Int) -> Int {
    let total = segments.reduce(0) { $0 + $1.1 }
    let start = count
    // Provisional values live past every row number the round can give: they must fit in
    // the table's 32 bits.
    guard threads > 1, arity > 0, total >= max(2, minimum), !isClustered,
      start + 2 * total < Int(UInt32.max) - 1, (start + total) / 12 < 1 << 26
    else {
      var fresh = 0
      for (p, n) in segments { fresh += insertAll(p, count: n) }
      return fresh
    }
    prepareForAppend(upTo: start + total, threads: threads, parallelFrom: max(2, minimum) * 8)
    let job = AppendJob(segments, arity: arity, rows: UnsafePointer(data), table: table, base: start + total, threads: threads)
    defer { job.release() }
    let shared = Shared(value: job)
    // 1. Each thread places the first copies of the tuples homed in its groups.
    DispatchQueue.concurrentPerform(iterations: job.parts) { p in shared.value.place(p) }
    // 2. The set-aside tuples, in order, over the whole table.
    job.placeSetAside()
    // 3. The first copies, in order, become rows.
    let fresh = job.firstCount()
    reserveRows(fresh)
    let before = count
    let end = job.copyFirsts(to: data, from: before)
    setCount(end)
    for index in indexes where index.isBuilt {
      for r in before..<end { index.add(row: r) }
    }
    // 4. Each thread gives its groups' provisional values their row numbers.
    DispatchQueue.concurrentPerform(iterations: job.parts) { p in shared.value.number(p, from: before) }
    finishAppend(threads: threads, parallelFrom: max(2, minimum) * 8)
    return fresh
  }
}

extension SlotTable {
  /// Fills this empty table with rows `0..<count` (their hashes' row numbers) on `threads`
  /// threads: thread p adds the rows homed in its share of the groups, in order, and sets aside
  /// those whose search would leave it; those are added afterwards on one thread. A lookup
  /// finds the same rows whatever order they were added in.
  func fill(from rows: UnsafePointer<Value>, count: Int, arity: Int, threads: Int) {
    let parts = max(1, min(threads, groupCount))
    let aside = UnsafeMutablePointer<[Int]>.allocate(capacity: parts)
    aside.initialize(repeating: [], count: parts)
    defer {
      aside.deinitialize(count: parts)
      aside.deallocate()
    }
    let shared = Shared(value: (self, rows, aside))
    DispatchQueue.concurrentPerform(iterations: parts) { p in
      let (table, rows, aside) = shared.value
      let low = table.groupCount * p / parts, high = table.groupCount * (p + 1) / parts
      var mine: [Int] = []
      let ahead = 16
      withUnsafeTemporaryAllocation(of: (Int, UInt64).self, capacity: ahead) { ring in
        var head = 0, filled = 0
        func add(_ r: Int, _ h: UInt64) {
          if !table.add(h, UInt32(truncatingIfNeeded: r), before: high) { mine.append(r) }
        }
        for r in 0..<count {
          let h = Relation.hash(rows + r &* arity, arity)
          let home = table.homeGroup(h)
          if home < low || home >= high { continue }
          if filled == ahead { add(ring[head].0, ring[head].1) } else { filled += 1 }
          ring[head] = (r, h)
          table.prefetch(h)
          head = head + 1 == ahead ? 0 : head + 1
        }
        let first = filled == ahead ? head : 0
        for k in 0..<filled { add(ring[(first + k) % ahead].0, ring[(first + k) % ahead].1) }
      }
      aside[p] = mine
    }
    for p in 0..<parts {
      for r in aside[p] { add(Relation.hash(rows + r &* arity, arity), UInt32(truncatingIfNeeded: r)) }
    }
  }
}

/// The state of one `appendNew`. Its threads share it: thread p writes only the table's groups
/// of part p, the marks of the tuples homed there and its own set-aside list.
private final class AppendJob {
  let segments: [(UnsafePointer<Value>, Int)]
  /// Where each segment starts among all positions.
  let offsets: [Int]
  let total: Int
  let arity: Int
  /// The relation's rows before the append (for comparisons).
  let rows: UnsafePointer<Value>
  let table: SlotTable
  /// The provisional value of the tuple at position i is `base + i`.
  let base: Int
  let parts: Int
  /// Per position. 0: a repeat (or not yet known); 1: first, set aside (step 2); from 2: first,
  /// placed in its part, in slot `mark - 2` (step 4 numbers it). Slots are below 2^31
  /// (`appendNew` keeps the table under 2^27 groups of 16 slot numbers).
  let mark: UnsafeMutablePointer<UInt32>
  /// Per part: the positions whose search would leave the part.
  let setAside: UnsafeMutablePointer<[Int]>

  init(_ segments: [(UnsafePointer<Value>, Int)], arity: Int, rows: UnsafePointer<Value>, table: SlotTable, base: Int, threads: Int) {
    self.segments = segments
    var offsets: [Int] = []
    var sum = 0
    for (_, n) in segments {
      offsets.append(sum)
      sum += n
    }
    self.offsets = offsets
    self.total = sum
    self.arity = arity
    self.rows = rows
    self.table = table
    self.base = base
    self.parts = max(1, min(threads, table.groupCount))
    mark = Memory.allocate(UInt32.self, count: sum)
    mark.initialize(repeating: 0, count: sum)
    setAside = .allocate(capacity: parts)
    setAside.initialize(repeating: [], count: parts)
  }

  func release() {
    Memory.release(mark)
    setAside.deinitialize(count: parts)
    setAside.deallocate()
  }

  /// The groups of part p.
  private func groups(_ p: Int) -> Range<Int> {
    let g = table.groupCount
    return g * p / parts..<g * (p + 1) / parts
  }

  @inline(__always) private func tuple(_ position: Int) -> UnsafePointer<Value> {
    var s = segments.count - 1
    while offsets[s] > position { s -= 1 }
    return segments[s].0 + (position - offsets[s]) &* arity
  }

  @inline(__always) private func equal(_ a: UnsafePointer<Value>, _ b: UnsafePointer<Value>) -> Bool {
    for i in 0..<arity where a[i] != b[i] { return false }
    return true
  }

  /// Whether the table's value `v` holds tuple `t`: a stored row, or a provisional position.
  @inline(__always) private func holds(_ v: UInt32, _ t: UnsafePointer<Value>) -> Bool {
    let v = Int(v)
    return v >= base ? equal(tuple(v - base), t) : equal(rows + v &* arity, t)
  }

  /// Calls `body(position, tuple, hash)` for each tuple homed in `groups`, in order; each
  /// tuple's home group is prefetched some tuples before `body` sees it.
  @inline(__always) private func forEachHomed(in groups: Range<Int>, _ body: (Int, UnsafePointer<Value>, UInt64) -> Void) {
    let ahead = 16
    withUnsafeTemporaryAllocation(of: (Int, UnsafePointer<Value>, UInt64).self, capacity: ahead) { ring in
      var head = 0, filled = 0
      for (s, (rows, n)) in segments.enumerated() {
        let offset = offsets[s]
        for i in 0..<n {
          let t = rows + i &* arity
          let h = Relation.hash(t, arity)
          if !groups.contains(table.homeGroup(h)) { continue }
          if filled == ahead {
            let (position, u, hu) = ring[head]
            body(position, u, hu)
          } else {
            filled += 1
          }
          ring[head] = (offset + i, t, h)
          table.prefetch(h)
          head = head + 1 == ahead ? 0 : head + 1
        }
      }
      let first = filled == ahead ? head : 0
      for k in 0..<filled {
        let (position, u, hu) = ring[(first + k) % ahead]
        body(position, u, hu)
      }
    }
  }

  /// Step 1 for part p.
  func place(_ p: Int) {
    let mine = groups(p)
    var aside: [Int] = []
    forEachHomed(in: mine) { position, t, h in
      guard let (found, slot) = table.find(h, before: mine.upperBound, { holds($0, t) }) else {
        aside.append(position)
        return
      }
      if !found {
        table.fill(slot, h, UInt32(truncatingIfNeeded: base + position))
        mark[position] = UInt32(truncatingIfNeeded: slot &+ 2)
      }
    }
    setAside[p] = aside
  }

  /// Step 2, on one thread.
  func placeSetAside() {
    var aside: [Int] = []
    for p in 0..<parts { aside += setAside[p] }
    aside.sort()
    for position in aside {
      let t = tuple(position)
      let h = Relation.hash(t, arity)
      let (found, slot) = table.find(h) { holds($0, t) }
      if !found {
        table.fill(slot, h, UInt32(truncatingIfNeeded: base + position))
        mark[position] = 1
      }
    }
  }

  func firstCount() -> Int {
    var n = 0
    for m in 0..<total where mark[m] != 0 { n += 1 }
    return n
  }

  /// Step 3, on one thread: copies the first copies, in order, to the rows from `row` on; the
  /// set-aside ones get their row numbers in the table now (step 4 numbers the others).
  /// Returns the row after the last.
  func copyFirsts(to data: UnsafeMutablePointer<Value>, from first: Int) -> Int {
    var row = first
    for (s, (rows, n)) in segments.enumerated() {
      for i in 0..<n {
        let position = offsets[s] + i
        let m = mark[position]
        if m == 0 { continue }
        let t = rows + i &* arity
        (data + row &* arity).update(from: t, count: arity)
        if m == 1 {
          let provisional = UInt32(truncatingIfNeeded: base + position)
          let (_, slot) = table.find(Relation.hash(t, arity)) { $0 == provisional }
          table.setValue(slot, UInt32(truncatingIfNeeded: row))
        }
        row += 1
      }
    }
    return row
  }

  /// Step 4 for part p: the first copies are rows `first`, `first + 1`, ... in order of
  /// position; the ones placed in p's groups get their row numbers. Slots some positions ahead
  /// are prefetched.
  func number(_ p: Int, from first: Int) {
    let mine = groups(p)
    let low = UInt32(truncatingIfNeeded: mine.lowerBound &<< 4 &+ 2)
    let high = UInt32(truncatingIfNeeded: mine.upperBound &<< 4 &+ 2)
    let ahead = 32
    var row = first
    for position in 0..<total {
      if position &+ ahead < total {
        let next = mark[position &+ ahead]
        if next >= low && next < high { table.prefetchSlot(Int(next &- 2)) }
      }
      let m = mark[position]
      if m == 0 { continue }
      if m >= low && m < high { table.setValue(Int(m &- 2), UInt32(truncatingIfNeeded: row)) }
      row &+= 1
    }
  }
}

/// Hands the job to the threads of `appendNew` (see `AppendJob` for who writes what).
private struct Shared<T>: @unchecked Sendable {
  let value: T
}
