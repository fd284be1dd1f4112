/// libedit-backed line reading: Emacs keys, Ctrl-R search, persistent history, Tab completion.
@preconcurrency import CEditLine
import CSupport

#if canImport(Glibc)
  import Glibc
#endif

/// What Tab completion asks: candidates for the word before the cursor.
public protocol CompletionSource: AnyObject {
  /// `line` is the input before the cursor (earlier lines of the clause included); `word` its last word.
  func completions(line: String, word: String) -> Completions
  /// How a candidate is shown in the list (a relation with its arity and columns), or nil.
  func describe(_ candidate: String) -> String?
}

/// Candidates, or a request for libedit's own file-name completion.
public enum Completions: Equatable, Sendable {
  case words([String])
  case fileNames
}

/// The completion source libedit's C callback reads (a C callback cannot capture).
nonisolated(unsafe) private var activeSource: CompletionSource?
nonisolated(unsafe) private var pendingPrefix = ""
nonisolated(unsafe) private var candidates: [String] = []
nonisolated(unsafe) private var candidateIndex = 0
/// The input at the last ambiguous Tab: a second Tab on the same input lists the candidates.
nonisolated(unsafe) private var lastAmbiguous: String? = nil

private func generator(_ text: UnsafePointer<CChar>?, _ state: Int32) -> UnsafeMutablePointer<CChar>? {
  if state == 0 { candidateIndex = 0 }
  guard candidateIndex < candidates.count else { return nil }
  let c = candidates[candidateIndex]
  candidateIndex += 1
  return strdup(c)
}

private func attemptCompletion(_ text: UnsafePointer<CChar>?, _ start: Int32, _ end: Int32) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? {
  let word = text.map { String(cString: $0) } ?? ""
  var line = pendingPrefix
  if let buffer = rl_line_buffer {
    let all = Array(String(cString: buffer).utf8)
    line += String(decoding: all.prefix(Int(max(0, min(end, Int32(all.count))))), as: UTF8.self)
  }
  guard let source = activeSource else { return nil }
  switch source.completions(line: line, word: word) {
  case .fileNames:
    rl_completion_append_character = 32
    return nil
  case .words(let words):
    rl_attempted_completion_over = 1
    candidates = words
    if words.count > 1 {
      // Extend to the longest common prefix; when there is nothing to add, list the
      // candidates ourselves, with what each is (libedit's own list cannot say).
      let common = longestCommonPrefix(words)
      if common.utf8.count > word.utf8.count {
        candidates = [common]
        rl_completion_append_character = 0
        return rl_completion_matches(text, generator)
      }
      if lastAmbiguous == line {
        showList(words, source)
      } else {
        lastAmbiguous = line
      }
      return nil
    }
    lastAmbiguous = nil
    // Relation names end in "(" and variables mid-clause need no space after them.
    rl_completion_append_character = words.count == 1 && (words[0].hasSuffix("(") || words[0].hasPrefix(".")) ? 0 : 32
    if words.isEmpty { return nil }
    return rl_completion_matches(text, generator)
  }
}

private func longestCommonPrefix(_ words: [String]) -> String {
  guard var prefix = words.first.map({ Array($0.utf8) }) else { return "" }
  for w in words.dropFirst() {
    let b = Array(w.utf8)
    var n = 0
    while n < prefix.count, n < b.count, prefix[n] == b[n] { n += 1 }
    prefix = Array(prefix[0..<n])
  }
  // Do not cut a multi-byte character in half.
  while !prefix.isEmpty, String(validatingCString: prefix.map { CChar(bitPattern: $0) } + [0]) == nil { prefix.removeLast() }
  return String(decoding: prefix, as: UTF8.self)
}

/// Prints the candidates under the input line, then redraws the prompt and the line.
private func showList(_ words: [String], _ source: CompletionSource) {
  let described = words.map { source.describe($0) }
  var out = "\r\n"
  if described.contains(where: { $0 != nil }) {
    for (w, d) in zip(words, described) { out += (d ?? w) + "\r\n" }
  } else {
    let width = (words.map(\.count).max() ?? 0) + 2
    let perLine = max(1, 78 / width)
    for (i, w) in words.enumerated() {
      out += w + String(repeating: " ", count: width - w.count)
      if (i + 1) % perLine == 0 || i == words.count - 1 { out += "\r\n" }
    }
  }
  // A failed write here is recorded by CSupport and reported when the answers are written.
  _ = out.withUTF8 { dq_write_stdout($0.baseAddress, $0.count) }
  _ = dq_flush_stdout()
  rl_forced_update_display()
}

public final class EditLineReader: LineReader {
  /// Entries kept in memory and in the file.
  public static let historyLimit: Int32 = 10_000
  private let historyPath: String?
  private let historyFile: HistoryFile?
  public private(set) var history: [String] = []
  private var warnedAboutHistory = false
  public var isInteractive: Bool { true }
  /// Reports a problem once (unreadable or unwritable history).
  public var warn: (String) -> Void = { _ in }

  /// `historyPath` nil disables persistent history; the file is trimmed to `historyLimit`
  /// entries (a little more between trims).
  public init(historyPath: String?, completion: CompletionSource?, historyLimit: Int = Int(EditLineReader.historyLimit)) {
    self.historyPath = historyPath
    self.historyFile = historyPath.map { HistoryFile(path: $0, limit: historyLimit) }
    Self.setUpLocale()
    rl_readline_name = UnsafePointer(strdup("dq"))
    using_history()
    stifle_history(Int32(clamping: historyLimit))
    activeSource = completion
    rl_attempted_completion_function = attemptCompletion
    rl_basic_word_break_characters = UnsafePointer(strdup(" \t\n(),=<>!+-*/{}:;"))
    rl_pre_input_hook = Self.unbindNul
  }

  /// Run by `readline` before each line, after libedit has bound the terminal's special keys
  /// again. Ctrl-D pressed while dq is answering reaches the terminal in its cooked mode and is
  /// read at the next prompt as a NUL, and libedit binds NUL (Linux's "disabled" key) to
  /// quoted-insert: the key after it would go into the line literally, so the next Ctrl-D would
  /// not end dq. NUL sets the mark instead, as Ctrl-Space does in emacs and readline.
  private static let unbindNul: @convention(c) () -> Int32 = {
    _ = rl_parse_and_bind("bind ^@ em-set-mark")
    return 0
  }

  /// Takes the locale from the environment so libedit edits multibyte characters as characters.
  /// With no locale set (or a non-UTF-8 one) libedit would drop every non-ASCII byte typed, so
  /// the character type falls back to C.UTF-8: dq's text is UTF-8 whatever the locale.
  static func setUpLocale() {
    setlocale(LC_ALL, "")
    if !codesetIsUTF8() {
      if setlocale(LC_CTYPE, "C.UTF-8") == nil { setlocale(LC_CTYPE, "en_US.UTF-8") }
    }
  }

  static func codesetIsUTF8() -> Bool {
    guard let codeset = nl_langinfo(nl_item(CODESET)) else { return false }
    let name = String(cString: codeset).lowercased()
    return name == "utf-8" || name == "utf8"
  }

  /// Loads the history file; call once, after `warn` is set. A file that is not history is
  /// moved aside to `<path>.bad` (and said so), never overwritten.
  public func loadHistory() {
    guard let path = historyPath, let file = historyFile else { return }
    switch file.check() {
    case .missing:
      return
    case .unreadable(let code):
      warnOnce("cannot read the history file \(path) (\(errorText(code))); history will not be kept")
      return
    case .movedAside(let bad):
      warnOnce("the history file \(path) is not a history file; moved it to \(bad) and started a new one")
      return
    case .readable:
      break
    }
    if read_history(path) != 0 {
      warnOnce("cannot read the history file \(path); history will not be loaded")
      return
    }
    let count = history_length
    if count > 0 {
      for i in 0..<count {
        if let entry = history_get(history_base + i), let line = entry.pointee.line {
          history.append(String(cString: line))
        }
      }
    }
  }

  public func readLine(prompt: String) -> LineInput {
    // The clause so far, for completion inside multi-line input.
    guard let raw = readline(prompt) else {
      return dq_take_interrupt() != 0 ? .interrupted : .end
    }
    defer { free(raw) }
    if dq_take_interrupt() != 0 { return .interrupted }
    return .line(String(cString: raw))
  }

  /// Text typed on earlier lines of the current clause, so completion sees the whole clause.
  public func setPendingInput(_ text: String) { pendingPrefix = text }

  /// Records an entry in memory and appends it to the file at once. Consecutive duplicates and
  /// entries starting with a space are not recorded.
  public func addHistory(_ entry: String) {
    guard !entry.isEmpty, !entry.hasPrefix(" "), history.last != entry else { return }
    history.append(entry)
    if history.count > Int(Self.historyLimit) { history.removeFirst(history.count - Int(Self.historyLimit)) }
    add_history(entry)
    guard let path = historyPath, let file = historyFile else { return }
    if let code = file.append(entry) {
      warnOnce("cannot write the history file \(path) (\(errorText(code))); history will not be saved")
    }
  }

  private func warnOnce(_ message: String) {
    guard !warnedAboutHistory else { return }
    warnedAboutHistory = true
    warn(message)
  }

  /// The history file: `DQ_HISTORY` when set (empty disables), else `~/.dq_history`.
  public static func defaultHistoryPath() -> String? { settingPath("DQ_HISTORY", default: ".dq_history") }
}

/// A file the shell keeps state in: the environment variable's value when it is set (empty
/// turns the feature off), else `~/NAME`.
func settingPath(_ variable: String, default name: String) -> String? {
  if let v = getenv(variable) {
    let s = String(cString: v)
    return s.isEmpty ? nil : s
  }
  guard let home = getenv("HOME") else { return nil }
  return String(cString: home) + "/" + name
}
