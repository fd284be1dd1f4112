import CEngine

/// An index on some columns, in one of two forms.
///
/// Chained (the relation is written, or sorted by another key): for each distinct key, a chain
/// of the rows having it, newest first, so a range of row numbers can be read by skipping to it
/// and stopping early. 4 bytes a row and 12 a key slot.
///
/// Clustered (the relation is sorted by this key, see `Relation.cluster(by:)`): each key's rows
/// are contiguous, and a directory (a `SlotTable`) gives the first of them: 5 1/3 bytes a slot,
/// at most 7/8 full.
public final class Index {
  public let columns: [Int]
  private unowned(unsafe) let relation: Relation
  /// Open-addressing table, one slot per key: the key's 32-bit hash in the high half and its
  /// newest row + 1 in the low half (0 = empty), so mismatches are rejected without reading rows.
  private var heads: UnsafeMutablePointer<UInt64>
  /// Rows per key, beside `heads`: a count over a whole relation reads it instead of a chain.
  private var sizes: UnsafeMutablePointer<UInt32>
  private var headMask: Int
  private var keys = 0
  /// Distinct keys in the clustered form (the directory's entries).
  private var directoryKeys = 0
  /// For each row, the next older row + 1 with the same key (0 = none).
  @usableFromInline var next: UnsafeMutablePointer<UInt32>
  private var nextCapacity: Int
  private let columnBuffer: UnsafeMutablePointer<Int>
  private let keyCount: Int
  /// The clustered form's directory: the first row of each key, by the key's hash.
  private var directory: SlotTable?
  /// Whether the index is in its clustered form.
  public private(set) var isClustered = false

  init(relation: Relation, columns: [Int]) {
    self.relation = relation
    self.columns = columns
    self.keyCount = columns.count
    self.columnBuffer = .allocate(capacity: max(1, columns.count))
    for (i, c) in columns.enumerated() { columnBuffer[i] = c }
    self.headMask = 15
    self.heads = Memory.zeroedTable(UInt64.self, count: 16)
    self.sizes = Memory.zeroedTable(UInt32.self, count: 16)
    self.nextCapacity = 16
    self.next = Memory.allocate(UInt32.self, count: 16)
  }

  deinit {
    Memory.releaseTable(heads, count: headMask + 1)
    Memory.releaseTable(sizes, count: headMask + 1)
    Memory.release(next)
    releaseDirectory()
    columnBuffer.deallocate()
  }

  /// The hash of a row's key; its low half is the tag of the chained form.
  @inline(__always) private func rowHash(_ r: Int) -> UInt64 {
    var h = TupleHash.seed(keyCount)
    let base = relation.data + r &* relation.arity
    for i in 0..<keyCount { h = TupleHash.add(h, base[columnBuffer[i]]) }
    return TupleHash.mix(h)
  }

  @inline(__always) private func keyHash(_ key: UnsafePointer<Value>) -> UInt64 { TupleHash.of(key, keyCount) }

  @inline(__always) private func rowTag(_ r: Int) -> UInt32 { UInt32(truncatingIfNeeded: rowHash(r)) }
  @inline(__always) private func keyTag(_ key: UnsafePointer<Value>) -> UInt32 { UInt32(truncatingIfNeeded: keyHash(key)) }

  @inline(__always) private func rowMatches(_ r: Int, key: UnsafePointer<Value>) -> Bool {
    let base = relation.data + r &* relation.arity
    for i in 0..<keyCount where base[columnBuffer[i]] != key[i] { return false }
    return true
  }

  @inline(__always) private func rowsShareKey(_ a: Int, _ b: Int) -> Bool {
    let arity = relation.arity
    let x = relation.data + a &* arity, y = relation.data + b &* arity
    for i in 0..<keyCount where x[columnBuffer[i]] != y[columnBuffer[i]] { return false }
    return true
  }

  private func reserveNext(through r: Int) {
    guard r >= nextCapacity else { return }
    var n = nextCapacity * 2
    while n <= r { n *= 2 }
    next = Memory.resize(next, count: n)
    nextCapacity = n
  }

  func add(row r: Int) {
    reserveNext(through: r)
    add(row: r, tag: rowTag(r))
  }

  /// Adds a range of rows, hashing each row some places ahead and prefetching its slot.
  func addAll(_ rows: Range<Int>) {
    guard let last = rows.last else { return }
    reserveNext(through: last)
    let distance = 16, ringSize = 32  // the ring holds the rows from r to r + distance
    withUnsafeTemporaryAllocation(of: UInt32.self, capacity: ringSize) { ring in
      @inline(__always) func hashAhead(_ r: Int) {
        let tag = rowTag(r)
        ring[r & (ringSize - 1)] = tag
        dq_prefetch(heads + (Int(tag) & headMask))
      }
      for r in rows.prefix(distance) { hashAhead(r) }
      for r in rows {
        if r &+ distance < rows.upperBound { hashAhead(r &+ distance) }
        add(row: r, tag: ring[r & (ringSize - 1)])
      }
    }
  }

  @inline(__always) private func add(row r: Int, tag: UInt32) {
    var i = Int(tag) & headMask
    let entry = UInt64(tag) << 32 | UInt64(r &+ 1)
    while true {
      let s = heads[i]
      if s == 0 {
        heads[i] = entry
        sizes[i] = 1
        next[r] = 0
        keys += 1
        if keys * 10 > (headMask + 1) * 7 { rehash() }
        return
      }
      if UInt32(truncatingIfNeeded: s >> 32) == tag, rowsShareKey(Int(truncatingIfNeeded: s & 0xFFFF_FFFF) &- 1, r) {
        next[r] = UInt32(truncatingIfNeeded: s)
        heads[i] = entry
        sizes[i] &+= 1
        return
      }
      i = (i &+ 1) & headMask
    }
  }

  private func rehash() {
    let size = (headMask + 1) * 2
    let old = heads, oldSizes = sizes, oldSize = headMask + 1
    heads = Memory.zeroedTable(UInt64.self, count: size)
    sizes = Memory.zeroedTable(UInt32.self, count: size)
    headMask = size - 1
    for j in 0..<oldSize where old[j] != 0 {
      var i = Int(truncatingIfNeeded: old[j] >> 32) & headMask
      while heads[i] != 0 { i = (i &+ 1) & headMask }
      heads[i] = old[j]
      sizes[i] = oldSizes[j]
    }
    Memory.releaseTable(old, count: oldSize)
    Memory.releaseTable(oldSizes, count: oldSize)
  }

  func removeAll() {
    if isClustered {
      unbuild()
      return
    }
    heads.update(repeating: 0, count: headMask + 1)
    keys = 0
  }

  /// The slot of the key, or -1 when no row has it.
  @inline(__always)
  public func slot(_ key: UnsafePointer<Value>) -> Int {
    let tag = keyTag(key)
    var i = Int(tag) & headMask
    while true {
      let s = heads[i]
      if s == 0 { return -1 }
      if UInt32(truncatingIfNeeded: s >> 32) == tag, rowMatches(Int(truncatingIfNeeded: s & 0xFFFF_FFFF) &- 1, key: key) {
        return i
      }
      i = (i &+ 1) & headMask
    }
  }

  /// The newest row + 1 whose key columns equal `key` (0 when none); follow `next` for older rows.
  @inline(__always)
  public func first(_ key: UnsafePointer<Value>) -> UInt32 {
    let i = slot(key)
    return i < 0 ? 0 : UInt32(truncatingIfNeeded: heads[i])
  }

  // MARK: - Probes announced ahead

  /// Prefetches, for a lookup of a key to come (`Executor.visitRowsProbingAhead`), where its
  /// search starts: the directory's group, or the chained form's key slot. `h` is the key's
  /// `TupleHash.of`. Nothing when the index is not built.
  @inline(__always) func prefetchSlot(forKeyHash h: UInt64) {
    if let directory {
      directory.prefetch(h)
    } else if isBuilt {
      dq_prefetch(heads + (Int(UInt32(truncatingIfNeeded: h)) & headMask))
    }
  }

  /// Prefetches the rows that lookup will compare, once its slot (`prefetchSlot`) has arrived:
  /// the directory's candidates, or the newest row of the chain when the tag agrees.
  @inline(__always) func prefetchRows(forKeyHash h: UInt64) {
    let data = relation.data, arity = relation.arity
    if let directory {
      directory.forEachCandidate(h) { dq_prefetch(data + Int($0) &* arity) }
    } else if isBuilt {
      let tag = UInt32(truncatingIfNeeded: h)
      let s = heads[Int(tag) & headMask]
      if s != 0, UInt32(truncatingIfNeeded: s >> 32) == tag {
        dq_prefetch(data + (Int(truncatingIfNeeded: s & 0xFFFF_FFFF) &- 1) &* arity)
      }
    }
  }

  /// The newest row + 1 of the key in slot `i` (from `slot`).
  @inline(__always) func head(atSlot i: Int) -> UInt32 { UInt32(truncatingIfNeeded: heads[i]) }

  /// Bytes held: chained, the key table (12 bytes a slot) and a link per row; clustered, the
  /// directory (5 bytes a slot).
  var bytes: Int {
    if let directory { return directory.bytes }
    return isBuilt ? (headMask + 1) * 12 + relation.count * 4 : 0
  }

  /// Whether the index holds every row (see `Relation.plannedIndex`).
  private(set) var isBuilt = false

  /// Builds the index over the rows there now, if not built yet; inserts then keep it current.
  @inline(__always) func build() {
    if !isBuilt {
      isBuilt = true
      addAll(0..<relation.count)
    }
  }

  /// Takes rows out of the chained form, before the relation moves the rows after them down
  /// (`Relation.removeRows`; `sorted` ascending, the rows still where they were): the chains
  /// skip the rows removed and every row number is renumbered as the relation renumbers it,
  /// so the index stays built. It costs a pass over the links from the first row removed on,
  /// with a key hashed only for the rows removed; building it again would hash every row
  /// (45 ms on `path` of `edit-random-2000`, for a retraction of a few hundred rows). A key
  /// whose rows all go leaves the key table, which is rebuilt then (a slot per key). The
  /// clustered form is unbuilt instead (rows move, and it is rebuilt when next read).
  func remove(_ sorted: [Int]) {
    guard isBuilt, let first = sorted.first else { return }
    if isClustered {
      unbuild()
      return
    }
    let before = relation.count
    // Removed rows before each block of 1,024 rows, as the relation counts them.
    let blocks = before >> 10 + 1
    var shift = [Int](repeating: 0, count: blocks)
    var k = 0
    for b in 0..<blocks {
      while k < sorted.count && sorted[k] < b << 10 { k += 1 }
      shift[b] = k
    }
    /// The position of `r` in `sorted`, or nil when it is not removed; and the rows removed before it.
    func removedBefore(_ r: Int) -> (index: Int?, count: Int) {
      if r < first { return (nil, 0) }
      var k = shift[r >> 10]
      while k < sorted.count && sorted[k] < r { k += 1 }
      return (k < sorted.count && sorted[k] == r ? k : nil, k)
    }
    // 1. Each key loses its removed rows from its size.
    var emptied = false
    for r in sorted {
      let tag = rowTag(r)
      var i = Int(tag) & headMask
      while heads[i] != 0 {
        let s = heads[i]
        if UInt32(truncatingIfNeeded: s >> 32) == tag, rowsShareKey(Int(truncatingIfNeeded: s & 0xFFFF_FFFF) &- 1, r) {
          sizes[i] &-= 1
          if sizes[i] == 0 { emptied = true }
          break
        }
        i = (i &+ 1) & headMask
      }
    }
    // 2. A removed row's link, resolved to the next older row that stays (+ 1; 0: none), in the
    //    old numbering: ascending, so an older removed row is resolved before it is reached.
    var resolved = [UInt32](repeating: 0, count: sorted.count)
    for (j, r) in sorted.enumerated() {
      var e = next[r]
      if e != 0, let older = removedBefore(Int(e) &- 1).index { e = resolved[older] }
      resolved[j] = e
    }
    /// A link in the old numbering (to a row that may be removed), in the new one.
    func renumbered(_ e: UInt32) -> UInt32 {
      guard e != 0 else { return 0 }
      let (removed, count) = removedBefore(Int(e) &- 1)
      var target = e
      if let removed {
        target = resolved[removed]
        if target == 0 { return 0 }
        return UInt32(truncatingIfNeeded: Int(target) &- removedBefore(Int(target) &- 1).count)
      }
      return UInt32(truncatingIfNeeded: Int(target) &- count)
    }
    // 3. The links of the rows that stay, moved to their new numbers (never above the old ones,
    //    so a link not read yet is never overwritten; the removed rows' are kept in `resolved`).
    var write = first
    var j = 0
    for r in first..<before {
      if j < sorted.count && sorted[j] == r {
        j += 1
        continue
      }
      next[write] = renumbered(next[r])
      write += 1
    }
    // 4. The newest row of each key, renumbered; keys left with no row leave the table.
    for i in 0...headMask where heads[i] != 0 {
      let s = heads[i]
      let head = renumbered(UInt32(truncatingIfNeeded: s))
      heads[i] = head == 0 ? 0 : (s & 0xFFFF_FFFF_0000_0000) | UInt64(head)
    }
    if emptied { reinsertKeys() }
  }

  /// Places the keys again after some slots were emptied (`remove`), so no key sits behind an
  /// empty slot of its probe sequence.
  private func reinsertKeys() {
    let size = headMask + 1
    let old = heads, oldSizes = sizes
    heads = Memory.zeroedTable(UInt64.self, count: size)
    sizes = Memory.zeroedTable(UInt32.self, count: size)
    keys = 0
    for j in 0..<size where old[j] != 0 && oldSizes[j] != 0 {
      var i = Int(truncatingIfNeeded: old[j] >> 32) & headMask
      while heads[i] != 0 { i = (i &+ 1) & headMask }
      heads[i] = old[j]
      sizes[i] = oldSizes[j]
      keys += 1
    }
    Memory.releaseTable(old, count: size)
    Memory.releaseTable(oldSizes, count: size)
  }

  /// Forgets the rows (either form); the next `build` starts again.
  func unbuild() {
    if isBuilt && !isClustered {
      Memory.releaseTable(heads, count: headMask + 1)
      Memory.releaseTable(sizes, count: headMask + 1)
      headMask = 15
      heads = Memory.zeroedTable(UInt64.self, count: 16)
      sizes = Memory.zeroedTable(UInt32.self, count: 16)
      Memory.release(next)
      nextCapacity = 16
      next = Memory.allocate(UInt32.self, count: 16)
      keys = 0
    }
    releaseDirectory()
    isClustered = false
    isBuilt = false
  }

  private func releaseDirectory() {
    directory?.release()
    directory = nil
  }

  /// Builds the clustered form over rows sorted by this key (`Relation.cluster(by:)`).
  func buildDirectory() {
    let n = relation.count
    // Where each run of rows with one key starts.
    let runStarts = Memory.allocate(UInt32.self, count: n)
    defer { Memory.release(runStarts) }
    var runs = 0
    if keyCount == 1 {
      // The usual case, compared directly (3% of join-1m's instructions, callgrind).
      let data = relation.data, arity = relation.arity, column = columnBuffer[0]
      for r in 0..<n where r == 0 || data[r &* arity &+ column] != data[(r &- 1) &* arity &+ column] {
        runStarts[runs] = UInt32(truncatingIfNeeded: r)
        runs &+= 1
      }
    } else {
      for r in 0..<n where r == 0 || !rowsShareKey(r &- 1, r) {
        runStarts[runs] = UInt32(truncatingIfNeeded: r)
        runs &+= 1
      }
    }
    let table = SlotTable(slots: runs + runs / 7 + 1)
    for k in 0..<runs { table.add(rowHash(Int(runStarts[k])), runStarts[k]) }
    directory = table
    directoryKeys = runs
    isClustered = true
    isBuilt = true
  }

  /// How many distinct keys the rows have (0 when not built): a plan's cost estimate divides
  /// rows by it for the rows one lookup matches (`BoundRule.estimatedWork`).
  var distinctKeys: Int { isClustered ? directoryKeys : (isBuilt ? keys : 0) }

  /// Clustered form: the rows whose key columns equal `key` (empty when none).
  @inline(__always)
  public func rows(_ key: UnsafePointer<Value>) -> Range<Int> {
    guard let directory else { return 0..<0 }
    let (found, slot) = directory.find(keyHash(key)) { rowMatches(Int($0), key: key) }
    guard found else { return 0..<0 }
    let first = Int(directory.value(at: slot))
    return first..<runEnd(first, key)
  }

  /// Where the run of rows with `key` that begins at `first` ends: rows with one key are
  /// contiguous, so "has the key" holds up to the end and nowhere after; gallop, then bisect.
  @inline(__always) private func runEnd(_ first: Int, _ key: UnsafePointer<Value>) -> Int {
    let n = relation.count
    var known = first  // the last row known to have the key
    var probe = first &+ 1
    var stride = 1
    while probe < n, rowMatches(probe, key: key) {
      known = probe
      stride &<<= 1
      probe = first &+ stride
    }
    var low = known &+ 1, high = min(probe, n)
    while low < high {
      let mid = (low &+ high) >> 1
      if rowMatches(mid, key: key) { low = mid &+ 1 } else { high = mid }
    }
    return low
  }

  /// How many rows with the key in slot `i` (from `slot`) lie in `low ..< high`: over the whole
  /// relation the kept size, otherwise by walking the chain.
  func count(atSlot i: Int, low: Int, high: Int) -> Int {
    if low <= 0 && high >= relation.count { return Int(sizes[i]) }
    var e = head(atSlot: i)
    var n = 0
    while e != 0 {
      let r = Int(e) &- 1
      if r < low { break }
      if r < high { n &+= 1 }
      e = next[r]
    }
    return n
  }
}
