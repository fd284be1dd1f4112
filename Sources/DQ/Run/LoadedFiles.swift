/// Files as units of the program: each file run into the session (`dq FILE`, `dq -i FILE`,
/// `.load`) is recorded with the rules and facts it added, so loading it again replaces them
/// (SWI-Prolog's reconsult), `.reload` reloads every file and `.unload` removes one.
///
/// The rule for facts: a fact leaves with a file only when no other loaded file states it and
/// it was not also stated outside every loaded file (at the prompt, by `-e`, in the dataset, by
/// an `.import` outside a loaded file). Such a fact is "pinned" when the second statement comes.
/// Rules are never shared: each rule belongs to the file whose text it was written in.
extension Session {
  /// Records that the running text stated a fact (`new` when it was not stored before).
  func recordFact(_ name: String, _ tuple: [Value], new: Bool) {
    if let key = reading.origin, let i = program.loadedFiles.firstIndex(where: { $0.key == key }) {
      // Stored already, yet no loaded file stated it: it came from elsewhere and stays.
      if !new, !program.statedByFile(name, tuple) { program.pinnedFacts[name, default: FactSet()].insert(tuple) }
      program.loadedFiles[i].facts[name, default: FactSet()].insert(tuple)
    } else if !new, program.statedByFile(name, tuple) {
      program.pinnedFacts[name, default: FactSet()].insert(tuple)
    }
  }

  /// Records that the running text imported the rows of `holder` from row `first` on, all new
  /// (an import appends only what was not stored): a loaded file's own, else nothing to note.
  func recordImported(_ name: String, _ holder: Relation, from first: Int) {
    guard first < holder.count, let key = reading.origin, let i = program.loadedFiles.firstIndex(where: { $0.key == key })
    else { return }
    program.loadedFiles[i].facts[name, default: FactSet()].insertAll(
      holder.data + first * holder.arity, count: holder.count - first, arity: holder.arity)
  }

  /// Runs the text of a file as a loaded file: recorded under `key` (its canonical path), and,
  /// when it was loaded before, replacing what it added then. A new version with syntax errors
  /// changes nothing (the old clauses stay).
  func runLoaded(_ file: SourceFile, key: String) -> Status {
    let record = LoadedFile(key: key, path: file.name, sources: [ObjectIdentifier(file)], parent: reading.origin)
    if let i = program.loadedFiles.firstIndex(where: { $0.key == key }) {
      let (statements, errors) = Parser.parse(file)
      if !errors.isEmpty {
        errors.forEach(report)
        return .staticError
      }
      // The relations the new version defines again with the same columns stay, with what
      // was computed for them, so what changed can be updated rather than computed again.
      var defined: [String: Int] = [:]
      for s in statements {
        switch s {
        case .fact(let r), .rule(let r): defined[r.head.name] = r.head.arity
        case .facts(let b): defined[b.name] = b.arity
        case .declaration(let d): defined[d.name] = d.columns.count
        default: break
        }
      }
      removeClauses(of: program.loadedFiles[i], reloading: defined)
      program.loadedFiles[i] = record
    } else {
      program.loadedFiles.append(record)
    }
    let saved = reading.origin
    reading.origin = key
    defer { reading.origin = saved }
    let status = run(file)
    // Relations whose rules the new version no longer has hold their facts.
    for t in database.tables.values where t.hasRules && !rules.contains(where: { $0.head.name == t.name }) {
      database.keepOnlyFacts(t.name)
      evaluation.contentChanged(t.name)
    }
    if let i = program.loadedFiles.firstIndex(where: { $0.key == key }) {
      // The relations it named first, so `.unload` can forget the ones nothing else uses.
      program.loadedFiles[i].relations = Set(
        schema.relations.values.filter { $0.origin.map { ObjectIdentifier($0.file) == ObjectIdentifier(file) } ?? false }
          .map(\.name))
    }
    return status
  }

  /// Runs a file named on the command line (`dq FILE`, `dq -i FILE`) as a loaded file, so
  /// `.reload` and `.unload` know it.
  public func runFile(path: String, text: String) -> Status {
    let key = Self.canonicalPath(path) ?? path
    let saved = reading
    defer { reading = saved }
    reading.loading = [(path, key)]
    return runLoaded(SourceFile(name: path, text: text), key: key)
  }

  /// The loaded file a command names (resolved as `.load` resolves it), or nil.
  func loadedFile(named argument: String, at span: SourceSpan) -> LoadedFile? {
    let path = Self.besideScript(Self.unquoted(argument), of: span.file.name)
    let key = Self.canonicalPath(path) ?? path
    return program.loadedFiles.first { $0.key == key || $0.path == path }
  }

  /// `.unload FILE`: removes the rules and facts the file added. Files it loaded stay loaded
  /// (as SWI-Prolog's `unload_file`); `.unload` them by name.
  func unload(_ arg: CommandArgument) -> CommandOutcome {
    guard !arg.text.isEmpty else { return .usage("'.unload' needs a file name, e.g. .unload family.dq") }
    guard let file = loadedFile(named: arg.text, at: arg.span) else {
      let loaded = program.loadedFiles.map(\.path)
      return .error(
        "'\(Self.unquoted(arg.text))' is not a loaded file"
          + (loaded.isEmpty ? " (none is loaded)" : "; loaded: \(loaded.joined(separator: ", "))"))
    }
    removeClauses(of: file)
    program.loadedFiles.removeAll { $0.key == file.key }
    frontEnd.tell("Unloaded \(file.path).")
    return .ok
  }

  /// `.reload`: loads again every file loaded so far, in the order they were first loaded; a
  /// file loaded by another file still loaded comes back with it. Stops at the first that fails.
  func reload(_ arg: CommandArgument) -> CommandOutcome {
    guard arg.text.isEmpty else { return .usage("'.reload' takes no argument (it reloads every loaded file)") }
    let keys = Set(program.loadedFiles.map(\.key))
    let outer = program.loadedFiles.filter { $0.parent.map { !keys.contains($0) } ?? true }
    guard !outer.isEmpty else {
      frontEnd.tell("No file is loaded (.load FILE or dq -i FILE loads one).")
      return .ok
    }
    for file in outer {
      let outcome = load(path: file.path, at: arg.span)
      guard case .ok = outcome else { return outcome }
    }
    frontEnd.tell("Reloaded \(outer.map(\.path).joined(separator: ", ")).")
    return .ok
  }

  /// Takes out what a loaded file added: its rules, the facts only it stated, and the relations
  /// it named that nothing uses any more. The facts taken out are logged one by one, so what
  /// depends on them is brought up to date (`Incremental.swift`) when next asked.
  /// When the file is being loaded again, `reloading` names the relations its new version
  /// defines (with their arity).
  func removeClauses(of file: LoadedFile, reloading: [String: Int]? = nil) {
    let others = program.loadedFiles.filter { $0.key != file.key }
    let fromFile = { (r: Rule) in file.sources.contains(ObjectIdentifier(r.span.file)) }
    let removedHeads = Set(rules.filter(fromFile).map(\.head.name))
    rules.removeAll(where: fromFile)
    for (name, tuples) in file.facts {
      let pinned = program.pinnedFacts[name] ?? FactSet()
      let drop = tuples.filter { t in
        !pinned.contains(t) && !others.contains { $0.facts[name]?.contains(t) == true } && database.isFact(name, t)
      }
      if database.removeFacts(name, drop) > 0 { noteFactsChanged(name, inserted: [], deleted: Array(drop)) }
    }
    for name in removedHeads {
      evaluation.definitionChanged(name)
      // A relation left without rules holds its facts; when the file is loaded again, that
      // waits until it has run (its rules may come back, and what they derived is kept).
      if reloading == nil && !rules.contains(where: { $0.head.name == name }) {
        database.keepOnlyFacts(name)
        evaluation.contentChanged(name)
      }
    }
    // A relation the file named that has no facts, no rules and no use left is forgotten, so a
    // new version of the file may give it other columns; unless it was declared or first used
    // at the prompt, by -e or by another loaded file, which keep it.
    let named = file.relations.union(removedHeads).union(file.facts.keys)
    let keepers = others.reduce(into: Set<ObjectIdentifier>()) { $0.formUnion($1.sources) }
    for name in named where !datasetRelations.contains(name) {
      let used = rules.contains { $0.head.name == name || $0.body.contains { Self.relationNames($0).contains(name) } }
      let rows = database.tables[name]?.factRows.count ?? 0
      guard !used, rows == 0, let r = schema[name], reloading?[name] != r.arity else { continue }
      if let origin = r.origin, origin.file.name.hasPrefix("<") || keepers.contains(ObjectIdentifier(origin.file)) { continue }
      schema.remove(name)
      database.drop(name)
      program.pinnedFacts[name] = nil
      evaluation.contentChanged(name)
    }
  }

  // MARK: - Listings

  /// `.rules [RELATION]`: the rules of the session (not the dataset's), or every rule of one
  /// relation, printed as dq source under a comment naming the file they came from.
  public func ruleListing(of name: String) -> (listing: String, problem: String?) {
    let chosen: [Rule]
    if name.isEmpty {
      chosen = rules.filter { $0.span.file.name != Dataset.fileName }
    } else {
      guard schema[name] != nil else {
        let hint = Suggest.closest(to: name, in: Array(schema.relations.keys)).map { "; did you mean '\($0)'?" } ?? ""
        return ("", "No relation '\(name)'\(hint)")
      }
      chosen = rules.filter { $0.head.name == name }
    }
    var out = ""
    var lastFile: String? = nil
    for rule in chosen {
      let file = rule.span.file.name
      if file != lastFile {
        if lastFile != nil { out += "\n" }
        out += "% \(file)\n"
        lastFile = file
      }
      out += "\(rule)\n"
    }
    return (out, nil)
  }

  /// `.schema` with no argument: the declaration of every relation, by name.
  public func schemaListing() -> String {
    schema.relations.values.sorted { $0.name < $1.name }.map(Self.declarationLine).joined()
  }

  /// A relation's `.decl` line, as dq source.
  static func declarationLine(_ r: RelationSchema) -> String {
    var out = ".decl \(r.name)(\(r.columns.joined(separator: ", ")))"
    if !r.description.isEmpty { out += " \"\(r.description)\"" }
    return out + "\n"
  }
}
