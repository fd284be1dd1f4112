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
    // Relation names end in "(" and variables mid-clause need no space after them.
    rl_completion_append_character = words.count == 1 && (words[0].hasSuffix("(") || words[0].hasPrefix(".")) ? 0 : 32
    if words.isEmpty { return nil }
    return rl_completion_matches(text, generator)
  }
}

public final class EditLineReader: LineReader {
  /// Entries kept in memory and in the file.
  public static let historyLimit: Int32 = 10_000
  private let historyPath: String?
  public private(set) var history: [String] = []
  private var warnedAboutHistory = false
  public var isInteractive: Bool { true }
  /// Reports a problem once (unreadable or unwritable history).
  public var warn: (String) -> Void = { _ in }

  /// `historyPath` nil disables persistent history.
  public init(historyPath: String?, completion: CompletionSource?) {
    self.historyPath = historyPath
    setlocale(LC_ALL, "")
    rl_readline_name = UnsafePointer(strdup("dq"))
    using_history()
    stifle_history(Self.historyLimit)
    activeSource = completion
    rl_attempted_completion_function = attemptCompletion
    rl_basic_word_break_characters = UnsafePointer(strdup(" \t\n(),=<>!+-*/{}:;"))
  }

  /// Loads the history file; call once, after `warn` is set.
  public func loadHistory() {
    guard let path = historyPath else { return }
    if access(path, F_OK) != 0 { return }
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

  public func addHistory(_ entry: String) {
    guard !entry.isEmpty, !entry.hasPrefix(" "), history.last != entry else { return }
    history.append(entry)
    if history.count > Int(Self.historyLimit) { history.removeFirst(history.count - Int(Self.historyLimit)) }
    add_history(entry)
    guard let path = historyPath else { return }
    // Rewrite the whole file each time, so a killed session loses nothing.
    if write_history(path) != 0 {
      warnOnce("cannot write the history file \(path); history will not be saved")
    }
  }

  private func warnOnce(_ message: String) {
    guard !warnedAboutHistory else { return }
    warnedAboutHistory = true
    warn(message)
  }

  /// The history file: `DQ_HISTORY` when set (empty disables), else `~/.dq_history`.
  public static func defaultHistoryPath() -> String? {
    if let v = getenv("DQ_HISTORY") {
      let s = String(cString: v)
      return s.isEmpty ? nil : s
    }
    guard let home = getenv("HOME") else { return nil }
    return String(cString: home) + "/.dq_history"
  }
}
