/// `.attach FILE.db`, `.import FILE.db [TABLE [RELATION]]` and `.export RELATION FILE.db`:
/// SQLite databases in and out, all or nothing, as the other imports and exports are.
extension Session {
  /// `.attach FILE`: every table and view of the SQLite database becomes a relation.
  func attachDatabase(_ arg: CommandArgument) -> CommandOutcome {
    let words = arg.words
    guard words.count == 1 else { return .usage("Use '.attach FILE', e.g. .attach shop.db") }
    return importDatabase(Self.besideScript(words[0], of: arg.span.file.name), table: nil, relation: nil, at: arg.span)
  }

  /// `.import FILE [TABLE [RELATION]]` when FILE is a SQLite database (its extension is .db,
  /// .sqlite or .sqlite3, or it starts with SQLite's header); nil for any other import.
  func importDatabaseIfSQLite(_ arg: CommandArgument) -> CommandOutcome? {
    let words = arg.words
    guard (1...3).contains(words.count), !words[0].hasPrefix("--") else { return nil }
    let path = Self.besideScript(words[0], of: arg.span.file.name)
    guard SQLiteReader.handles(path) else { return nil }
    if words.count == 3 {
      guard let first = words[2].unicodeScalars.first, first >= "a" && first <= "z" else {
        return .usage("Use '.import FILE.db [TABLE [RELATION]]': a relation name starts with a lower-case letter, not '\(words[2])'")
      }
    }
    return importDatabase(path, table: words.count > 1 ? words[1] : nil, relation: words.count > 2 ? words[2] : nil, at: arg.span)
  }

  /// Reads table `table` of the database at `path` into `relation` (by default the table's
  /// name in lower snake case), or with no table every table and view into relations named
  /// after them. Every table is read before any relation changes: a failure (a file that is not
  /// a database, a corrupt page, a BLOB, a relation of another arity, the memory limit) leaves
  /// every relation as it was. New relations take the tables' column names, as `.decl` spells
  /// them (lower snake case).
  func importDatabase(_ path: String, table: String?, relation: String?, at span: SourceSpan) -> CommandOutcome {
    var staged: [(relation: String, table: SQLiteReader.Table)] = []
    do throws(SQLiteFailure) {
      let db = try SQLiteReader.connect(path)
      let all = try SQLiteReader.tableNames(db)
      var chosen = all
      if let table {
        let lower = all.filter { $0.lowercased() == table.lowercased() }
        guard let found = all.first(where: { $0 == table }) ?? (lower.count == 1 ? lower.first : nil) else {
          let known = all.isEmpty ? "it has no tables" : "its tables and views: " + all.joined(separator: ", ")
          return .error("'\(path)' has no table or view '\(table)'; \(known)")
        }
        chosen = [found]
      }
      let names = relation.map { [$0] } ?? Self.columnNames(chosen)
      var bytes = 0
      for (t, name) in zip(chosen, names) {
        staged.append(
          (name, try SQLiteReader.readTable(db, table: t, store: database.store, memoryLimit: options.maxMemory, staged: &bytes,
            interrupted: frontEnd.interruption)))
      }
    } catch {
      return error.kind == .unreadable ? .unreadable(error.message) : .error(error.message)
    }
    for (name, t) in staged {
      if let existing = schema[name], existing.arity != t.columns.count {
        report(
          Diagnostic(
            .error, .semantic,
            "Relation '\(name)' has \(existing.arity) columns but table '\(t.name)' of '\(path)' has \(t.columns.count); nothing was imported",
            at: span, hint: "name another relation: .import \(path) \(t.name) RELATION"))
        return .reported(.staticError)
      }
    }
    // A column of a declared relation whose facts are all numbers (or all dates) takes no other
    // kind, as for a CSV import.
    for (name, t) in staged {
      if let problem = wrongKind(t, into: name, path: path) { return .error(problem) }
    }
    var resolver = Resolver(schema: schema)
    for (name, t) in staged {
      let arity = t.columns.count
      if resolver.schema[name]?.declared != true, (database.tables[name]?.rows.count ?? 0) == 0 {
        // A new relation (not declared, no facts yet) takes the table's column names.
        _ = resolver.schema.declare(Declaration(name: name, columns: Self.columnNames(t.columns), description: "", span: span))
      }
      resolver.declareUse(name, arity: arity, at: span)
    }
    schema = resolver.schema
    for (name, t) in staged {
      let table = database.table(name, arity: t.columns.count)
      let holder = table.factRows
      let before = holder.count
      holder.reserve(t.rowCount)
      let added = t.rows.withUnsafeBufferPointer { p in p.baseAddress.map { holder.insertAll($0, count: t.rowCount) } ?? 0 }
      table.appendCitations(added, reading.currentCitation)
      // The rows a loaded file imports are its own (the new ones: they were appended).
      recordImported(name, holder, from: before)
      noteFactsChanged(name)
    }
    return .ok
  }

  /// The first value of `t` whose kind differs from that of every fact in its column of the
  /// declared relation `name` (when the facts of that column all have one kind, not symbol).
  private func wrongKind(_ t: SQLiteReader.Table, into name: String, path: String) -> String? {
    guard let declared = schema[name], declared.declared, let facts = database.tables[name]?.factRows, facts.count > 0,
      facts.arity == t.columns.count
    else { return nil }
    let store = database.store
    func kindName(_ k: ValueKind) -> String { k == .number ? "number" : k == .date ? "date" : "symbol" }
    for c in 0..<facts.arity {
      let kind = store.kind(facts[0, c])
      guard kind != .symbol, (1..<facts.count).allSatisfy({ store.kind(facts[$0, c]) == kind }) else { continue }
      for r in 0..<t.rowCount where store.kind(t.rows[r * facts.arity + c]) != kind {
        let v = t.rows[r * facts.arity + c]
        return
          "'\(path)': table '\(t.name)', row \(r + 1), column '\(t.columns[c])' holds '\(store.text(v))', a \(kindName(store.kind(v))), but column \(c + 1) ('\(declared.columns[c])') of the declared relation holds only \(kindName(kind))s; nothing was imported"
      }
    }
    return nil
  }

  /// `.export [--format sqlite] RELATION FILE` when FILE ends in .db, .sqlite or .sqlite3 or
  /// the format is sqlite; nil for any other export.
  func exportDatabaseIfSQLite(_ arg: CommandArgument) -> CommandOutcome? {
    var words = arg.words
    if words.count == 4, words[0] == "--format" {
      guard words[1].lowercased() == "sqlite" else { return nil }
      words.removeFirst(2)
    } else {
      guard words.count == 2 else { return nil }
      let lower = words[1].lowercased()
      guard lower.hasSuffix(".db") || lower.hasSuffix(".sqlite") || lower.hasSuffix(".sqlite3") else { return nil }
    }
    let (name, path) = (words[0], words[1])
    let relation: RelationSchema, rows: [[Value]]
    switch tuplesToExport(name) {
    case .success(let found): (relation, rows) = found
    case .failure(let refusal): return refusal.outcome
    }
    do throws(SQLiteFailure) {
      try SQLiteWriter.write(path, table: name, columns: relation.columns, rows: rows, store: database.store)
    } catch {
      switch error.kind {
      case .io: return .ioError(error.message)
      case .unreadable: return .unreadable(error.message)
      case .data: return .error(error.message)
      }
    }
    return .ok
  }
}
