/// Reads input files (scripts, `.load`, standard input, `.import` data, the shell's history and
/// tutorial progress: every whole-file read in dq) with a bound on the
/// whole and on each line, so `/dev/zero`, an endless pipe or a huge file stops with an error
/// instead of growing memory without end.
#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

public enum SourceReader {
  /// Why a file could not be read.
  public struct Failure: Error, Sendable, Equatable {
    /// What went wrong, to follow "cannot read 'FILE': ".
    public var reason: String
    /// The 1-based line that passed the line limit, when that was the reason.
    public var line: Int?
    /// The system's error number, when the system refused (no such file, no permission).
    public var code: Int32?

    init(reason: String, line: Int? = nil, code: Int32? = nil) {
      (self.reason, self.line, self.code) = (reason, line, code)
    }

    /// The failure for the system error `code`.
    static func system(_ code: Int32) -> Failure { Failure(reason: String(cString: strerror(code)), code: code) }
  }

  /// The bytes of `path` ("-": standard input), at most `maxBytes` in all and `maxLineBytes`
  /// in any line. A directory is refused (reading one would look like an empty file).
  public static func readBytes(
    _ path: String, maxBytes: Int = Limits.maxSourceBytes, maxLineBytes: Int = Limits.maxSourceLineBytes
  ) -> Result<[UInt8], Failure> {
    let fd = path == "-" ? 0 : open(path, O_RDONLY)
    if fd < 0 { return .failure(.system(errno)) }
    defer { if fd != 0 { close(fd) } }
    var info = stat()
    var sizeHint = 0
    if fstat(fd, &info) == 0 {
      if (info.st_mode & S_IFMT) == S_IFDIR { return .failure(.system(EISDIR)) }
      if (info.st_mode & S_IFMT) == S_IFREG {
        let size = Int(clamping: info.st_size)
        if size > maxBytes { return .failure(tooLarge(maxBytes)) }
        sizeHint = size
      }
    }
    var out: [UInt8] = []
    out.reserveCapacity(sizeHint + 1)
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    var line = 1
    var lineLength = 0
    while true {
      let got = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
      if got < 0 {
        if errno == EINTR { continue }
        return .failure(.system(errno))
      }
      if got == 0 { break }
      if out.count + got > maxBytes { return .failure(tooLarge(maxBytes)) }
      // Line lengths, newline to newline (memchr finds them fast in big data files).
      let tooLong = chunk.withUnsafeBytes { p -> Bool in
        guard let base = p.baseAddress else { return false }
        var k = 0
        while k < got {
          let rest = got - k
          if let nl = memchr(base + k, 10, rest) {
            let at = base.distance(to: UnsafeRawPointer(nl))
            lineLength += at - k
            if lineLength > maxLineBytes { return true }
            line += 1
            lineLength = 0
            k = at + 1
          } else {
            lineLength += rest
            return lineLength > maxLineBytes
          }
        }
        return false
      }
      if tooLong {
        return .failure(
          Failure(
            reason: "line \(line) is longer than \(Limits.describe(bytes: maxLineBytes)), the longest line dq reads", line: line))
      }
      out.append(contentsOf: chunk[0..<got])
    }
    return .success(out)
  }

  /// The text of `path` ("-": standard input), within the source limits. Bytes that are not
  /// UTF-8 are refused, naming the line: decoding would turn them into U+FFFD silently, and a
  /// symbol read from a Latin-1 file would no longer match the same word typed in a query.
  public static func readText(_ path: String) -> Result<String, Failure> {
    readBytes(path).flatMap { bytes in
      bytes.withUnsafeBufferPointer(isValidUTF8)
        ? .success(String(decoding: bytes, as: UTF8.self)) : .failure(notUTF8(bytes))
    }
  }

  /// True when the bytes are well-formed UTF-8 (no overlong forms, surrogates or values past
  /// U+10FFFF), checked in place: a 16 GiB import is not copied into a String to find out.
  public static func isValidUTF8(_ p: UnsafeBufferPointer<UInt8>) -> Bool {
    let n = p.count
    guard let base = p.baseAddress else { return true }
    let raw = UnsafeRawPointer(base)
    var i = 0
    while i < n {
      // ASCII eight bytes at a time: big data files are mostly ASCII.
      while i + 8 <= n, raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 { i += 8 }
      if i >= n { break }
      let b = p[i]
      if b < 0x80 {
        i += 1
        continue
      }
      let length: Int
      var low: UInt8 = 0x80, high: UInt8 = 0xBF  // the range of the second byte
      switch b {
      case 0xC2...0xDF: length = 2
      case 0xE0: length = 3; low = 0xA0
      case 0xE1...0xEC, 0xEE...0xEF: length = 3
      case 0xED: length = 3; high = 0x9F
      case 0xF0: length = 4; low = 0x90
      case 0xF1...0xF3: length = 4
      case 0xF4: length = 4; high = 0x8F
      default: return false
      }
      guard i + length <= n, p[i + 1] >= low, p[i + 1] <= high else { return false }
      for k in 2..<length where p[i + k] & 0xC0 != 0x80 { return false }
      i += length
    }
    return true
  }

  /// The failure for bytes that are not valid UTF-8, naming the first line that is not.
  public static func notUTF8(_ bytes: [UInt8]) -> Failure {
    var line = 1
    var start = 0
    while start <= bytes.count {
      let end = bytes[start...].firstIndex(of: 10) ?? bytes.count
      if !bytes[start..<end].withUnsafeBufferPointer(isValidUTF8) { break }
      line += 1
      start = end + 1
    }
    return Failure(reason: "line \(line) is not valid UTF-8 text", line: line)
  }

  private static func tooLarge(_ maxBytes: Int) -> Failure {
    Failure(reason: "it is larger than \(Limits.describe(bytes: maxBytes)), the most dq reads from one file")
  }
}
