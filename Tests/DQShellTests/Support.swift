/// Test support shared by the shell tests.
import DQ

/// A front end for tests: each thing the session hands over goes to a closure the test sets.
final class Capture: FrontEnd {
  var onWrite: (String) -> Void = { _ in }
  var onReport: (Diagnostic) -> Void = { _ in }
  var onAnswers: (Query, [[Value]]) -> Void = { _, _ in }
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
