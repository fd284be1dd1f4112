/// `.import FILE.jsonl RELATION`: JSON Lines into a relation, all or nothing, as TSV and CSV are.
extension Session {
  /// Loads the objects of a JSON Lines file into `name`: its declared columns, else the first
  /// object's keys in order, pick each value; a bad line loads nothing and names file and line.
  func importJSONLines(_ path: String, into name: String, at span: SourceSpan) -> CommandOutcome {
    let bytes: [UInt8]
    switch Importer.read(path) {
    case .success(let b): bytes = b
    case .failure(let e): return .unreadable(e.message)
    }
    let declared = schema[name].flatMap { $0.declared ? $0.columns : nil }
    let parsed: (columns: [String], rows: [[Value]])
    do throws(JSONLinesReader.Failure) {
      parsed = try JSONLinesReader.rows(bytes, path: path, columns: declared, relation: name, store: database.store)
    } catch {
      return .error(error.message)
    }
    let arity = schema[name]?.arity ?? parsed.columns.count
    var resolver = Resolver(schema: schema)
    if let existing = resolver.schema[name], existing.arity != parsed.columns.count, !parsed.rows.isEmpty {
      report(
        Diagnostic(.error, .semantic, "Relation '\(name)' has \(existing.arity) columns but the file's objects have \(parsed.columns.count)", at: span))
      return .reported(.staticError)
    }
    resolver.declareUse(name, arity: arity, at: span)
    if !parsed.rows.isEmpty { resolver.schema.nameColumns(name, parsed.columns) }
    schema = resolver.schema
    let table = database.table(name, arity: arity)
    let holder = table.factRows
    let before = holder.count
    var added = 0
    for row in parsed.rows where holder.insert(row) { added += 1 }
    table.appendCitations(added, reading.currentCitation)
    // The rows a loaded file imports are its own (the new ones: they were appended).
    recordImported(name, holder, from: before)
    noteFactsChanged(name)
    return .ok
  }
}
