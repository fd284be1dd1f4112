/// Drives the tutorial through the scripted line reader.
import DQ
import Foundation
import Testing

@testable import DQShell

@Suite struct TutorialTests {
  func transcript(_ lines: [String], progress: String? = nil) -> String {
    let session = Session(loadDataset: true)
    let reader = ScriptedLineReader(lines)
    var out = ""
    let shell = Shell(session: session, reader: reader, write: { out += $0 }, writeError: { out += $0 })
    shell.commands.tutorialProgressPath = progress
    shell.run()
    return out
  }

  @Test func aCorrectQueryPassesAndAWrongOneGetsAHint() {
    let out = transcript([
      ".tutorial", "?- actor(S, _, person).", ".hint", "?- actor(X, _, state).",
      "?- ally(japan, united_states).",
    ])
    #expect(out.contains("Lesson 1 of"))
    #expect(out.contains("Not yet: your query gives"))
    #expect(out.contains("Hint: actor(Id, Name, Kind)"))
    // Any correct query passes: a different variable name, then the yes/no exercise.
    #expect(out.components(separatedBy: "✓ Correct!").count == 3)
    #expect(out.contains("Lesson 2 of"))
  }

  @Test func columnOrderDoesNotMatter() {
    let out = transcript([".tutorial 2", ".skip", "?- leader_of(P, S), ally(S, united_states)."])
    #expect(out.contains("✓ Correct!"))
  }

  @Test func rulesTypedByTheLearnerCount() {
    let out = transcript([".tutorial 3", "pc(P) :- talked(P, putin, _, _).", "?- pc(Who)."])
    #expect(out.contains("✓ Correct!"))
  }

  @Test func progressIsRememberedBetweenSessions() throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("dq-tutorial-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    _ = transcript([".tutorial", "?- actor(S, _, state)."], progress: path)
    let second = transcript([".tutorial"], progress: path)
    #expect(second.contains("Exercise 1.2"))
  }

  @Test func anExtraColumnIsNamedAsSuch() {
    let out = transcript([".tutorial 1", "?- actor(S, N, state)."])
    #expect(out.contains("Not yet: your query gives 2 columns (S, N); the solution gives 1 column (S)."))
    #expect(!out.contains("the same number of answers"))
  }

  /// Two tutorials open at once on one progress file: neither loses the other's exercises.
  @Test func twoTutorialsAtOnceKeepEachOthersProgress() throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("dq-tutorial-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    func tutorial() -> (Session, Tutorial) {
      let session = Session(loadDataset: true)
      let tutorial = Tutorial(session: session, progressPath: path, write: { _ in })
      // The shell's front end hands each query's answers to its tutorial; this one does too.
      session.capture.onAnswers = { q, rows in tutorial.answered(q, rows) }
      return (session, tutorial)
    }
    let (sa, a) = tutorial()
    let (sb, b) = tutorial()
    _ = a.command("1")
    _ = b.command("2")
    sa.run(SourceFile(name: "a", text: "?- actor(S, _, state)."))
    sb.run(SourceFile(name: "b", text: "?- leader_of(P, japan)."))
    #expect(a.done == ["1.1"])
    let saved = try String(contentsOfFile: path, encoding: .utf8)
    #expect(saved.contains("1.1\n") && saved.contains("2.1\n"), Comment(rawValue: saved))
    _ = a.command("reset")
    #expect(try String(contentsOfFile: path, encoding: .utf8) == "# dq tutorial progress: exercises done\n\n")
  }

  @Test func everyReferenceSolutionAnswers() {
    for (l, lesson) in Tutorial.course.enumerated() {
      for (e, exercise) in lesson.exercises.enumerated() {
        let session = Session(loadDataset: true)
        var rows = -1
        var errors: [String] = []
        session.capture.onWrite = { _ in }
        session.capture.onReport = { if $0.severity == .error { errors.append($0.message) } }
        session.capture.onAnswers = { _, r in rows = r.count }
        session.run(SourceFile(name: "solution", text: exercise.solution))
        #expect(errors.isEmpty && rows > 0, "exercise \(l + 1).\(e + 1): \(errors), \(rows) rows")
      }
    }
  }
}
