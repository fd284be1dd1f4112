/// `.import --format gdelt|icews FILE [RELATION]`: GDELT and ICEWS event exports into their
/// fixed columns (see `EventLayout`), all or nothing, as TSV and CSV are.
extension Session {
  /// Loads the event export at `path` into `name` with `layout`'s columns: a relation not yet
  /// known is made with them; a known one must have them (or only its arity and no names).
  func importEvents(_ path: String, layout: EventLayout, into name: String, at span: SourceSpan) -> CommandOutcome {
    if let existing = schema[name], !layout.fits(columns: existing.columns) {
      report(
        Diagnostic(
          .error, .semantic,
          "Relation '\(name)' has columns (\(existing.columns.joined(separator: ", "))), not the \(layout.arity) columns of a \(layout.name) import",
          at: span, hint: "import into a new relation, e.g. .import --format \(layout.name) FILE \(layout.relation)"))
      return .reported(.staticError)
    }
    // A failed import leaves no trace: not the rows, not the relation's name.
    let (savedSchema, hadTable) = (schema, database.tables[name] != nil)
    var resolver = Resolver(schema: schema)
    resolver.declareUse(name, arity: layout.arity, at: span)
    resolver.schema.nameColumns(name, layout.columns)
    schema = resolver.schema
    return loadRows(into: name, arity: layout.arity, restoring: savedSchema, hadTable: hadTable) { table throws(Importer.Failure) in
      _ = try Importer.load(
        path: path, format: .tsv, layout: layout, into: table, store: database.store, citation: reading.currentCitation)
    }
  }

  /// The event layout a file shows unasked (nil when none, or when the relation `name` says
  /// otherwise): an ICEWS header row, or a first record of 57, 58 or 61 tab-separated fields
  /// whose first is an integer (GLOBALEVENTID) and second a YYYYMMDD date (SQLDATE): GDELT.
  /// A file that cannot be read is left to the ordinary import to report.
  func detectedLayout(_ path: String, into name: String?) -> EventLayout? {
    guard let first = try? Importer.firstRecord(path: path, format: .tsv, separator: 9, skip: 0),
      let layout = EventLayout.detect(tabFields: first.fields)
    else { return nil }
    let target = name ?? layout.relation
    guard layout.fits(columns: schema[target]?.columns) else { return nil }
    if layout.headerPrefix == nil {
      let interner = FieldInterner(store: ValueStore())
      let typed = { (k: Int, kind: EventLayout.Kind) -> Bool in
        Array(first.fields[k].utf8).withUnsafeBufferPointer { !$0.isEmpty && Importer.typedValue($0, kind, interner: interner) != nil }
      }
      guard typed(0, .integer), typed(1, .compactDate) else { return nil }
    }
    return layout
  }
}
