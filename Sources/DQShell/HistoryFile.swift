/// The history file, in libedit's format, kept safe: each entry is appended as it is entered,
/// and trimming rewrites the file through a temporary file and rename().
import DQ

#if canImport(Glibc)
  import Glibc
#endif

/// `~/.dq_history` as libedit writes and reads it: the line `_HiStOrY_V2_`, then one line per
/// entry with spaces, tabs, newlines, backslashes and control characters written as `\ooo`
/// (libedit's strvis with VIS_WHITE; its strunvis reads octal escapes back whatever the
/// character). Writing only appended lines means a `kill -9` can at worst cut the last entry,
/// and two shells open at once both keep their entries.
final class HistoryFile {
  static let cookie = "_HiStOrY_V2_"

  let path: String
  /// Entries the file is trimmed to.
  let limit: Int
  /// Entries the file may grow past `limit` before it is trimmed (so trimming is rare).
  let slack: Int
  /// Entries in the file as far as this session knows (other shells may have added some).
  private(set) var entriesInFile = 0
  /// True when the file must not be written (it could not be read, or moved aside).
  private(set) var disabled = false

  init(path: String, limit: Int) {
    self.path = path
    self.limit = max(1, limit)
    self.slack = max(1, limit / 10)
  }

  /// What `check()` found.
  enum State: Equatable {
    /// No file yet, or an empty one.
    case missing
    /// A history file libedit can read.
    case readable
    /// Not a history file: it was renamed to the path given, and a new one will be started.
    case movedAside(String)
    /// The file could not be read (errno) or moved aside; it is left alone and not written.
    case unreadable(Int32)
  }

  /// Looks at the file before libedit reads it. A file that is not history is never
  /// overwritten: it is moved to `<path>.bad`.
  func check() -> State {
    switch Self.read(path) {
    case .failure(let e):
      if e.code == ENOENT { return .missing }
      disabled = true
      return .unreadable(e.code)
    case .success(let bytes):
      if bytes.isEmpty { return .missing }
      guard let entries = Self.entries(bytes) else {
        let bad = path + ".bad"
        guard rename(path, bad) == 0 else {
          disabled = true
          return .unreadable(errno)
        }
        return .movedAside(bad)
      }
      entriesInFile = entries.count
      return .readable
    }
  }

  /// Appends one entry (under an exclusive lock), trimming the file once it has grown `slack`
  /// past `limit`. Returns nil, or the errno value of a failure; a failed write is cut off again
  /// so the file never holds half a line.
  func append(_ entry: String) -> Int32? {
    guard !disabled else { return nil }
    // A trim by another shell renames a new file over the one opened: open it again.
    for _ in 0..<5 {
      let fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
      guard fd >= 0 else { return errno }
      defer { close(fd) }
      while flock(fd, LOCK_EX) != 0 {
        if errno != EINTR { return errno }
      }
      var opened = stat(), named = stat()
      guard fstat(fd, &opened) == 0 else { return errno }
      if stat(path, &named) != 0 || named.st_ino != opened.st_ino || named.st_dev != opened.st_dev { continue }
      var text = Self.encode(entry) + "\n"
      if opened.st_size == 0 {
        text = Self.cookie + "\n" + text
      } else {
        // A shell killed in mid-write may have left a line without its newline: end it.
        var last: UInt8 = 0
        if pread(fd, &last, 1, opened.st_size - 1) == 1, last != 0x0A { text = "\n" + text }
      }
      if let code = Self.writeAll(fd, text) {
        _ = ftruncate(fd, opened.st_size)
        return code
      }
      entriesInFile = opened.st_size == 0 ? 1 : entriesInFile + 1
      if entriesInFile > limit + slack { return trim() }
      return nil
    }
    return EAGAIN
  }

  /// Rewrites the file with its newest `limit` entries: what is in the file now (other shells'
  /// entries included), written to a temporary file renamed over it. Called with the lock held.
  private func trim() -> Int32? {
    guard case .success(let bytes) = Self.read(path), let lines = Self.entries(bytes) else { return nil }
    let kept = lines.suffix(limit)
    var text = Self.cookie + "\n"
    for line in kept { text += line + "\n" }
    if let code = AtomicFile.replace(path, with: text) { return code }
    entriesInFile = kept.count
    return nil
  }

  /// The encoded entry lines of a history file, or nil when it does not start with the cookie.
  static func entries(_ bytes: [UInt8]) -> [Substring]? {
    let text = String(decoding: bytes, as: UTF8.self)
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    guard let first = lines.first, first == cookie || first == cookie + "\r" else { return nil }
    lines.removeFirst()
    return lines.filter { !$0.isEmpty }
  }

  /// One entry as a line of the file.
  static func encode(_ entry: String) -> String {
    var out: [UInt8] = []
    for b in entry.utf8 {
      if b <= 0x20 || b == 0x5C || b == 0x7F {
        out.append(0x5C)
        out.append(0x30 + (b >> 6))
        out.append(0x30 + ((b >> 3) & 7))
        out.append(0x30 + (b & 7))
      } else {
        out.append(b)
      }
    }
    return String(decoding: out, as: UTF8.self)
  }

  /// The history file's bytes (through `SourceReader`, dq's one whole-file reader), or errno.
  static func read(_ path: String) -> Result<[UInt8], ErrnoError> {
    SourceReader.readBytes(path, maxBytes: Limits.maxSourceBytes, maxLineBytes: Int.max)
      .mapError { ErrnoError(code: $0.code ?? EFBIG) }
  }

  static func writeAll(_ fd: Int32, _ text: String) -> Int32? {
    var text = text
    return text.withUTF8 { buffer -> Int32? in
      guard let base = buffer.baseAddress else { return nil }
      var offset = 0
      while offset < buffer.count {
        let n = write(fd, base + offset, buffer.count - offset)
        if n < 0 {
          if errno == EINTR { continue }
          return errno
        }
        offset += n
      }
      return nil
    }
  }
}
