/// What a session can tell about itself: relation listings, schemas and provenance.
extension Session {
  /// One relation as `--list` and `.relations` show it.
  public struct RelationSummary: Sendable {
    public var name: String
    public var arity: Int
    public var columns: [String]
    public var description: String
    public var rows: Int
    public var derived: Bool
    /// True for a table or view of the PostgreSQL server (`--engine postgres`): `rows` is not
    /// counted (the table may be large) and `description` names it.
    public var server = false
  }

  /// Every known relation whose name contains `pattern` (all when empty), evaluated, sorted by name.
  /// With `--engine postgres`, the server's tables and views a query would read are listed
  /// too, in place of relations of their names the program only uses.
  public func relationSummaries(matching pattern: String = "") throws(EvaluationError) -> [RelationSummary] {
    try evaluateAll(budget: makeBudget())
    let server = try serverTables().filter { pattern.isEmpty || $0.name.contains(pattern) }
    let serverNames = Set(server.map(\.name))
    let own = schema.relations.values
      .filter { (pattern.isEmpty || $0.name.contains(pattern)) && !serverNames.contains($0.name) }
      .map { r in
        let t = database.tables[r.name]
        return RelationSummary(
          name: r.name, arity: r.arity, columns: r.columns, description: r.description, rows: t?.rows.count ?? 0,
          derived: t?.hasRules ?? false)
      }
    let fromServer = server.map { t in
      RelationSummary(
        name: t.name, arity: t.columns.count, columns: t.columns.map(\.name), description: t.description, rows: 0, derived: false,
        server: true)
    }
    return (own + fromServer).sorted { $0.name < $1.name }
  }

  /// The relation listing as a table.
  /// `width`: fitted to so many columns (see `TextTable`).
  public func relationListing(matching pattern: String = "", width: Int? = nil) throws(EvaluationError) -> String {
    let list = try relationSummaries(matching: pattern)
    if list.isEmpty { return pattern.isEmpty ? "No relations.\n" : "No relation name contains '\(pattern)'.\n" }
    let (columns, rows, numbers) = Self.relationGrid(list)
    return TextTable.render(columns: columns, rows: rows, rightAligned: numbers, width: width)
      + "\(list.count) relation\(list.count == 1 ? "" : "s")\n"
  }

  /// `.relations` and `--list`: the relation listing in the chosen format (a table, or rows a
  /// program can read: TSV, CSV, JSON).
  public func writeRelationListing(matching pattern: String = "") throws(EvaluationError) {
    let list = try relationSummaries(matching: pattern)
    if options.format == .table {
      let text = try relationListing(matching: pattern, width: layout.width)
      beginBlock()
      write(text)
      return
    }
    let (columns, rows, numbers) = Self.relationGrid(list)
    writeListing(Grid(columns: columns, rows: rows, numbers: numbers), command: ".relations" + (pattern.isEmpty ? "" : " " + pattern)) { "" }
  }

  /// The columns and rows of the relation listing.
  private static func relationGrid(_ list: [RelationSummary]) -> ([String], [[String]], [Bool]) {
    let rows = list.map { r in
      ["\(r.name)", "\(r.arity)", r.columns.joined(separator: ", "), r.server ? "-" : "\(r.rows)", (r.derived ? "(rules) " : "") + r.description]
    }
    return (["relation", "arity", "columns", "rows", "description"], rows, [false, true, false, true, false])
  }

  /// `.schema RELATION`: its declaration and rules; in a format other than table, one row per
  /// clause (relation, clause).
  func writeSchema(_ r: RelationSchema) {
    var decl = ".decl \(r.name)(\(r.columns.joined(separator: ", ")))"
    if !r.description.isEmpty { decl += " \"\(r.description)\"" }
    let clauses = [decl] + rules.filter { $0.head.name == r.name }.map { "\($0)" }
    writeListing(
      Grid(columns: ["relation", "clause"], rows: clauses.map { [r.name, $0] }, numbers: [false, false]),
      command: ".schema \(r.name)"
    ) { clauses.map { $0 + "\n" }.joined() }
  }

  /// `.memory [PATTERN]`: the bytes each stored relation holds now (rows, the deduplication table
  /// while there is one, the indexes built so far, listed by their key columns, "sorted" for the
  /// one the rows are clustered by), per tuple; a relation with rules keeps its explicit facts
  /// apart too ("facts bytes"). Derived relations are stored once a query has needed them.
  public func memoryListing(matching pattern: String = "", width: Int? = nil) -> String {
    let (tables, rows, totals) = memoryRows(matching: pattern)
    if tables == 0 { return pattern.isEmpty ? "No stored tuples.\n" : "No stored relation name contains '\(pattern)'.\n" }
    return TextTable.render(columns: Self.memoryColumns, rows: rows, rightAligned: Self.memoryNumbers, width: width)
      + "\(totals.tuples) tuples in \(tables) relation\(tables == 1 ? "" : "s"): \(totals.bytes) bytes (\(Self.perTuple(totals.bytes, totals.tuples)) per tuple)\n"
  }

  /// Brings the derived relations stored now (a query needed them) whose names contain
  /// `pattern` up to date, so `.memory` after an edit counts what the program now derives
  /// (usually an incremental update); relations no query has needed stay unstored.
  func updateStored(matching pattern: String) throws(EvaluationError) {
    guard options.engine == .native else { return }
    let stored = database.tables.values
      .filter { $0.hasRules && $0.rows.count > 0 && schema.relations[$0.name] != nil }
      .filter { pattern.isEmpty || $0.name.contains(pattern) }
      .map(\.name).sorted()
    guard !stored.isEmpty else { return }
    try update(relations: stored, budget: makeBudget())
  }

  /// `.memory`: the listing in the chosen format.
  func writeMemoryListing(matching pattern: String) {
    let (_, rows, _) = memoryRows(matching: pattern)
    writeListing(
      Grid(columns: Self.memoryColumns, rows: rows, numbers: Self.memoryNumbers),
      command: ".memory" + (pattern.isEmpty ? "" : " " + pattern)
    ) { memoryListing(matching: pattern, width: layout.width) }
  }

  private static let memoryColumns = ["relation", "arity", "tuples", "bytes", "bytes/tuple", "indexes", "facts bytes"]
  private static let memoryNumbers = [false, true, true, true, true, false, true]

  /// The rows of `.memory`: one per stored relation, with the relation count and totals.
  private func memoryRows(matching pattern: String) -> (Int, [[String]], (tuples: Int, bytes: Int)) {
    let tables = database.tables.values
      .filter { pattern.isEmpty || $0.name.contains(pattern) }
      .filter { $0.rows.count > 0 || ($0.facts?.count ?? 0) > 0 }
      .sorted { $0.name < $1.name }
    var totalTuples = 0, totalBytes = 0
    let rows = tables.map { t -> [String] in
      let bytes = t.rows.bytes + (t.facts?.bytes ?? 0)
      totalTuples += t.rows.count
      totalBytes += bytes
      let indexes = t.rows.indexes.filter(\.isBuilt).map {
        "(" + $0.columns.map { "c\($0 + 1)" }.joined(separator: ", ") + ")" + ($0.isClustered ? " sorted" : "")
      }
      return [
        t.name, "\(t.arity)", "\(t.rows.count)", "\(t.rows.bytes)", Self.perTuple(t.rows.bytes, t.rows.count),
        indexes.isEmpty ? "-" : indexes.joined(separator: " "), "\(t.facts?.bytes ?? 0)",
      ]
    }
    return (tables.count, rows, (totalTuples, totalBytes))
  }

  private static func perTuple(_ bytes: Int, _ tuples: Int) -> String {
    guard tuples > 0 else { return "-" }
    let tenths = (bytes * 10 + tuples / 2) / tuples
    return "\(tenths / 10).\(tenths % 10)"
  }

  /// Parses a command's argument as one query: `?- body.`, `body?`, or a bare body, where it
  /// stands in its file; the resolver's checks included.
  public func parseQuery(_ argument: CommandArgument) -> Result<Query, Diagnostics> {
    let span = argument.span
    let (query, errors) = Parser.parseQuery(span.file, from: span.start, to: span.end)
    if !errors.isEmpty { return .failure(Diagnostics(all: errors)) }
    guard let q = query else {
      return .failure(Diagnostics(all: [Diagnostic(.error, .syntax(incomplete: false), "Expected one query", at: span)]))
    }
    var resolver = Resolver(schema: schema)
    resolver.resolve(.query(q))
    if !resolver.diagnostics.isEmpty { return .failure(Diagnostics(all: resolver.diagnostics)) }
    return .success(q)
  }

  /// The query the argument holds, or nil after reporting why it is not one.
  private func queryReportingErrors(_ argument: CommandArgument) -> Query? {
    switch parseQuery(argument) {
    case .failure(let errors):
      errors.all.forEach(report)
      return nil
    case .success(let q):
      return q
    }
  }

  /// Prints how the query would be evaluated: the plan of every rule it depends on (with one
  /// delta version per recursive atom), then its own plan; `.plan`.
  @discardableResult
  public func plan(_ query: CommandArgument) -> Status {
    // Inspection explains the native engine's derivations, so it runs on the native engine.
    let engine = options.engine
    options.engine = .native
    defer { options.engine = engine }
    guard let q = queryReportingErrors(query) else { return .staticError }
    guard let strata = Stratifier.strata(neededBy: q.body, rules: rules) else { return .staticError }
    var out = ""
    for (s, stratumRules) in strata where !stratumRules.isEmpty {
      let plan = Planner.plan(stratum: s.relations, recursive: s.recursive, rules: stratumRules, size: database.rowCount)
      for (rule, compiled) in zip(stratumRules, plan.firstRound) {
        out += compiled.describe(title: "\(rule)")
      }
      for compiled in plan.deltaVersions {
        out += compiled.describe(
          title: "  in later rounds, atom \((compiled.deltaAtom ?? 0) + 1) reads only the last round's new tuples:")
      }
    }
    out += Planner.plan(query: q, size: database.rowCount).describe(title: "\(q)")
    beginBlock()
    write(out)
    return .ok
  }

  /// Shows how the answer to a query is computed: the strata it needs, and for each recursive
  /// stratum the tuples each semi-naive round adds; then the answers; `.steps`.
  @discardableResult
  public func steps(_ query: CommandArgument) -> Status {
    // Inspection explains the native engine's derivations, so it runs on the native engine.
    let engine = options.engine
    options.engine = .native
    defer { options.engine = engine }
    guard let q = queryReportingErrors(query) else { return .staticError }
    var out = ""
    tracing = { out += $0 }
    defer { tracing = nil }
    let budget = makeBudget()
    do throws(EvaluationError) {
      try update(for: q.body, evaluator: Evaluator(database: database, budget: budget))
    } catch {
      report(error.diagnostic)
      return .runtimeError
    }
    tracing = nil
    beginBlock()
    write(out.isEmpty ? "The query reads no relation: nothing to compute.\n" : out)
    return runQuery(q)
  }

  /// Prints the derivation of each answer of the query; `.why` and `--why`. The argument may
  /// start with `--depth N` (how many levels of rules to show; `depth` by default), and with
  /// `--graph` (the trees drawn in Graphviz DOT) and `--output FILE` (where the drawing goes).
  @discardableResult
  public func why(_ argument: CommandArgument, depth: Int = 6) -> Status {
    // Inspection explains the native engine's derivations, so it runs on the native engine.
    let engine = options.engine
    options.engine = .native
    defer { options.engine = engine }
    let usage = "Use '.why [--depth N] [--graph [--output FILE]] QUERY' with N a whole number from 1 to \(Limits.maxDepth)"
    guard let (options, query) = Self.leadingOptions(argument, valued: ["--depth", "--output"], flags: ["--graph"]) else {
      report(Diagnostic(.error, .semantic, usage, at: argument.span))
      return .usageError
    }
    var depth = depth
    if let text = options["--depth"] {
      guard case .success(let n) = Limits.parseDepth(text) else {
        report(Diagnostic(.error, .semantic, usage, at: argument.span))
        return .usageError
      }
      depth = n
    }
    let drawn = options["--graph"] != nil
    if options["--output"] != nil && !drawn {
      report(Diagnostic(.error, .semantic, "'--output' goes with '--graph'", at: argument.span, hint: "or use '.output FILE' for the text"))
      return .usageError
    }
    guard !query.text.isEmpty else {
      report(Diagnostic(.error, .semantic, "'.why' needs a query, e.g. .why met(abe, Who, _, _, _)", at: argument.span))
      return .usageError
    }
    guard let q = queryReportingErrors(query) else { return .staticError }
    let explainer = Explainer(session: self, maxDepth: depth)
    do throws(EvaluationError) {
      // The same advice a query with no answers gets (a misspelled constant, an empty relation).
      if self.options.warnings { warnAboutEmptyRelations(in: q) }
      let unknown = Set(Self.symbols(in: q.body).filter { database.store.existingSymbol($0) == nil })
      let text = drawn ? try explainer.explainGraph(q) : try explainer.explain(q)
      if self.options.warnings, text == Explainer.noAnswers { explainEmptyAnswer(q, unknown: unknown) }
      if drawn && text != Explainer.noAnswers {
        return Status(frontEnd.draw(text, to: options["--output"]), report: { report(Diagnostic(.error, .runtime, $0, at: argument.span)) })
      }
      beginBlock()
      write(text)
      return .ok
    } catch {
      report(error.diagnostic)
      return .runtimeError
    }
  }

  /// `.graph [--output FILE] QUERY`: the answers of a query with two or three shown variables
  /// as a directed graph in Graphviz DOT, an edge from the first value to the second labelled
  /// with the third; the front end writes it (or renders it, for a picture file).
  @discardableResult
  public func graph(_ argument: CommandArgument) -> Status {
    // Inspection explains the native engine's derivations, so it runs on the native engine.
    let engine = options.engine
    options.engine = .native
    defer { options.engine = engine }
    guard let (options, query) = Self.leadingOptions(argument, valued: ["--output"], flags: []), !query.text.isEmpty else {
      report(
        Diagnostic(
          .error, .semantic, "Use '.graph [--output FILE] QUERY'", at: argument.span,
          hint: "e.g. .graph met(X, Y, _, _, _) or .graph --output met.svg met(X, Y, _, _, _)"))
      return .usageError
    }
    guard let q = queryReportingErrors(query) else { return .staticError }
    let columns = q.shownVariables
    guard columns.count == 2 || columns.count == 3 else {
      report(
        Diagnostic(
          .error, .semantic, "'.graph' draws a query with two or three shown variables; this one shows \(columns.count)",
          at: q.span, hint: "the first two are the ends of each edge, a third labels it; write '_' for the others"))
      return .usageError
    }
    do throws(EvaluationError) {
      if self.options.warnings { warnAboutEmptyRelations(in: q) }
      let unknown = Set(Self.symbols(in: q.body).filter { database.store.existingSymbol($0) == nil })
      let rows = try answers(q, budget: makeBudget())
      if self.options.warnings, rows.isEmpty { explainEmptyAnswer(q, unknown: unknown) }
      let dot = GraphDOT.graph(title: "\(q)", columns: columns, rows: rows, store: database.store)
      return Status(frontEnd.draw(dot, to: options["--output"]), report: { report(Diagnostic(.error, .runtime, $0, at: argument.span)) })
    } catch {
      report(error.diagnostic)
      return .runtimeError
    }
  }

  /// The leading `--name` options of a command's argument (`valued` ones take the next word;
  /// a value may be double-quoted) and the argument after them; nil for an unknown option or a
  /// missing value. A flag maps to "".
  static func leadingOptions(_ argument: CommandArgument, valued: Set<String>, flags: Set<String>)
    -> ([String: String], CommandArgument)?
  {
    var options: [String: String] = [:]
    var rest = Substring(argument.text)
    func word() -> Substring {
      rest = rest.drop { $0 == " " || $0 == "\t" }
      if rest.first == "\"", let close = rest.dropFirst().firstIndex(of: "\"") {
        let w = rest[rest.index(after: rest.startIndex)..<close]
        rest = rest[rest.index(after: close)...]
        return w
      }
      let w = rest.prefix { $0 != " " && $0 != "\t" }
      rest = rest.dropFirst(w.count)
      return w
    }
    while rest.drop(while: { $0 == " " || $0 == "\t" }).hasPrefix("--") {
      let name = String(word())
      if flags.contains(name) {
        options[name] = ""
      } else if valued.contains(name) {
        let value = word()
        guard !value.isEmpty else { return nil }
        options[name] = String(value)
      } else {
        return nil
      }
    }
    let query = String(rest.drop { $0 == " " || $0 == "\t" })
    return (options, options.isEmpty ? argument : argument.suffix(query))
  }
}

extension Session.Status {
  /// The status of a front end's outcome, reporting its message with `report`.
  init(_ outcome: CommandOutcome, report: (String) -> Void) {
    switch outcome {
    case .ok: self = .ok
    case .exit: self = .exit
    case .error(let m): report(m); self = .runtimeError
    case .usage(let m): report(m); self = .usageError
    case .unreadable(let m): report(m); self = .unreadableInput
    case .ioError(let m): report(m); self = .ioError
    case .reported(let s): self = s
    }
  }
}

/// A batch of diagnostics as one error value.
public struct Diagnostics: Error, Sendable {
  public var all: [Diagnostic]
}
