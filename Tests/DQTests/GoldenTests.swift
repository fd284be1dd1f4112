/// Runs every `.dq` under Examples/ and Tests/DQTests/Fixtures/ and checks its `% expect:` lines.
import Foundation
import Testing

@testable import DQ
import DQCheck

/// One golden file, named by its path from the repository root.
struct Fixture: CustomTestStringConvertible, Sendable {
  let path: String
  var testDescription: String { path }

  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  static let all: [Fixture] = {
    var out: [Fixture] = []
    for folder in ["Examples", "Tests/DQTests/Fixtures"] {
      let base = root.appendingPathComponent(folder)
      guard let e = FileManager.default.enumerator(atPath: base.path) else { continue }
      for case let p as String in e where p.hasSuffix(".dq") { out.append(Fixture(path: folder + "/" + p)) }
    }
    return out.sorted { $0.path < $1.path }
  }()
}

@Suite struct GoldenTests {
  @Test func thereAreFixturesAndExamples() {
    #expect(Fixture.all.contains { $0.path.hasPrefix("Examples/") })
    #expect(Fixture.all.contains { $0.path.hasPrefix("Tests/") })
  }

  @Test(arguments: Fixture.all) func fileMeetsItsExpectations(_ f: Fixture) throws {
    let text = try String(contentsOf: Fixture.root.appendingPathComponent(f.path), encoding: .utf8)
    let problems = ExpectationChecker.check(name: f.path, text: text)
    #expect(problems.isEmpty, Comment(rawValue: "\n" + problems.joined(separator: "\n")))
  }

  /// The same file and the same expectations on the PostgreSQL engine (a server started for
  /// the tests), unless it is marked `% engine: native-only (REASON)`.
  @Test(arguments: Fixture.all) func fileMeetsItsExpectationsOnPostgres(_ f: Fixture) throws {
    let text = try String(contentsOf: Fixture.root.appendingPathComponent(f.path), encoding: .utf8)
    let engine = try PostgresTestServer.fixtureEngine()
    let problems = ExpectationChecker.check(name: f.path, text: text, engine: engine)
    #expect(problems.isEmpty, Comment(rawValue: "\n" + problems.joined(separator: "\n")))
  }
}
