import Dispatch
import Synchronization

/// Runs a large rule of a stratum's first round on several threads when what it derives needs
/// no deduplication: the rule derives no tuple twice (`BoundRule.derivesDistinct`) and its
/// head was empty (see `Evaluator.runFirstSplit`). Negation's
/// `unreach(X, Y) :- node(X), node(Y), not reach(X, Y).` is one: 852,000 pairs probed, one
/// thread's work otherwise, while the recursive strata around it have their rounds split
/// (`ParallelRound`).
///
/// The rows of the rule's first scan are taken in waves (`workPerThread`, and at most
/// `Budget.parallelWaveValues` values derived a thread, as a parallel round's). In a wave, thread
/// k runs its own copy of the rule (its own `BoundRule`, executor, slots and output) over the
/// k-th contiguous slice of the wave's rows, and keeps everything it derives in its
/// executor's output (there are no repeats to drop). The outputs are then appended to the head
/// in slice order (`Relation.appendDistinct`): the single-threaded run derives the same tuples
/// in the same order (the scan visits rows in order), so the rows and their numbers are the
/// same for every thread count. Waves keep what the threads hold to about what a wave
/// derives, not the whole rule's tuples a second time. While the threads run, what they share
/// is only read: `ParallelRound.prepare` builds every index and table the steps read
/// beforehand, and rules that compute or aggregate are not split (`ParallelRound.canSplit`).
///
/// Limits: each thread has a budget sharing the evaluation's deadline, memory limit and
/// interrupt check (`Budget(worker:stop:)`); the first to fail stops the others, and the first
/// real error in slice order is thrown. The tuples stored are counted against the tuple limit
/// after each wave, as the single-threaded run counts each chunk it stores.
final class DistinctSplit {
  private let store: ValueStore
  private let parent: Budget
  /// One executor per thread, kept for the evaluation so their buffers are reused.
  private var executors: [Executor] = []
  private let stop = SplitStop()

  init(store: ValueStore, budget: Budget) {
    self.store = store
    self.parent = budget
  }

  /// The estimated work (`BoundRule.estimatedWork`) of one thread's share of a wave: about
  /// a millisecond or two, so a wave costs far more than starting it, while what a thread
  /// derives in it (at most about one tuple per unit) stays near a megabyte.
  static let workPerThread = Double(1 << 18)

  /// Runs the rule over `rows` of its first step in waves of `waveRows` rows: in each wave,
  /// `copies[k]` (row ranges set) runs over slice k of the wave's rows, and what they derive
  /// is appended to `head` in slice order and counted against the tuple limit (as `span`'s).
  /// Returns how many tuples were stored, and the most bytes the threads' outputs held.
  func run(
    _ copies: [BoundRule], rows: Range<Int>, waveRows: Int, into head: Relation, span: SourceSpan?
  ) throws(EvaluationError) -> (stored: Int, buffered: Int) {
    let n = copies.count
    let stop = self.stop
    while executors.count < n {
      executors.append(Executor(store: store, budget: Budget(worker: parent, stop: { stop.flag.load(ordering: .relaxed) })))
    }
    for e in executors.prefix(n) { e.budget.growing = parent.growing }
    defer { for e in executors.prefix(n) { e.releaseLargeOutput() } }
    let arity = head.arity
    var stored = 0, buffered = 0
    var start = rows.lowerBound
    while start < rows.upperBound {
      let end = min(rows.upperBound, start + max(1, waveRows))
      for k in 0..<n {
        let first = copies[k].body.steps[0]
        first.low = start + (end - start) * k / n
        first.high = start + (end - start) * (k + 1) / n
      }
      try wave(copies)
      var fresh = 0
      for e in executors.prefix(n) { fresh += e.outputCount / arity }
      head.reserveRows(fresh)
      for e in executors.prefix(n) { head.appendDistinct(e.output, count: e.outputCount / arity) }
      buffered = max(buffered, executors.prefix(n).reduce(0) { $0 + $1.outputCapacity * MemoryLayout<Value>.stride })
      stored += fresh
      try parent.countDerived(fresh, span)
      start = end
    }
    return (stored, buffered)
  }

  /// Runs `copies[k]` on thread k, each over the row range set on it; throws the first real
  /// error in slice order.
  private func wave(_ copies: [BoundRule]) throws(EvaluationError) {
    let n = copies.count
    let stop = self.stop
    stop.flag.store(false, ordering: .relaxed)
    let errors = SplitErrors(count: n)
    // Safe to send: thread k touches only executors[k], copies[k] and its own error slot;
    // what they share is only read until every thread is done (see the type's notes).
    let shared = SplitShared(value: (executors, copies, errors))
    DispatchQueue.concurrentPerform(iterations: n) { k in
      let (executors, copies, errors) = shared.value
      do throws(EvaluationError) {
        try executors[k].run(copies[k])
        try executors[k].budget.check(copies[k].span)
      } catch {
        errors.set(k, error)
        stop.flag.store(true, ordering: .relaxed)
      }
    }
    // A sibling's stop reads as an interruption: the first real error, in slice order, goes first.
    let failures = errors.all
    if let first = failures.first(where: { $0.reason != .interrupted }) ?? failures.first { throw first }
  }
}

/// The flag a failing thread sets to stop the others.
private final class SplitStop: Sendable {
  let flag = Atomic<Bool>(false)
}

/// Each thread's error, written by that thread only (one raw slot each: no array is mutated
/// from several threads).
private final class SplitErrors: @unchecked Sendable {
  private let errors: UnsafeMutablePointer<EvaluationError?>
  private let count: Int
  init(count: Int) {
    self.count = count
    errors = .allocate(capacity: count)
    errors.initialize(repeating: nil, count: count)
  }
  deinit {
    errors.deinitialize(count: count)
    errors.deallocate()
  }
  func set(_ k: Int, _ e: EvaluationError) { errors[k] = e }
  /// The errors in slice order (read after every thread is done).
  var all: [EvaluationError] { (0..<count).compactMap { errors[$0] } }
}

/// A value handed to the threads. `@unchecked Sendable`: the split (not the type system)
/// guarantees each thread writes only its own parts, and shared objects are only read.
private struct SplitShared<T>: @unchecked Sendable {
  let value: T
}
