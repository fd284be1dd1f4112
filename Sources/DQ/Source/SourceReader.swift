/// Reads input files (scripts, `.load`, standard input, `.import` data) with a bound on the
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
  }

  /// The bytes of `path` ("-": standard input), at most `maxBytes` in all and `maxLineBytes`
  /// in any line. A directory is refused (reading one would look like an empty file).
  public static func readBytes(
    _ path: String, maxBytes: Int = Limits.maxSourceBytes, maxLineBytes: Int = Limits.maxSourceLineBytes
  ) -> Result<[UInt8], Failure> {
    let fd = path == "-" ? 0 : open(path, O_RDONLY)
    if fd < 0 { return .failure(Failure(reason: String(cString: strerror(errno)))) }
    defer { if fd != 0 { close(fd) } }
    var info = stat()
    var sizeHint = 0
    if fstat(fd, &info) == 0 {
      if (info.st_mode & S_IFMT) == S_IFDIR { return .failure(Failure(reason: String(cString: strerror(EISDIR)))) }
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
        return .failure(Failure(reason: String(cString: strerror(errno))))
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

  /// The text of `path` ("-": standard input), within the source limits.
  public static func readText(_ path: String) -> Result<String, Failure> {
    readBytes(path).map { String(decoding: $0, as: UTF8.self) }
  }

  private static func tooLarge(_ maxBytes: Int) -> Failure {
    Failure(reason: "it is larger than \(Limits.describe(bytes: maxBytes)), the most dq reads from one file")
  }
}
