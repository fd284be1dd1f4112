/// The three versions of a relation during semi-naive evaluation, as row ranges of one buffer.
///
/// Lifecycle: rows derived in a round are appended after `deltaEnd` ("new"); at the end of the
/// round `mergeDeltaIntoFullAndPromoteNew()` makes them the delta, and the old delta joins
/// "old". `full` = old + delta = rows `0 ..< deltaEnd`; `old` = rows `0 ..< deltaStart`.
struct RelationVersions {
  let relation: Relation
  private(set) var deltaStart = 0
  private(set) var deltaEnd: Int

  init(_ relation: Relation) {
    self.relation = relation
    self.deltaEnd = relation.count
  }

  /// Only the rows before `limit` as "full" (and "old"); nothing as delta.
  init(_ relation: Relation, upTo limit: Int) {
    self.relation = relation
    self.deltaStart = min(limit, relation.count)
    self.deltaEnd = min(limit, relation.count)
  }

  /// Starts the first round: everything present is "full", nothing is delta yet.
  mutating func beginFirstRound() {
    deltaStart = relation.count
    deltaEnd = relation.count
  }

  /// Rows appended in the last round become the delta; returns whether there are any.
  mutating func mergeDeltaIntoFullAndPromoteNew() -> Bool {
    deltaStart = deltaEnd
    deltaEnd = relation.count
    return deltaEnd > deltaStart
  }

  var hasDelta: Bool { deltaEnd > deltaStart }

  func bounds(_ range: RowRange) -> (Int, Int) {
    switch range {
    case .full: return (0, deltaEnd)
    case .old: return (0, deltaStart)
    case .delta: return (deltaStart, deltaEnd)
    }
  }
}
