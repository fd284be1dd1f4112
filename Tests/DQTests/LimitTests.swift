/// The limits that protect the machine: tuples stored, memory held, rounds that cost what
/// changed. Memory is counted per process, so the memory tests run the binary.
import Testing

@testable import DQ

@Suite struct LimitTests {
  /// `-e` text run by the binary without the dataset, in tsv.
  private func dq(_ program: String, _ options: [String]) throws -> ProcessResult {
    try DQBinary.run(["--no-dataset", "--format", "tsv"] + options + ["-e", program])
  }

  private static func facts(_ name: String, _ n: Int) -> String {
    (0..<n).map { "\(name)(\($0))." }.joined(separator: " ") + "\n"
  }

  @Test("Duplicate derivations do not count toward the tuple limit")
  func duplicatesAreNotCounted() {
    // A million derivations of a thousand distinct tuples, under a limit of 5,000.
    let run = TestDQ.run(
      Self.facts("a", 1000) + Self.facts("b", 1000) + "p(X) :- a(X), b(Y), Y >= 0.\n?- N = count : { p(X) }.\n",
      maxTuples: 5000)
    #expect(run.errors.isEmpty, "\(run.errors.map(\.message))")
    #expect(run.output == "N\n1000\n")
    // Distinct tuples still count: a query with 8,000 answers passes a limit of 1,000.
    let many = TestDQ.run(Self.facts("p", 20) + "?- p(X), p(Y), p(Z).\n", maxTuples: 1000)
    #expect(many.errors.map(\.message) == ["Evaluation stopped after deriving more than 1000 tuples (the tuple limit)"])
  }

  @Test("A runaway wide rule stops at the memory limit, naming the relation")
  func wideRuleStopsAtTheMemoryLimit() throws {
    let columns = (0..<200).map { "A\($0)" }
    let rule = "w(\(columns.joined(separator: ", "))) :- \(columns.map { "n(\($0))" }.joined(separator: ", ")).\n"
    let program = Self.facts("n", 400) + rule + "?- N = count : { w(\(columns.joined(separator: ", "))) }.\n"
    let r = try dq(program, ["--memory", "64M", "--timeout", "120"])
    #expect(!r.crashed)
    #expect(r.status == 70)
    #expect(r.stderr.contains("error: Evaluation stopped while computing 'w': dq holds "), "\(r.stderr.prefix(300))")
    #expect(r.stderr.contains("more than the memory limit (64 MiB)"))
    #expect(r.stderr.contains("--memory SIZE"))
  }

  @Test("Derivations are deduplicated in chunks: many derivations of few tuples fit a small budget")
  func derivationsAreChunked() throws {
    // 1,000,000 derivations of 40 columns (160 MB of values if all were buffered) of 100
    // tuples, under 128 MiB: a chunk is 64 MiB.
    let head = Array(repeating: "X", count: 40).joined(separator: ", ")
    let program = Self.facts("a", 100) + Self.facts("b", 100) + Self.facts("c", 100)
      + "p(\(head)) :- a(X), b(Y), c(Z), Y >= 0, Z >= 0.\n"
      + "?- N = count : { p(X\(String(repeating: ", _", count: 39))) }.\n"
    let r = try dq(program, ["--memory", "128M"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout == "N\n100\n")
  }

  @Test("The memory budget sees the answers being sorted and the numbers being interned")
  func answersAndValueStoreCount() throws {
    let numbers = "a(0). a(Y) :- a(X), Y = X + 1, Y < 1000.\n"
    // A million answers of three columns: about 50 MiB of arrays to sort.
    let answers = try dq(numbers + "?- a(X), a(Y), Z = X + Y.\n", ["--memory", "40M"])
    #expect(answers.status == 70)
    #expect(answers.stderr.contains("error: Evaluation stopped before sorting the answers: dq would hold"), "\(answers.stderr.prefix(300))")
    #expect(answers.stdout == "")
    // A million distinct decimals are interned: the store's memory counts.
    let decimals = try dq(numbers + "p(Z) :- a(X), a(Y), Z = X + Y * 0.0001.\n?- N = count : { p(_) }.\n", ["--memory", "40M"])
    #expect(decimals.status == 70)
    #expect(decimals.stderr.contains("error: Evaluation stopped while computing 'p'"), "\(decimals.stderr.prefix(300))")
  }

  @Test("After a limit stops a query, the session keeps its state and answers the next one")
  func sessionRecoversAfterALimit() {
    let names = (0..<50).map { "A\($0)" }
    let columns = names.joined(separator: ", ")
    let body = names.map { "n(\($0))" }.joined(separator: ", ")
    let session = TestDQ.quietSession()
    var errors: [String] = []
    session.capture.onReport = { errors.append($0.message) }
    let program: String = Self.facts("n", 100) + "w(\(columns)) :- \(body).\n"
    #expect(session.run(SourceFile(name: "w.dq", text: program)) == .ok)
    // Other tests allocate in this process too: the budget is what is held now plus 64 MiB.
    session.options.maxMemory = Memory.held + (64 << 20)
    #expect(session.run(SourceFile(name: "q.dq", text: "?- w(\(columns)).\n")) == .runtimeError)
    #expect(errors.first?.hasPrefix("Evaluation stopped while computing 'w'") == true, "\(errors)")
    // What the stopped query had derived is let go, not kept.
    #expect(session.database.tables["w"]?.rows.count == 0)
    #expect((session.database.tables["w"]?.rows.bytes ?? .max) < 4096)
    session.options.maxMemory = 0
    errors = []
    var output = ""
    session.capture.onWrite = { output += $0 }
    #expect(session.run(SourceFile(name: "q.dq", text: "?- N = count : { n(X) }.\n")) == .ok)
    #expect(output.hasSuffix("N\n100\n"), "\(output)")
    #expect(errors.isEmpty)
  }

  @Test("Limits beyond what the clock or the counters hold mean no limit, never a trap")
  func hugeLimits() throws {
    let r = try dq("n(1). ?- n(X).", ["--max-tuples", "9223372036854775807", "--timeout", "1e16"])
    #expect(!r.crashed)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout == "X\n1\n")
    let budget = Budget(maxTuples: Int.max, timeout: 1e300, maxBytes: Int.max)
    #expect(throws: Never.self) { try budget.countDerived(Int.max / 2, nil) }
    #expect(throws: Never.self) { try budget.check(nil) }
  }

  @Test("A recursive component of 10,000 rules is evaluated in time proportional to its changes")
  func thousandsOfRulesInOneComponent() {
    // A cycle of 10,000 relations: the fact goes round one relation per round.
    var text = "p0(1).\n"
    for i in 0..<10_000 { text += "p\((i + 1) % 10_000)(X) :- p\(i)(X).\n" }
    text += "?- p5000(X).\n"
    let clock = ContinuousClock()
    let started = clock.now
    let run = TestDQ.run(text)
    #expect(run.errors.isEmpty)
    #expect(run.output == "X\n1\n")
    // Quadratic work (every relation every round) took minutes; linear takes about a second
    // in a debug build.
    #expect(clock.now - started < .seconds(30))
  }

  @Test("Sizes as people write them")
  func byteSizes() {
    #expect(Limits.byteSize("0") == 0)
    #expect(Limits.byteSize("4096") == 4096)
    #expect(Limits.byteSize("512K") == 512 << 10)
    #expect(Limits.byteSize("800m") == 800 << 20)
    #expect(Limits.byteSize("1.5G") == 3 << 29)
    #expect(Limits.byteSize("2GiB") == 2 << 30)
    #expect(Limits.byteSize("1TB") == 1 << 40)
    #expect(Limits.byteSize("100%") == Memory.physical)
    #expect(Limits.byteSize("-1G") == nil)
    #expect(Limits.byteSize("lots") == nil)
    #expect(Limits.byteSize("1e30") == nil)
    #expect(Limits.byteSize("150%") == nil)
  }
}
