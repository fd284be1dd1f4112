/// What is known about each relation name: its arity, column names and description.
public struct RelationSchema: Sendable {
  public var name: String
  public var arity: Int
  /// Declared column names, or generated ones (`c1`, `c2`, ...).
  public var columns: [String]
  public var description: String
  public var declared: Bool
  /// Where the name was first declared or used, for "first used here" notes.
  public var origin: SourceSpan?
}

/// The schema of a session: relation names to their shapes.
public struct Schema: Sendable {
  public private(set) var relations: [String: RelationSchema] = [:]

  public init() {}

  public subscript(name: String) -> RelationSchema? { relations[name] }

  /// Forgets a relation (when a program's own relation takes over a dataset name).
  mutating func remove(_ name: String) { relations[name] = nil }

  /// Records a use; returns the existing schema when the arity disagrees.
  mutating func use(_ name: String, arity: Int, at span: SourceSpan) -> RelationSchema? {
    if let existing = relations[name] {
      return existing.arity == arity ? nil : existing
    }
    relations[name] = RelationSchema(
      name: name, arity: arity, columns: (0..<arity).map { "c\($0 + 1)" }, description: "", declared: false,
      origin: span)
    return nil
  }

  /// Names the columns of an undeclared relation whose columns are still the generated `c1`,
  /// `c2`, ... (a JSON Lines import names them by its keys).
  mutating func nameColumns(_ name: String, _ columns: [String]) {
    guard let r = relations[name], !r.declared, r.arity == columns.count,
      r.columns == (0..<r.arity).map({ "c\($0 + 1)" })
    else { return }
    relations[name]?.columns = columns
  }

  /// Records a declaration; returns the existing schema when the arity disagrees.
  mutating func declare(_ d: Declaration) -> RelationSchema? {
    if let existing = relations[d.name], existing.arity != d.columns.count { return existing }
    relations[d.name] = RelationSchema(
      name: d.name, arity: d.columns.count, columns: d.columns, description: d.description, declared: true,
      origin: d.span)
    return nil
  }
}
