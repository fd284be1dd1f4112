import CEngine
import Dispatch

/// Appending a parallel round's derivations to a relation on several threads (`ParallelRound`).
///
/// The tuples come as segments (each thread's buffers, in slice order), with repeats among them
/// and tuples the relation stores already. What is appended, and in which order, is what
/// `insertAll` over the segments one after another appends: each tuple not stored, once, at
/// its first occurrence.
///
/// 1. (threads) Thread p takes the tuples whose home group in the deduplication table is in
///    its share of the groups and, in order, searches the table for each (only its own groups
///    are read or written). A tuple not there is entered at once, with a pending value (its
///    position among all the tuples, not yet a row number), so a later repeat finds it; the
///    slot is noted. A search that would leave the share sets the tuple aside. Thread p counts
///    the first copies it enters in each share of the positions.
/// 2. (one thread) The set-aside tuples are searched for and entered the same way, over the
///    whole table.
/// 3. (threads) Thread q copies the first copies among its share of the positions, in order,
///    to the rows after those of the shares before it, and writes each one's row number into
///    the slot noted for it.
///
/// The table is touched once per tuple (step 1, as `insertAll` touches it) and once more per
/// new tuple (step 3, a write to a slot known already). It is sized before step 1 for every
/// tuple, so it never moves meanwhile; no thread writes a group another thread reads, nor a
/// row another thread writes.
extension Relation {
  /// Appends the tuples of `segments` not stored and not repeated earlier, in order, with
  /// `threads` threads; returns how many were appended. Fewer than `minimum` tuples (not worth
  /// starting threads for) go through `insertAll`, and a table of fewer than 8 times `minimum`
  /// rows is resized on one thread (`Budget.parallelMinimumDelta`, which tests lower).
  ///
  /// The tuples are taken in pieces that fit the table as it is (`appendRoom`): it is sized for
  /// every tuple of a piece before the threads write it, and most may be stored already, so
  /// sizing it for all of them at once could grow it where `insertAll` would not (the size it
  /// ends with would then depend on the thread count). After each piece it grows as `insert`
  /// would have grown it.
  ///
  /// `scratch` keeps working memory between calls (a parallel round appends once a wave).
  func appendNew(
    _ segments: [(UnsafePointer<Value>, Int)], threads: Int, minimum: Int, scratch: AppendScratch = AppendScratch()
  ) -> Int {
    guard threads > 1, arity > 0, !isClustered else {
      var fresh = 0
      for (p, n) in segments { fresh += insertAll(p, count: n) }
      return fresh
    }
    var fresh = 0
    var rest = segments
    var k = 0
    while k < rest.count {
      let room = appendRoom()
      var piece: [(UnsafePointer<Value>, Int)] = []
      var size = 0
      while k < rest.count, size < room {
        let (p, n) = rest[k]
        let take = min(n, room - size)
        piece.append((p, take))
        size += take
        if take == n { k += 1 } else { rest[k] = (p + take &* arity, n - take) }
      }
      fresh += appendPiece(piece, total: size, threads: threads, minimum: minimum, scratch: scratch)
    }
    return fresh
  }

  /// `appendNew` of one piece of `total` tuples, which the table has room for.
  private func appendPiece(
    _ segments: [(UnsafePointer<Value>, Int)], total: Int, threads: Int, minimum: Int, scratch: AppendScratch
  ) -> Int {
    let start = count
    let parallelFrom = max(2, minimum) * 8
    // Row numbers and positions must stay below the pending bit; slots must fit 32 bits.
    var parallel = total >= max(2, minimum) && start + total < Int(AppendJob.pending) - 1
    if parallel {
      prepareForAppend(upTo: start + total, threads: threads, parallelFrom: parallelFrom)
      parallel = table.groupCount < 1 << 27
    }
    guard parallel else {
      var fresh = 0
      for (p, n) in segments { fresh += insertAll(p, count: n) }
      return fresh
    }
    let job = AppendJob(segments, relation: self, threads: threads, scratch: scratch)
    let shared = Shared(value: job)
    // 1. Each share of the table's groups: first copies entered, pending.
    DispatchQueue.concurrentPerform(iterations: job.parts) { p in shared.value.enterFirsts(p) }
    // 2. What was set aside.
    job.enterSetAside()
    let fresh = job.startRows()
    reserveRows(fresh)
    // 3. Rows, and their numbers in the table.
    let rows = Shared(value: data)
    DispatchQueue.concurrentPerform(iterations: job.parts) { q in
      shared.value.copyFirsts(q, to: rows.value, from: start)
    }
    setCount(start + fresh)
    for index in indexes where index.isBuilt {
      for r in start..<start + fresh { index.add(row: r) }
    }
    finishAppend(threads: threads, parallelFrom: parallelFrom)
    return fresh
  }

  /// Asks for row `r` to be fetched into the cache.
  @inline(__always) func prefetchRow(_ r: Int) { dq_prefetch(data + r &* arity) }
}

extension SlotTable {
  /// Fills this empty table with rows `0..<count` (their hashes' row numbers) on `threads`
  /// threads: thread p hashes its share of the rows, once each, and adds them
  /// (`addConcurrently`). A lookup finds the same rows whatever order they were added in.
  func fill(from rows: UnsafePointer<Value>, count: Int, arity: Int, threads: Int) {
    let parts = max(1, min(threads, count / 4096))
    let shared = Shared(value: (self, rows))
    DispatchQueue.concurrentPerform(iterations: parts) { p in
      let (table, rows) = shared.value
      table.populate(part: p, of: parts)
      let low = count * p / parts, high = count * (p + 1) / parts
      let ahead = 16
      // Each row's home group is prefetched `ahead` rows before it is added.
      withUnsafeTemporaryAllocation(of: UInt64.self, capacity: ahead) { ring in
        for r in low..<min(high, low + ahead) {
          ring[r - low] = Relation.hash(rows + r &* arity, arity)
          table.prefetch(ring[r - low])
        }
        for r in low..<high {
          let k = (r &- low) % ahead
          let h = ring[k]
          if r &+ ahead < high {
            let next = Relation.hash(rows + (r &+ ahead) &* arity, arity)
            ring[k] = next
            table.prefetch(next)
          }
          table.addConcurrently(h, UInt32(truncatingIfNeeded: r))
        }
      }
    }
  }
}

/// The state of one `appendNew`. Its threads share it: in step 1 thread p writes only the
/// table's groups of its share and its own lists (first copies, set aside); in step 3 thread q
/// writes only the rows of the first copies among its positions and their slots. In step 1 no
/// thread writes a cache line another thread writes (a mark per position in one array, written
/// by whichever thread the position's hash fell to, would share nearly every line); step 3's
/// slots lie all over the table, so two threads now and then write one group.
private final class AppendJob {
  /// A table value with this bit is pending: the rest is a position, not a row number.
  static let pending = SlotTable.pendingBit

  let segments: [(UnsafePointer<Value>, Int)]
  /// Where each segment starts among all positions.
  let offsets: [Int]
  let total: Int
  let arity: Int
  let relation: Relation
  let table: SlotTable
  let parts: Int
  /// Per part, then one for step 2: the first copies entered (`AppendScratch.List`).
  let scratch: AppendScratch
  /// Per part: the positions whose search would leave its groups (step 1).
  let setAside: UnsafeMutablePointer<[Int]>
  /// After `startRows`: the row (from the first new one) where share q's first copies start.
  var shareRows: [Int] = []

  init(_ segments: [(UnsafePointer<Value>, Int)], relation: Relation, threads: Int, scratch: AppendScratch) {
    self.segments = segments
    var offsets: [Int] = []
    var sum = 0
    for (_, n) in segments {
      offsets.append(sum)
      sum += n
    }
    self.offsets = offsets
    self.total = sum
    self.arity = relation.arity
    self.relation = relation
    self.table = relation.table
    self.parts = max(1, min(threads, relation.table.groupCount))
    self.scratch = scratch
    scratch.prepare(parts + 1)
    setAside = .allocate(capacity: parts)
    setAside.initialize(repeating: [], count: parts)
  }

  deinit {
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

  /// Whether a table value (a row number, or a pending position) holds the tuple `t`.
  @inline(__always) private func holds(_ v: UInt32, _ t: UnsafePointer<Value>) -> Bool {
    v & AppendJob.pending != 0
      ? equal(tuple(Int(v & ~AppendJob.pending)), t) : relation.rowEquals(Int(v), t)
  }

  /// The share of the positions whose first copies part q copies (step 3).
  private func positions(_ q: Int) -> Range<Int> { total * q / parts..<total * (q + 1) / parts }

  /// Step 1 for part p: searches for each tuple homed in its groups, in order, and enters the
  /// ones not found (pending). Each tuple's group is prefetched some tuples before it is
  /// searched, and the rows its control bytes point at (a likely duplicate) a few after that.
  func enterFirsts(_ p: Int) {
    let low = table.groupCount * p / parts, high = table.groupCount * (p + 1) / parts
    var aside: [Int] = []
    var firsts = scratch.list(p)
    defer { scratch.put(p, firsts) }
    let ahead = 16, rowsAt = 8
    withUnsafeTemporaryAllocation(of: (Int, UnsafePointer<Value>, UInt64).self, capacity: ahead) { ring in
      var head = 0, waiting = 0
      func enter(_ position: Int, _ t: UnsafePointer<Value>, _ h: UInt64) {
        guard let (found, slot) = table.find(h, before: high, { holds($0, t) }) else {
          aside.append(position)
          return
        }
        if !found {
          table.fill(slot, h, AppendJob.pending | UInt32(truncatingIfNeeded: position))
          firsts.append(position: position, slot: slot)
        }
      }
      for (s, (base, n)) in segments.enumerated() {
        let offset = offsets[s]
        for i in 0..<n {
          let t = base + i &* arity
          let h = Relation.hash(t, arity)
          let home = table.homeGroup(h)
          if home < low || home >= high { continue }
          if waiting == ahead {
            let (position, u, hu) = ring[head]
            enter(position, u, hu)
          } else {
            waiting += 1
          }
          ring[head] = (offset &+ i, t, h)
          table.prefetch(h)
          head = head + 1 == ahead ? 0 : head + 1
          // The tuple `rowsAt` places behind the newest: its group has arrived by now.
          if waiting > rowsAt {
            let hr = ring[(head &+ ahead &- rowsAt &- 1) % ahead].2
            table.forEachCandidate(hr) { v in if v & AppendJob.pending == 0 { relation.prefetchRow(Int(v)) } }
          }
        }
      }
      let oldest = waiting == ahead ? head : 0
      for k in 0..<waiting {
        let (position, u, hu) = ring[(oldest + k) % ahead]
        enter(position, u, hu)
      }
    }
    setAside[p] = aside
  }

  /// Step 2: the tuples set aside, in order, searched for and entered over the whole table
  /// (list `parts`). Repeats of a tuple share its home, so all of them were set aside.
  func enterSetAside() {
    var all: [Int] = []
    for p in 0..<parts { all += setAside[p] }
    all.sort()
    var firsts = scratch.list(parts)
    defer { scratch.put(parts, firsts) }
    for position in all {
      let t = tuple(position), h = Relation.hash(t, arity)
      let (found, slot) = table.find(h) { holds($0, t) }
      if !found {
        table.fill(slot, h, AppendJob.pending | UInt32(truncatingIfNeeded: position))
        firsts.append(position: position, slot: slot)
      }
    }
  }

  /// After step 2: where each share's first copies start among the new rows; returns the
  /// first copies in all.
  func startRows() -> Int {
    var sum = 0
    shareRows = []
    for q in 0..<parts {
      shareRows.append(sum)
      let range = positions(q)
      for l in 0...parts {
        let list = scratch.list(l)
        sum += list.count(below: range.upperBound) - list.count(below: range.lowerBound)
      }
    }
    return sum
  }

  /// Step 3: copies the first copies among share q's positions, in order (merging the lists),
  /// to the rows of `data` from row `start + shareRows[q]` on, and gives each one's slot its
  /// row number (each slot's group prefetched some first copies before).
  func copyFirsts(_ q: Int, to data: UnsafeMutablePointer<Value>, from start: Int) {
    let range = positions(q)
    guard !range.isEmpty else { return }
    var row = start &+ shareRows[q]
    let lists = (0...parts).map { scratch.list($0) }
    // Each list's next first copy in the share, and where its part of the share ends.
    var next = lists.map { $0.count(below: range.lowerBound) }
    let end = lists.map { $0.count(below: range.upperBound) }
    var s = segments.count - 1
    while offsets[s] > range.lowerBound { s -= 1 }
    let ahead = 16
    withUnsafeTemporaryAllocation(of: (Int, UInt32).self, capacity: ahead) { ring in
      var head = 0, waiting = 0
      while true {
        // The list whose next first copy comes first.
        var best = -1, bestPosition = UInt32.max
        for l in 0..<lists.count where next[l] < end[l] {
          let position = lists[l].buffer[next[l]].position
          if position < bestPosition {
            best = l
            bestPosition = position
          }
        }
        if best < 0 { break }
        let slot = lists[best].buffer[next[best]].slot
        next[best] &+= 1
        let position = Int(bestPosition)
        while offsets[s] &+ segments[s].1 <= position { s &+= 1 }
        (data + row &* arity).update(from: segments[s].0 + (position &- offsets[s]) &* arity, count: arity)
        if waiting == ahead {
          table.setValue(Int(ring[head].1), UInt32(truncatingIfNeeded: ring[head].0))
        } else {
          waiting += 1
        }
        ring[head] = (row, slot)
        table.prefetchSlot(Int(slot))
        head = head + 1 == ahead ? 0 : head + 1
        row &+= 1
      }
      let oldest = waiting == ahead ? head : 0
      for k in 0..<waiting {
        let (r, slot) = ring[(oldest + k) % ahead]
        table.setValue(Int(slot), UInt32(truncatingIfNeeded: r))
      }
    }
  }
}

/// The lists of first copies of `appendNew`, one a part and one for its step 2, kept between
/// calls (a parallel round appends once a wave, and buffers of a few MiB allocated afresh each
/// time are mapped and zeroed page by page).
final class AppendScratch {
  /// One list: first copies (position among the tuples, table slot taken), by position. A
  /// thread appends to its own copy of the value and puts it back when done (the lists' counts
  /// side by side would share a cache line between the threads).
  struct List {
    fileprivate(set) var buffer: UnsafeMutablePointer<(position: UInt32, slot: UInt32)>
    fileprivate(set) var count = 0
    fileprivate(set) var room: Int

    @inline(__always) mutating func append(position: Int, slot: Int) {
      if count == room {
        room *= 2
        buffer = Memory.resize(buffer, count: room)
      }
      buffer[count] = (UInt32(truncatingIfNeeded: position), UInt32(truncatingIfNeeded: slot))
      count &+= 1
    }

    /// How many first copies come before `position` (a binary search).
    func count(below position: Int) -> Int {
      var lo = 0, hi = count
      while lo < hi {
        let mid = (lo + hi) / 2
        if Int(buffer[mid].position) < position { lo = mid + 1 } else { hi = mid }
      }
      return lo
    }
  }

  /// The lists (a buffer, not an array: the parts' threads put back their own lists at once).
  private var lists = UnsafeMutablePointer<List>.allocate(capacity: 1)
  private(set) var listCount = 0

  deinit {
    release()
    lists.deallocate()
  }

  /// Room for `n` lists, every one emptied (on the calling thread, before the parts run).
  func prepare(_ n: Int) {
    if listCount < n {
      let grown = UnsafeMutablePointer<List>.allocate(capacity: n)
      grown.moveInitialize(from: lists, count: listCount)
      for l in listCount..<n { (grown + l).initialize(to: List(buffer: Memory.allocate((position: UInt32, slot: UInt32).self, count: 256), room: 256)) }
      lists.deallocate()
      lists = grown
      listCount = n
    }
    for l in 0..<listCount { lists[l].count = 0 }
  }

  /// List l, to append to and `put` back.
  @inline(__always) func list(_ l: Int) -> List { lists[l] }
  @inline(__always) func put(_ l: Int, _ list: List) { lists[l] = list }

  /// Gives every list back.
  func release() {
    for l in 0..<listCount { Memory.release(lists[l].buffer) }
    lists.deinitialize(count: listCount)
    listCount = 0
  }
}

/// Hands the job to the threads of `appendNew` (see `AppendJob` for who writes what).
private struct Shared<T>: @unchecked Sendable {
  let value: T
}
