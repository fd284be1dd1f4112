import CEngine
import Dispatch

/// Appending a parallel round's derivations to a relation on several threads (`ParallelRound`).
///
/// The tuples come as segments (each thread's buffers, in slice order), none of them stored in
/// the relation yet (the threads dropped those), but with repeats among them. What is appended,
/// and in which order, is what `insertAll` over the segments one after another appends: each
/// distinct tuple once, at its first occurrence.
///
/// 1. (threads) The first copies are told from the repeats: thread p takes the tuples whose
///    hash falls in its share and, in order, keeps each one it has not seen in a small table
///    of its own (positions; the size of the segments, not of the relation, so the caches
///    mostly hold it). It counts the first copies it finds in each share of the positions.
/// 2. (threads) Thread p copies the first copies among its share of the positions, in order,
///    to the rows after those of the shares before it; then it adds the new rows whose home
///    group is in its share of the deduplication table's groups, with their row numbers and no
///    comparison (none of them is there yet), and sets aside those whose search would leave
///    its groups.
/// 3. (one thread) The set-aside rows go into the table; indexes learn the new rows.
///
/// The relation's table is touched once per new tuple (step 2), as `insertAll` touches it; the
/// segments' tuples are hashed a few times more, in the caches. The table is sized for every
/// tuple before step 1, so it never moves meanwhile; no thread writes a group another thread
/// reads, nor a row another thread writes.
extension Relation {
  /// Appends the tuples of `segments` not stored and not repeated earlier, in order, with
  /// `threads` threads; returns how many were appended. None of the tuples may be stored
  /// already. Fewer than `minimum` tuples (not worth starting threads for) go through
  /// `insertAll`, and a table of fewer than 8 times `minimum` rows is resized on one thread
  /// (`Budget.parallelMinimumDelta`, which tests lower).
  ///
  /// `scratch` keeps step 1's tables between calls (a parallel round appends once a wave).
  func appendNew(
    _ segments: [(UnsafePointer<Value>, Int)], threads: Int, minimum: Int, scratch: AppendScratch = AppendScratch()
  ) -> Int {
    let total = segments.reduce(0) { $0 + $1.1 }
    let start = count
    // Row numbers must fit in the table's 32 bits; positions in the job's.
    guard threads > 1, arity > 0, total >= max(2, minimum), !isClustered,
      start + total < Int(UInt32.max) - 1, total < Int(Int32.max)
    else {
      var fresh = 0
      for (p, n) in segments { fresh += insertAll(p, count: n) }
      return fresh
    }
    prepareForAppend(upTo: start + total, threads: threads, parallelFrom: max(2, minimum) * 8)
    let job = AppendJob(segments, arity: arity, table: table, threads: threads, scratch: scratch)
    defer { job.release() }
    let shared = Shared(value: job)
    // 1. Which tuples are first copies, and how many in each share of the positions.
    DispatchQueue.concurrentPerform(iterations: job.parts) { p in shared.value.markFirsts(p) }
    let fresh = job.startRows()
    reserveRows(fresh)
    // 2. Rows and table entries.
    let rows = Shared(value: data)
    DispatchQueue.concurrentPerform(iterations: job.parts) { p in
      shared.value.copyFirsts(p, to: rows.value, from: start)
      shared.value.addFirsts(p, from: start)
    }
    setCount(start + fresh)
    // 3. What was set aside; indexes.
    job.addSetAside()
    for index in indexes where index.isBuilt {
      for r in start..<start + fresh { index.add(row: r) }
    }
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

/// The state of one `appendNew`. Its threads share it: in step 1 thread p writes only the marks
/// of the positions whose hash is in its share and its own row of counts; in step 2 only the
/// rows of the first copies among its positions, the table's groups of its share and its own
/// set-aside list.
private final class AppendJob {
  let segments: [(UnsafePointer<Value>, Int)]
  /// Where each segment starts among all positions.
  let offsets: [Int]
  let total: Int
  let arity: Int
  let table: SlotTable
  let parts: Int
  /// Per position: 1 for a first copy, 0 for a repeat (step 1).
  let first: UnsafeMutablePointer<UInt8>
  /// `counts[p * parts + q]`: the first copies part p found among the positions of share q
  /// (step 1); after `startRows`, `counts[q]` is the row (from the first new one) where share
  /// q's first copies start.
  let counts: UnsafeMutablePointer<Int>
  /// Per part: the new rows whose search would leave its groups (step 2).
  let setAside: UnsafeMutablePointer<[(Int, UInt64)]>
  /// Step 1's tables, one a part.
  let scratch: AppendScratch

  init(_ segments: [(UnsafePointer<Value>, Int)], arity: Int, table: SlotTable, threads: Int, scratch: AppendScratch) {
    self.segments = segments
    self.scratch = scratch
    var offsets: [Int] = []
    var sum = 0
    for (_, n) in segments {
      offsets.append(sum)
      sum += n
    }
    self.offsets = offsets
    self.total = sum
    self.arity = arity
    self.table = table
    self.parts = max(1, min(threads, table.groupCount))
    first = Memory.allocate(UInt8.self, count: max(1, sum))
    counts = .allocate(capacity: parts * parts)
    counts.initialize(repeating: 0, count: parts * parts)
    setAside = .allocate(capacity: parts)
    setAside.initialize(repeating: [], count: parts)
    scratch.ensureParts(parts)
  }

  func release() {
    Memory.release(first)
    counts.deallocate()
    setAside.deinitialize(count: parts)
    setAside.deallocate()
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

  /// The part a hash belongs to in step 1 (its high half scaled to the parts; the part's own
  /// table is indexed by the low half).
  @inline(__always) private func part(_ h: UInt64) -> Int {
    Int(truncatingIfNeeded: ((h >> 32) &* UInt64(parts)) >> 32)
  }

  /// The share of the positions whose first copies part q copies (step 2).
  private func positions(_ q: Int) -> Range<Int> { total * q / parts..<total * (q + 1) / parts }

  /// The share a position is in.
  @inline(__always) private func share(_ position: Int) -> Int {
    var q = position &* parts / max(1, total)
    while q > 0, total * q / parts > position { q -= 1 }
    while q + 1 < parts, total * (q + 1) / parts <= position { q += 1 }
    return q
  }

  /// Step 1 for part p: marks the first copies of the tuples whose hash is in part p, with an
  /// open-addressing table of positions (plus one; 0 is empty) at most half full, and counts
  /// them by share. Each tuple's slot is prefetched some tuples before it is looked at.
  func markFirsts(_ p: Int) {
    var capacity = 64
    while capacity < 2 * total / parts + 2 { capacity <<= 1 }
    var seen = scratch.table(p, capacity: capacity)
    defer { scratch.keep(p, seen, capacity: capacity) }
    var filled = 0
    let mine = counts + p &* parts
    // Positions from `shareEnd` on are in a later share. The count of share q is kept here,
    // not in `mine` (the parts' counts share a cache line).
    var q = 0, shareEnd = positions(0).upperBound, inShare = 0
    func look(_ position: Int, _ t: UnsafePointer<Value>, _ h: UInt64) {
      var mask = capacity &- 1
      var k = Int(truncatingIfNeeded: h) & mask
      while seen[k] != 0 {
        if equal(tuple(Int(seen[k]) &- 1), t) {
          first[position] = 0
          return
        }
        k = (k &+ 1) & mask
      }
      first[position] = 1
      if position >= shareEnd {
        mine[q] = inShare
        inShare = 0
        q = share(position)
        shareEnd = positions(q).upperBound
      }
      inShare &+= 1
      seen[k] = UInt32(truncatingIfNeeded: position &+ 1)
      filled &+= 1
      if filled &* 2 > capacity {
        // Twice the room; the positions kept are hashed again.
        let old = seen, oldCapacity = capacity
        capacity <<= 1
        mask = capacity &- 1
        seen = Memory.allocate(UInt32.self, count: capacity)
        seen.initialize(repeating: 0, count: capacity)
        for j in 0..<oldCapacity where old[j] != 0 {
          var k = Int(truncatingIfNeeded: Relation.hash(tuple(Int(old[j]) &- 1), arity)) & mask
          while seen[k] != 0 { k = (k &+ 1) & mask }
          seen[k] = old[j]
        }
        Memory.release(old)
      }
    }
    let ahead = 16
    withUnsafeTemporaryAllocation(of: (Int, UnsafePointer<Value>, UInt64).self, capacity: ahead) { ring in
      var head = 0, waiting = 0
      for (s, (rows, n)) in segments.enumerated() {
        let offset = offsets[s]
        for i in 0..<n {
          let t = rows + i &* arity
          let h = Relation.hash(t, arity)
          if part(h) != p { continue }
          if waiting == ahead {
            let (position, u, hu) = ring[head]
            look(position, u, hu)
          } else {
            waiting += 1
          }
          ring[head] = (offset &+ i, t, h)
          dq_prefetch(seen + (Int(truncatingIfNeeded: h) & (capacity &- 1)))
          head = head + 1 == ahead ? 0 : head + 1
        }
      }
      let oldest = waiting == ahead ? head : 0
      for k in 0..<waiting {
        let (position, u, hu) = ring[(oldest + k) % ahead]
        look(position, u, hu)
      }
    }
    mine[q] = inShare
  }

  /// After step 1: `counts[q]` becomes the row (from the first new one) where share q's first
  /// copies start; returns the first copies in all.
  func startRows() -> Int {
    var sum = 0
    for q in 0..<parts {
      var n = 0
      for p in 0..<parts { n += counts[p * parts + q] }
      counts[q] = sum
      sum += n
    }
    return sum
  }

  /// Step 2: copies the first copies among share p's positions, in order, to the rows of
  /// `data` from row `start + counts[p]` on.
  func copyFirsts(_ p: Int, to data: UnsafeMutablePointer<Value>, from start: Int) {
    let range = positions(p)
    guard !range.isEmpty else { return }
    var row = start &+ counts[p]
    var s = segments.count - 1
    while offsets[s] > range.lowerBound { s -= 1 }
    var position = range.lowerBound
    while position < range.upperBound {
      let (base, n) = segments[s]
      let end = min(range.upperBound, offsets[s] &+ n)
      while position < end {
        if first[position] != 0 {
          (data + row &* arity).update(from: base + (position &- offsets[s]) &* arity, count: arity)
          row &+= 1
        }
        position &+= 1
      }
      s &+= 1
    }
  }

  /// Step 2: adds the new rows (the first copies, in order, from row `start`) whose home group
  /// is in part p's share of the table, and sets aside those whose search would leave it.
  /// Each one's group is prefetched some rows before it is added.
  func addFirsts(_ p: Int, from start: Int) {
    let low = table.groupCount * p / parts, high = table.groupCount * (p + 1) / parts
    var mine: [(Int, UInt64)] = []
    var row = start
    let ahead = 16
    withUnsafeTemporaryAllocation(of: (Int, UInt64).self, capacity: ahead) { ring in
      var head = 0, waiting = 0
      func add(_ r: Int, _ h: UInt64) {
        if !table.add(h, UInt32(truncatingIfNeeded: r), before: high) { mine.append((r, h)) }
      }
      for (s, (rows, n)) in segments.enumerated() {
        let marks = first + offsets[s]
        for i in 0..<n where marks[i] != 0 {
          let r = row
          row &+= 1
          let h = Relation.hash(rows + i &* arity, arity)
          let home = table.homeGroup(h)
          if home < low || home >= high { continue }
          if waiting == ahead { add(ring[head].0, ring[head].1) } else { waiting += 1 }
          ring[head] = (r, h)
          table.prefetch(h)
          head = head + 1 == ahead ? 0 : head + 1
        }
      }
      let oldest = waiting == ahead ? head : 0
      for k in 0..<waiting { add(ring[(oldest + k) % ahead].0, ring[(oldest + k) % ahead].1) }
    }
    setAside[p] = mine
  }

  /// Step 3: the rows set aside, searched for across the whole table.
  func addSetAside() {
    for p in 0..<parts {
      for (r, h) in setAside[p] { table.add(h, UInt32(truncatingIfNeeded: r)) }
    }
  }
}

/// Step 1's tables of `appendNew`, one a part, kept between calls: a parallel round appends
/// once a wave, and a table of a few MiB allocated afresh each time is mapped and zeroed page
/// by page. Part p's table is touched only by the thread of part p.
final class AppendScratch {
  /// Per part: its table and the table's entries (a buffer, not an array: the parts' threads
  /// write their own entries at once).
  private var tables = UnsafeMutablePointer<(UnsafeMutablePointer<UInt32>, Int)>.allocate(capacity: 1)
  private var parts = 0

  deinit {
    release()
    tables.deallocate()
  }

  /// Room for `n` parts (on the calling thread, before the parts run).
  func ensureParts(_ n: Int) {
    guard parts < n else { return }
    let grown = UnsafeMutablePointer<(UnsafeMutablePointer<UInt32>, Int)>.allocate(capacity: n)
    grown.moveInitialize(from: tables, count: parts)
    for p in parts..<n { (grown + p).initialize(to: (Memory.allocate(UInt32.self, count: 64), 64)) }
    tables.deallocate()
    tables = grown
    parts = n
  }

  /// Part p's table with at least `capacity` entries, all 0 (empty).
  func table(_ p: Int, capacity: Int) -> UnsafeMutablePointer<UInt32> {
    if tables[p].1 < capacity {
      Memory.release(tables[p].0)
      tables[p] = (Memory.allocate(UInt32.self, count: capacity), capacity)
    }
    tables[p].0.initialize(repeating: 0, count: capacity)
    return tables[p].0
  }

  /// Part p's table after use: `t`, with the `capacity` the part used (its own if it grew the
  /// table, else the one it asked for, which the buffer has at least). Both are recorded every
  /// time: a grown table may come back at the address of the one it replaced, so an unchanged
  /// address does not mean an unchanged size.
  func keep(_ p: Int, _ t: UnsafeMutablePointer<UInt32>, capacity: Int) {
    tables[p] = (t, capacity)
  }

  /// Gives every table back.
  func release() {
    for p in 0..<parts { Memory.release(tables[p].0) }
    parts = 0
  }
}

/// Hands the job to the threads of `appendNew` (see `AppendJob` for who writes what).
private struct Shared<T>: @unchecked Sendable {
  let value: T
}
