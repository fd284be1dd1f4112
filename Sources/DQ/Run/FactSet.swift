/// A set of tuples of one relation that a session keeps beside the database: the facts a loaded
/// file stated (so `.unload` and a reload take out only those), and the facts pinned because
/// they were also stated elsewhere.
///
/// The rows sit in an engine `Relation` (one flat buffer and its deduplication table), not in a
/// `Set<[Value]>`: a file that imports a million rows would otherwise pay an array allocation
/// and a hash of it per row, which once took a third of a script's run. A value type: copies
/// share the rows until one of them changes (copy on write).
struct FactSet {
  private var rows: Relation?

  init() {}

  /// The number of tuples.
  var count: Int { rows?.count ?? 0 }

  func contains(_ tuple: [Value]) -> Bool {
    guard let rows, rows.arity == tuple.count else { return false }
    return rows.contains(tuple)
  }

  /// Adds the tuple (of the set's arity: a relation has one).
  mutating func insert(_ tuple: [Value]) {
    writable(arity: tuple.count).insert(tuple)
  }

  /// Adds `n` tuples of `arity` values stored one after another.
  mutating func insertAll(_ base: UnsafePointer<Value>, count n: Int, arity: Int) {
    guard n > 0 else { return }
    _ = writable(arity: arity).insertAll(base, count: n)
  }

  mutating func remove(_ tuple: [Value]) {
    guard contains(tuple), let r = rows?.find(tuple) else { return }
    writable(arity: tuple.count).removeRows([r])
  }

  /// The tuples for which `keep` holds.
  func filter(_ keep: ([Value]) -> Bool) -> Set<[Value]> {
    guard let rows else { return [] }
    var out: Set<[Value]> = []
    for r in 0..<rows.count {
      let t = rows.row(r)
      if keep(t) { out.insert(t) }
    }
    return out
  }

  /// The relation to change: made on first use, copied first when a copy of this set shares it.
  /// Tuples of another arity replace the set's (a relation forgotten and named again with other
  /// columns is another relation; none of the old tuples can be its facts).
  private mutating func writable(arity: Int) -> Relation {
    if isKnownUniquelyReferenced(&rows), let existing = rows, existing.arity == arity { return existing }
    let fresh = Relation(arity: arity)
    if let old = rows, old.arity == arity, old.count > 0 {
      fresh.reserve(old.count)
      _ = fresh.insertAll(old.data, count: old.count)
    }
    rows = fresh
    return fresh
  }
}
