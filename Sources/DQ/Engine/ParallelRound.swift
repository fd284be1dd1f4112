import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs one rule of a semi-naive round on several threads (`--threads N`).
///
/// A delta version of a rule whose first step scans the delta is split by rows of that delta
/// (its other order, `RulePlan.alternative`, by the rows of the relation it scans first):
/// thread k runs its own copy of the rule (its own `BoundRule`, executor, slots and output) over
/// the k-th contiguous slice (slices sized to how fast each thread went in the last waves,
/// `shares`). While the threads run, what they share is only read, but for the
/// head's deduplication table in a wave inserted concurrently (below): the relations' rows,
/// tables and indexes, which `prepare` builds beforehand on the calling thread (nothing is
/// built lazily during the round), and the value store (rules with arithmetic, which may intern
/// numbers, or aggregates stay single-threaded).
///
/// Order: the single-threaded path derives the same tuples in the same order (slices are
/// contiguous and the scan visits rows in order), and insertion keeps the first of duplicates;
/// the threads' tuples are stored as if inserted in slice order, so the rows, their numbers
/// (which `.why` and the rounds read) and every printed output are the same for every thread
/// count.
///
/// Waves: a round runs its rows a part at a time, and what a part derived is stored before the
/// next part runs, so the threads hold about a wave's tuples (`Budget.parallelWaveValues` a
/// thread, 512 KiB), not the round's (two threads held some 50 MB beside the rows of the random
/// 4,000-node closure, whose rounds add up to 3 million tuples). Each wave's rows are
/// contiguous and come after the previous wave's, so the order is still the single thread's.
/// The first wave is small (a row may derive many tuples); each next one is sized by what the
/// last wave held a row, growing or shrinking at most fourfold. Waves need a rule that reads
/// none of the rows the round appends (a delta version reads the rows before the round).
///
/// A wave is stored one of two ways:
/// - Inserted concurrently (`ConcurrentInserter`, when no step of the rule probes the head's
///   table and the table has room): each thread hands its derivations, a small chunk at a time,
///   to its inserter, which searches the head's table and enters new tuples in the thread's
///   list (thread 0's in their rows at once, the others' pending); after the wave the threads
///   copy the pending ones' live tuples to the rows. A thread
///   whose list fills keeps the rest in a staging relation, and the wave is then given up in
///   the table and appended as below.
/// - Appended: each thread keeps what it derives in its executor's output (should it fill, a
///   row deriving very many tuples, or a round in one wave, the thread drops the derivations of
///   tuples already stored by probing the head read-only, each once, `Worker.checked`; the
///   output doubles only while what is kept fills more than half of it, and past half of the
///   largest chunk the tuples move to a deduplicated staging relation of its own, so memory
///   follows distinct tuples, not derivations); then the threads' tuples are appended in slice
///   order (`Relation.appendNew`, which shares the search of the head's table out among the
///   threads too). A rule that reads rows the round appends runs in one wave this way.
///
/// Limits: each thread has a budget sharing the evaluation's deadline, memory limit and
/// interrupt check (`Budget(worker:stop:)`); the first thread to fail sets `stop`, the others
/// stop at their next check, and the round throws the first real error in slice order. What
/// each wave stores is counted against the tuple limit (and the memory limit checked) as the
/// single-threaded path counts what it stores.
final class ParallelRound {
  /// Delta rows below which a rule runs on one thread (starting threads costs more).
  static let defaultMinimumDelta = 8192
  /// The chunk a thread's output starts at (1 MiB, twice a wave's, so that a wave seldom fills
  /// it; see the type's notes).
  static let firstChunkValues = 1 << 18
  /// Values of derivations a thread aims to hold in one wave (512 KiB; see the type's notes).
  static let defaultWaveValues = 1 << 17
  /// Rows a thread's part of a wave needs for its time to say how fast the thread went.
  static let defaultBalanceRows = 256

  let threads: Int
  private let store: ValueStore
  private let parent: Budget
  private var workers: [Worker] = []
  /// The appends' working lists, kept from wave to wave of a round.
  private let scratch = AppendScratch()
  /// Waves inserted concurrently so far, and those given up (see `finishInserted`).
  private(set) var concurrentWaves = 0
  private(set) var givenUpWaves = 0
  /// Waves split unevenly (parts differing by more than 1% of the wave's rows; see `balance`).
  private(set) var unevenWaves = 0
  /// Set by the first thread that fails; the others' budgets then stop them.
  private let stop = StopFlag()
  /// The part of a wave's rows each thread runs (`shares[k]` of them for thread k; they add up
  /// to 1). Equal at first, then following how fast each thread got through its part of the
  /// last waves (`balance`): thread 0 does more a tuple (it writes its new tuples' rows at
  /// once), and the cores are not always equally fast. Any split gives the same rows in the
  /// same order (each thread's part is contiguous and they are stored in thread order).
  private var shares: [Double] = []

  init(threads: Int, store: ValueStore, budget: Budget) {
    self.threads = max(1, threads)
    self.store = store
    self.parent = budget
  }

  /// One thread's executor and budget, kept for the evaluation so buffers are reused.
  private final class Worker {
    let budget: Budget
    let executor: Executor
    var staging: Relation?
    /// Tuples at the front of the executor's output known not to be stored (probed already).
    var checked = 0
    /// Tuples of the executor's output to append after the run (in one wave, those not stored
    /// already).
    var kept = 0
    var error: EvaluationError?
    /// Nanoseconds this thread took over its part of the last wave.
    var busy: UInt64 = 0
    /// In a wave inserted concurrently: this thread's inserter (its list of new tuples is kept
    /// from wave to wave in `newTuples`).
    var inserter: ConcurrentInserter?
    var newTuples: NewTuples?

    init(_ budget: Budget, store: ValueStore) {
      self.budget = budget
      self.executor = Executor(store: store, budget: budget)
    }

    deinit { newTuples?.release() }

    /// In a wave inserted concurrently: enters `n` derived tuples (`ConcurrentInserter`); once
    /// this thread's list is full, the rest go to its staging relation (in order, deduplicated).
    func take(_ chunk: UnsafePointer<Value>, _ n: Int, arity: Int) {
      var done = 0
      if staging == nil, var mine = inserter {
        inserter = nil  // one owner of its arrays while it inserts
        done = mine.insert(chunk, count: n)
        inserter = mine
      }
      if done < n {
        let staged = staging ?? Relation(arity: arity)
        staging = staged
        _ = staged.insertAll(chunk + done &* arity, count: n - done)
      }
    }
  }

  /// Whether the waves of a run may insert concurrently (`ConcurrentInserter`): no step probes
  /// the head's table (it holds pending values meanwhile), and row 0 exists (slots given up
  /// after a failed wave hold row 0, as `Relation.removeRows` leaves them).
  static func insertsConcurrently(_ rule: BoundRule, into head: Relation, threads: Int) -> Bool {
    guard threads > 1, threads <= 64, head.arity > 0, head.count > 0, !head.isClustered else { return false }
    return !rule.body.steps.contains { ($0.kind == .member || $0.kind == .absent) && $0.relation === head }
  }

  /// Whether the rule can run split across threads: its first step scans row by row (a delta,
  /// or the first relation of a delta version's other order), and no step computes
  /// (arithmetic may intern a number in the shared value store) or aggregates (its fold state
  /// lives in the bound plan).
  static func canSplit(_ rule: BoundRule) -> Bool {
    guard rule.headName != nil, rule.body.projectionCount > 0, rule.expressions.isEmpty,
      let first = rule.body.steps.first, first.kind == .scan,
      first.distinctCount == 0, !first.countsOnly, !first.existsOnly
    else { return false }
    return rule.body.steps.allSatisfy { step in
      switch step.kind {
      case .scan, .lookup, .member, .absent, .filter: return true
      case .assign, .aggregate: return false
      }
    }
  }

  /// Builds, on the calling thread, everything the rule's steps would otherwise build when
  /// first read: clustered directories or chained indexes, and deduplication tables of the
  /// relations probed whole (and of the head, which every thread probes), and the value
  /// store's symbol order when a filter compares.
  static func prepare(_ rule: BoundRule, head: Relation, store: ValueStore) {
    var zeros = [Value](repeating: 0, count: 1)
    func ensureTable(_ relation: Relation) {
      if zeros.count < relation.arity { zeros = [Value](repeating: 0, count: relation.arity) }
      zeros.withUnsafeBufferPointer { if let p = $0.baseAddress { _ = relation.find(p) } }
    }
    ensureTable(head)
    // Symbols are ordered by ranks computed when first needed.
    if rule.body.steps.contains(where: { $0.kind == .filter && $0.comparison != .equal && $0.comparison != .notEqual }) {
      store.prepareForConcurrentReads()
    }
    for step in rule.body.steps {
      guard let relation = step.relation else { continue }
      if let index = step.index {
        relation.clusterForFirstLookup(by: index)
        if !index.isClustered { index.build() }
      } else if step.kind == .member || step.kind == .absent {
        ensureTable(relation)
      }
    }
  }

  /// Runs `copies[k]` (one bound copy of the rule per thread, row ranges already set except
  /// the first step's) over the rows `delta` of its first step, in waves when `inWaves` (see
  /// the type's notes; only when no step reads the rows the round appends), else in one; each
  /// wave stores what the threads derived in `rows` as if in slice order (inserted
  /// concurrently, or appended) and passes how many tuples were new to `stored` (which counts
  /// them against the limits). `buffered` learns the bytes the threads held in a wave (their
  /// outputs, lists of new tuples and staging relations).
  func run(
    _ copies: [BoundRule], delta: Range<Int>, into rows: Relation, inWaves: Bool,
    stored: (Int) throws(EvaluationError) -> Void, buffered: (Int) -> Void = { _ in }
  ) throws(EvaluationError) {
    let n = min(threads, copies.count)
    let stop = self.stop
    stop.flag.store(false, ordering: .relaxed)
    while workers.count < n {
      workers.append(Worker(Budget(worker: parent, stop: { stop.flag.load(ordering: .relaxed) }), store: store))
    }
    let arity = rows.arity
    let concurrent = inWaves && ParallelRound.insertsConcurrently(copies[0], into: rows, threads: n)
    for k in 0..<n {
      let w = workers[k]
      w.budget.growing = parent.growing
      w.executor.continuesRecent = false
      // The sink runs on worker k's thread and touches only worker k, reads `rows` and, in a
      // wave inserted concurrently (the worker has an inserter), enters tuples in its table.
      w.executor.sink = { [unowned w] chunk, count throws(EvaluationError) in
        if w.inserter != nil {
          w.take(chunk, count, arity: arity)
          return 0
        }
        let kept = w.checked + rows.keepAbsent(chunk + w.checked &* arity, count: count - w.checked)
        let executor = w.executor
        while kept &* arity > executor.chunkValues / 2, executor.chunkValues < Executor.chunkValues {
          executor.chunkValues *= 2
        }
        if kept &* arity <= executor.chunkValues / 2 {
          w.checked = kept
          return kept
        }
        let staged = w.staging ?? Relation(arity: arity)
        w.staging = staged
        _ = staged.insertAll(chunk, count: kept)
        w.checked = 0
        return 0
      }
    }
    defer {
      scratch.release()
      for w in workers.prefix(n) {
        w.executor.sink = nil
        w.executor.continuesRecent = false
        w.executor.chunkValues = Executor.chunkValues
        w.executor.releaseLargeOutput()
        w.staging = nil
        w.inserter = nil
        w.newTuples?.release()
        w.newTuples = nil
      }
    }
    let target = max(1, parent.parallelWaveValues)
    // Delta rows each thread runs in the next wave: first a guess of 64 values derived a row (a
    // small wave: a row may derive many tuples), then what the last wave held a row.
    var rowsPerThread = max(1, target / max(1, 64 * arity))
    var low = delta.lowerBound
    while low < delta.upperBound {
      var high = delta.upperBound
      if inWaves {
        let wave = rowsPerThread.multipliedReportingOverflow(by: n)
        // A remnant of less than a quarter wave joins this one.
        if !wave.overflow, delta.upperBound - low > wave.partialValue + wave.partialValue / 4 {
          high = low + wave.partialValue
        }
      }
      let kept = try wave(
        copies, n, low..<high, firstWave: low == delta.lowerBound, inWaves: inWaves, concurrent: concurrent, into: rows,
        stored: stored, buffered: buffered)
      // What a thread held a row says how many rows fill its share next time; a wave grows or
      // shrinks at most fourfold (a few rows may keep far more or less than the rest).
      let want = kept == 0 ? .infinity : Double(target) * Double(high - low) / Double(kept)
      rowsPerThread = Int(min(max(want, Double(max(1, rowsPerThread / 4))), Double(rowsPerThread) * 4, Double(1 << 40)))
      low = high
    }
  }

  /// One wave (the round's first, or a later one): the threads run the rows `range`, split in
  /// contiguous slices; what they derive is inserted in `rows` concurrently when `concurrent`
  /// and the table has room enough, else appended after they are done, in slice order either
  /// way. Returns the values the threads held in all (for the next wave's size).
  private func wave(
    _ copies: [BoundRule], _ n: Int, _ range: Range<Int>, firstWave: Bool, inWaves: Bool, concurrent: Bool, into rows: Relation,
    stored: (Int) throws(EvaluationError) -> Void, buffered: (Int) -> Void
  ) throws(EvaluationError) -> Int {
    let arity = rows.arity
    let total = range.count
    // Each thread may enter a share of the room the table has (it must not grow meanwhile),
    // up to twice a wave's worth (its list is allocated for that much: a wave is sized to
    // enter about one); a table with room for less than half the smallest delta split a thread
    // (a small one) takes the other way.
    let quota = concurrent ? min(rows.appendRoom() / n, 2 * max(1, parent.parallelWaveValues) / arity) : 0
    // Row numbers must stay below the pending bit, slots within 32 bits.
    let inserting = quota >= max(1, parent.parallelMinimumDelta / 2)
      && rows.count + quota * n < Int(ConcurrentInserter.pending) - 1 && rows.table.groupCount < 1 << 27
    if inserting { prepareInserters(n, quota: quota, rows: rows) }
    if shares.count != n { shares = [Double](repeating: 1 / Double(n), count: n) }
    var before = 0.0
    var (smallest, largest) = (total, 0)
    for k in 0..<n {
      let first = copies[k].body.steps[0]
      first.low = range.lowerBound + (k == 0 ? 0 : min(total, Int(Double(total) * before)))
      before += shares[k]
      first.high = range.lowerBound + (k == n - 1 ? total : min(total, Int(Double(total) * before)))
      (smallest, largest) = (min(smallest, first.high - first.low), max(largest, first.high - first.low))
      let w = workers[k]
      w.error = nil
      w.staging = nil
      w.checked = 0
      w.kept = 0
      w.executor.chunkValues = inserting ? Executor.storedChunkValues : ParallelRound.firstChunkValues
      // Later waves go on with the repeat cache of the earlier ones (`Executor.continuesRecent`).
      w.executor.continuesRecent = !firstWave
    }
    // Safe to send: thread k touches only workers[k] and copies[k]; what they share (relations,
    // indexes, the value store) is only read until every thread is done, but for the head's
    // table in a wave inserted concurrently (see `ConcurrentInserter`).
    if largest - smallest > 1 + total / 100 { unevenWaves += 1 }
    let shared = Shared(value: (workers, copies, rows))
    let stop = self.stop
    DispatchQueue.concurrentPerform(iterations: n) { k in
      let (workers, copies, rows) = shared.value
      let w = workers[k]
      let started = DispatchTime.now().uptimeNanoseconds
      defer { w.busy = DispatchTime.now().uptimeNanoseconds &- started }
      do throws(EvaluationError) {
        try w.executor.run(copies[k])
        let out = w.executor
        let derived = out.outputCount / arity
        if w.inserter != nil {
          w.take(out.output, derived, arity: arity)
          try w.budget.check(copies[k].span)
          return
        }
        // In waves the append drops derivations of stored tuples (a wave's, bounded); one
        // wave for a whole round drops them here, on this thread, before they are appended.
        w.kept = inWaves ? derived : w.checked + rows.keepAbsent(out.output + w.checked &* arity, count: derived - w.checked)
        try w.budget.check(copies[k].span)
      } catch {
        w.error = error
        stop.flag.store(true, ordering: .relaxed)
      }
    }
    let failures = workers.prefix(n).compactMap { $0.error }
    if failures.isEmpty { balance(n, copies) }
    if inserting, !failures.isEmpty { giveUpInserted(n, rows: rows) }
    if let first = failures.first(where: { $0.reason != .interrupted }) ?? failures.first {
      // A sibling's stop reads as an interruption; the parent's own interrupt check says
      // whether the user pressed Ctrl-C.
      if first.reason == .interrupted, parent.interrupted?() != true, let real = failures.first(where: { $0.reason != .interrupted }) {
        throw real
      }
      throw first
    }
    if inserting { return try finishInserted(n, rows: rows, stored: stored, buffered: buffered) }
    // What each thread kept, in slice order (a thread's staged tuples came before its output).
    var segments: [(UnsafePointer<Value>, Int)] = []
    var kept = 0
    buffered(workers.prefix(n).reduce(0) { $0 + $1.executor.outputCapacity * MemoryLayout<Value>.stride + ($1.staging?.bytes ?? 0) })
    for w in workers.prefix(n) {
      if let staged = w.staging { segments.append((UnsafePointer(staged.data), staged.count)) }
      segments.append((UnsafePointer(w.executor.output), w.kept))
      kept += ((w.staging?.count ?? 0) + w.kept) * arity
    }
    let fresh = rows.appendNew(segments, threads: threads, minimum: parent.parallelMinimumDelta, scratch: scratch)
    // The staging relations (with their tables) go now, not at the round's end.
    for w in workers.prefix(n) { w.staging = nil }
    try stored(fresh)
    return kept
  }

  /// After a wave: each thread's share of the next moves half way from its share of this one to
  /// its part of the rows the threads got through a second, kept within about a fifth of an
  /// equal share (clamped, then scaled to add up to 1). A wave too small to time, with parts
  /// under `Budget.parallelBalanceRows` rows, changes nothing. Shares carry over from run to
  /// run (a thread's speed is mostly the machine's), within those bounds.
  private func balance(_ n: Int, _ copies: [BoundRule]) {
    var rates: [Double] = []
    for k in 0..<n {
      let first = copies[k].body.steps[0]
      let rows = first.high - first.low
      guard rows >= max(1, parent.parallelBalanceRows), workers[k].busy > 0 else { return }
      rates.append(Double(rows) / Double(workers[k].busy))
    }
    let sum = rates.reduce(0, +)
    let equal = 1 / Double(n)
    for k in 0..<n { shares[k] = min(max((shares[k] + rates[k] / sum) / 2, equal * 0.8), equal * 1.2) }
    let total = shares.reduce(0, +)
    for k in 0..<n { shares[k] /= total }
  }

  /// Each thread's tuples for `ConcurrentInserter` (read by every thread during a wave).
  private var bases = UnsafeMutablePointer<UnsafeMutablePointer<Value>>.allocate(capacity: 1)
  private var basesCount = 1

  deinit { bases.deallocate() }

  /// Before a wave inserted concurrently: each of the `n` threads gets an inserter whose list
  /// holds up to `quota` new tuples.
  private func prepareInserters(_ n: Int, quota: Int, rows: Relation) {
    if basesCount < n {
      bases.deallocate()
      bases = .allocate(capacity: n)
      basesCount = n
    }
    let bits = ConcurrentInserter.indexBits(threads: n)
    let capacity = min(quota, 1 << bits - 1)
    for k in 0..<n {
      let w = workers[k]
      if let list = w.newTuples, list.allocated < capacity || list.arity != rows.arity {
        list.release()
        w.newTuples = nil
      }
      var list = w.newTuples ?? NewTuples(capacity: capacity, arity: rows.arity)
      list.count = 0
      list.capacity = capacity
      w.newTuples = list
      bases[k] = list.tuples
      // Thread 0 writes its new tuples to their rows during the wave when the relation has
      // room for its list (`ConcurrentInserter.writesRows`; the rows are not grown for it: a
      // wave that stores little would hold twice the rows for nothing).
      w.inserter = ConcurrentInserter(
        table: rows.table, relation: rows, thread: k, indexBits: bits, bases: UnsafePointer(bases), list: list)
    }
  }

  /// After a wave inserted concurrently: the threads' live new tuples become rows (thread 0's
  /// first, `Relation.appendInserted`), or, when a thread's list filled, the wave is given up
  /// in the table and its tuples appended as a wave's tuples are (`Relation.appendNew`).
  /// Returns the values the threads held (for the next wave's size).
  private func finishInserted(
    _ n: Int, rows: Relation, stored: (Int) throws(EvaluationError) -> Void, buffered: (Int) -> Void
  ) throws(EvaluationError) -> Int {
    let arity = rows.arity
    let inserters = workers.prefix(n).compactMap { $0.inserter }
    var held = 0
    for w in workers.prefix(n) {
      held += (w.inserter?.list.count ?? 0) + (w.staging?.count ?? 0)
      w.newTuples = w.inserter?.list
    }
    buffered(workers.prefix(n).reduce(0) { sum, w in
      sum + w.executor.outputCapacity * MemoryLayout<Value>.stride + (w.newTuples?.bytes ?? 0) + (w.staging?.bytes ?? 0)
    })
    let fresh: Int
    concurrentWaves += 1
    if workers.prefix(n).contains(where: { $0.staging != nil }) {
      givenUpWaves += 1
      giveUpInserted(n, rows: rows)
      var segments: [(UnsafePointer<Value>, Int)] = []
      for w in workers.prefix(n) {
        if let list = w.inserter?.list { segments.append((UnsafePointer(list.tuples), list.count)) }
        if let staged = w.staging { segments.append((UnsafePointer(staged.data), staged.count)) }
      }
      fresh = rows.appendNew(segments, threads: threads, minimum: parent.parallelMinimumDelta, scratch: scratch)
    } else {
      fresh = rows.appendInserted(inserters, threads: threads, minimum: parent.parallelMinimumDelta)
    }
    for w in workers.prefix(n) {
      w.staging = nil
      w.inserter = nil
    }
    try stored(fresh)
    return held &* arity
  }

  /// Gives up the slots a wave inserted concurrently entered (see `finishInserted`).
  private func giveUpInserted(_ n: Int, rows: Relation) {
    rows.giveUpInserted(workers.prefix(n).compactMap { $0.inserter })
    for w in workers.prefix(n) {
      if let list = w.inserter?.list { w.newTuples = list }
    }
  }

  /// The number of threads `--threads` means by default: the processors this process may run
  /// on, lowered to the control group's CPU quota when there is one (containers).
  static let defaultThreads: Int = {
    var n = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    if let quota = cgroupCPUQuota(), quota < n { n = quota }
    return max(1, n)
  }()

  /// The CPUs a cgroup v2 `cpu.max` (or v1 `cpu.cfs_quota_us`) allows, rounded up; nil when
  /// unlimited or unreadable.
  private static func cgroupCPUQuota() -> Int? {
    func read(_ path: String) -> String? {
      guard let f = fopen(path, "r") else { return nil }
      defer { fclose(f) }
      var buffer = [CChar](repeating: 0, count: 128)
      guard fgets(&buffer, 128, f) != nil else { return nil }
      let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
      return String(text.filter { $0 != "\n" })
    }
    if let text = read("/sys/fs/cgroup/cpu.max") {
      let parts = text.split(separator: " ")
      if parts.count == 2, let quota = Int(parts[0]), let period = Int(parts[1]), quota > 0, period > 0 {
        return (quota + period - 1) / period
      }
      return nil
    }
    if let q = read("/sys/fs/cgroup/cpu/cpu.cfs_quota_us").flatMap({ Int($0) }), q > 0,
      let p = read("/sys/fs/cgroup/cpu/cpu.cfs_period_us").flatMap({ Int($0) }), p > 0
    {
      return (q + p - 1) / p
    }
    return nil
  }
}

/// The flag a failing thread sets to stop the others.
private final class StopFlag: Sendable {
  let flag = Atomic<Bool>(false)
}

/// A value handed to the threads of a parallel round. `@unchecked Sendable` because the round
/// (not the type system) guarantees the discipline: each thread writes only its own worker,
/// and shared engine objects are only read while the threads run (the head's table, which a
/// wave inserted concurrently writes, follows `ConcurrentInserter`'s protocol).
private struct Shared<T>: @unchecked Sendable {
  let value: T
}
