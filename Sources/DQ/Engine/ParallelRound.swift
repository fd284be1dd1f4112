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
/// the k-th contiguous slice. While the threads run, everything they share is only read: the
/// relations' rows, deduplication tables and indexes, which `prepare` builds beforehand on the
/// calling thread (nothing is built lazily during the round), and the value store (rules with
/// arithmetic, which may intern numbers, or aggregates stay single-threaded). Each thread drops
/// the derivations of tuples already stored by probing the head relation read-only, each once,
/// as its output fills (`Worker.checked`), and keeps the rest in its executor's output. The
/// output starts at a small chunk and doubles only while what is kept fills more than half of
/// it, so a thread holds about what it keeps, not a whole chunk; past half of the largest chunk
/// the tuples move to a deduplicated staging relation of its own (memory follows distinct
/// tuples, not derivations). The output is given back after the round. No lock is taken on
/// this path.
///
/// Then the threads' tuples are appended in slice order (`Relation.appendNew`, which shares
/// out the deduplication table among the threads by hash, so that step is parallel too). The single-threaded
/// path derives the same tuples in the same order (slices are contiguous and the scan visits
/// rows in order), and insertion keeps the first of duplicates, so the rows, their numbers
/// (which `.why` and the rounds read) and every printed output are the same for every thread
/// count.
///
/// Limits: each thread has a budget sharing the evaluation's deadline, memory limit and
/// interrupt check (`Budget(worker:stop:)`); the first thread to fail sets `stop`, the others
/// stop at their next check, and the round throws the first real error in slice order. The
/// merge counts stored tuples against the tuple limit as the single-threaded path does.
final class ParallelRound {
  /// Delta rows below which a rule runs on one thread (starting threads costs more).
  static let defaultMinimumDelta = 8192
  /// The chunk a thread's output starts at (1 MiB; see the type's notes).
  static let firstChunkValues = 1 << 18

  let threads: Int
  private let store: ValueStore
  private let parent: Budget
  private var workers: [Worker] = []
  /// Set by the first thread that fails; the others' budgets then stop them.
  private let stop = StopFlag()

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
    /// Tuples of the executor's output kept after the run (those not stored already).
    var kept = 0
    var error: EvaluationError?

    init(_ budget: Budget, store: ValueStore) {
      self.budget = budget
      self.executor = Executor(store: store, budget: budget)
    }
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
  /// the first step's) over slice k of `delta`; appends what they derive to `rows` in slice
  /// order and returns how many tuples were new. `buffered` learns the bytes of derivations
  /// the threads held (their outputs and staging relations).
  func run(
    _ copies: [BoundRule], delta: Range<Int>, into rows: Relation, buffered: (Int) -> Void = { _ in }
  ) throws(EvaluationError) -> Int {
    let n = min(threads, copies.count)
    let stop = self.stop
    stop.flag.store(false, ordering: .relaxed)
    while workers.count < n {
      workers.append(Worker(Budget(worker: parent, stop: { stop.flag.load(ordering: .relaxed) }), store: store))
    }
    let arity = rows.arity
    let total = delta.count
    for k in 0..<n {
      let first = copies[k].body.steps[0]
      first.low = delta.lowerBound + total * k / n
      first.high = delta.lowerBound + total * (k + 1) / n
      let w = workers[k]
      w.error = nil
      w.staging = nil
      w.checked = 0
      w.executor.chunkValues = ParallelRound.firstChunkValues
      w.budget.growing = parent.growing
      // The sink runs on worker k's thread and touches only worker k and reads `rows`.
      w.executor.sink = { [unowned w] chunk, count throws(EvaluationError) in
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
    // Safe to send: thread k touches only workers[k] and copies[k]; what they share (relations,
    // indexes, the value store) is only read until every thread is done (see the type's notes).
    let shared = Shared(value: (workers, copies, rows))
    DispatchQueue.concurrentPerform(iterations: n) { k in
      let (workers, copies, rows) = shared.value
      let w = workers[k]
      do throws(EvaluationError) {
        try w.executor.run(copies[k])
        // Derivations of tuples stored before the round are dropped here, on this thread.
        let out = w.executor
        w.kept = w.checked + rows.keepAbsent(out.output + w.checked &* arity, count: out.outputCount / arity - w.checked)
        try w.budget.check(copies[k].span)
      } catch {
        w.error = error
        stop.flag.store(true, ordering: .relaxed)
      }
    }
    defer {
      for w in workers.prefix(n) {
        w.executor.sink = nil
        w.executor.chunkValues = Executor.chunkValues
        w.executor.releaseLargeOutput()
        w.staging = nil
      }
    }
    let failures = workers.prefix(n).compactMap { $0.error }
    if let first = failures.first(where: { $0.reason != .interrupted }) ?? failures.first {
      // A sibling's stop reads as an interruption; the parent's own interrupt check says
      // whether the user pressed Ctrl-C.
      if first.reason == .interrupted, parent.interrupted?() != true, let real = failures.first(where: { $0.reason != .interrupted }) {
        throw real
      }
      throw first
    }
    // What each thread kept, in slice order (a thread's staged tuples came before its output).
    var segments: [(UnsafePointer<Value>, Int)] = []
    buffered(workers.prefix(n).reduce(0) { $0 + $1.executor.outputCapacity * MemoryLayout<Value>.stride + ($1.staging?.bytes ?? 0) })
    for w in workers.prefix(n) {
      if let staged = w.staging { segments.append((UnsafePointer(staged.data), staged.count)) }
      segments.append((UnsafePointer(w.executor.output), w.kept))
    }
    return rows.appendNew(segments, threads: threads, minimum: parent.parallelMinimumDelta)
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
/// and shared engine objects are only read while the threads run.
private struct Shared<T>: @unchecked Sendable {
  let value: T
}
