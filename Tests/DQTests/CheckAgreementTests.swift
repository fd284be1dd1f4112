/// `dq FILE` and `dq --check FILE` run a file through one path: same output, same messages,
/// same exit status, for every fixture and example.
import Foundation
import Testing

@testable import DQ
import DQCheck

@Suite struct CheckAgreementTests {
  /// The words of a file's `% options:` lines, as `dq` takes them on its command line.
  private func optionWords(_ text: String) -> [String] {
    text.split(separator: "\n").flatMap { line -> [String] in
      guard let r = line.range(of: "% options:") else { return [] }
      return line[r.upperBound...].split(separator: " ").map(String.init)
    }
  }

  @Test(arguments: Fixture.all) func dqAndTheCheckerAgree(_ f: Fixture) throws {
    let text = try String(contentsOf: Fixture.root.appendingPathComponent(f.path), encoding: .utf8)
    let e = ExpectationChecker.expectations(in: text)
    guard e.skip == nil, e.optionProblems.isEmpty else { return }
    let checked = ExpectationChecker.run(name: f.path, text: text, expectations: e)
    let direct = try DQBinary.run(optionWords(text) + [f.path], environment: ["NO_COLOR": "1"])
    #expect(direct.status == checked.status.exitCode, "\(f.path): dq exits \(direct.status), the checker saw \(checked.status.exitCode)")
    #expect(direct.stdout == checked.output, "\(f.path): standard output differs")
    for d in checked.diagnostics {
      let place = d.span.map { "\($0.file.name):\($0.line):\($0.column): " } ?? ""
      #expect(direct.stderr.contains(place + "\(d.severity.rawValue): \(d.message)"), "\(f.path): dq did not print '\(d.message)'")
    }
  }

  /// A command's argument is read where it stands: `.why p(X` on line 3 points at line 3, in
  /// `dq FILE` and in the checker alike; `.format xml` exits 64 in both.
  @Test func commandArgumentErrorsPointIntoTheFile() throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("dq-why-\(UUID().uuidString).dq").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    try "p(1).\n\n.why p(X\n".write(toFile: path, atomically: false, encoding: .utf8)
    let r = try DQBinary.run(["--no-dataset", path], environment: ["NO_COLOR": "1"])
    #expect(r.status == 65)
    #expect(r.stderr.hasPrefix("\(path):3:9: error: Expected ')' after the arguments of 'p', found end of input\n.why p(X\n"), "\(r.stderr)")
    let checked = ExpectationChecker.run(name: path, text: "p(1).\n\n.why p(X\n", expectations: ExpectationChecker.expectations(in: "% options: --no-dataset\n"))
    #expect(checked.status == .staticError)
    #expect(checked.diagnostics.map { "\($0.span?.line ?? 0):\($0.span?.column ?? 0)" } == ["3:9"])

    try "p(1).\n  .format xml\n".write(toFile: path, atomically: false, encoding: .utf8)
    let f = try DQBinary.run(["--no-dataset", path], environment: ["NO_COLOR": "1"])
    #expect(f.status == 64)
    #expect(f.stderr.hasPrefix("\(path):2:11: error: Unknown format 'xml'"), "\(f.stderr)")
    let fc = ExpectationChecker.run(name: path, text: "p(1).\n  .format xml\n", expectations: ExpectationChecker.expectations(in: "% options: --no-dataset\n"))
    #expect(fc.status == .usageError)
    #expect(fc.diagnostics.map(\.message) == ["Unknown format 'xml'"])
  }
}
