/// Small helpers shared by the unit tests: run text through a session, lex, parse.
import Testing

@testable import DQ

/// What one run of dq text produced.
struct ProgramRun {
  var output: String
  var diagnostics: [Diagnostic]
  var status: Session.Status

  var errors: [Diagnostic] { diagnostics.filter { $0.severity == .error } }
  var warnings: [Diagnostic] { diagnostics.filter { $0.severity == .warning } }
  /// `line:column: message` of every error, in the order reported.
  var errorSummary: [String] { errors.map { "\($0.span?.line ?? 0):\($0.span?.column ?? 0): \($0.message)" } }
}

enum TestDQ {
  /// Runs `text` in a fresh session without the dataset, in tsv unless told otherwise.
  static func run(
    _ text: String, format: OutputFormat = .tsv, maxTuples: Int = 1_000_000, warnings: Bool = true,
    name: String = "test.dq"
  ) -> ProgramRun {
    var options = Session.Options()
    options.format = format
    options.maxTuples = maxTuples
    options.timeout = 20
    options.warnings = warnings
    let session = Session(options: options, loadDataset: false)
    var output = ""
    var diagnostics: [Diagnostic] = []
    session.capture.onWrite = { output += $0 }
    session.capture.onReport = { diagnostics.append($0) }
    let status = session.run(SourceFile(name: name, text: text))
    // As `dq` does at the end of a run: the JSON document of the answers is closed.
    session.endDocument()
    return ProgramRun(output: output, diagnostics: diagnostics, status: status)
  }

  /// A fresh session without the dataset whose output and diagnostics are thrown away.
  static func quietSession() -> Session {
    var options = Session.Options()
    options.format = .tsv
    options.warnings = false
    options.timeout = 20
    let session = Session(options: options, loadDataset: false)
    session.capture.onWrite = { _ in }
    session.capture.onReport = { _ in }
    return session
  }

  static func tokens(_ text: String, name: String = "test.dq") -> [Token] {
    var lexer = Lexer(file: SourceFile(name: name, text: text))
    return lexer.tokenize()
  }

  static func kinds(_ text: String) -> [TokenKind] { tokens(text).map(\.kind) }

  static func parse(_ text: String, name: String = "test.dq") -> (statements: [Statement], diagnostics: [Diagnostic]) {
    Parser.parse(SourceFile(name: name, text: text))
  }

  /// The rules (facts included) of a program that must parse cleanly.
  static func rules(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> [Rule] {
    let (statements, diagnostics) = parse(text)
    #expect(diagnostics.isEmpty, "\(diagnostics.map(\.message))", sourceLocation: sourceLocation)
    return statements.compactMap { s in
      switch s {
      case .fact(let r), .rule(let r): return r
      default: return nil
      }
    }
  }

  /// The one query of a text such as `?- p(X).`.
  static func query(_ text: String) -> Query? {
    for s in parse(text).statements { if case .query(let q) = s { return q } }
    return nil
  }

  /// The body literals of `?- body.`.
  static func body(_ text: String) -> [Literal] { query("?- " + text + ".")?.body ?? [] }
}

/// A front end for tests: each thing the session hands over goes to a closure the test sets.
final class Capture: FrontEnd {
  var onWrite: (String) -> Void = { _ in }
  var onReport: (Diagnostic) -> Void = { _ in }
  var onAnswers: (Query, [[Value]]) -> Void = { _, _ in }
  /// Ctrl-C as the session asks for it (nil: never pressed).
  var interruption: (() -> Bool)? = nil
  func write(_ text: String) { onWrite(text) }
  func report(_ diagnostic: Diagnostic) { onReport(diagnostic) }
  func answered(_ query: Query, rows: [[Value]]) { onAnswers(query, rows) }
}

extension Session {
  /// The test's front end, installed on first use.
  var capture: Capture {
    if let c = frontEnd as? Capture { return c }
    let c = Capture()
    frontEnd = c
    return c
  }
}
