import CEngine
import Dispatch

/// Inserting a parallel round's derivations into the head relation from every deriving thread
/// at once (`ParallelRound`, waves of a rule that reads none of the rows the round appends).
///
/// Each thread hands its derivations, a small chunk at a time (the caches hold it), to its own
/// `ConcurrentInserter`, which searches the head's deduplication table for each, as `insertAll`
/// would, and enters a tuple not found. Thread 0's new tuples come first in the rows whatever
/// the others find, so when the relation has room for them (`writesRows`) thread 0 writes each
/// to its row at once, past the relation's count, and enters its row number. The other threads
/// (and thread 0 when there is no room) enter a pending value: not a row number yet, but the
/// thread and the place of the tuple in the thread's list of new tuples (`NewTuples`). After the
/// wave, the threads share out copying the pending threads' live new tuples to the rows
/// (thread 1's after thread 0's, then thread 2's, ...) and writing their row numbers into their
/// slots: thread 0's tuples, about half of a wave's with two threads, are not touched again.
///
/// Order: the single-threaded round derives thread 0's slice, then thread 1's, and so on, and
/// keeps the first copy of a repeated tuple. A thread that finds a tuple pending for a thread
/// after it takes the slot over (its copy comes first) and notes which entry it took; that
/// entry is then stale and is skipped when copying. So the rows, and their numbers, are the
/// single thread's.
///
/// Table: a search reads groups without a lock; entering a tuple locks the group it goes into
/// (a bit in the group's spare control bytes), searches that group again, and writes the value
/// before the control byte, so a search that sees the byte sees the value. Nothing moves: the
/// table is not grown during a wave, and each thread enters at most what its list holds, a
/// share of the room the table has. A thread whose list fills keeps the rest of its
/// derivations in a staging relation of its own; then the wave is given up in the table
/// (`giveUpInserted`: the slots of its entries, pending values and thread 0's rows past the
/// count, become dead ones) and its tuples appended as a wave's tuples otherwise are
/// (`Relation.appendNew`). A failed wave (a limit, an interrupt) is given up too, so the table
/// never keeps a value that is not a stored row.
struct ConcurrentInserter {
  let table: SlotTable
  let relation: Relation
  let arity: Int
  let thread: Int
  /// Pending values: `pending | thread << indexBits | index`.
  let indexBits: Int
  /// Every thread's list's tuples (only read here but for this thread's own, through `list`).
  let bases: UnsafePointer<UnsafeMutablePointer<Value>>
  /// This thread's new tuples.
  var list: NewTuples
  /// Whether this thread writes its new tuples to their rows as it enters them (thread 0, when
  /// the relation has room for its list): its list's entry i is then row `firstRow + i` (the
  /// relation's count before the wave), written at `rows + i * arity`.
  let writesRows: Bool
  let firstRow: Int
  private let rows: UnsafeMutablePointer<Value>
  /// The entries of later threads this thread took over (they went stale): `thread << 32 | index`.
  var tookOver: [Int] = []

  /// An inserter for thread `thread`. Thread 0's writes rows from `relation`'s count on when
  /// the relation has room for as many rows as its list holds (`Relation.reserveRows`); the
  /// rows must then not move until the wave is finished (`appendInserted`) or given up.
  init(
    table: SlotTable, relation: Relation, thread: Int, indexBits: Int,
    bases: UnsafePointer<UnsafeMutablePointer<Value>>, list: NewTuples
  ) {
    self.writesRows = thread == 0 && relation.capacity >= relation.count + list.capacity
    self.table = table
    self.relation = relation
    self.arity = relation.arity
    self.thread = thread
    self.indexBits = indexBits
    self.bases = bases
    self.list = list
    self.firstRow = relation.count
    self.rows = relation.data + relation.count &* relation.arity
  }

  static let pending = SlotTable.pendingBit

  /// Bits of a pending value left for the index when `threads` threads insert.
  static func indexBits(threads: Int) -> Int { 31 - (Int.bitWidth - (max(1, threads) - 1).leadingZeroBitCount) }

  /// The value this thread's entry `index` has in the table: its row when it `writesRows`, else
  /// pending.
  @inline(__always) func code(_ index: Int) -> UInt32 {
    if writesRows { return UInt32(truncatingIfNeeded: firstRow &+ index) }
    return ConcurrentInserter.pending | UInt32(truncatingIfNeeded: thread &<< indexBits | index)
  }

  @inline(__always) private func threadOf(_ v: UInt32) -> Int { Int((v & ~ConcurrentInserter.pending) >> UInt32(indexBits)) }

  /// Whether a table value (row number, or pending value) holds the tuple `t`.
  @inline(__always) private func holds(_ v: UInt32, _ t: UnsafePointer<Value>) -> Bool {
    if v & ConcurrentInserter.pending == 0 { return relation.rowEquals(Int(v), t) }
    let index = Int(v & (1 << UInt32(indexBits) - 1))
    let u = bases[threadOf(v)] + index &* arity
    for i in 0..<arity where u[i] != t[i] { return false }
    return true
  }

  /// Inserts `n` tuples stored one after another (see `code`); returns how many were taken. Fewer
  /// than `n` only when this thread's list is full: the rest are the caller's.
  mutating func insert(_ base: UnsafePointer<Value>, count n: Int) -> Int {
    let ahead = 16, rowsAt = 8
    var taken = 0
    withUnsafeTemporaryAllocation(of: UInt64.self, capacity: ahead) { ring in
      for j in 0..<min(n, ahead) {
        ring[j] = Relation.hash(base + j &* arity, arity)
        table.prefetch(ring[j])
      }
      for k in 0..<n {
        if list.count == list.capacity { return }
        let h = ring[k % ahead]
        if k &+ ahead < n {
          let next = Relation.hash(base + (k &+ ahead) &* arity, arity)
          ring[k % ahead] = next
          table.prefetch(next)
        }
        if k &+ rowsAt < n {
          table.forEachCandidate(ring[(k &+ rowsAt) % ahead]) { v in
            if v & ConcurrentInserter.pending == 0 { relation.prefetchRow(Int(v)) }
          }
        }
        let t = base + k &* arity
        // The tuple goes in the list (and in its row, when this thread writes rows) first: once
        // its value is in the table, other threads may compare it. (The list keeps a copy for
        // a wave given up.)
        (list.tuples + list.count &* arity).update(from: t, count: arity)
        if writesRows { (rows + list.count &* arity).update(from: t, count: arity) }
        let mine = code(list.count)
        if let slot = enter(h, mine, t) {
          list.slots[list.count] = UInt32(truncatingIfNeeded: slot)
          list.count &+= 1
        }
        taken = k &+ 1
      }
    }
    return taken
  }

  /// Searches for `t` and enters it with the value `mine` if not found, or takes over its slot
  /// if it is pending for a later thread; returns the slot it holds then, or nil (stored, or
  /// pending for this thread or an earlier one).
  @inline(__always) private mutating func enter(_ h: UInt64, _ mine: UInt32, _ t: UnsafePointer<Value>) -> Int? {
    switch table.insertConcurrently(h, mine, { holds($0, t) }) {
    case .entered(let slot):
      return slot
    case .found(let v, let slot):
      guard v & ConcurrentInserter.pending != 0, threadOf(v) > thread else { return nil }
      // A later thread's copy: under the group's lock, take it over if it still is one.
      guard let before = table.replaceConcurrently(slot, mine, if: { $0 & ConcurrentInserter.pending != 0 && threadOf($0) > thread })
      else { return nil }
      tookOver.append(threadOf(before) &<< 32 | Int(before & (1 << UInt32(indexBits) - 1)))
      return slot
    }
  }
}

/// One thread's new tuples of a wave: their values and the slots they were entered in (the
/// slot still holds the entry's value, `ConcurrentInserter.code`, unless another thread took
/// it over). Allocated before the wave and never moved during it (other threads read the
/// tuples).
struct NewTuples {
  let tuples: UnsafeMutablePointer<Value>
  let slots: UnsafeMutablePointer<UInt32>
  let arity: Int
  /// Entries allocated, and how many this wave may fill.
  let allocated: Int
  var capacity: Int
  var count = 0

  init(capacity: Int, arity: Int) {
    self.arity = arity
    self.allocated = capacity
    self.capacity = capacity
    tuples = Memory.allocate(Value.self, count: max(1, capacity * arity))
    slots = Memory.allocate(UInt32.self, count: max(1, capacity))
  }

  var bytes: Int { allocated * (arity * MemoryLayout<Value>.stride + MemoryLayout<UInt32>.stride) }

  func release() {
    Memory.release(tuples)
    Memory.release(slots)
  }
}

extension Relation {
  /// After a wave inserted concurrently (no list filled): the threads' live new tuples become
  /// rows, thread 0's first (already written when it `writesRows`), then thread 1's, ..., each
  /// in the order its thread derived them, and their slots get their row numbers; returns how
  /// many. The copying is shared out among `threads` threads by entries (from 4,096 entries
  /// on). The table is then grown as `insert` would have grown it.
  func appendInserted(_ inserters: [ConcurrentInserter], threads: Int, minimum: Int) -> Int {
    let n = inserters.count
    guard n > 0 else { return 0 }
    // Which entries went stale, by thread, in order (a takeover takes an entry once: its value
    // leaves the table; thread 0's are never taken over).
    var stale = [[Int]](repeating: [], count: n)
    for inserter in inserters {
      for entry in inserter.tookOver { stale[entry >> 32].append(entry & 0xFFFF_FFFF) }
    }
    precondition(stale[0].isEmpty && inserters[0].firstRow == count, "thread 0's rows are not the next ones")
    // Where each thread's rows start, and where each thread's entries start among the entries
    // to copy (those of the threads that do not write their rows).
    let start = count
    let copied = inserters[0].writesRows ? 1 : 0
    var firstRows = [start], offsets = [Int](repeating: 0, count: n)
    var entries = 0
    for k in 0..<n {
      stale[k].sort()
      if k > 0 { firstRows.append(firstRows[k - 1] + inserters[k - 1].list.count - stale[k - 1].count) }
      if k >= copied {
        offsets[k] = entries
        entries += inserters[k].list.count
      }
    }
    let fresh = firstRows[n - 1] + inserters[n - 1].list.count - stale[n - 1].count - start
    reserveRows(fresh)
    let total = entries
    let parts = total >= 4096 ? max(1, threads) : 1
    let job = Shared(value: (inserters, stale, firstRows, offsets, data, table))
    let arity = self.arity
    let copy: @Sendable (Int) -> Void = { p in
      let (inserters, stale, firstRows, offsets, data, table) = job.value
      // This part's entries, `low..<high` among all, thread by thread.
      let low = total * p / parts, high = total * (p + 1) / parts
      for k in copied..<n {
        let from = max(low, offsets[k]) - offsets[k], to = min(high, offsets[k] + inserters[k].list.count) - offsets[k]
        guard from < to else { continue }
        let list = inserters[k].list, gone = stale[k]
        // The stale entries before `from` say where its row is.
        var next = gone.partitionPoint(below: from)
        var row = firstRows[k] &+ from &- next
        let ahead = 16
        for i in from..<min(from &+ ahead, to) { table.prefetchSlot(Int(list.slots[i])) }
        for i in from..<to {
          if i &+ ahead < to { table.prefetchSlot(Int(list.slots[i &+ ahead])) }
          if next < gone.count, gone[next] == i {
            next &+= 1
            continue
          }
          // (The slot holds the entry's value still: it was not taken over.)
          assert(table.valueConcurrently(at: Int(list.slots[i])) == inserters[k].code(i), "a stale entry taken for live")
          (data + row &* arity).update(from: list.tuples + i &* arity, count: arity)
          table.setValueConcurrently(Int(list.slots[i]), UInt32(truncatingIfNeeded: row))
          row &+= 1
        }
      }
    }
    if parts == 1 { copy(0) } else { DispatchQueue.concurrentPerform(iterations: parts, execute: copy) }
    setCount(start + fresh)
    for index in indexes where index.isBuilt {
      for r in start..<start + fresh { index.add(row: r) }
    }
    finishAppend(threads: threads, parallelFrom: max(2, minimum) * 8)
    return fresh
  }

  /// After a wave inserted concurrently that is not kept as it is (a list filled, or a thread
  /// failed): the slots its entries still hold (pending values, and thread 0's rows past the
  /// count, which are not kept) become dead ones (row 0, as `removeRows` leaves them).
  func giveUpInserted(_ inserters: [ConcurrentInserter]) {
    var dead = 0
    for inserter in inserters {
      let list = inserter.list
      for i in 0..<list.count where table.value(at: Int(list.slots[i])) == inserter.code(i) {
        table.setValue(Int(list.slots[i]), 0)
        dead += 1
      }
    }
    noteDeadSlots(dead)
  }
}

/// Hands a finished wave to the threads that copy its new tuples.
private struct Shared<T>: @unchecked Sendable {
  let value: T
}

/// The result of `SlotTable.insertConcurrently`.
enum ConcurrentEntry {
  /// Not found: entered in this slot with the value given.
  case entered(Int)
  /// Found: the value matched and its slot.
  case found(UInt32, Int)
}

extension SlotTable {
  /// The lock bit of a group: the high bit of its last spare control byte (byte 15), which no
  /// search reads.
  private static let lockBit: UInt64 = 0x80 << 56

  /// `find` and, when not found, `fill` with `value`, safe while other threads do the same
  /// (see `ConcurrentInserter`). The table must have an empty slot for every tuple the threads
  /// enter.
  ///
  /// Each look at a group reads its two control words once, and both the candidates and
  /// whether the group is full come from that one reading: a group seen full stays full with
  /// the same tuples, so a search that found no match there may go on to the next group (read
  /// twice, a tuple entered between the readings could be missed in a group then seen full, and
  /// entered again further on).
  @inline(__always)
  func insertConcurrently(_ h: UInt64, _ value: UInt32, _ matches: (UInt32) -> Bool) -> ConcurrentEntry {
    let byte = UInt64(SlotTable.controlByte(h))
    var g = homeGroup(h)
    while true {
      let line = line(g)
      var w0 = dq_load_acquire_u64(line), w1 = dq_load_acquire_u64(line + 8)
      if let (v, k) = SlotTable.match(line, w0, w1, byte, matches) { return .found(v, g &<< 4 | k) }
      if SlotTable.firstEmpty(w0, w1) >= 0 {
        SlotTable.lock(line)
        // Again, under the lock (no other thread enters a tuple here meanwhile): another
        // thread may have entered this one, or filled the group, since the first reading.
        w0 = dq_load_acquire_u64(line)
        w1 = dq_load_acquire_u64(line + 8)
        if let (v, k) = SlotTable.match(line, w0, w1, byte, matches) {
          SlotTable.unlock(line)
          return .found(v, g &<< 4 | k)
        }
        let k = SlotTable.firstEmpty(w0, w1)
        if k >= 0 {
          dq_store_release_u32(line + (16 &+ k &<< 2), value)
          dq_store_release_u8(line + k, UInt8(truncatingIfNeeded: byte))
          SlotTable.unlock(line)
          return .entered(g &<< 4 | k)
        }
        SlotTable.unlock(line)
      }
      g &+= 1
      if g == groupCount { g = 0 }
    }
  }

  /// Under the slot's group lock: replaces its value by `value` when the value there satisfies
  /// `when`; returns the value replaced, or nil.
  @inline(__always)
  func replaceConcurrently(_ slot: Int, _ value: UInt32, if when: (UInt32) -> Bool) -> UInt32? {
    let line = line(slot &>> 4)
    let at = line + (16 &+ (slot & 15) &<< 2)
    SlotTable.lock(line)
    defer { SlotTable.unlock(line) }
    let before = dq_load_acquire_u32(at)
    guard when(before) else { return nil }
    dq_store_release_u32(at, value)
    return before
  }

  /// The value and index of the first filled slot of a group, by its control words `w0` and
  /// `w1` (read with acquire: values are written before their control bytes), whose control
  /// byte is `byte` and whose value `matches`.
  @inline(__always)
  private static func match(
    _ line: UnsafeMutableRawPointer, _ w0: UInt64, _ w1: UInt64, _ byte: UInt64, _ matches: (UInt32) -> Bool
  ) -> (UInt32, Int)? {
    let pattern = 0x0101_0101_0101_0101 &* byte
    if let found = match(line, w0, 0, 0x8080_8080_8080_8080, pattern, byte, matches) { return found }
    return match(line, w1, 8, 0x0000_0000_8080_8080, pattern, byte, matches)
  }

  /// `match` over one control word (slots `offset` on, their high bits `highs`).
  @inline(__always)
  private static func match(
    _ line: UnsafeMutableRawPointer, _ word: UInt64, _ offset: Int, _ highs: UInt64, _ pattern: UInt64, _ byte: UInt64,
    _ matches: (UInt32) -> Bool
  ) -> (UInt32, Int)? {
    let x = word ^ pattern
    var c = (x &- 0x0101_0101_0101_0101) & ~x & highs
    while c != 0 {
      let i = c.trailingZeroBitCount &>> 3
      if UInt8(truncatingIfNeeded: word >> UInt64(i &<< 3)) == UInt8(truncatingIfNeeded: byte) {
        let k = offset &+ i
        let v = dq_load_acquire_u32(line + (16 &+ k &<< 2))
        if matches(v) { return (v, k) }
      }
      c &= c &- 1
    }
    return nil
  }

  /// The first empty slot of a group by its control words, or -1.
  @inline(__always) private static func firstEmpty(_ w0: UInt64, _ w1: UInt64) -> Int {
    let e0 = ~w0 & 0x8080_8080_8080_8080
    if e0 != 0 { return e0.trailingZeroBitCount &>> 3 }
    let e1 = ~w1 & 0x0000_0000_8080_8080
    return e1 != 0 ? 8 &+ e1.trailingZeroBitCount &>> 3 : -1
  }

  /// A slot's value, read while other threads may write other slots' values of its group
  /// (`appendInserted`, checking in debug builds that an entry it copies is live).
  @inline(__always) func valueConcurrently(at slot: Int) -> UInt32 {
    dq_load_acquire_u32(line(slot &>> 4) + (16 &+ (slot & 15) &<< 2))
  }

  @inline(__always) func setValueConcurrently(_ slot: Int, _ value: UInt32) {
    dq_store_release_u32(line(slot &>> 4) + (16 &+ (slot & 15) &<< 2), value)
  }

  @inline(__always) private static func lock(_ line: UnsafeMutableRawPointer) {
    let word = line + 8
    var w = dq_load_u64(word)
    while true {
      if w & lockBit != 0 {
        dq_spin_pause()
        w = dq_load_u64(word)
        continue
      }
      if dq_cas_acquire_u64(word, &w, w | lockBit) != 0 { return }
    }
  }

  @inline(__always) private static func unlock(_ line: UnsafeMutableRawPointer) {
    dq_store_release_u8(line + 15, 0)
  }
}

extension Array where Element == Int {
  /// How many elements of this sorted array are below `x`.
  fileprivate func partitionPoint(below x: Int) -> Int {
    var (low, high) = (0, count)
    while low < high {
      let mid = (low + high) / 2
      if self[mid] < x { low = mid + 1 } else { high = mid }
    }
    return low
  }
}
