/// The stored relations of a session, by name: current contents, explicit facts, citations.
public final class Database {
  /// One named relation.
  public final class Table {
    public let name: String
    public let arity: Int
    /// Current contents: explicit facts plus everything derived.
    public let rows: Relation
    /// Explicit facts, kept apart once the relation also has rules (nil while it has none, when
    /// `rows` holds exactly the facts).
    public internal(set) var facts: Relation?
    /// Citation index per fact row (of `facts ?? rows`); rows past the end have none, so facts
    /// without citations (imports, programs) cost nothing here.
    fileprivate(set) var citations: [Int32] = []
    public internal(set) var hasRules = false

    /// Records the citation of the `n` facts just added (the last `n` fact rows).
    func appendCitations(_ n: Int, _ citation: Int32) {
      guard citation >= 0, n > 0 else { return }
      let before = factRows.count - n
      if citations.count < before { citations.append(contentsOf: repeatElement(-1, count: before - citations.count)) }
      citations.append(contentsOf: repeatElement(citation, count: n))
      followReordering()
    }

    /// The citation index of a fact row, -1 for none.
    func citation(ofRow r: Int) -> Int32 { r >= 0 && r < citations.count ? citations[r] : -1 }

    init(name: String, arity: Int) {
      self.name = name
      self.arity = arity
      self.rows = Relation(arity: arity)
      rows.clusterable = true
    }

    /// While some fact has a citation, clustering `rows` must carry the citations along.
    private func followReordering() {
      guard rows.onReorder == nil else { return }
      rows.onReorder = { [unowned self] order in
        guard !self.citations.isEmpty, self.facts == nil else { return }
        self.citations = order.map { self.citation(ofRow: Int($0)) }
      }
    }

    /// The relation holding the explicit facts.
    public var factRows: Relation { facts ?? rows }
  }

  public let store = ValueStore()
  /// Rule runs split across threads so far (`ParallelRound`): the tests check parallel rounds ran.
  var parallelRuns = 0
  /// Waves of parallel rounds inserted concurrently (`ConcurrentInserter`), and those of them
  /// given up because a thread's list filled (appended afterwards), for the tests.
  var concurrentWaves = 0
  var givenUpWaves = 0
  /// Waves of parallel rounds split unevenly, following the threads' speeds, for the tests.
  var unevenWaves = 0
  /// The most bytes of derivations a rule's run held before storing them (its threads'
  /// output buffers and staging relations together), for the tests.
  var largestBuffered = 0
  /// Runs of a delta version in its other order (`RulePlan.alternative`), for the tests.
  var alternativeRuns = 0
  public private(set) var tables: [String: Table] = [:]
  /// Evidence cited by facts (see `.source`).
  public private(set) var citationList: [Citation] = []

  public init() { _ = Memory.configured }

  /// The table for a name, created empty on first use.
  public func table(_ name: String, arity: Int) -> Table {
    if let t = tables[name], t.arity == arity { return t }
    let t = Table(name: name, arity: arity)
    tables[name] = t
    return t
  }

  public func relation(_ name: String, arity: Int) -> Relation { table(name, arity: arity).rows }

  /// How many rows a relation holds now (0 for one not stored): the planner's statistics.
  public func rowCount(_ name: String) -> Int { tables[name]?.rows.count ?? 0 }

  /// Adds an explicit fact; returns true when it is new.
  @discardableResult
  public func addFact(_ name: String, _ tuple: [Value], citation: Int32 = -1) -> Bool {
    let t = table(name, arity: tuple.count)
    let holder = t.factRows
    guard holder.insert(tuple) else { return false }
    t.appendCitations(1, citation)
    return true
  }

  /// Forgets a relation entirely.
  func drop(_ name: String) { tables[name] = nil }

  /// Forgets what rules derived in a relation that has no rules any more: it holds its facts.
  func keepOnlyFacts(_ name: String) {
    guard let t = tables[name], t.hasRules else { return }
    t.rows.removeAll()
    if let facts = t.facts {
      for r in 0..<facts.count { t.rows.insert(facts.row(r)) }
    }
    t.facts = nil
    t.hasRules = false
    t.rows.clusterable = true
  }

  /// Registers a citation and returns its index.
  public func addCitation(_ c: Citation) -> Int32 {
    citationList.append(c)
    return Int32(citationList.count - 1)
  }

  /// Marks the relation as derived by rules: its facts move to their own relation.
  func markHasRules(_ name: String, arity: Int) {
    let t = table(name, arity: arity)
    guard !t.hasRules else { return }
    t.hasRules = true
    t.rows.clusterable = false
    let facts = Relation(arity: arity)
    facts.reserve(t.rows.count)
    for r in 0..<t.rows.count { facts.insert(t.rows.row(r)) }
    t.facts = facts
  }

  /// Removes an explicit fact; returns false when it was not one.
  public func removeFact(_ name: String, _ tuple: [Value]) -> Bool {
    guard let t = tables[name], t.arity == tuple.count, let row = t.factRows.find(tuple) else { return false }
    let holder = t.factRows
    var kept: [[Value]] = []
    var keptCitations: [Int32] = []
    for r in 0..<holder.count where r != row {
      kept.append(holder.row(r))
      keptCitations.append(t.citation(ofRow: r))
    }
    holder.removeAll()
    for k in kept { holder.insert(k) }
    t.citations = keptCitations.contains { $0 >= 0 } ? keptCitations : []
    if t.citations.isEmpty { t.rows.onReorder = nil }
    return true
  }


  /// Removes the explicit facts of `name` that are in `tuples` (one rebuild for them all);
  /// returns how many were removed.
  @discardableResult
  func removeFacts(_ name: String, _ tuples: Set<[Value]>) -> Int {
    guard let t = tables[name], !tuples.isEmpty else { return 0 }
    let holder = t.factRows
    var kept: [[Value]] = []
    var keptCitations: [Int32] = []
    for r in 0..<holder.count {
      let row = holder.row(r)
      if tuples.contains(row) { continue }
      kept.append(row)
      keptCitations.append(t.citation(ofRow: r))
    }
    let removed = holder.count - kept.count
    guard removed > 0 else { return 0 }
    holder.removeAll()
    for k in kept { holder.insert(k) }
    t.citations = keptCitations.contains { $0 >= 0 } ? keptCitations : []
    if t.citations.isEmpty { t.rows.onReorder = nil }
    return removed
  }

  /// The citation of an explicit fact, if it is one and has one.
  public func citation(of name: String, _ tuple: [Value]) -> Citation? {
    guard let t = tables[name], t.arity == tuple.count else { return nil }
    guard let row = t.factRows.find(tuple) else { return nil }
    let c = t.citation(ofRow: row)
    return c >= 0 ? citationList[Int(c)] : nil
  }

  /// Whether the tuple is an explicit fact.
  public func isFact(_ name: String, _ tuple: [Value]) -> Bool {
    guard let t = tables[name], t.arity == tuple.count else { return false }
    return t.factRows.contains(tuple)
  }
}
