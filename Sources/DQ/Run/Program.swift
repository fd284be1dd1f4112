/// The program a session has been given: its schema, its rules in the order they came, and
/// which relations are the built-in dataset's. Facts live in the database; what has been
/// computed from them is the evaluation state's.
struct Program {
  var schema = Schema()
  /// Every rule in the order it was added.
  var rules: [Rule] = []
  /// The relations that belong to the built-in dataset.
  var datasetRelations: Set<String> = []
  /// The files run into the session (`dq FILE`, `dq -i FILE`, `.load`), in the order they were
  /// first loaded: loading one again replaces what it added, `.unload` removes it.
  var loadedFiles: [LoadedFile] = []
  /// Facts a loaded file stated that were also stated outside every loaded file (typed at the
  /// prompt, given with `-e`, in the dataset, imported): unloading a file never removes them.
  var pinnedFacts: [String: FactSet] = [:]

  /// True when a loaded file other than `key` stated the fact.
  func statedByFile(_ name: String, _ tuple: [Value], besides key: String? = nil) -> Bool {
    loadedFiles.contains { $0.key != key && $0.facts[name]?.contains(tuple) == true }
  }
}

/// A file run into the session, with what it added: its rules are those whose spans point into
/// one of its source texts; its facts are every fact it stated, new or not.
struct LoadedFile {
  /// The canonical path (one file under two names is one file).
  var key: String
  /// The path to read it again from, as it was resolved when loaded.
  var path: String
  /// The texts it was run from (rules keep their `SourceFile` in their spans).
  var sources: Set<ObjectIdentifier> = []
  /// The facts it stated, by relation.
  var facts: [String: FactSet] = [:]
  /// The relations it declared, defined or used first.
  var relations: Set<String> = []
  /// The loaded file whose text loaded this one: while it is loaded, `.reload` reloads it,
  /// and it loads this one again.
  var parent: String?
}

/// Changes to the program: the dataset, a retracted fact, a dataset name taken over.
extension Session {
  /// Removes one explicit fact given as text (`p(a, b).`); true when it was stored.
  public func retract(_ text: String) -> Result<Bool, Diagnostics> {
    var source = text.trimmingSpaces
    if !source.hasSuffix(".") { source += "." }
    let (statements, errors) = Parser.parse(SourceFile(name: "<retract>", text: source))
    if !errors.isEmpty { return .failure(Diagnostics(all: errors)) }
    guard statements.count == 1, case .fact(let r) = statements[0] else {
      return .failure(Diagnostics(all: [Diagnostic(.error, .syntax(incomplete: false), "'.retract' takes one fact such as p(a, b).", at: nil)]))
    }
    guard let shape = schema[r.head.name], shape.arity == r.head.arity else { return .success(false) }
    do {
      let tuple = try groundTuple(r.head)
      guard database.removeFact(r.head.name, tuple) else { return .success(false) }
      // Gone from everywhere: no file keeps stating it, nothing pins it.
      program.pinnedFacts[r.head.name]?.remove(tuple)
      for i in program.loadedFiles.indices { program.loadedFiles[i].facts[r.head.name]?.remove(tuple) }
      noteFactsChanged(r.head.name, inserted: [], deleted: [tuple])
      return .success(true)
    } catch {
      return .failure(Diagnostics(all: [error.diagnostic]))
    }
  }

  /// Runs the built-in dataset's text into this session.
  func loadDataset() {
    datasetLoaded = true
    let file = SourceFile(name: Dataset.fileName, text: Dataset.source)
    // The dataset's warnings, if any, go out once it has loaded.
    let saved = frontEnd
    let transcript = Transcript()
    frontEnd = transcript
    _ = run(file)
    frontEnd = saved
    for p in transcript.diagnostics { report(p) }
    datasetRelations = Set(schema.relations.keys)
    reading.currentCitation = -1
  }

  /// A program that defines a relation under a dataset name with another arity gets the name:
  /// the dataset's relation, and the dataset rules that mention it, are set aside (with a
  /// warning). Only programs that would otherwise fail with an arity error are affected.
  func takeOverDatasetNames(usedIn statements: [Statement]) {
    var defined: [String: (Int, SourceSpan)] = [:]
    for s in statements {
      switch s {
      case .fact(let r), .rule(let r): defined[r.head.name] = defined[r.head.name] ?? (r.head.arity, r.head.nameSpan)
      case .facts(let b): defined[b.name] = defined[b.name] ?? (b.arity, b.span)
      case .declaration(let d): defined[d.name] = defined[d.name] ?? (d.columns.count, d.span)
      default: break
      }
    }
    for (name, (arity, span)) in defined.sorted(by: { $0.key < $1.key }) {
      guard datasetRelations.contains(name), let existing = schema[name], existing.arity != arity,
        existing.origin?.file.name == Dataset.fileName
      else { continue }
      let mentions = { (r: Rule) -> Bool in
        r.head.name == name || r.body.contains { Self.relationNames($0).contains(name) }
      }
      let dropped = rules.filter { $0.span.file.name == Dataset.fileName && mentions($0) }
      rules.removeAll { $0.span.file.name == Dataset.fileName && mentions($0) }
      let heads = Set(dropped.map(\.head.name)).subtracting([name])
      for h in heads where !rules.contains(where: { $0.head.name == h }) {
        database.keepOnlyFacts(h)
      }
      for h in heads { evaluation.definitionChanged(h) }
      schema.remove(name)
      database.drop(name)
      program.pinnedFacts[name] = nil
      datasetRelations.remove(name)
      evaluation.forgetComputed()
      let affected = heads.sorted().joined(separator: ", ")
      report(
        Diagnostic(
          .warning, .advice,
          "'\(name)' now names this program's relation (\(arity) column\(arity == 1 ? "" : "s")); the built-in dataset's \(name)/\(existing.arity) is set aside",
          at: span,
          hint: heads.isEmpty ? nil : "dataset rules that used it are set aside too, so these relations change: \(affected)"))
    }
  }
}
