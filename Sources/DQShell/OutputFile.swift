/// Files written so that a crash, a kill or a failed write never leaves half a file: the text
/// goes to a temporary file in the same folder, renamed over the target once complete.
import CSupport

#if canImport(Glibc)
  import Glibc
#endif

/// The text of an errno value.
func errorText(_ code: Int32) -> String { String(cString: strerror(code)) }

/// Where `.output` sends answers. A regular file (or a new one) is written as a temporary file
/// beside it and renamed into place by `commit()`, so the old contents survive until the new
/// ones are complete; a device or pipe (`/dev/null`, `/dev/stdout`, a FIFO) is written directly.
final class OutputFile {
  /// The path the user gave.
  let path: String
  /// The file renamed over `target` on commit, or nil when writing directly.
  private let temporary: String?
  private let target: String
  private var file: UnsafeMutablePointer<FILE>?
  /// The first write error (errno), after which nothing more is written.
  private(set) var error: Int32 = 0

  private init(path: String, target: String, temporary: String?, file: UnsafeMutablePointer<FILE>) {
    self.path = path
    self.target = target
    self.temporary = temporary
    self.file = file
  }

  deinit { discard() }

  /// Opens `path` for writing, or says why it cannot be written.
  static func open(_ path: String) -> Result<OutputFile, OutputError> {
    var st = stat()
    let exists = stat(path, &st) == 0
    if exists && (st.st_mode & S_IFMT) != S_IFREG {
      if (st.st_mode & S_IFMT) == S_IFDIR { return .failure(OutputError(path: path, code: EISDIR)) }
      guard let f = fopen(path, "w") else { return .failure(OutputError(path: path, code: errno)) }
      return .success(OutputFile(path: path, target: path, temporary: nil, file: f))
    }
    // Replace the file a symbolic link points to, not the link.
    var target = path
    if exists, let real = realpath(path, nil) {
      target = String(cString: real)
      free(real)
    }
    if exists {
      // Opening for writing without truncating checks the permission and changes nothing.
      let probe = Glibc.open(target, O_WRONLY | O_APPEND)
      guard probe >= 0 else { return .failure(OutputError(path: path, code: errno)) }
      close(probe)
    }
    let mode = exists ? st.st_mode & 0o7777 : 0o666 & ~currentUmask()
    switch createTemporary(beside: target, mode: mode_t(mode)) {
    case .failure(let e): return .failure(OutputError(path: path, code: e.code, temporary: true))
    case .success(let (tempPath, fd)):
      guard let f = fdopen(fd, "w") else {
        let code = errno
        close(fd)
        unlink(tempPath)
        return .failure(OutputError(path: path, code: code))
      }
      dq_set_cleanup_path(tempPath)
      return .success(OutputFile(path: path, target: target, temporary: tempPath, file: f))
    }
  }

  /// Writes text; false (with `error` set) when the write failed, now or before.
  @discardableResult
  func write(_ text: String) -> Bool {
    guard error == 0, let f = file else { return false }
    var text = text
    error = text.withUTF8 { dq_write_all(f, $0.baseAddress, $0.count) }
    if error == 0 { error = dq_flush(f) }
    return error == 0
  }

  /// Where the text written so far ends, for `rollBack(to:)`; nil when the file is a device.
  func mark() -> Int? {
    guard temporary != nil, error == 0, let f = file else { return nil }
    let offset = ftello(f)
    return offset < 0 ? nil : Int(offset)
  }

  /// Drops what was written after `offset` (the answers of an entry that failed or was
  /// interrupted), so a partial answer never reaches the target.
  func rollBack(to offset: Int) {
    guard temporary != nil, error == 0, let f = file else { return }
    error = dq_flush(f)
    guard error == 0 else { return }
    if ftruncate(fileno(f), off_t(offset)) != 0 || fseeko(f, off_t(offset), SEEK_SET) != 0 { error = errno }
  }

  /// Finishes the file: flushed, synced and renamed over the target. Nil, or what went wrong
  /// (the target is then left as it was).
  func commit() -> OutputError? {
    guard let f = file else { return error == 0 ? nil : OutputError(path: path, code: error) }
    file = nil
    if error == 0 { error = dq_flush(f) }
    if error == 0, temporary != nil, fsync(fileno(f)) != 0, errno != EINVAL { error = errno }
    if fclose(f) != 0, error == 0, errno != EINTR { error = errno }
    guard let temporary else { return error == 0 ? nil : OutputError(path: path, code: error) }
    dq_set_cleanup_path(nil)
    if error == 0, rename(temporary, target) != 0 { error = errno }
    if error != 0 {
      unlink(temporary)
      return OutputError(path: path, code: error)
    }
    return nil
  }

  /// Drops what was written; the target keeps its old contents.
  func discard() {
    guard let f = file else { return }
    file = nil
    fclose(f)
    if let temporary {
      dq_set_cleanup_path(nil)
      unlink(temporary)
    }
  }
}

/// Why a file could not be written.
struct OutputError: Error, Equatable {
  var path: String
  var code: Int32
  var temporary = false

  var message: String {
    let folder = AtomicFile.folder(of: path)
    return temporary
      ? "cannot write to '\(path)': cannot create a file in '\(folder)': \(errorText(code))"
      : "cannot write to '\(path)': \(errorText(code))"
  }
}

private func currentUmask() -> mode_t {
  let mask = umask(0o022)
  umask(mask)
  return mask
}

/// An errno value as an Error.
struct ErrnoError: Error { var code: Int32 }

/// Creates `.<name>.XXXXXX` beside `path` with `mode`; its path and descriptor, or errno.
func createTemporary(beside path: String, mode: mode_t) -> Result<(String, Int32), ErrnoError> {
  let folder = AtomicFile.folder(of: path)
  let name = path.split(separator: "/").last.map(String.init) ?? "dq"
  var template = Array((folder + "/." + name + ".XXXXXX").utf8CString)
  let fd = template.withUnsafeMutableBufferPointer { p in p.baseAddress.map { mkstemp($0) } ?? -1 }
  guard fd >= 0 else { return .failure(ErrnoError(code: errno)) }
  let tempPath = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  fchmod(fd, mode)
  return .success((tempPath, fd))
}

/// Whole-file replacement through a temporary file and rename().
enum AtomicFile {
  /// The folder holding `path` ("." for a bare name).
  static func folder(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    return slash == path.startIndex ? "/" : String(path[..<slash])
  }

  /// Replaces the file at `path` with `text` (mode 0600 for a new file, else the old mode);
  /// nil, or the errno value of the failure (the old file is then untouched). The data is
  /// synced before the rename, so a crash leaves the old file or the new one, never half.
  static func replace(_ path: String, with text: String) -> Int32? {
    // A file that is a symbolic link (into a dotfiles folder, say) stays one: its target is replaced.
    var path = path
    if let real = realpath(path, nil) {
      path = String(cString: real)
      free(real)
    }
    var st = stat()
    let mode = stat(path, &st) == 0 ? mode_t(st.st_mode & 0o7777) : 0o600
    let tempPath: String
    let fd: Int32
    switch createTemporary(beside: path, mode: mode) {
    case .failure(let e): return e.code
    case .success(let (p, d)): (tempPath, fd) = (p, d)
    }
    var text = text
    var code: Int32 = 0
    text.withUTF8 { buffer in
      guard let base = buffer.baseAddress else { return }
      var offset = 0
      while offset < buffer.count {
        let n = Glibc.write(fd, base + offset, buffer.count - offset)
        if n < 0 {
          if errno == EINTR { continue }
          code = errno
          return
        }
        offset += n
      }
    }
    if code == 0, fsync(fd) != 0, errno != EINVAL { code = errno }
    if close(fd) != 0, code == 0, errno != EINTR { code = errno }
    if code == 0, rename(tempPath, path) != 0 { code = errno }
    if code != 0 {
      unlink(tempPath)
      return code
    }
    return nil
  }
}
