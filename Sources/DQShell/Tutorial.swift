/// The interactive tutorial: lessons shown in the shell, exercises checked by comparing the
/// learner's answers with the reference solution's (as sets, so any correct query passes).
import DQ

#if canImport(Glibc)
  import Glibc
#endif

/// One exercise: what to find, a reference solution (clauses and a final query), a hint.
public struct Exercise: Sendable {
  public var task: String
  public var solution: String
  public var hint: String
}

/// One lesson: an explanation, then exercises.
public struct Lesson: Sendable {
  public var title: String
  public var text: String
  public var exercises: [Exercise]
}

public final class Tutorial {
  public let lessons: [Lesson]
  private let session: Session
  private let write: (String) -> Void
  /// Where progress is kept (nil: not kept).
  private let progressPath: String?
  /// Exercises done, as "lesson.exercise" (1-based).
  public private(set) var done: Set<String> = []
  /// The exercise being worked on, or nil when the tutorial is not running.
  public private(set) var current: (lesson: Int, exercise: Int)?
  private var expected: [[String]] = []
  /// The column names of the reference solution's answers.
  private var expectedColumns: [String] = []

  public init(session: Session, lessons: [Lesson] = Tutorial.course, progressPath: String?, write: @escaping (String) -> Void) {
    self.session = session
    self.lessons = lessons
    self.progressPath = progressPath
    self.write = write
    loadProgress()
  }

  /// `~/.dq_tutorial`, or `DQ_TUTORIAL` (empty: progress is not kept).
  public static func defaultProgressPath() -> String? { settingPath("DQ_TUTORIAL", default: ".dq_tutorial") }

  public var isRunning: Bool { current != nil }

  // MARK: - Commands

  /// `.tutorial [off|reset|N]`: starts (or resumes), stops, restarts, or jumps to lesson N.
  public func command(_ argument: String) -> CommandOutcome {
    switch argument {
    case "off", "stop", "quit":
      current = nil
      write("Tutorial paused. Type .tutorial to come back where you left off.\n")
      return .ok
    case "reset":
      done = []
      saveProgress(merging: false)
      start(at: (0, 0))
      return .ok
    case "":
      start(at: firstPending() ?? (0, 0))
      return .ok
    default:
      guard let n = Int(argument), n >= 1, n <= lessons.count else {
        return .error("Use .tutorial, .tutorial N (1 to \(lessons.count)), .tutorial reset or .tutorial off")
      }
      start(at: (n - 1, 0))
      return .ok
    }
  }

  public func hint() -> CommandOutcome {
    guard let c = current else { return .error("No exercise is open; type .tutorial to start") }
    write("Hint: \(lessons[c.lesson].exercises[c.exercise].hint)\n")
    return .ok
  }

  public func solution() -> CommandOutcome {
    guard let c = current else { return .error("No exercise is open; type .tutorial to start") }
    write("A solution:\n\(lessons[c.lesson].exercises[c.exercise].solution)\n")
    return .ok
  }

  public func skip() -> CommandOutcome {
    guard let c = current else { return .error("No exercise is open; type .tutorial to start") }
    advance(from: c)
    return .ok
  }

  // MARK: - Flow

  private func start(at position: (Int, Int)) {
    show(position, withLesson: true)
  }

  private func show(_ p: (lesson: Int, exercise: Int), withLesson: Bool) {
    current = p
    let lesson = lessons[p.lesson]
    if withLesson {
      write("\n== Lesson \(p.lesson + 1) of \(lessons.count): \(lesson.title) ==\n\n\(lesson.text)\n")
    }
    let exercise = lesson.exercises[p.exercise]
    let mark = done.contains(key(p)) ? " (done before)" : ""
    write("\nExercise \(p.lesson + 1).\(p.exercise + 1)\(mark): \(exercise.task)\n")
    write("(Type a query. .hint for a hint, .solution to see one, .skip to move on, .tutorial off to stop.)\n")
    (expectedColumns, expected) = reference(exercise.solution)
  }

  private func advance(from p: (lesson: Int, exercise: Int)) {
    if p.exercise + 1 < lessons[p.lesson].exercises.count {
      show((p.lesson, p.exercise + 1), withLesson: false)
    } else if p.lesson + 1 < lessons.count {
      show((p.lesson + 1, 0), withLesson: true)
    } else {
      current = nil
      write("\nThat was the last exercise: \(done.count) of \(lessons.reduce(0) { $0 + $1.exercises.count }) done. "
        + "Examples/ continues with classic programs (dq Examples/10-ancestors.dq).\n")
    }
  }

  /// Told each query's answers by the shell's front end: while an exercise is open, compares
  /// them with the reference's, as sets of rows (in any column order).
  public func answered(_ q: Query, _ rows: [[Value]]) {
    guard let c = current else { return }
    let store = session.database.store
    let mine = rows.map { $0.map(store.source) }
    if Tutorial.sameAnswers(mine, expected) {
      done.insert(key(c))
      saveProgress()
      write("✓ Correct!\n")
      advance(from: c)
    } else if q.shownVariables.count != expectedColumns.count {
      write("Not yet: your query gives \(Self.describe(q.shownVariables)); the solution gives \(Self.describe(expectedColumns)). (.hint for a hint)\n")
    } else {
      let detail = mine.count == expected.count
        ? "the same number of answers (\(mine.count)) but not the same ones"
        : "\(mine.count) answer\(mine.count == 1 ? "" : "s"); the solution has \(expected.count)"
      write("Not yet: your query gives \(detail). (.hint for a hint)\n")
    }
  }

  /// "2 columns (S, Name)", or "a yes/no answer" for a ground query.
  static func describe(_ columns: [String]) -> String {
    if columns.isEmpty { return "a yes/no answer (no columns)" }
    return "\(columns.count) column\(columns.count == 1 ? "" : "s") (\(columns.joined(separator: ", ")))"
  }

  /// Equal as sets of rows, allowing the columns to come in another order.
  static func sameAnswers(_ a: [[String]], _ b: [[String]]) -> Bool {
    let sb = Set(b)
    if Set(a) == sb { return true }
    guard let width = a.first?.count, width == b.first?.count, width > 1, width <= 6 else {
      // Ground queries: both empty or both one empty row.
      return a.isEmpty == b.isEmpty && (a.first?.isEmpty ?? true) && (b.first?.isEmpty ?? true)
    }
    for p in permutations(Array(0..<width)) where Set(a.map { row in p.map { row[$0] } }) == sb { return true }
    return false
  }

  static func permutations(_ xs: [Int]) -> [[Int]] {
    if xs.count <= 1 { return [xs] }
    var out: [[Int]] = []
    for (i, x) in xs.enumerated() {
      var rest = xs
      rest.remove(at: i)
      for p in permutations(rest) { out.append([x] + p) }
    }
    return out
  }

  /// The reference answers: the solution run in a session of its own over the dataset.
  private func reference(_ solution: String) -> (columns: [String], rows: [[String]]) {
    let scratch = Session(options: session.options, loadDataset: true)
    let answers = LastAnswers()
    scratch.frontEnd = answers
    scratch.run(SourceFile(name: "<solution>", text: solution))
    let store = scratch.database.store
    return (answers.columns, answers.rows.map { $0.map(store.source) })
  }

  /// A front end that keeps only the last query's answers.
  final class LastAnswers: FrontEnd {
    var columns: [String] = []
    var rows: [[Value]] = []
    func write(_ text: String) {}
    func report(_ diagnostic: Diagnostic) {}
    func answered(_ query: Query, rows: [[Value]]) { (columns, self.rows) = (query.shownVariables, rows) }
  }

  private func key(_ p: (lesson: Int, exercise: Int)) -> String { "\(p.lesson + 1).\(p.exercise + 1)" }

  private func firstPending() -> (Int, Int)? {
    for (l, lesson) in lessons.enumerated() {
      for e in lesson.exercises.indices where !done.contains(key((l, e))) { return (l, e) }
    }
    return nil
  }

  // MARK: - Progress

  private func loadProgress() {
    guard let path = progressPath else { return }
    done.formUnion(Self.readProgress(path))
  }

  /// The exercises a progress file lists as done (none when it cannot be read).
  static func readProgress(_ path: String) -> Set<String> {
    guard case .success(let text) = SourceReader.readText(path) else { return [] }
    var keys: Set<String> = []
    for line in text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
      let key = String(line).trimmingCharacters(in: " \r\t")
      if !key.isEmpty && !key.hasPrefix("#") { keys.insert(key) }
    }
    return keys
  }

  /// Writes the progress file through a temporary file and rename(). Unless `merging` is false
  /// (a reset), exercises the file lists now are kept: another tutorial running at the same
  /// time may have finished some.
  private func saveProgress(merging: Bool = true) {
    guard let path = progressPath else { return }
    if merging { done.formUnion(Self.readProgress(path)) }
    let text = "# dq tutorial progress: exercises done\n" + done.sorted().joined(separator: "\n") + "\n"
    if let code = AtomicFile.replace(path, with: text) {
      write("(Progress could not be saved in \(path): \(errorText(code)).)\n")
    }
  }
}
