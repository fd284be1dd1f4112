/// The real `dq` binary never loses output silently (issue #11): write errors exit 74 with a
/// message, `.output` replaces its file only once the output is complete, and usage errors in
/// dot-commands exit 64.
import Foundation
import Testing

@Suite struct OutputTrustTests {
  /// Runs `script` with bash, `$DQ` naming the binary; returns its status and both streams.
  func bash(_ script: String) throws -> ProcessResult {
    guard let path = DQBinary.path else { throw DQBinary.Failure(description: "dq binary not found; build it first") }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = ["-c", script]
    var env = ProcessInfo.processInfo.environment
    env["DQ"] = path
    process.environment = env
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ProcessResult(
      status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
      stderr: String(decoding: stderr, as: UTF8.self), crashed: process.terminationReason == .uncaughtSignal)
  }

  func temporaryPath(_ name: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("dq-\(name)-\(UUID().uuidString)").path
  }

  @Test func aFullDiskIsAnError() throws {
    let r = try bash("\"$DQ\" --no-dataset -e '?- 1 = 1.' > /dev/full")
    #expect(r.status == 74)
    #expect(r.stderr == "dq: error: cannot write to standard output: No space left on device\n")
  }

  @Test func aClosedPipeWithSIGPIPEIgnoredIsAnError() throws {
    let r = try bash(
      "trap '' PIPE; \"$DQ\" --no-dataset -f tsv -e 'n(0). n(Y) :- n(X), Y = X + 1, Y < 100000.' -e '?- n(X).' "
        + "| head -1; echo \"status ${PIPESTATUS[0]}\"")
    #expect(r.stdout == "X\nstatus 74\n")
    #expect(r.stderr == "dq: error: cannot write to standard output: Broken pipe\n")
  }

  @Test func aClosedPipeEndsQuietly() throws {
    let r = try bash(
      "\"$DQ\" --no-dataset -f tsv -e 'n(0). n(Y) :- n(X), Y = X + 1, Y < 100000.' -e '?- n(X).' | head -1")
    #expect(r.status == 0)
    #expect(r.stdout == "X\n")
    #expect(r.stderr == "")
  }

  @Test func outputToAFullDeviceIsAnError() throws {
    let r = try DQBinary.run(["--no-dataset", "-e", ".output /dev/full\n?- 1 = 1.\n.output stdout\n?- 2 = 2."])
    #expect(r.status == 74)
    #expect(r.stderr.contains("dq: error: cannot write to '/dev/full': No space left on device"))
    #expect(r.stdout == "")
  }

  @Test func outputToAnUnwritableFileIsAnError() throws {
    let r = try DQBinary.run(["--no-dataset", "-e", ".output /proc/version\n?- 1 = 1."])
    #expect(r.status == 74)
    #expect(r.stderr.contains("cannot write to '/proc/version'"))
    let missing = try DQBinary.run(["--no-dataset", "-e", ".output /nonexistent-dir/out.tsv\n?- 1 = 1."])
    #expect(missing.status == 74)
  }

  @Test func aFailedQueryLeavesTheOldOutputFileIntact() throws {
    let path = temporaryPath("output") + ".tsv"
    defer { try? FileManager.default.removeItem(atPath: path) }
    try "old answers\n".write(toFile: path, atomically: true, encoding: .utf8)
    let r = try DQBinary.run(["--no-dataset", "-f", "tsv", "-e", ".output \(path)\n?- X = 1.\n?- X = 1 / 0."])
    #expect(r.status == 70)
    #expect(try String(contentsOfFile: path, encoding: .utf8) == "old answers\n")
    // No temporary file is left beside it.
    let folder = (path as NSString).deletingLastPathComponent
    let name = (path as NSString).lastPathComponent
    let litter = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasPrefix(".\(name).") }
    #expect(litter.isEmpty)

    let ok = try DQBinary.run(["--no-dataset", "-f", "tsv", "-e", ".output \(path)\n?- X = 1.\n?- X = 2."])
    #expect(ok.status == 0)
    #expect(try String(contentsOfFile: path, encoding: .utf8) == "X\n1\n\nX\n2\n")
  }

  @Test func aKilledScriptLeavesTheOldFileAndNoTemporaryFile() throws {
    let folder = temporaryPath("killed")
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let r = try bash(
      """
      cd '\(folder)'; printf 'old\\n' > out.tsv
      "$DQ" --no-dataset -f tsv -e '.output out.tsv' -e '?- X = 1.' -e 'n(0). n(Y) :- n(X), Y = X + 1.' -e '?- n(-1).' &
      pid=$!; sleep 1; ls -A; kill -TERM $pid; wait $pid; echo "status $?"; ls -A; cat out.tsv
      """)
    #expect(r.stdout.hasPrefix(".out.tsv."), "the temporary file exists while dq runs")
    #expect(r.stdout.hasSuffix("status 143\nout.tsv\nold\n"), Comment(rawValue: r.stdout))
  }

  @Test func outputKeepsTheFilesPermissions() throws {
    let path = temporaryPath("mode")
    defer { try? FileManager.default.removeItem(atPath: path) }
    try "old\n".write(toFile: path, atomically: true, encoding: .utf8)
    chmod(path, 0o640)
    let r = try DQBinary.run(["--no-dataset", "-f", "tsv", "-e", ".output \(path)\n?- X = 1."])
    #expect(r.status == 0)
    let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
    #expect(mode == 0o640)
  }

  @Test func csvOutputFileStartsWithTheHeader() throws {
    let path = temporaryPath("csv") + ".csv"
    defer { try? FileManager.default.removeItem(atPath: path) }
    let r = try DQBinary.run(["--no-dataset", "-f", "csv", "-e", "?- X = 0.\n.output \(path)\n?- X = 1.\n.output stdout\n?- X = 2."])
    #expect(r.status == 0)
    #expect(try String(contentsOfFile: path, encoding: .utf8) == "X\r\n1\r\n")
    // Separators belong between answers on the same destination.
    #expect(r.stdout == "X\r\n0\r\n\r\nX\r\n2\r\n")
  }

  @Test func badHistoryArgumentIsAUsageError() throws {
    for arg in ["-3", "x", "1.5"] {
      let r = try DQBinary.run(["--no-dataset", "-e", ".history \(arg)"])
      #expect(r.status == 64, "'.history \(arg)'")
      #expect(!r.crashed)
      #expect(r.stderr.contains("'.history' takes a number of entries"))
    }
  }

  @Test func editWithoutATerminalIsAnError() throws {
    let r = try DQBinary.run(["--no-dataset"], stdin: "?- X = 1.\n.edit\n", environment: ["VISUAL": "/bin/false", "EDITOR": "/bin/false"])
    #expect(r.status == 70)
    #expect(r.stderr.contains("'.edit' needs an interactive session"))
  }

  @Test func pipedInputIsNotRecordedInHistory() throws {
    let history = temporaryPath("history")
    defer { try? FileManager.default.removeItem(atPath: history) }
    let r = try DQBinary.run(["--no-dataset"], stdin: "?- X = 1.\n", environment: ["DQ_HISTORY": history])
    #expect(r.status == 0)
    #expect(!FileManager.default.fileExists(atPath: history))
  }

  @Test func clearSaysNothingOnStandardOutput() throws {
    let r = try DQBinary.run(["--no-dataset", "-f", "csv", "-e", "p(1).\n.clear\n?- X = 1."])
    #expect(r.status == 0)
    #expect(r.stdout == "X\r\n1\r\n")
  }
}
