/// Runs bound bodies (see BoundPlan.swift), within the limits of a `Budget`.

/// Limits on one evaluation: tuples stored, wall time, bytes held, and an interrupt check.
public final class Budget {
  public let maxTuples: Int
  public let timeout: Double
  /// Bytes the engine may hold (`Memory.held`) before evaluation stops; 0: no limit.
  public let maxBytes: Int
  let interrupted: (() -> Bool)?
  private let start: ContinuousClock.Instant
  /// When the time limit passes (nil: none, or too far away to matter).
  private let deadline: ContinuousClock.Instant?
  /// Tuples stored so far in this evaluation (duplicates are not counted).
  public internal(set) var derived = 0
  /// The rule or query being run, reported when a limit stops it.
  var location: SourceSpan?
  /// The relation being written, named when the memory limit stops evaluation.
  var growing: String?
  private var ticks = 0
  /// Threads a round of semi-naive evaluation may use (`--threads`; 1: the single-threaded
  /// path). See `ParallelRound`.
  public var threads = 1
  /// The fewest delta rows a rule's round needs before it is split across threads: below it,
  /// starting threads costs more than it saves. Tests lower it so parallel rounds run on small
  /// inputs.
  var parallelMinimumDelta = ParallelRound.defaultMinimumDelta
  /// Values of derivations a thread of a parallel round aims to hold before they are appended
  /// (`ParallelRound`'s waves). Tests lower it so that rounds run in many waves.
  var parallelWaveValues = ParallelRound.defaultWaveValues
  /// Rows each thread's part of a wave needs for the next wave's split to follow the threads'
  /// speeds (`ParallelRound.balance`). Tests set 1, so that small waves are split unevenly too.
  var parallelBalanceRows = ParallelRound.defaultBalanceRows
  /// A delta version's other order (`RulePlan.alternative`) runs in a round when its estimated
  /// work times this is less than the version's: 2 by default (estimates are rough, and the
  /// version may be split across threads where the other order is not); tests set 0, so the
  /// other order runs whenever its indexes are there.
  var otherOrderMargin = Budget.defaultOtherOrderMargin
  static let defaultOtherOrderMargin = 2.0
  /// The fewest bytes of rows a relation probed after a scan needs before the scan announces
  /// its probes ahead (`Executor.visitRowsProbingAhead`): 512 KiB, with its table or index
  /// about as large again, no longer sits in the second-level cache, and a probe there waits
  /// on memory; below it, announcing costs more than it saves (sg-tree's lookups into 3,000
  /// parents ran about 10% slower). Tests set 0.
  var probeAheadFrom = Budget.defaultProbeAheadFrom
  static let defaultProbeAheadFrom = 1 << 19

  /// `maxTuples`, `timeout` or `maxBytes` of 0 (or less) mean no limit; so does a timeout
  /// beyond a century, which the clock could not represent anyway.
  public init(maxTuples: Int, timeout: Double, maxBytes: Int = 0, interrupted: (() -> Bool)? = nil) {
    self.maxTuples = max(0, maxTuples)
    self.timeout = timeout
    self.maxBytes = max(0, maxBytes)
    self.interrupted = interrupted
    let now = ContinuousClock.now
    self.start = now
    if timeout > 0, timeout < 3.2e9 {
      self.deadline = now + .nanoseconds(Int64(timeout * 1e9))
    } else {
      self.deadline = nil
    }
  }

  /// A budget for one thread of a parallel round (`ParallelRound`): the time limit (the same
  /// deadline), memory limit and interrupt check of `parent`, plus `stop`, which a sibling
  /// thread sets when it fails. It counts no tuples: the round's merge counts what it stores
  /// against `parent`, exactly as the single-threaded path does.
  init(worker parent: Budget, stop: @escaping () -> Bool) {
    self.maxTuples = 0
    self.timeout = parent.timeout
    self.maxBytes = parent.maxBytes
    let outer = parent.interrupted
    self.interrupted = { stop() || outer?() == true }
    self.start = parent.start
    self.deadline = parent.deadline
    self.growing = parent.growing
    self.probeAheadFrom = parent.probeAheadFrom
  }

  /// Time spent since the evaluation started.
  public var elapsed: Duration { ContinuousClock.now - start }
  /// `elapsed` in seconds.
  var elapsedSeconds: Double {
    let c = elapsed.components
    return Double(c.seconds) + Double(c.attoseconds) / 1e18
  }

  /// Cheap per-row bookkeeping; every 65,536 calls, checks the clock, the memory held and the
  /// interrupt flag.
  @inline(__always) func tick() throws(EvaluationError) {
    ticks &+= 1
    if ticks & 0xFFFF == 0 { try check(nil) }
  }

  func check(_ given: SourceSpan?) throws(EvaluationError) {
    let span = given ?? location
    if let interrupted, interrupted() {
      throw EvaluationError(.interrupted, "Interrupted", at: nil)
    }
    if let deadline, ContinuousClock.now > deadline {
      throw EvaluationError(
        .timeout, "Evaluation stopped after \(formatSeconds(timeout)) (the time limit)", at: span,
        hint: "the program may not terminate (e.g. a rule that keeps counting up); raise the limit with --timeout SECONDS, or 0 for none")
    }
    try checkMemory(span)
  }

  /// Stops evaluation when the engine holds more than `maxBytes`, or would once `extra` more
  /// bytes are taken.
  func checkMemory(_ given: SourceSpan?, extra: Int = 0) throws(EvaluationError) {
    let wanted = Memory.held &+ max(0, extra)
    guard maxBytes > 0, wanted > maxBytes else { return }
    let what = growing.map { " while computing '\($0)'" } ?? (extra > 0 ? " before sorting the answers" : "")
    throw EvaluationError(
      .memoryLimit,
      "Evaluation stopped\(what): dq \(extra > 0 ? "would hold" : "holds") \(formatBytes(wanted)), more than the memory limit (\(formatBytes(maxBytes)))",
      at: given ?? location,
      hint: "if so much is meant, raise the limit with --memory SIZE (or '.limit memory SIZE' in the REPL; 0 for none); if not, look for a rule that joins unrelated atoms or never stops")
  }

  /// Counts `n` newly stored tuples against the tuple limit.
  func countDerived(_ n: Int, _ given: SourceSpan?) throws(EvaluationError) {
    let span = given ?? location
    derived &+= n
    if maxTuples > 0 && derived > maxTuples {
      throw EvaluationError(
        .tupleLimit, "Evaluation stopped after deriving more than \(maxTuples) tuples (the tuple limit)", at: span,
        hint: "if so much is meant, raise the limit with --max-tuples N (0 for none); if not, look for a rule that never stops, such as 'n(Y) :- n(X), Y = X + 1.'")
    }
    try checkMemory(span)
  }
}

/// A size in bytes for people: "512 KiB", "3.2 GiB".
func formatBytes(_ n: Int) -> String {
  let units = ["bytes", "KiB", "MiB", "GiB", "TiB"]
  var value = Double(n), unit = 0
  while value >= 1024 && unit < units.count - 1 {
    value /= 1024
    unit += 1
  }
  if unit == 0 { return "\(n) bytes" }
  let rounded = (value * 10).rounded() / 10
  return rounded == rounded.rounded() ? "\(Int(rounded)) \(units[unit])" : "\(rounded) \(units[unit])"
}

func formatSeconds(_ s: Double) -> String {
  s == s.rounded() && abs(s) < 1e15 ? "\(Int(s)) s" : "\(s) s"
}

/// Executes one bound rule or query: nested loops over its steps, binding slots, emitting
/// head tuples.
final class Executor {
  let store: ValueStore
  let budget: Budget
  private var slots: UnsafeMutablePointer<Value>
  private var slotCapacity: Int
  private var expressions: [BoundExpression] = []
  private var scratch: UnsafeMutablePointer<Value>
  private var scratchCapacity = 64
  /// Head tuples emitted by the last run, flat: `outputCount` values.
  private(set) var output: UnsafeMutablePointer<Value>
  private(set) var outputCount = 0
  private(set) var outputCapacity = 1024
  /// Bindings emitted by the last run (counts zero-arity heads too).
  private(set) var emitted = 0
  private var outputArity = 0

  init(store: ValueStore, budget: Budget) {
    self.store = store
    self.budget = budget
    self.slotCapacity = 64
    self.slots = .allocate(capacity: 64)
    self.slots.initialize(repeating: 0, count: 64)
    self.scratch = .allocate(capacity: 64)
    self.output = Memory.allocate(Value.self, count: 1024)
    self.recent = Memory.allocate(UInt64.self, count: 1 << 16)
  }

  deinit {
    slots.deallocate()
    scratch.deallocate()
    Memory.release(output)
    Memory.release(recent)
  }

  /// Runs `rule` with the row ranges already set on its steps; results land in `output`.
  func run(_ rule: BoundRule) throws(EvaluationError) {
    budget.location = rule.span
    if rule.slotCount > slotCapacity {
      slots.deallocate()
      slotCapacity = rule.slotCount
      slots = .allocate(capacity: slotCapacity)
      slots.initialize(repeating: 0, count: slotCapacity)
    }
    expressions = rule.expressions
    outputCount = 0
    emitted = 0
    if !continuesRecent {
      recentOn = false
      recentGivenUp = false
    }
    outputArity = rule.body.projectionCount
    ensureScratch(rule.body)
    rule.body.clusterForFirstLookups()
    try run(rule.body, 0)
  }

  /// Sorts each relation of explicit facts that a lookup will read by that lookup's key, before
  /// anything reads its rows (clustering moves them; see `Relation.clusterForFirstLookup`).
  private func ensureScratch(_ list: BoundSteps) {
    for s in list.steps {
      let need = max(s.keyCount, s.relation?.arity ?? 0)
      if need > scratchCapacity {
        scratch.deallocate()
        scratchCapacity = need
        scratch = .allocate(capacity: need)
      }
      if let a = s.aggregate { ensureScratch(a.body) }
    }
  }

  // MARK: - Operands

  @inline(__always) private func value(_ o: BoundOperand) throws(EvaluationError) -> Value {
    switch o.kind {
    case .slot: return slots[Int(o.payload)]
    case .constant: return o.payload
    case .expression: return try evaluate(expressions[Int(o.payload)])
    }
  }

  private func evaluate(_ e: BoundExpression) throws(EvaluationError) -> Value {
    switch e {
    case .slot(let s): return slots[s]
    case .constant(let v): return v
    case .binary(let op, let a, let b, let span):
      return try Arithmetic.apply(op, try evaluate(a), try evaluate(b), store: store, span: span)
    case .negate(let a, let span):
      return try Arithmetic.negate(try evaluate(a), store: store, span: span)
    }
  }

  /// Puts the values of a step's keys in `scratch` (given as its buffer: a step passed as an
  /// argument would be retained and released).
  @inline(__always) private func loadKeys(_ keys: UnsafeMutablePointer<BoundOperand>, _ n: Int) throws(EvaluationError) {
    for k in 0..<n { scratch[k] = try value(keys[k]) }
  }

  // MARK: - Steps

  /// Runs steps `i...` of `list` for the current binding; each step that matches goes on to
  /// the next, and a binding past the last step is emitted.
  private func run(_ list: BoundSteps, _ i: Int) throws(EvaluationError) {
    if i == list.count {
      try emit(list)
      return
    }
    unowned(unsafe) let step = list.buffer[i].step
    // Scans and lookups get the entry, not the step: a step passed as an argument would be
    // retained and released on every call.
    switch step.kind {
    case .scan: try scan(list, i, list.buffer[i])
    case .lookup: try lookup(list, i, list.buffer[i])
    case .member:
      guard let ref = step.relationRef else { return }
      try loadKeys(step.keyBuffer, step.keyCount)
      let key = UnsafePointer(scratch)
      if let r = ref._withUnsafeGuaranteedRef({ $0.find(key) }), r >= step.low, r < step.high { try run(list, i + 1) }
    case .absent:
      if try !exists(list.buffer[i]) { try run(list, i + 1) }
    case .filter:
      let a = try value(step.left), b = try value(step.right)
      if Arithmetic.compare(step.comparison, a, b, store: store) { try run(list, i + 1) }
    case .assign:
      slots[step.target] = try value(step.right)
      try run(list, i + 1)
    case .aggregate:
      guard let plan = step.aggregate else { return }
      if let result = try aggregate(plan, span: step.span) {
        if let s = plan.resultSlot {
          slots[s] = result
          try run(list, i + 1)
        } else if let o = plan.resultOperand, Arithmetic.compare(.equal, try value(o), result, store: store) {
          try run(list, i + 1)
        }
      }
    }
  }

  /// A scan: every row in the step's range (or its distinct combinations, or only its count).
  @inline(__always) private func scan(_ list: BoundSteps, _ i: Int, _ entry: BoundSteps.Unowned) throws(EvaluationError) {
    unowned(unsafe) let step = entry.step
    guard let ref = step.relationRef else { return }
    if step.distinctCount > 0 {
      try scanDistinct(list, i, step, ref.takeUnretainedValue())
      return
    }
    let (arity, count) = ref._withUnsafeGuaranteedRef { ($0.arity, $0.count) }
    if step.countsOnly, let plan = list.aggregate {
      try foldCount(plan, max(0, min(step.high, count) &- step.low))
      return
    }
    if step.aheadCount > 0 {
      try visitRowsProbingAhead(list, i, RowVisit(entry), ref, arity, from: step.low, to: min(step.high, count))
    } else {
      try visitRows(list, i, RowVisit(entry), ref, arity, from: step.low, to: min(step.high, count))
    }
  }

  /// A lookup: the rows whose key columns equal the step's keys, read through its index (one
  /// range when the relation is sorted by the key, else the index's chain for the key).
  @inline(__always) private func lookup(_ list: BoundSteps, _ i: Int, _ entry: BoundSteps.Unowned) throws(EvaluationError) {
    unowned(unsafe) let step = entry.step
    guard let ref = step.relationRef, let indexRef = step.indexRef else { return }
    let arity = ref._withUnsafeGuaranteedRef { $0.arity }
    try loadKeys(step.keyBuffer, step.keyCount)
    let key = UnsafePointer(scratch)
    let low = step.low, high = step.high
    if indexRef._withUnsafeGuaranteedRef({ $0.isClustered }) {
      let rows = indexRef._withUnsafeGuaranteedRef { $0.rows(key) }
      let from = max(rows.lowerBound, low), to = min(rows.upperBound, high)
      if from >= to { return }
      if step.countsOnly, let plan = list.aggregate {
        try foldCount(plan, to &- from)
        return
      }
      if step.aheadCount > 0 {
        try visitRowsProbingAhead(list, i, RowVisit(entry), ref, arity, from: from, to: to)
      } else {
        try visitRows(list, i, RowVisit(entry), ref, arity, from: from, to: to)
      }
      return
    }
    let at = indexRef._withUnsafeGuaranteedRef { $0.build(); return $0.slot(key) }
    if at < 0 { return }
    if step.countsOnly, let plan = list.aggregate {
      try foldCount(plan, indexRef._withUnsafeGuaranteedRef { $0.count(atSlot: at, low: low, high: high) })
      return
    }
    var e = indexRef._withUnsafeGuaranteedRef { $0.head(atSlot: at) }
    var (data, next) = (ref._withUnsafeGuaranteedRef { $0.data }, indexRef._withUnsafeGuaranteedRef { $0.next })
    var seen = flushes
    let visit = RowVisit(entry)
    // The chain runs from the newest row to the oldest.
    while e != 0 {
      let r = Int(e) &- 1
      if r < low { break }
      e = next[r]
      if r >= high { continue }
      try budget.tick()
      if try visitRow(list, i, visit, data + r &* arity) { return }
      if flushes != seen {
        // The sink stored tuples: this relation's rows and links may have moved.
        (data, next) = (ref._withUnsafeGuaranteedRef { $0.data }, indexRef._withUnsafeGuaranteedRef { $0.next })
        seen = flushes
      }
    }
  }

  /// What a scan or lookup does with each matching row, read from the step once, not once
  /// per row.
  private struct RowVisit {
    let bindColumns: UnsafeMutablePointer<Int>, bindSlots: UnsafeMutablePointer<Int>, binds: Int
    let checkColumns: UnsafeMutablePointer<Int>, checkOperands: UnsafeMutablePointer<BoundOperand>, checks: Int
    /// An existence check: stop after the first row that matches.
    let once: Bool

    @inline(__always) init(_ entry: BoundSteps.Unowned) {
      unowned(unsafe) let step = entry.step
      bindColumns = step.bindColumnBuffer
      bindSlots = step.bindSlotBuffer
      binds = step.bindCount
      checkColumns = step.checkColumnBuffer
      checkOperands = step.checkOperandBuffer
      checks = step.checkCount
      once = step.existsOnly
    }
  }

  /// Visits the rows `from..<to` of a scan or a clustered lookup.
  @inline(__always) private func visitRows(
    _ list: BoundSteps, _ i: Int, _ visit: RowVisit, _ ref: Unmanaged<Relation>, _ arity: Int, from: Int,
    to: Int
  ) throws(EvaluationError) {
    var data = ref._withUnsafeGuaranteedRef { $0.data }
    var seen = flushes
    var r = from
    while r < to {
      try budget.tick()
      let row = r
      r &+= 1
      if try visitRow(list, i, visit, ref, arity, row, &data, &seen) { return }
    }
  }

  /// Visits row `r` of a loop over `ref`'s rows (read at `data`); returns true when the step
  /// needs no more rows. When the sink stored tuples meanwhile (`flushes` moved past `seen`),
  /// the relation's rows may have moved: `data` is read again.
  @inline(__always) private func visitRow(
    _ list: BoundSteps, _ i: Int, _ visit: RowVisit, _ ref: Unmanaged<Relation>, _ arity: Int, _ r: Int,
    _ data: inout UnsafeMutablePointer<Value>, _ seen: inout Int
  ) throws(EvaluationError) -> Bool {
    if try visitRow(list, i, visit, data + r &* arity) { return true }
    if flushes != seen {
      data = ref._withUnsafeGuaranteedRef { $0.data }
      seen = flushes
    }
    return false
  }

  /// Rows a loop announces its next step's probe ahead (`visitRowsProbingAhead`): the hash is
  /// computed and the table group prefetched this many rows ahead, the candidate rows that
  /// group names `rowsAhead` rows ahead (when the group has arrived).
  static let groupsAhead = 16
  static let rowsAhead = 8

  /// `visitRows` for a step whose next step probes a relation's table for a whole tuple or an
  /// index for a key (`BoundStep.aheadCount`): each row's probe is hashed `groupsAhead` rows
  /// before the row is visited and its table group (or index slot) prefetched, then the rows
  /// it names `rowsAhead` rows before, so the probe itself finds its memory in the cache. Only
  /// prefetches run ahead, and they read the table or index as it is when they run: the
  /// probes, and everything else, run in the order `visitRows` runs them (a probe of the head
  /// sees the tuples the rows before it stored). An index not built yet when the loop starts
  /// is built by the probe as usual, and nothing is prefetched; nor is anything for a relation
  /// the caches hold (`Budget.probeAheadFrom`).
  private func visitRowsProbingAhead(
    _ list: BoundSteps, _ i: Int, _ visit: RowVisit, _ ref: Unmanaged<Relation>, _ arity: Int, from: Int,
    to: Int
  ) throws(EvaluationError) {
    if from >= to { return }
    unowned(unsafe) let step = list.buffer[i].step
    guard let probedRef = step.aheadRelationRef, let columns = step.aheadColumnBuffer,
      let operands = step.aheadOperandBuffer
    else {
      return try visitRows(list, i, visit, ref, arity, from: from, to: to)
    }
    let rowBytes = probedRef._withUnsafeGuaranteedRef { $0.count &* $0.arity &* MemoryLayout<Value>.stride }
    if rowBytes < budget.probeAheadFrom {
      return try visitRows(list, i, visit, ref, arity, from: from, to: to)
    }
    let indexRef = step.aheadIndexRef
    if let indexRef {
      if !indexRef._withUnsafeGuaranteedRef({ $0.isBuilt }) {
        return try visitRows(list, i, visit, ref, arity, from: from, to: to)
      }
    } else {
      probedRef._withUnsafeGuaranteedRef { $0.prepareForFinds() }
    }
    let n = step.aheadCount
    let ringSize = 32  // holds the hashes of rows r to r + groupsAhead
    // Apart: after an odd number of 4-byte values, 8-byte hashes would be misaligned.
    let key = UnsafeMutablePointer<Value>.allocate(capacity: max(1, n))
    defer { key.deallocate() }
    let ring = UnsafeMutablePointer<UInt64>.allocate(capacity: ringSize)
    defer { ring.deallocate() }
    // Values bound before this step (and constants) are the same for every row.
    for k in 0..<n where columns[k] < 0 { key[k] = try value(operands[k]) }
    var data = ref._withUnsafeGuaranteedRef { $0.data }
    @inline(__always) func announce(_ r: Int) {
      let base = data + r &* arity
      for k in 0..<n where columns[k] >= 0 { key[k] = base[columns[k]] }
      if let indexRef {
        let h = TupleHash.of(key, n)
        ring[r & (ringSize &- 1)] = h
        indexRef._withUnsafeGuaranteedRef { $0.prefetchSlot(forKeyHash: h) }
      } else {
        let h = Relation.hash(key, n)
        ring[r & (ringSize &- 1)] = h
        probedRef._withUnsafeGuaranteedRef { $0.prefetchGroup(forHash: h) }
      }
    }
    for r in from..<min(to, from &+ Executor.groupsAhead) { announce(r) }
    var seen = flushes
    var r = from
    while r < to {
      try budget.tick()
      if r &+ Executor.groupsAhead < to { announce(r &+ Executor.groupsAhead) }
      if r &+ Executor.rowsAhead < to {
        let h = ring[(r &+ Executor.rowsAhead) & (ringSize &- 1)]
        if let indexRef {
          indexRef._withUnsafeGuaranteedRef { $0.prefetchRows(forKeyHash: h) }
        } else {
          probedRef._withUnsafeGuaranteedRef { $0.prefetchRows(forHash: h) }
        }
      }
      let row = r
      r &+= 1
      if try visitRow(list, i, visit, ref, arity, row, &data, &seen) { return }
    }
  }

  /// Binds a matching row's columns, checks its repeated variables and runs the rest of the
  /// body; returns true when the step needs no more rows (an existence check that matched).
  @inline(__always) private func visitRow(
    _ list: BoundSteps, _ i: Int, _ visit: RowVisit, _ base: UnsafeMutablePointer<Value>
  ) throws(EvaluationError) -> Bool {
    for b in 0..<visit.binds { slots[visit.bindSlots[b]] = base[visit.bindColumns[b]] }
    for c in 0..<visit.checks where base[visit.checkColumns[c]] != (try value(visit.checkOperands[c])) { return false }
    try run(list, i + 1)
    return visit.once
  }

  /// A body's first scan, some of whose columns nothing later reads: the rest of the body runs
  /// once per distinct combination of the columns that are read (`Visit.distinct`).
  private func scanDistinct(_ list: BoundSteps, _ i: Int, _ step: BoundStep, _ relation: Relation) throws(EvaluationError) {
    let columns = step.distinctColumns
    let seen = Relation(arity: columns.count)
    let key = UnsafeMutablePointer<Value>.allocate(capacity: columns.count)
    defer { key.deallocate() }
    let arity = relation.arity
    for r in step.low..<max(step.low, min(step.high, relation.count)) {
      try budget.tick()
      let base = relation.data + r &* arity
      for (k, c) in columns.enumerated() { key[k] = base[c] }
      guard seen.insert(key) else { continue }
      for b in 0..<step.bindCount { slots[step.bindSlotBuffer[b]] = base[step.bindColumnBuffer[b]] }
      try run(list, i + 1)
    }
  }

  /// The rows of one atom step that match its bound columns (a count with nothing to deduplicate).
  private func countRows(_ step: BoundStep, _ rel: Relation) throws(EvaluationError) -> Int {
    switch step.kind {
    case .scan:
      return max(0, min(step.high, rel.count) - step.low)
    case .member:
      try loadKeys(step.keyBuffer, step.keyCount)
      return rel.find(scratch) == nil ? 0 : 1
    default:
      guard let index = step.index else { return 0 }
      try loadKeys(step.keyBuffer, step.keyCount)
      if index.isClustered {
        let rows = index.rows(scratch)
        return max(0, min(rows.upperBound, step.high) - max(rows.lowerBound, step.low))
      }
      index.build()
      let at = index.slot(scratch)
      return at < 0 ? 0 : index.count(atSlot: at, low: step.low, high: step.high)
    }
  }

  /// Whether any row matches the bound columns of a negated atom (true when the step has no
  /// relation: nothing runs past it). Given the entry, not the step, and reading the relation
  /// and index unretained, as scans and lookups do: this runs once per binding.
  @inline(__always) private func exists(_ entry: BoundSteps.Unowned) throws(EvaluationError) -> Bool {
    unowned(unsafe) let step = entry.step
    guard let ref = step.relationRef else { return true }
    if step.keyCount == 0 { return ref._withUnsafeGuaranteedRef { $0.count > 0 } }
    try loadKeys(step.keyBuffer, step.keyCount)
    let key = UnsafePointer(scratch)
    if let indexRef = step.indexRef {
      return indexRef._withUnsafeGuaranteedRef { index in
        if index.isClustered { return !index.rows(key).isEmpty }
        index.build()
        return index.first(key) != 0
      }
    }
    return ref._withUnsafeGuaranteedRef { $0.find(key) } != nil
  }

  private func emit(_ list: BoundSteps) throws(EvaluationError) {
    if let plan = list.aggregate {
      try fold(plan)
      return
    }
    emitted &+= 1
    let projection = list.projectionBuffer
    let n = list.projectionCount
    if outputCount &+ n > outputCapacity {
      // Doubling, but not far past a chunk when a sink takes chunks away.
      let doubled = 2 * (outputCount + n)
      outputCapacity = sink == nil ? doubled : max(outputCount + n, min(doubled, chunkValues + n))
      output = Memory.resize(output, count: outputCapacity)
    }
    for k in 0..<n { output[outputCount &+ k] = try value(projection[k]) }
    if n == 2 {
      if recentOn {
        let key = UInt64(output[outputCount]) << 32 | UInt64(output[outputCount &+ 1])
        let at = Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> Executor.recentShift)
        recentChecks &+= 1
        if recent[at] == key {
          recentHits &+= 1
          return
        }
        recent[at] = key
        if recentChecks == Executor.recentWindow { reviewRecent() }
      } else if (emitted &- 1) &* 2 >= Executor.recentFrom, sink != nil, !recentGivenUp {
        startRecent()
      }
    }
    outputCount &+= n
    if outputCount >= chunkValues { try flush() }
  }

  // MARK: - Repeated derivations

  /// Binary tuples derived lately, by hash, one per slot (2^16 slots, 512 KiB: the second-level
  /// cache holds it): a derivation equal to the one in its slot is dropped at once, before it
  /// costs a probe of the head relation's table (far larger than the caches) or room in the
  /// output. Joins such as points-to's derive the same tuples hundreds of times in a run, close
  /// together (one `store` row's targets times each object). Dropping a repeat of a tuple
  /// derived earlier in the same run changes nothing: insertion keeps the first of repeats.
  private var recent: UnsafeMutablePointer<UInt64>
  /// Whether `recent` is in use for this run: from `recentFrom` values derived on (a small run
  /// does not pay for clearing it).
  private var recentOn = false
  static let recentShift: UInt64 = 64 - 16
  static let recentFrom = 1 << 16
  /// Derivations checked and found repeated since the last review.
  private var recentChecks = 0
  private var recentHits = 0
  /// Whether `recent` was given up for this run (too few repeats to pay for itself).
  private var recentGivenUp = false
  /// Whether a run goes on with `recent` as the last run left it (in use, given up, or not
  /// started) rather than starting afresh: a parallel round's waves (`ParallelRound`) run the
  /// rule again and again over parts of one delta, and each would otherwise clear it, let its
  /// first derivations through unchecked and, where repeats are few, try it again. What the
  /// last wave derived is stored by then, so dropping a repeat of it changes nothing.
  var continuesRecent = false
  static let recentWindow = 1 << 16

  /// After each window of checks: a run where fewer than half the derivations checked are
  /// repeats (a linear closure's) stops checking, for the rest of the run: with a threshold of
  /// one in eight the random 4,000-node closure kept checking and took 10-15% more time.
  private func reviewRecent() {
    if recentHits &* 2 < recentChecks {
      recentOn = false
      recentGivenUp = true
    }
    recentChecks = 0
    recentHits = 0
  }

  /// Empties `recent` and uses it for the rest of the run. An empty slot holds 0, the key of
  /// the tuple (0, 0): that tuple's own slot holds a key whose slot is another, so it is never
  /// taken for a repeat.
  private func startRecent() {
    recent.update(repeating: 0, count: 1 << 16)
    let zeroAt = Int(truncatingIfNeeded: UInt64(0) >> Executor.recentShift)
    recent[zeroAt] = 1 << 63 | 1
    recentOn = true
    recentChecks = 0
    recentHits = 0
  }

  /// Values of derived tuples held before they are handed to `sink` (32 MiB): a round that
  /// derives the same tuples many times over (non-linear recursion) never holds more than
  /// this many. Large enough that the ordinary rounds of big closures (the random 2,000-node
  /// graph's) are deduplicated once, when inserted; 64 MiB gave them nothing more and cost the
  /// non-linear closure of a 1,000 chain 33 MB more peak memory (87 against 54 MB), 2 MiB cost
  /// the random graph's closure 40% more time (its rounds then move to a staging relation).
  static let chunkValues = 1 << 23
  /// The chunk of this run: `chunkValues`, or less when the sink stores each chunk at once
  /// (`Evaluator.run` writing the head directly): a few tuples at a time are as fast to store,
  /// and hold no memory.
  var chunkValues = Executor.chunkValues
  /// A chunk for a sink that stores what it gets (128 KiB: the caches hold it).
  static let storedChunkValues = 1 << 15

  /// Gives back the output buffer when it is large (a run's derivations were buffered in it),
  /// so it is not held while other rules run or the relations rest.
  func releaseLargeOutput() {
    guard outputCapacity > 1 << 20 else { return }
    outputCount = 0
    outputCapacity = 1024
    output = Memory.resize(output, count: outputCapacity)
  }

  /// Receives a full chunk of derived tuples (rows, count) during a run and returns how many
  /// it left at the front of the buffer to stay there; the output holds those and what comes
  /// after for the caller. Without a sink, the output grows as it must.
  var sink: ((UnsafeMutablePointer<Value>, Int) throws(EvaluationError) -> Int)?

  /// Hands the tuples derived so far to `sink`, keeping what it leaves.
  private func flush() throws(EvaluationError) {
    try budget.checkMemory(nil)
    guard let sink, outputArity > 0 else { return }
    flushes &+= 1
    outputCount = try sink(output, outputCount / outputArity) &* outputArity
  }

  /// Calls of `sink` so far. A sink may store tuples in a relation the run is reading (the
  /// rule's head, see `Evaluator.run`), moving its rows and index links: a loop over rows reads
  /// their addresses again when this changed.
  private var flushes = 0

  // MARK: - Aggregates

  /// The aggregate's value for the current group, or nil (min/max over nothing).
  private func aggregate(_ plan: BoundAggregate, span: SourceSpan?) throws(EvaluationError) -> Value? {
    if plan.countsRows, let step = plan.body.steps.first, let rel = step.relation {
      return store.integer(Int64(try countRows(step, rel)))
    }
    plan.count = 0
    plan.integerSum = 0
    plan.decimals.removeAll(keepingCapacity: true)
    plan.extreme = nil
    let enclosing = aggregateSpan
    aggregateSpan = span
    defer { aggregateSpan = enclosing }
    try run(plan.body, 0)
    switch plan.function {
    case .count:
      return store.integer(Int64(plan.count))
    case .sum:
      if !plan.decimals.isEmpty {
        // Sorted, so the total never depends on the order the facts were written in.
        let total = plan.decimals.sorted().reduce(Double(plan.integerSum), +)
        guard total.isFinite else { throw EvaluationError(.runtime, "Decimal overflow in 'sum'", at: span) }
        return store.decimal(total)
      }
      guard let exact = Int64(exactly: plan.integerSum) else {
        throw EvaluationError(
          .runtime, "Integer overflow in 'sum'", at: span,
          hint: "integers are 64-bit; a decimal among the values makes the sum a decimal")
      }
      return store.integer(exact)
    case .min, .max:
      return plan.extreme
    }
  }

  /// Where the aggregate being folded is, for its errors.
  private var aggregateSpan: SourceSpan?

  /// Adds `n` bindings at once to a count (see `Visit.counted`).
  private func foldCount(_ plan: BoundAggregate, _ n: Int) throws(EvaluationError) {
    let before = plan.count
    plan.count &+= n
    if before >> 16 != plan.count >> 16 { try budget.check(aggregateSpan) }
  }

  /// Adds the current binding of an aggregate's body to its fold.
  private func fold(_ plan: BoundAggregate) throws(EvaluationError) {
    plan.count &+= 1
    if plan.count & 0xFFFF == 0 { try budget.check(aggregateSpan) }
    guard plan.function != .count, let operand = plan.value else { return }
    let v = try value(operand)
    switch plan.function {
    case .sum:
      if let x = ValueStore.smallInteger(v) {
        plan.integerSum &+= Int128(x)  // 2^28 per value: 2^99 bindings before it could wrap
        return
      }
      switch store.decode(v) {
      case .integer(let x):
        let (s, o) = plan.integerSum.addingReportingOverflow(Int128(x))
        if o { throw EvaluationError(.runtime, "Integer overflow in 'sum'", at: aggregateSpan) }
        plan.integerSum = s
      case .decimal(let d):
        plan.decimals.append(d)
      case let other:
        throw EvaluationError(.runtime, "'sum' needs numbers but got \(Arithmetic.describe(other))", at: aggregateSpan)
      }
    case .min:
      if let a = plan.extreme, store.compare(v, a) >= 0 { return }
      plan.extreme = v
    case .max:
      if let a = plan.extreme, store.compare(v, a) <= 0 { return }
      plan.extreme = v
    case .count: break
    }
  }

}
