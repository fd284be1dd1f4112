/// Parallel rounds (`--threads N`, `ParallelRound`): the same relations, in the same row order,
/// and the same printed output for every thread count; limits and interrupts stop a parallel
/// round cleanly.
import Dispatch
import Synchronization
import Testing

@testable import DQ

@Suite struct ParallelRoundTests {
  /// What one run produced: printed output, error messages, each compared relation's rows in
  /// storage order (decoded), and how many rule runs were split across threads.
  struct Outcome: Equatable {
    var output: String
    var errors: [String]
    var rows: [String: [String]]
    var parallelRuns: Int
    /// Runs of delta versions in their other order (`RulePlan.alternative`).
    var otherOrderRuns = 0
    /// Waves inserted concurrently (`ConcurrentInserter`), and those given up (a list filled).
    var concurrentWaves = 0
    var givenUpWaves = 0
    /// Waves after which the threads' shares of the next were rebalanced.
    var unevenWaves = 0

    /// Everything but the count of parallel runs, which differs by design.
    func sameResults(as other: Outcome) -> Bool {
      output == other.output && errors == other.errors && rows == other.rows
    }
  }

  /// A session splitting rounds across `threads` threads from `minimumDelta` delta rows on,
  /// appending in waves of about `waveValues` values a thread.
  static func session(
    threads: Int, minimumDelta: Int = 2, otherOrderMargin: Double = Budget.defaultOtherOrderMargin,
    waveValues: Int = ParallelRound.defaultWaveValues, probeAheadFrom: Int = Budget.defaultProbeAheadFrom
  ) -> Session {
    var options = Session.Options()
    options.format = .tsv
    options.warnings = false
    options.timeout = 60
    options.maxTuples = 0
    options.threads = threads
    options.parallelMinimumDelta = minimumDelta
    options.otherOrderMargin = otherOrderMargin
    options.parallelWaveValues = waveValues
    options.probeAheadFrom = probeAheadFrom
    // Every wave counts in the next one's split: parts of any size, uneven, agree too.
    options.parallelBalanceRows = 1
    return Session(options: options, loadDataset: false)
  }

  static func run(
    _ text: String, threads: Int, minimumDelta: Int = 2, otherOrderMargin: Double = Budget.defaultOtherOrderMargin,
    waveValues: Int = ParallelRound.defaultWaveValues, probeAheadFrom: Int = Budget.defaultProbeAheadFrom,
    compared: [String]
  ) -> Outcome {
    let s = session(
      threads: threads, minimumDelta: minimumDelta, otherOrderMargin: otherOrderMargin, waveValues: waveValues,
      probeAheadFrom: probeAheadFrom)
    var output = ""
    var errors: [String] = []
    s.capture.onWrite = { output += $0 }
    s.capture.onReport = { errors.append($0.message) }
    _ = s.run(SourceFile(name: "p.dq", text: text))
    var rows: [String: [String]] = [:]
    for name in compared {
      guard let table = s.database.tables[name] else { continue }
      rows[name] = (0..<table.rows.count).map { r in
        table.rows.row(r).map { "\(s.database.store.decode($0))" }.joined(separator: ",")
      }
    }
    return Outcome(
      output: output, errors: errors, rows: rows, parallelRuns: s.database.parallelRuns,
      otherOrderRuns: s.database.alternativeRuns, concurrentWaves: s.database.concurrentWaves,
      givenUpWaves: s.database.givenUpWaves, unevenWaves: s.database.unevenWaves)
  }

  @Test("Random programs: relations, row order and output agree for 1, 2 and 4 threads")
  func randomProgramsAgree() {
    var split = 0, concurrent = 0, givenUp = 0, uneven = 0
    for seed in UInt64(1)...300 {
      var generator = RandomProgram(seed: seed)
      let text = generator.text() + "?- a(X, Y).\n?- b(X, Y).\n?- c(X).\n.why a(X, Y)\n"
      let one = Self.run(text, threads: 1, compared: ["a", "b", "c"])
      #expect(one.parallelRuns == 0)
      // Every other seed appends in waves of a row or two a thread (whose lists of tuples
      // inserted concurrently fill, so those waves are given up and appended).
      let waves = seed % 2 == 0 ? 4 : ParallelRound.defaultWaveValues
      for threads in [2, 4] {
        let many = Self.run(text, threads: threads, waveValues: waves, compared: ["a", "b", "c"])
        split += many.parallelRuns
        concurrent += many.concurrentWaves
        givenUp += many.givenUpWaves
        uneven += many.unevenWaves
        #expect(many.sameResults(as: one), "seed \(seed), \(threads) threads:\n\(text)\n\(many.output)\nvs\n\(one.output)")
        if !many.sameResults(as: one) { return }
      }
    }
    #expect(split > 100, "parallel rounds ran \(split) times: the comparison proves little")
    // (About 100 waves run inserting concurrently, 9 of them given up.)
    #expect(concurrent - givenUp > 50, "\(concurrent) waves inserted concurrently, \(givenUp) given up")
    #expect(givenUp > 3, "\(givenUp) waves given up")
    #expect(uneven > 10, "\(uneven) waves split unevenly")
  }

  @Test("Programs over random graphs agree with one thread, parallel rounds included", arguments: DifferentialProgram.all)
  func graphProgramsAgree(_ program: DifferentialProgram) {
    var split = 0, concurrent = 0, uneven = 0
    for seed in UInt64(1)...8 {
      let graph = RandomGraph(seed: seed)
      let names = program.compared.map(\.name)
      let queries = program.compared.map { c in
        c.arity == 0 ? "?- \(c.name).\n" : "?- \(c.name)(\((0..<c.arity).map { "V\($0)" }.joined(separator: ", "))).\n"
      }.joined()
      let text = graph.facts + program.rules + queries
      // With margin 0 delta versions take their other order whenever its indexes are built:
      // what is built, and so the choice, must not depend on the thread count either.
      for margin in [Budget.defaultOtherOrderMargin, 0] {
        let one = Self.run(text, threads: 1, otherOrderMargin: margin, compared: names)
        for threads in [2, 4] {
          // Two threads append in waves of a few rows.
          let many = Self.run(
            text, threads: threads, otherOrderMargin: margin, waveValues: threads == 2 ? 16 : ParallelRound.defaultWaveValues,
            compared: names)
          split += many.parallelRuns
          concurrent += many.concurrentWaves
          uneven += many.unevenWaves
          #expect(many.sameResults(as: one), "seed \(seed), \(program.name), \(threads) threads, margin \(margin)")
          if !many.sameResults(as: one) { return }
        }
      }
    }
    // Programs without recursion have no delta rounds to split.
    if program.rules.contains("tc(X, Z) :- tc(X, Y)") { #expect(split > 0 && concurrent > 0 && uneven > 0) }
  }

  @Test("A delta version's other order is split across threads too, with the same rows in the same order")
  func otherOrderSplits() {
    // Points-to over a generated program: 60 variables, every third one's address taken.
    var facts = ""
    for v in stride(from: 0, to: 60, by: 3) { facts += "addressOf(\(v), \(1000 + v)).\n" }
    for v in 0..<60 { facts += "assign(\(v), \((v * 7 + 3) % 60)).\n" }
    for v in stride(from: 0, to: 60, by: 5) { facts += "load(\(v), \((v * 11 + 1) % 60)).\nstore(\((v * 13 + 2) % 60), \(v)).\n" }
    let rules = "pointsTo(Y, X) :- addressOf(Y, X).\npointsTo(Y, X) :- assign(Y, Z), pointsTo(Z, X).\n"
      + "heapPointsTo(H, W) :- store(Y, X), pointsTo(Y, H), pointsTo(X, W).\n"
      + "pointsTo(Y, W) :- load(Y, X), pointsTo(X, H), heapPointsTo(H, W).\n"
      + "?- N = count : { pointsTo(Y, X) }.\n.why pointsTo(0, W)\n"
    let compared = ["pointsTo", "heapPointsTo"]
    let one = Self.run(facts + rules, threads: 1, otherOrderMargin: 0, compared: compared)
    #expect(one.errors.isEmpty, "\(one.errors)")
    #expect(one.otherOrderRuns > 0)
    let two = Self.run(facts + rules, threads: 2, otherOrderMargin: 0, compared: compared)
    #expect(two.otherOrderRuns == one.otherOrderRuns)
    #expect(two.parallelRuns > 0)
    #expect(two.sameResults(as: one))
    // And the same relations as without the other order (rows may come in another order).
    let plain = Self.run(facts + rules, threads: 1, compared: compared)
    #expect(plain.output.split(separator: "\n").first == one.output.split(separator: "\n").first)
    for name in compared { #expect(Set(plain.rows[name] ?? []) == Set(one.rows[name] ?? [])) }
  }

  /// A chain 0 -> 1 -> ... -> n-1 with a few edges back, and its closure.
  static func closure(_ n: Int) -> String {
    var text = ""
    for i in 0..<(n - 1) { text += "edge(\(i), \(i + 1)).\n" }
    for i in stride(from: 7, to: n, by: 53) { text += "edge(\(i), \(i / 3)).\n" }
    return text + "path(X, Y) :- edge(X, Y).\npath(X, Z) :- path(X, Y), edge(Y, Z).\n"
  }

  @Test("A closure's rows, .why trees and counts are the same for every thread count")
  func closureAndWhyAgree() {
    let text = Self.closure(300) + "?- N = count : { path(X, Y) }.\n.why path(0, 299)\n.why path(250, 10)\n"
    let one = Self.run(text, threads: 1, minimumDelta: 16, compared: ["path"])
    #expect(one.errors.isEmpty, "\(one.errors)")
    #expect(one.output.contains("path(0, 299)"))
    for threads in [2, 3, 4] {
      let many = Self.run(text, threads: threads, minimumDelta: 16, compared: ["path"])
      #expect(many.parallelRuns > 10)
      #expect(many.sameResults(as: one), "\(threads) threads")
    }
  }

  @Test("A round appends in waves: the threads hold about a wave's tuples, not the round's, and the rows are one thread's")
  func roundsRunInWaves() {
    // 20,000 nodes reach 10 of 100 targets through one of 10 hubs: the second round derives
    // 200,000 new tuples (1.6 MB) from 20,000 delta rows, 10 a row.
    var text = ""
    for i in 0..<20_000 { text += "edge(\(i), \(100_000 + i % 10)).\n" }
    for k in 0..<10 {
      for j in 0..<10 { text += "edge(\(100_000 + k), \(200_000 + k * 10 + j)).\n" }
    }
    text += "path(X, Y) :- edge(X, Y).\npath(X, Z) :- path(X, Y), edge(Y, Z).\n"
    func run(threads: Int, waveValues: Int) -> (rows: [[Value]], buffered: Int, parallel: Int) {
      let s = Self.session(threads: threads, minimumDelta: 16, waveValues: waveValues)
      s.capture.onWrite = { _ in }
      s.capture.onReport = { _ in }
      _ = s.run(SourceFile(name: "w.dq", text: text + "?- N = count : { path(X, Y) }.\n"))
      let rows = s.database.tables["path"]?.rows
      return ((0..<(rows?.count ?? 0)).compactMap { rows?.row($0) }, s.database.largestBuffered, s.database.parallelRuns)
    }
    let one = run(threads: 1, waveValues: ParallelRound.defaultWaveValues)
    #expect(one.rows.count == 20_100 + 200_000)
    // Waves of 16 KiB a thread: the threads' buffers stay far below the round's 1.6 MB.
    let waves = run(threads: 2, waveValues: 1 << 12)
    #expect(waves.parallel > 0)
    #expect(waves.rows == one.rows)
    #expect(waves.buffered > 0)
    #expect(waves.buffered <= 256 << 10, "\(waves.buffered) bytes buffered")
    // In one wave the threads hold the whole round.
    let whole = run(threads: 2, waveValues: 1 << 40)
    #expect(whole.rows == one.rows)
    #expect(whole.buffered >= 1 << 20, "\(whole.buffered) bytes buffered")
  }

  @Test("The tuple limit stops a parallel round with the error of one thread, and the session goes on")
  func tupleLimitStopsAParallelRound() {
    let text = Self.closure(400) + "?- N = count : { path(X, Y) }.\n"
    var messages: [[String]] = []
    var counts: [String] = []
    for threads in [1, 2] {
      let s = Self.session(threads: threads, minimumDelta: 2)
      s.options.maxTuples = 20_000
      var errors: [String] = []
      s.capture.onWrite = { _ in }
      s.capture.onReport = { errors.append($0.message) }
      #expect(s.run(SourceFile(name: "tc.dq", text: text)) == .runtimeError)
      #expect(threads == 1 || s.database.parallelRuns > 0)
      #expect(s.database.tables["path"]?.rows.count == 0)
      messages.append(errors)
      // With no limit the same session computes the closure.
      s.options.maxTuples = 0
      var output = ""
      s.capture.onWrite = { output += $0 }
      #expect(s.run(SourceFile(name: "q.dq", text: "?- N = count : { path(X, Y) }.\n")) == .ok)
      counts.append(output)
    }
    #expect(counts[0] == counts[1])
    #expect((Int(counts[0].split(separator: "\n").last ?? "") ?? 0) > 100_000, "\(counts)")
    #expect(messages[0] == messages[1])
    #expect(messages[0].first?.contains("the tuple limit") == true, "\(messages)")
  }

  @Test("The memory limit stops a parallel round, its relations let go")
  func memoryLimitStopsAParallelRound() {
    let s = Self.session(threads: 2, minimumDelta: 2)
    var errors: [String] = []
    s.capture.onWrite = { _ in }
    s.capture.onReport = { errors.append($0.message) }
    #expect(s.run(SourceFile(name: "tc.dq", text: Self.closure(3000))) == .ok)
    // Other tests allocate in this process too: the budget is what is held now plus 24 MiB,
    // against about 70 MiB of closure.
    s.options.maxMemory = Memory.held + (24 << 20)
    #expect(s.run(SourceFile(name: "q.dq", text: "?- N = count : { path(X, Y) }.\n")) == .runtimeError)
    #expect(s.database.parallelRuns > 0)
    #expect(errors.first?.hasPrefix("Evaluation stopped while computing 'path'") == true, "\(errors)")
    #expect(s.database.tables["path"]?.rows.count == 0)
    #expect((s.database.tables["path"]?.rows.bytes ?? .max) < 4096)
  }

  @Test("An interrupt stops a parallel round")
  func interruptStopsAParallelRound() {
    let s = Self.session(threads: 2, minimumDelta: 2)
    s.capture.onWrite = { _ in }
    s.capture.onReport = { _ in }
    #expect(s.run(SourceFile(name: "tc.dq", text: Self.closure(3000))) == .ok)
    let asked = Counter()
    let budget = Budget(maxTuples: 0, timeout: 0, interrupted: { asked.next() > 20 })
    budget.threads = 2
    budget.parallelMinimumDelta = 2
    do {
      try s.evaluateAll(budget: budget)
      Issue.record("the interrupt did not stop evaluation")
    } catch {
      #expect(error.reason == .interrupted)
    }
    #expect(s.database.parallelRuns > 0)
    #expect(s.database.tables["path"]?.rows.count == 0)
  }

  @Test("A parallel append stores what insertAll stores, in the same order, and finds every row", arguments: [2, 3, 4])
  func parallelAppendEqualsInsertAll(threads: Int) {
    var rng = SplitMix64(seed: UInt64(threads))
    // One scratch for every trial, as a round's waves share one.
    let scratch = AppendScratch()
    for trial in 0..<12 {
      let arity = trial % 3 + 1
      // Rows stored before, then segments with repeats among them and some of the stored rows.
      let stored = Relation(arity: arity), serial = Relation(arity: arity)
      var seen = Set<[Value]>()
      let before = Int.random(in: 0...3000, using: &rng)
      let span = Value(Int.random(in: 20...400, using: &rng))
      func random() -> [Value] { (0..<arity).map { _ in Value.random(in: 0..<span, using: &rng) } }
      for _ in 0..<before {
        let t = random()
        if seen.insert(t).inserted {
          stored.insert(t)
          serial.insert(t)
        }
      }
      var segments: [[Value]] = []
      for _ in 0..<Int.random(in: 1...5, using: &rng) {
        var flat: [Value] = []
        // Now and then a large segment, so the table grows (on the threads) during the trials.
        let size = trial % 4 == 3 ? 20000 : 3000
        for _ in 0..<Int.random(in: 0...size, using: &rng) { flat += random() }
        segments.append(flat)
      }
      expectAppendEqualsInsertAll(stored, serial, segments, threads: threads, scratch: scratch, trial: trial)
      // And the table keeps working for ordinary inserts.
      if stored.count > 0 { #expect(!stored.insert(stored.row(0))) }
    }
  }

  /// Appends `segments` (flat tuples) to `stored` with `appendNew` and to `serial` with
  /// `insertAll`, one after another, and expects the same count, rows in the same order, and a
  /// table that finds every row.
  private func expectAppendEqualsInsertAll(
    _ stored: Relation, _ serial: Relation, _ segments: [[Value]], threads: Int, scratch: AppendScratch, trial: Int
  ) {
    let arity = stored.arity
    var expected = 0
    for flat in segments {
      expected += flat.withUnsafeBufferPointer { b in b.baseAddress.map { serial.insertAll($0, count: flat.count / arity) } ?? 0 }
    }
    let buffers = segments.map { flat -> UnsafeMutablePointer<Value> in
      let p = UnsafeMutablePointer<Value>.allocate(capacity: max(1, flat.count))
      p.initialize(from: flat, count: flat.count)
      return p
    }
    defer { for b in buffers { b.deallocate() } }
    let fresh = stored.appendNew(
      zip(buffers, segments).map { (UnsafePointer($0.0), $0.1.count / arity) }, threads: threads, minimum: 2, scratch: scratch)
    #expect(fresh == expected, "trial \(trial)")
    #expect(stored.count == serial.count, "trial \(trial)")
    #expect((0..<stored.count).allSatisfy { stored.row($0) == serial.row($0) }, "trial \(trial): rows differ")
    #expect((0..<stored.count).allSatisfy { stored.find(stored.row($0)) == $0 }, "trial \(trial): a row is not found")
  }

  @Test("Threads inserting overlapping tuples at once store what insertAll stores, in its order", arguments: [2, 3, 4])
  func concurrentInsertEqualsInsertAll(threads: Int) {
    var rng = SplitMix64(seed: 1000 + UInt64(threads))
    // Entries taken over, and waves whose copying was shared out among the threads.
    var tookOver = 0, sharedCopies = 0
    for trial in 0..<60 {
      let arity = trial % 3 + 1
      // A few stored rows; each thread's segment draws from a small domain, so the threads
      // enter many of the same tuples at once (and take slots over from one another).
      let span = Value(Int.random(in: 4...(arity == 1 ? 3000 : 60), using: &rng))
      func random() -> [Value] { (0..<arity).map { _ in Value.random(in: 0..<span, using: &rng) } }
      let (stored, serial) = Self.twins(arity: arity, (0..<Int.random(in: 1...500, using: &rng)).map { _ in random() })
      if trial % 4 == 1, stored.count > 4 {
        Self.removeFromBoth(stored, serial, (0..<stored.count / 4).map { _ in Int.random(in: 1..<stored.count, using: &rng) })
      }
      let segments: [[Value]] = (0..<threads).map { _ in
        (0..<Int.random(in: 0...6000, using: &rng)).flatMap { _ in random() }
      }
      var expected = 0
      for flat in segments {
        expected += flat.withUnsafeBufferPointer { b in b.baseAddress.map { serial.insertAll($0, count: flat.count / arity) } ?? 0 }
      }
      // Room for the new tuples only (as a wave has, near the table's growth point: many
      // groups fill while the threads enter tuples), or for every tuple.
      let total = segments.reduce(0) { $0 + $1.count } / arity
      stored.reserve(trial % 2 == 0 ? expected : total)
      #expect(stored.appendRoom() >= expected)
      let bits = ConcurrentInserter.indexBits(threads: threads)
      // Thread 0 writes its rows when the relation has room for its list, and enters pending
      // values like the others when not (a list longer than the room).
      let roomy = trial % 4 < 2
      let lists = segments.enumerated().map { k, flat in
        NewTuples(capacity: max(1, flat.count / arity) + (k == 0 && !roomy ? stored.capacity : 0), arity: arity)
      }
      defer { for list in lists { list.release() } }
      let bases = UnsafeMutablePointer<UnsafeMutablePointer<Value>>.allocate(capacity: threads)
      defer { bases.deallocate() }
      for k in 0..<threads { bases[k] = lists[k].tuples }
      let inserters = UnsafeMutablePointer<ConcurrentInserter>.allocate(capacity: threads)
      if roomy { stored.reserveRows(lists[0].capacity) }
      for k in 0..<threads {
        (inserters + k).initialize(
          to: ConcurrentInserter(
            table: stored.table, relation: stored, thread: k, indexBits: bits, bases: UnsafePointer(bases), list: lists[k]))
      }
      defer {
        inserters.deinitialize(count: threads)
        inserters.deallocate()
      }
      let shared = UncheckedBox((inserters, segments))
      let insert: @Sendable (Int) -> Void = { k in
        let (inserters, segments) = shared.value
        segments[k].withUnsafeBufferPointer { b in
          guard let base = b.baseAddress else { return }
          // In chunks, as an executor hands them over.
          var from = 0
          let n = b.count / arity
          while from < n {
            let to = min(n, from + 97)
            let taken = inserters[k].insert(base + from * arity, count: to - from)
            precondition(taken == to - from, "a list with room for the segment filled")
            from = to
          }
        }
      }
      // A third of the trials (of every arity), the threads one after another, the last
      // first: each takes over the entries of the later ones that it derives too.
      if trial / 3 % 3 == 2 {
        for k in (0..<threads).reversed() { insert(k) }
      } else {
        DispatchQueue.concurrentPerform(iterations: threads) { insert($0) }
      }
      let all = Array(UnsafeBufferPointer(start: inserters, count: threads))
      #expect(all[0].writesRows == roomy)
      tookOver += all.reduce(0) { $0 + $1.tookOver.count }
      if all.dropFirst().reduce(0, { $0 + $1.list.count }) >= 4096 { sharedCopies += 1 }
      let fresh = stored.appendInserted(all, threads: threads, minimum: 2)
      #expect(fresh == expected, "trial \(trial)")
      #expect(stored.count == serial.count, "trial \(trial)")
      #expect((0..<stored.count).allSatisfy { stored.row($0) == serial.row($0) }, "trial \(trial): rows differ")
      #expect((0..<stored.count).allSatisfy { stored.find(stored.row($0)) == $0 }, "trial \(trial): a row is not found")
      let t = random()
      #expect(stored.insert(t) == serial.insert(t), "trial \(trial): an insert after the wave")
    }
    #expect(tookOver > 100 && sharedCopies > 1, "took over \(tookOver), shared copies \(sharedCopies)")
  }

  @Test("A rule that looks its own head up whole while it runs agrees with one thread")
  func ruleProbingItsHeadAgrees() {
    // `p(Y, Y)` is a lookup of the head's table in every round: such a rule is not inserted
    // concurrently (the table holds pending values meanwhile), but appended.
    for seed in UInt64(1)...4 {
      var rng = SplitMix64(seed: seed)
      let edges = (0..<600).map { _ in "e(\(Int.random(in: 0..<200, using: &rng)), \(Int.random(in: 0..<200, using: &rng)))." }
      let text = edges.joined(separator: " ") + """

        p(X, Y) :- e(X, Y).
        p(X, X) :- e(X, _).
        p(X, Z) :- p(X, Y), e(Y, Z), p(Z, Z).
        ?- N = count : { p(X, Y) }.

        """
      let one = Self.run(text, threads: 1, compared: ["p"])
      let two = Self.run(text, threads: 2, compared: ["p"])
      #expect(two.parallelRuns > 0)
      #expect(two.sameResults(as: one), "seed \(seed)")
    }
  }

  @Test("A wave inserted concurrently and given up leaves dead slots that find nothing wrong")
  func givenUpWaveLeavesDeadSlots() {
    let stored = Relation(arity: 2)
    for i in 0..<100 { stored.insert([Value(i), Value(i + 1)]) }
    stored.reserve(1000)
    // Thread 1 enters (t, t + 2) for t in 30..<80 (pending values), then thread 0, writing its
    // rows, (t, t + 2) for t in 0..<50 (taking 30..<50 over from thread 1) and (0, 1), stored.
    let lists = [NewTuples(capacity: 100, arity: 2), NewTuples(capacity: 100, arity: 2)]
    defer { for list in lists { list.release() } }
    let bases = UnsafeMutablePointer<UnsafeMutablePointer<Value>>.allocate(capacity: 2)
    defer { bases.deallocate() }
    for k in 0..<2 { bases[k] = lists[k].tuples }
    let bits = ConcurrentInserter.indexBits(threads: 2)
    var inserters = (0..<2).map {
      ConcurrentInserter(table: stored.table, relation: stored, thread: $0, indexBits: bits, bases: UnsafePointer(bases), list: lists[$0])
    }
    #expect(inserters[0].writesRows && !inserters[1].writesRows)
    let later: [Value] = (30..<80).flatMap { [Value($0), Value($0 + 2)] }
    #expect(later.withUnsafeBufferPointer { inserters[1].insert($0.baseAddress!, count: 50) } == 50)
    let fresh: [Value] = (0..<50).flatMap { [Value($0), Value($0 + 2)] } + [0, 1]
    #expect(fresh.withUnsafeBufferPointer { inserters[0].insert($0.baseAddress!, count: 51) } == 51)
    #expect(inserters[0].list.count == 50 && inserters[1].list.count == 50 && inserters[0].tookOver.count == 20)
    stored.giveUpInserted(inserters)
    // The wave's slots now hold row 0, (0, 1): no tuple of the wave is found, (0, 1) is.
    #expect(stored.count == 100)
    for t in 0..<80 { #expect(stored.find([Value(t), Value(t + 2)]) == nil, "(\(t), \(t + 2))") }
    #expect(stored.find([0, 1]) == 0 && stored.find([99, 100]) == 99)
    #expect(stored.insert([7, 9]) && stored.insert([70, 72]))
    #expect(stored.find([7, 9]) == 100 && stored.find([70, 72]) == 101)
  }

  /// Two relations into which `tuples` were inserted one after another.
  static func twins(arity: Int, _ tuples: [[Value]]) -> (Relation, Relation) {
    let a = Relation(arity: arity), b = Relation(arity: arity)
    for t in tuples {
      a.insert(t)
      b.insert(t)
    }
    return (a, b)
  }

  /// Removes the rows `rows` (any order, repeats allowed) from both relations: removed rows
  /// leave dead slots behind in their tables.
  static func removeFromBoth(_ a: Relation, _ b: Relation, _ rows: [Int]) {
    let gone = Array(Set(rows)).sorted()
    a.removeRows(gone)
    b.removeRows(gone)
  }

  @Test("A parallel append into small, nearly full tables, after removals and with empty segments, equals insertAll")
  func parallelAppendSmallFullTables() {
    var rng = SplitMix64(seed: 77)
    let scratch = AppendScratch()
    for trial in 0..<300 {
      let threads = trial % 3 + 2
      // Small tables, kept near full, so searches often run into the next thread's share (and
      // are searched for afterwards, over the whole table).
      let span = Value(Int.random(in: 8...40, using: &rng))
      func random() -> [Value] { [Value.random(in: 0..<span, using: &rng), Value.random(in: 0..<span, using: &rng)] }
      let (stored, serial) = Self.twins(arity: 2, (0..<Int.random(in: 20...200, using: &rng)).map { _ in random() })
      if trial % 2 == 1, stored.count > 4 {
        Self.removeFromBoth(stored, serial, (0..<stored.count / 4).map { _ in Int.random(in: 0..<stored.count, using: &rng) })
      }
      var segments: [[Value]] = []
      for _ in 0..<Int.random(in: 1...6, using: &rng) {
        var flat: [Value] = []
        if Int.random(in: 0..<3, using: &rng) > 0 {
          for _ in 0..<Int.random(in: 0...300, using: &rng) { flat += random() }
        }
        segments.append(flat)
      }
      expectAppendEqualsInsertAll(stored, serial, segments, threads: threads, scratch: scratch, trial: trial)
    }
  }

  @Test("Appending tuples that are all stored already adds none and leaves the table its size", arguments: [2, 4])
  func parallelAppendOfStoredTuplesKeepsTheTable(threads: Int) {
    // 170,000 distinct pairs: the table is near its 7/8 growth point.
    let stored = Relation(arity: 2)
    var flat: [Value] = []
    for i in 0..<170_000 {
      let t: [Value] = [Value(i / 400), Value(i % 400)]
      stored.insert(t)
      flat += t
    }
    let slots = stored.table.slotCount
    // A wave of repeats of stored tuples (as a late round of a closure derives).
    let fresh = flat.withUnsafeBufferPointer { b in
      stored.appendNew([(b.baseAddress!, 131_072)], threads: threads, minimum: 2)
    }
    #expect(fresh == 0)
    #expect(stored.count == 170_000)
    #expect(stored.table.slotCount == slots, "the table grew for tuples that were all stored")
  }

  @Test("--threads takes a whole number from 1 to the maximum")
  func parseThreads() throws {
    #expect(try Limits.parseThreads("2").get() == 2)
    #expect(try Limits.parseThreads("1").get() == 1)
    for bad in ["0", "-1", "x", "", "1.5", "\(Limits.maxThreads + 1)"] {
      #expect(throws: Limits.OptionError.self) { try Limits.parseThreads(bad).get() }
    }
    #expect(ParallelRound.defaultThreads >= 1)
  }
}

/// A thread-safe count of the calls of an interrupt check.
private final class Counter: Sendable {
  private let n = Atomic<Int>(0)
  func next() -> Int { n.add(1, ordering: .relaxed).newValue }
}

/// Hands test data to `DispatchQueue.concurrentPerform` (each thread touches its own part).
private struct UncheckedBox<T>: @unchecked Sendable {
  let value: T
  init(_ value: T) { self.value = value }
}
