import CEngine
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Raw buffers for the engine: growing arrays from the C allocator (large ones on huge pages),
/// large hash tables straight from the kernel as huge pages. Every buffer holds a trivial type.
///
/// Every buffer is counted in `held`, so a memory budget (`Budget.maxBytes`) can stop a runaway
/// evaluation with an error before the machine runs out.
enum Memory {
  /// Bytes of every engine buffer alive now in this process: rows, indexes, hash tables,
  /// derivations not yet stored. Each allocation adds the size the C library actually gave.
  /// Atomic, since sessions on other threads (tests) allocate too; buffers grow geometrically,
  /// so this is touched rarely.
  static var held: Int { heldBytes.load(ordering: .relaxed) }
  private static let heldBytes = Atomic<Int>(0)
  @inline(__always) private static func adjustHeld(_ n: Int) { heldBytes.add(n, ordering: .relaxed) }

  /// Counts (or, negative, uncounts) memory held outside these buffers, such as the value
  /// store's interned symbols and boxed numbers.
  static func note(_ bytes: Int) { adjustHeld(bytes) }

  /// Sets the C allocator up for the engine's buffers, once per process (`Database.init`):
  /// blocks of 1 MiB or more are mapped on their own, so a large buffer freed, or shrunk after
  /// a round (`Executor.releaseLargeOutput`), is given back at once rather than kept in the
  /// heap, and one that grows is remapped rather than copied.
  static let configured: Void = dq_map_large_blocks(1 << 20)

  // MARK: Growing arrays (rows, index chains): read mostly in order.

  /// `count` elements, not initialised; free with `release`.
  static func allocate<T>(_ type: T.Type, count: Int) -> UnsafeMutablePointer<T> {
    let n = bytes(T.self, count)
    guard let raw = malloc(n) else { outOfMemory(n) }
    adjustHeld(Int(dq_block_size(raw)))
    if n >= hugeRowsFrom { adviseHugePages(raw, n) }
    return raw.bindMemory(to: T.self, capacity: max(1, count))
  }

  /// The buffer resized to `count` elements, its contents kept. Large blocks are remapped by
  /// the C library rather than copied, so a growing relation never holds its rows twice.
  static func resize<T>(_ p: UnsafeMutablePointer<T>, count: Int) -> UnsafeMutablePointer<T> {
    let n = bytes(T.self, count)
    let before = Int(dq_block_size(UnsafeMutableRawPointer(p)))
    guard let raw = realloc(UnsafeMutableRawPointer(p), n) else { outOfMemory(n) }
    adjustHeld(Int(dq_block_size(raw)) &- before)
    if n >= hugeRowsFrom { adviseHugePages(raw, n) }
    return raw.bindMemory(to: T.self, capacity: max(1, count))
  }

  /// From this size up, a growing array asks for 2 MiB pages: a probe of a large relation's
  /// table compares (and prefetches) a row at random, which with 4 KiB pages nearly always
  /// misses the TLB too. Pages are still only taken as the rows are written.
  static let hugeRowsFrom = 1 << 22

  /// Asks for huge pages over the whole pages of a block (its own mapping once `configured`
  /// has run, as every session does; before, in the heap, the advice is harmless).
  private static func adviseHugePages(_ raw: UnsafeMutableRawPointer, _ n: Int) {
    #if os(Linux)
    if let (p, length) = wholePages(raw, n) { _ = madvise(p, length, MADV_HUGEPAGE) }
    #endif
  }

  /// The 4 KiB pages wholly inside `n` bytes from `raw` (where `madvise` may act), or nil.
  private static func wholePages(_ raw: UnsafeMutableRawPointer, _ n: Int) -> (UnsafeMutableRawPointer, Int)? {
    let page = 4096
    let start = (Int(bitPattern: raw) + page - 1) & ~(page - 1)
    let end = (Int(bitPattern: raw) + n) & ~(page - 1)
    guard end > start, let p = UnsafeMutableRawPointer(bitPattern: start) else { return nil }
    return (p, end - start)
  }

  static func release<T>(_ p: UnsafeMutablePointer<T>) {
    adjustHeld(-Int(dq_block_size(UnsafeMutableRawPointer(p))))
    free(UnsafeMutableRawPointer(p))
  }

  // MARK: Hash tables: probed at random.

  /// From this size up, a table is its own mapping.
  static let mappingThreshold = 1 << 21

  /// `count` zeroed elements; free with `releaseTable` and the same count.
  ///
  /// With 4 KiB pages nearly every probe of a large table also misses the TLB, so large tables
  /// are mapped with `MADV_HUGEPAGE` (2 MiB pages). Fresh mappings are zero: no memset.
  static func zeroedTable<T>(_ type: T.Type, count: Int) -> UnsafeMutablePointer<T> {
    let n = bytes(T.self, count)
    if n >= mappingThreshold {
      adjustHeld(n)
      return map(n).bindMemory(to: T.self, capacity: max(1, count))
    }
    guard let raw = calloc(1, n) else { outOfMemory(n) }
    adjustHeld(Int(dq_block_size(raw)))
    return raw.bindMemory(to: T.self, capacity: max(1, count))
  }

  /// Maps the pages of `bytes` bytes from `start` of a table (`zeroedTable`) for writing now,
  /// as 2 MiB pages where it can: a table is rebuilt by reading a group before writing it,
  /// and a fresh page read first is the shared zero page, which the write must then replace
  /// (with several threads, one 4 KiB page at a time, each flushing the other cores' TLBs).
  /// Best effort: a kernel without `MADV_POPULATE_WRITE` (before 5.14) faults the pages in as
  /// they are touched. Whether the kernel did it.
  @discardableResult
  static func populate(_ start: UnsafeMutableRawPointer, bytes: Int) -> Bool {
    #if os(Linux)
    guard let (p, length) = wholePages(start, bytes) else { return true }
    return madvise(p, length, populateWrite) == 0
    #else
    return false
    #endif
  }

  /// `MADV_POPULATE_WRITE` (Linux 5.14), not in every C library's headers.
  private static let populateWrite: Int32 = 23

  static func releaseTable<T>(_ p: UnsafeMutablePointer<T>, count: Int) {
    let n = bytes(T.self, count)
    if n >= mappingThreshold {
      adjustHeld(-n)
      munmap(UnsafeMutableRawPointer(p), n)
    } else {
      adjustHeld(-Int(dq_block_size(UnsafeMutableRawPointer(p))))
      free(UnsafeMutableRawPointer(p))
    }
  }

  // MARK: The machine

  /// Physical memory, capped by the control group's limit when there is one (containers).
  static let physical: Int = {
    var total = Int(sysconf(Int32(_SC_PHYS_PAGES))) &* Int(sysconf(Int32(_SC_PAGESIZE)))
    if total <= 0 { total = 8 << 30 }
    for path in ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"] {
      guard let f = fopen(path, "r") else { continue }
      defer { fclose(f) }
      var buffer = [CChar](repeating: 0, count: 64)
      guard fgets(&buffer, 64, f) != nil else { continue }
      let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
      if let limit = Int(text.filter { $0.isNumber }), limit > 0, limit < total { total = limit }
    }
    return total
  }()

  /// The default memory budget: half the machine, so dq stops before the system has to.
  static var defaultLimit: Int { physical / 2 }

  // MARK: -

  @inline(__always) private static func bytes<T>(_ type: T.Type, _ count: Int) -> Int {
    let (n, overflow) = max(1, count).multipliedReportingOverflow(by: MemoryLayout<T>.stride)
    if overflow { outOfMemory(Int.max) }
    return n
  }

  private static func map(_ n: Int) -> UnsafeMutableRawPointer {
    guard let p = mmap(nil, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
      p != UnsafeMutableRawPointer(bitPattern: -1)
    else { outOfMemory(n) }
    #if os(Linux)
    _ = madvise(p, n, MADV_HUGEPAGE)
    #endif
    return p
  }

  /// Says so and exits 70 (the tuple limit normally stops a runaway program long before).
  private static func outOfMemory(_ bytes: Int) -> Never {
    exhausted("out of memory (could not allocate \(bytes) bytes); lower --max-tuples")
  }

  /// Reports a resource dq has run out of on standard error and exits 70: used where no caller
  /// could go on (an allocation failing deep inside an insert), never for a mistake in the input.
  static func exhausted(_ what: String) -> Never {
    let message = "dq: error: \(what)\n"
    _ = message.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
    exit(70)
  }
}
