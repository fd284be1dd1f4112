/// Programs dq runs for the person at the shell: `.shell CMD` (as sqlite3 has it) and Graphviz's
/// `dot`, which turns the DOT text of `.graph` into a picture.
import CSupport
import DQ

#if canImport(Glibc)
  import Glibc
#endif

enum External {
  /// Runs `command` through `/bin/sh -c`. With `terminal`, the command has the terminal to itself
  /// (an editor or a pager works); otherwise its standard output is read and handed to `write`
  /// piece by piece, so it lands in order with dq's own output. Returns the command's exit status
  /// (128 + N when signal N ended it), or nil when it could not be started.
  static func shell(_ command: String, terminal: Bool, write: (String) -> Void) -> Int32? {
    _ = dq_flush_stdout()
    if terminal { return status(system(command)) }
    guard let pipe = popen(command, "r") else { return nil }
    var buffer = [UInt8](repeating: 0, count: 4096)
    var pending: [UInt8] = []
    while true {
      let n = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, pipe) }
      if n <= 0 { break }
      pending += buffer[0..<n]
      // Whole lines only, so a UTF-8 character is never split between two writes.
      if let last = pending.lastIndex(of: 10) {
        write(String(decoding: pending[...last], as: UTF8.self))
        pending.removeSubrange(...last)
      }
    }
    if !pending.isEmpty { write(String(decoding: pending, as: UTF8.self)) }
    return status(pclose(pipe))
  }

  /// The exit status in a wait status: the code, or 128 + the signal that ended the command.
  static func status(_ wait: Int32) -> Int32? {
    guard wait != -1 else { return nil }
    let signal = wait & 0x7f
    return signal == 0 ? (wait >> 8) & 0xff : 128 + signal
  }

  /// A word the shell reads as itself.
  static func quoted(_ word: String) -> String {
    "'" + word.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
  }

  /// The path of an executable on PATH, or nil.
  static func which(_ program: String) -> String? {
    let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/bin:/bin"
    for dir in path.split(separator: ":") {
      let candidate = "\(dir)/\(program)"
      if access(candidate, X_OK) == 0 { return candidate }
    }
    return nil
  }

  /// The picture formats `dot` is asked for, by a file's extension.
  static func pictureFormat(of path: String) -> String? {
    guard let dot = path.lastIndex(of: ".") else { return nil }
    let ext = path[path.index(after: dot)...].lowercased()
    return ["svg", "png", "pdf"].contains(ext) ? ext : nil
  }

  /// Renders DOT text with Graphviz's `dot` (at `program`; nil when it is not installed) into `path` (format from its extension), or with
  /// `path` nil returns the SVG text. The failure is a message for the person.
  static func render(dot text: String, format: String, to path: String?, program: String?) -> Result<String, RenderFailure> {
    guard let dot = program else { return .failure(RenderFailure(message: "Graphviz's 'dot' is not on PATH", missing: true)) }
    guard let (fd, input) = temporaryFile(suffix: ".dot") else {
      return .failure(RenderFailure(message: "Cannot create a temporary file"))
    }
    defer { unlink(input) }
    var t = text
    let wrote = t.withUTF8 { Glibc.write(fd, $0.baseAddress, $0.count) == $0.count }
    close(fd)
    guard wrote else { return .failure(RenderFailure(message: "Cannot write a temporary file")) }
    // The SVG text is rendered to a file of its own too, so Graphviz's warnings stay out of it.
    var target = path ?? ""
    if path == nil {
      guard let (out, name) = temporaryFile(suffix: ".svg") else {
        return .failure(RenderFailure(message: "Cannot create a temporary file"))
      }
      close(out)
      target = name
    }
    defer { if path == nil { unlink(target) } }
    // Graphviz's messages are the error when it fails.
    var messages = ""
    let code = shell("\(quoted(dot)) -T\(format) -o \(quoted(target)) \(quoted(input)) 2>&1", terminal: false) { messages += $0 }
    guard code == 0 else {
      let why = messages.split(separator: "\n").first.map { ": " + $0 } ?? ""
      return .failure(RenderFailure(message: "'dot' failed\(why)"))
    }
    guard path == nil else { return .success("") }
    guard case .success(let svg) = SourceReader.readText(target) else {
      return .failure(RenderFailure(message: "Cannot read back what 'dot' wrote"))
    }
    return .success(svg)
  }

  /// A new empty file under /tmp, open for writing, and its path.
  static func temporaryFile(suffix: String) -> (Int32, String)? {
    var template = Array("/tmp/dq-graph-XXXXXX\(suffix)".utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { p in p.baseAddress.map { mkstemps($0, Int32(suffix.utf8.count)) } ?? -1 }
    guard fd >= 0 else { return nil }
    return (fd, String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
  }

  struct RenderFailure: Error {
    var message: String
    /// True when `dot` is not installed.
    var missing = false
  }
}
