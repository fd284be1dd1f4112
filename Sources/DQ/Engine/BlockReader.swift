#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Reading an import file block by block, and holding the rows read from it.
extension Importer {
  /// The bytes of a file in blocks: `window` holds whole records from the last one kept on,
  /// checked to be UTF-8 up to its last newline (a newline is never part of a longer UTF-8
  /// sequence, so a block cut inside a character is checked once the rest has come).
  final class BlockReader {
    let path: String
    private let fd: Int32
    private(set) var buffer: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    /// Bytes held.
    private(set) var count = 0
    /// Bytes known to be UTF-8 (from the start of the buffer).
    private var checked = 0
    /// Newlines in the bytes checked and dropped before: the line number of a bad byte.
    private var linesChecked = 0
    /// True once the file has no more bytes.
    private(set) var atEnd = false
    /// The size of a regular file (0 for a pipe or a device).
    private(set) var fileSize = 0

    /// The size of a block: small enough to stay in cache, large enough that a read costs
    /// nothing next to parsing it.
    static let blockBytes = 1 << 20

    init(_ path: String, blockBytes: Int = BlockReader.blockBytes) throws(Failure) {
      self.path = path
      let fd = path == "-" ? 0 : open(path, O_RDONLY)
      if fd < 0 { throw Failure(message: "Cannot read '\(path)': \(String(cString: strerror(errno)))", line: 0, unreadable: true) }
      var info = stat()
      if fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
        if fd != 0 { close(fd) }
        throw Failure(message: "Cannot read '\(path)': \(String(cString: strerror(EISDIR)))", line: 0, unreadable: true)
      }
      if (info.st_mode & S_IFMT) == S_IFREG { fileSize = Int(clamping: info.st_size) }
      self.fd = fd
      capacity = max(1, blockBytes)
      buffer = Memory.allocate(UInt8.self, count: capacity)
    }

    deinit {
      if fd != 0 { close(fd) }
      Memory.release(buffer)
    }

    var window: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: buffer, count: count) }

    /// Drops the bytes before `start` and reads more after the rest: a block, or to the end of
    /// the file. With nothing droppable and the buffer full (one record fills it), the buffer
    /// doubles, up to `Limits.maxImportLineBytes`; `line` names that record in the error.
    func refill(keeping start: Int, line: Int = 1) throws(Failure) {
      if start > 0 {
        linesChecked += newlines(in: 0..<min(start, checked))
        let kept = count - start
        if kept > 0 { memmove(buffer, buffer + start, kept) }
        count = kept
        checked = max(0, checked - start)
      }
      if count == capacity {
        guard capacity <= Limits.maxImportLineBytes else {
          throw Failure(
            message: "Cannot read '\(path)': line \(line) is longer than \(Limits.describe(bytes: Limits.maxImportLineBytes)), the longest line dq reads",
            line: line, unreadable: true)
        }
        capacity *= 2
        buffer = Memory.resize(buffer, count: capacity)
      }
      while count < capacity && !atEnd {
        let got = readBytes(fd, buffer + count, capacity - count)
        if got < 0 {
          if errno == EINTR { continue }
          throw Failure(message: "Cannot read '\(path)': \(String(cString: strerror(errno)))", line: 0, unreadable: true)
        }
        if got == 0 { atEnd = true } else { count += got }
      }
      try check()
    }

    /// Checks the bytes up to the last newline (all of them at the end of the file) are UTF-8.
    private func check() throws(Failure) {
      var upTo = count
      if !atEnd {
        while upTo > checked, buffer[upTo - 1] != 10 { upTo -= 1 }
        if upTo == checked { return }
      }
      let fresh = UnsafeBufferPointer(start: buffer + checked, count: upTo - checked)
      if !SourceReader.isValidUTF8(fresh) {
        let bad = SourceReader.notUTF8(Array(fresh))
        let line = linesChecked + newlines(in: 0..<checked) + (bad.line ?? 1)
        throw Failure(message: "Cannot read '\(path)': line \(line) is not valid UTF-8 text", line: line, unreadable: true)
      }
      checked = upTo
    }

    /// The newlines in `range` of the buffer.
    private func newlines(in range: Range<Int>) -> Int {
      var lines = 0
      var k = range.lowerBound
      while k < range.upperBound, let nl = memchr(buffer + k, 10, range.upperBound - k) {
        lines += 1
        k = UnsafeRawPointer(buffer).distance(to: UnsafeRawPointer(nl)) + 1
      }
      return lines
    }
  }

  /// The rows read so far, flat (`arity` values each), in memory that grows by doubling.
  struct RowBuffer {
    private(set) var base = Memory.allocate(Value.self, count: 1 << 12)
    private var capacity = 1 << 12
    /// Values held.
    var count = 0

    func rowCount(arity: Int) -> Int { arity == 0 ? 0 : count / arity }

    /// Room for `n` more values after `count`; where they go.
    @inline(__always)
    mutating func reserve(_ n: Int) -> UnsafeMutablePointer<Value> {
      if count &+ n > capacity {
        while count &+ n > capacity { capacity *= 2 }
        base = Memory.resize(base, count: capacity)
      }
      return base + count
    }

    func release() { Memory.release(base) }
  }

}

/// `read(2)`, named apart from the importer's own `read`.
private func readBytes(_ fd: Int32, _ into: UnsafeMutablePointer<UInt8>, _ count: Int) -> Int {
  read(fd, into, count)
}
