/// Checks a `.dq` file against the expectations written in its comments:
///
/// - `% expect: TEXT` — the next line of standard output is TEXT (`% expect:` alone: an empty line);
/// - `% expect error: MESSAGE` — an error with this message on this line (`% expect error line N: ...`
///   for an error reported on line N); `% expect warning: MESSAGE` likewise for warnings;
/// - `% options: --no-dataset --format tsv --max-tuples N --timeout S --memory SIZE --threads N` — how to run the file;
/// - `% skip: REASON` — do not check this file;
/// - `% expect exit: N` — the exit status (64 a bad command argument, 66 an unreadable file);
/// - `% engine: native-only (REASON)` — the file is not run on the PostgreSQL engine (the golden
///   tests run every other file on both engines with the same expectations).
///
/// Otherwise the exit status is implied by the expectations: 70 with a `% expect runtime error:`,
/// 65 with a `% expect error:`, else 0. The file runs through `ScriptRun`, the path `dq FILE`
/// takes, and its `% options:` through the command line's parser.
import DQ
import DQShell

public struct ExpectationChecker {
  /// What the comments of a file ask for.
  public struct Expectations: Sendable {
    public var output: [String] = []
    public var errors: [(line: Int, message: String)] = []
    /// True when one of `errors` is a `% expect runtime error:` (the run exits 70, not 65).
    public var expectsRuntimeError = false
    public var warnings: [(line: Int, message: String)] = []
    public var loadDataset = true
    public var options = Session.Options()
    public var skip: String?
    /// `% engine: native-only (REASON)`: why the file does not run on the PostgreSQL engine.
    public var nativeOnly: String?
    public var optionProblems: [String] = []
    /// `% expect exit: N`: the exit status, when it is not the one the errors imply.
    public var exitStatus: Int32?
  }

  /// What running the file produced.
  public struct Outcome: Sendable {
    public var output: String
    public var diagnostics: [Diagnostic]
    public var status: Session.Status
  }

  /// Reads the expectation comments of a file.
  public static func expectations(in text: String) -> Expectations {
    var e = Expectations()
    e.options.warnings = true
    for (i, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
      let lineNumber = i + 1
      guard let percent = commentStart(raw) else { continue }
      var comment = raw[raw.index(after: percent)...]
      if comment.first == " " { comment = comment.dropFirst() }
      if comment.hasPrefix("expect:") {
        var rest = comment.dropFirst("expect:".count)
        if rest.first == " " { rest = rest.dropFirst() }
        e.output.append(String(rest).trimmingTrailingCarriageReturn)
      } else if let (line, message) = located(comment, "expect error", lineNumber) {
        e.errors.append((line, message))
      } else if let (line, message) = located(comment, "expect runtime error", lineNumber) {
        e.errors.append((line, message))
        e.expectsRuntimeError = true
      } else if let (line, message) = located(comment, "expect warning", lineNumber) {
        e.warnings.append((line, message))
      } else if comment.hasPrefix("options:") {
        parseOptions(String(comment.dropFirst("options:".count)), into: &e)
      } else if comment.hasPrefix("expect exit:") {
        let value = String(comment.dropFirst("expect exit:".count)).trimmingSpaces
        if let n = Int32(value) { e.exitStatus = n } else { e.optionProblems.append("bad '% expect exit: \(value)'") }
      } else if comment.hasPrefix("engine: native-only") {
        e.nativeOnly = String(comment.dropFirst("engine: native-only".count)).trimmingSpaces
      } else if comment.hasPrefix("skip:") {
        e.skip = String(comment.dropFirst("skip:".count)).trimmingSpaces
      }
    }
    return e
  }

  /// The `%` that starts a comment on the line, ignoring `%` inside strings.
  private static func commentStart(_ line: Substring) -> Substring.Index? {
    var inString = false
    var escaped = false
    for i in line.indices {
      let c = line[i]
      if inString {
        if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { inString = false }
      } else if c == "\"" {
        inString = true
      } else if c == "%" {
        return i
      }
    }
    return nil
  }

  /// `KEY: MESSAGE` (this line) or `KEY line N: MESSAGE`.
  private static func located(_ comment: Substring, _ key: String, _ lineNumber: Int) -> (Int, String)? {
    guard comment.hasPrefix(key) else { return nil }
    var rest = comment.dropFirst(key.count)
    var line = lineNumber
    if rest.hasPrefix(" line ") {
      rest = rest.dropFirst(" line ".count)
      let digits = rest.prefix { $0.isNumber }
      guard let n = Int(digits) else { return nil }
      line = n
      rest = rest.dropFirst(digits.count)
    }
    guard rest.hasPrefix(":") else { return nil }
    return (line, String(rest.dropFirst()).trimmingSpaces)
  }

  /// The options a `% options:` line may give: those that say how to run one file.
  private static let fileOptions: Set<String> = ["--no-dataset", "--no-warnings", "--format", "--max-tuples", "--timeout", "--memory", "--threads"]

  /// Reads a `% options:` line with the command line's parser; anything but `fileOptions` is a problem.
  private static func parseOptions(_ text: String, into e: inout Expectations) {
    let words = text.split(separator: " ").map(String.init)
    var start = Arguments()
    (start.options, start.loadDataset) = (e.options, e.loadDataset)
    let (parsed, problems) = Arguments.parseAll(words, onto: start)
    for p in problems {
      switch p {
      case .badValue(let option, let value, _) where option == "--format" || option == "-f":
        e.optionProblems.append("bad --format '\(value)'")
      default:
        e.optionProblems.append(p.message)
      }
    }
    var i = 0
    while i < words.count {
      let w = words[i]
      if fileOptions.contains(w) {
        if w != "--no-dataset" && w != "--no-warnings" { i += 1 }
      } else if !(problems.contains(.unknownOption(w))) {
        e.optionProblems.append("unknown option '\(w)'")
      }
      i += 1
    }
    e.loadDataset = parsed.loadDataset
    e.options = parsed.options
  }

  /// Runs a file as `dq` would with the options its comments give.
  public static func run(name: String, text: String, expectations e: Expectations) -> Outcome {
    let transcript = Transcript()
    let script = ScriptRun(
      options: e.options, loadDataset: e.loadDataset, write: transcript.write, writeError: { _ in },
      report: transcript.report)
    let status = script.run([(name, .success(text))])
    // What `dq FILE` does at the end: the `.output` file is completed (or dropped on failure).
    let keep = status == .ok || status == .exit
    let finished = script.commands.finishOutput(keep: keep) == nil ? status : .ioError
    return Outcome(output: transcript.output, diagnostics: transcript.diagnostics, status: finished)
  }

  /// Differences between what was expected and what happened; empty when the file passes.
  /// With `engine`, the file runs on that engine instead of the one its options name (files
  /// marked native-only are not run: no problems).
  public static func check(name: String, text: String, engine: EngineChoice? = nil) -> [String] {
    var e = expectations(in: text)
    if e.skip != nil { return [] }
    if let engine {
      if e.nativeOnly != nil, engine != .native { return [] }
      e.options.engine = engine
    }
    var problems = e.optionProblems
    let outcome = run(name: name, text: text, expectations: e)
    problems += compare(expected: e.output, actual: outcome.output)
    problems += match(e.errors, outcome.diagnostics.filter { $0.severity == .error }, "error")
    problems += match(e.warnings, outcome.diagnostics.filter { $0.severity == .warning }, "warning")
    let expectedStatus: Int32 = e.exitStatus ?? (e.expectsRuntimeError ? 70 : e.errors.isEmpty ? 0 : 65)
    if outcome.status.exitCode != expectedStatus {
      problems.append("exit status \(outcome.status.exitCode), expected \(expectedStatus)")
    }
    if e.output.isEmpty && e.errors.isEmpty && e.warnings.isEmpty {
      problems.append("no '% expect' lines: nothing is checked")
    }
    return problems
  }

  /// A line diff of standard output.
  static func compare(expected: [String], actual: String) -> [String] {
    var lines = actual.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map(String.init)
    if lines.last == "" { lines.removeLast() }
    lines = lines.map { $0.trimmingTrailingCarriageReturn }
    if lines == expected { return [] }
    var out = ["standard output differs (- expected, + actual):"]
    let n = max(lines.count, expected.count)
    for i in 0..<n {
      let a = i < expected.count ? expected[i] : nil
      let b = i < lines.count ? lines[i] : nil
      if a == b, let a { out.append("    \(a)") } else {
        if let a { out.append("  - \(a)") }
        if let b { out.append("  + \(b)") }
      }
    }
    return out
  }

  private static func match(_ expected: [(line: Int, message: String)], _ actual: [Diagnostic], _ what: String) -> [String] {
    var problems: [String] = []
    var remaining = actual
    for x in expected {
      if let i = remaining.firstIndex(where: { $0.span?.line == x.line && $0.message == x.message }) {
        remaining.remove(at: i)
      } else {
        let near = actual.filter { $0.span?.line == x.line }.map { "'\($0.message)'" }.joined(separator: ", ")
        problems.append("expected \(what) on line \(x.line): '\(x.message)'" + (near.isEmpty ? ", none there" : ", got \(near)"))
      }
    }
    for d in remaining {
      problems.append("unexpected \(what) on line \(d.span?.line ?? 0): '\(d.message)'")
    }
    return problems
  }
}

extension String {
  var trimmingTrailingCarriageReturn: String { hasSuffix("\r") ? String(dropLast()) : self }
}

extension String {
  /// Without leading spaces and tabs, and trailing spaces, tabs and carriage returns.
  fileprivate var trimmingSpaces: String {
    var s = Substring(self)
    while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
    while let l = s.last, l == " " || l == "\t" || l == "\r" { s = s.dropLast() }
    return String(s)
  }
}
