#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Raw buffers for the engine: growing arrays from the C allocator, large hash tables straight
/// from the kernel as huge pages. Every buffer holds a trivial type.
enum Memory {
  // MARK: Growing arrays (rows, index chains): read mostly in order.

  /// `count` elements, not initialised; free with `release`.
  static func allocate<T>(_ type: T.Type, count: Int) -> UnsafeMutablePointer<T> {
    let n = bytes(T.self, count)
    guard let raw = malloc(n) else { outOfMemory(n) }
    return raw.bindMemory(to: T.self, capacity: max(1, count))
  }

  /// The buffer resized to `count` elements, its contents kept. Large blocks are remapped by
  /// the C library rather than copied, so a growing relation never holds its rows twice.
  static func resize<T>(_ p: UnsafeMutablePointer<T>, count: Int) -> UnsafeMutablePointer<T> {
    let n = bytes(T.self, count)
    guard let raw = realloc(UnsafeMutableRawPointer(p), n) else { outOfMemory(n) }
    return raw.bindMemory(to: T.self, capacity: max(1, count))
  }

  static func release<T>(_ p: UnsafeMutablePointer<T>) {
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
    if n >= mappingThreshold { return map(n).bindMemory(to: T.self, capacity: max(1, count)) }
    guard let raw = calloc(1, n) else { outOfMemory(n) }
    return raw.bindMemory(to: T.self, capacity: max(1, count))
  }

  static func releaseTable<T>(_ p: UnsafeMutablePointer<T>, count: Int) {
    let n = bytes(T.self, count)
    if n >= mappingThreshold {
      munmap(UnsafeMutableRawPointer(p), n)
    } else {
      free(UnsafeMutableRawPointer(p))
    }
  }

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
