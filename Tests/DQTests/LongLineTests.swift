/// A fixed bug kept as a regression test: lexing a long line must take linear time.
/// (Other fixed bugs live on in RegressionTests.swift.)
import Foundation
import Testing

@testable import DQ

@Suite struct LongLineTests {
  /// The lexer once computed each token's column by counting from the start of its line, so a
  /// long line lexed in quadratic time (20 000 facts on one 318 KB line took almost 4 minutes).
  /// Generated or minified input is often one long line.
  @Test func longLinesLexInLinearTime() {
    let facts = (0..<1000).map { "e(\($0), \($0 + 1))." }
    func lexTime(_ text: String) -> Duration {
      let clock = ContinuousClock()
      return clock.measure { _ = TestDQ.tokens(text) }
    }
    _ = lexTime(facts.prefix(100).joined(separator: "\n"))  // warm up
    let manyLines = lexTime(facts.joined(separator: "\n"))
    let oneLine = lexTime(facts.joined(separator: " "))
    #expect(oneLine < manyLines * 4 + .milliseconds(50), "one line: \(oneLine), one fact per line: \(manyLines)")
  }
}
