/// The facade: runs dq text through lex → parse → resolve → stratify → plan → evaluate,
/// keeping facts and rules across runs like a REPL transcript.
public final class Session {
  /// Settings that callers may change between runs.
  public struct Options: Sendable {
    public var format: OutputFormat = .table
    /// Tuples one query may derive before it is stopped (0: no limit).
    public var maxTuples = 50_000_000
    /// Seconds one query may run before it is stopped (0: no limit).
    public var timeout: Double = 60
    /// Bytes the engine may hold while a query runs before it is stopped (0: no limit); by
    /// default half the machine's memory.
    public var maxMemory = Memory.defaultLimit
    /// Warn about relations that have no facts and no rules.
    public var warnings = true
    public init() {}
  }

  /// How a run ended, with the sysexits code a script should exit with.
  public enum Status: Sendable, Equatable {
    case ok
    /// Syntax or semantic errors: nothing of the input was run.
    case staticError
    /// An error while running: what came before it stays.
    case runtimeError
    /// A command asked to stop (`.quit`).
    case exit
    /// A dot-command given an argument it cannot take (`.format xml`, `.why --depth x`): the
    /// same mistake as a bad command-line option, so the same exit status.
    case usageError
    /// A file a command names cannot be read (`.load nofile.dq`), as for `dq nofile.dq`.
    case unreadableInput
    /// Output could not be written (a full disk, an unwritable `.output` file).
    case ioError

    public var exitCode: Int32 {
      switch self {
      case .ok, .exit: return 0
      case .usageError: return 64
      case .staticError: return 65
      case .unreadableInput: return 66
      case .runtimeError: return 70
      case .ioError: return 74
      }
    }
  }

  /// What a command handler did with a `.name argument` line.
  public enum CommandResult: Sendable {
    case handled
    /// The command failed while running (exit status 70).
    case failed(Diagnostic)
    /// The command's argument is wrong, as a bad command-line option is (exit status 64).
    case misused(Diagnostic)
    /// Failed with a status other than a runtime error (a usage or I/O error).
    case failedWith(Diagnostic, Status)
    case exit
    /// Not a command the handler knows; the session tries its own.
    case unknown
    /// The session's own command of this full name (the handler resolved a prefix, `.lo`).
    case delegated(String)
  }

  public var options: Options
  /// Receives answers and command output (stdout).
  public var write: (String) -> Void = { print($0, terminator: "") }
  /// Receives errors and warnings (stderr).
  public var report: (Diagnostic) -> Void = { _ in }
  /// Handles `.name` lines the language does not define (the shell's commands).
  public var commandHandler: ((String, String, SourceSpan) -> CommandResult)?
  /// Called after each query has printed its answers (the shell's `.timing` uses it).
  public var afterQuery: (() -> Void)?
  /// Called with each query's sorted answers, before they are printed (the tutorial checks them).
  public var onAnswers: ((Query, [[Value]]) -> Void)?
  /// Polled during evaluation; returning true cancels the running query.
  public var interrupted: (() -> Bool)?

  public internal(set) var database = Database()
  public internal(set) var schema = Schema()
  /// Every rule in the order it was added.
  public internal(set) var rules: [Rule] = []
  /// The relations that belong to the built-in dataset.
  public internal(set) var datasetRelations: Set<String> = []

  var currentCitation: Int32 = -1
  /// The files `.load` is running, outermost first (name as written, canonical path).
  var loading: [(name: String, key: String)] = []
  var contentVersion: [String: Int] = [:]
  var definitionVersion: [String: Int] = [:]
  var stamps: [String: [String: Int]] = [:]
  /// Blocks written so far to the current destination; the shell's `.output` saves and
  /// restores it, since separators belong between blocks written to the same place.
  public var blocksWritten = 0

  /// Starts a block of output (answers, a listing, an explanation): blocks are separated by
  /// one empty line.
  public func beginBlock() {
    // CSV ends every line with CRLF (RFC 4180), the separating one too.
    if blocksWritten > 0 { write(options.format == .csv ? "\r\n" : "\n") }
    blocksWritten += 1
  }
  /// Tuples derived by the last query's evaluation, for `.timing`.
  public private(set) var lastDerived = 0

  /// Where the time of the last run went, for `.timing`.
  public struct Timings: Sendable {
    /// Lexing, parsing and the static checks.
    public var parse: Duration = .zero
    /// Compiling queries into plans.
    public var plan: Duration = .zero
    /// Bringing relations up to date and running the queries.
    public var evaluate: Duration = .zero
  }
  public private(set) var lastTimings = Timings()

  public init(options: Options = Options(), loadDataset: Bool = true) {
    self.options = options
    if loadDataset { self.loadDataset() }
  }

  /// Forgets everything added since start-up, reloading the dataset if it was loaded.
  public func reset() {
    let hadDataset = datasetLoaded
    database = Database()
    schema = Schema()
    rules = []
    contentVersion = [:]
    definitionVersion = [:]
    stamps = [:]
    blocksWritten = 0
    datasetRelations = []
    if hadDataset { loadDataset() }
  }

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
      noteFactsChanged(r.head.name)
      if database.tables[r.head.name]?.hasRules != true {
        // The relation holds exactly its facts: its contents changed.
        contentVersion[r.head.name, default: 0] += 1
      }
      return .success(true)
    } catch {
      return .failure(Diagnostics(all: [error.diagnostic]))
    }
  }

  var datasetLoaded = false

  func loadDataset() {
    datasetLoaded = true
    let file = SourceFile(name: Dataset.fileName, text: Dataset.source)
    let saved = report
    var problems: [Diagnostic] = []
    report = { problems.append($0) }
    _ = run(file)
    report = saved
    for p in problems { report(p) }
    datasetRelations = Set(schema.relations.keys)
    currentCitation = -1
  }

  // MARK: - Running

  /// Parses and checks the whole text, then runs its statements top to bottom.
  @discardableResult
  public func run(_ file: SourceFile) -> Status {
    currentCitation = -1
    lastTimings = Timings()
    let clock = ContinuousClock()
    let started = clock.now
    let (statements, syntaxErrors) = Parser.parse(file, batchingFacts: true)
    lastTimings.parse = clock.now - started
    if !syntaxErrors.isEmpty {
      syntaxErrors.forEach(report)
      return .staticError
    }
    return run(statements)
  }

  /// Checks and runs already parsed statements.
  public func run(_ statements: [Statement]) -> Status {
    let clock = ContinuousClock()
    let started = clock.now
    takeOverDatasetNames(usedIn: statements)
    var resolver = Resolver(schema: schema)
    for s in statements { resolver.resolve(s) }
    var errors = resolver.diagnostics
    let newRules = statements.compactMap { s -> Rule? in if case .rule(let r) = s { return r } else { return nil } }
    if errors.isEmpty, !newRules.isEmpty, case .failure(let e) = Stratifier.stratify(rules: rules + newRules) {
      errors += e.diagnostics
    }
    if !errors.isEmpty {
      errors.sorted { ($0.span?.line ?? 0, $0.span?.column ?? 0) < ($1.span?.line ?? 0, $1.span?.column ?? 0) }.forEach(report)
      return .staticError
    }
    schema = resolver.schema
    lastTimings.parse += clock.now - started
    warnedEmpty = []
    // A text that loads files may read relations they define: its rules are checked for empty
    // relations once it has run (queries are checked as they run, in `runQuery`).
    let loads = statements.contains { if case .command(let name, _, _) = $0 { return Self.isLoad(name) } else { return false } }
    if options.warnings {
      if !loads { warnAboutEmptyRelations(inRulesOf: statements) }
      warnAboutSingletons(statements)
    }
    // Where each relation is first defined in this text, so a query above its facts can say so.
    laterDefinitions = [:]
    for s in statements.reversed() {
      switch s {
      case .fact(let r), .rule(let r): laterDefinitions[r.head.name] = r.head.span
      case .facts(let b): laterDefinitions[b.name] = b.span
      case .command("import", let argument, let span):
        if let last = argument.split(separator: " ").last { laterDefinitions[String(last)] = span }
      default: break
      }
    }
    for s in statements {
      if case .fact(let r) = s, laterDefinitions[r.head.name] == r.head.span { laterDefinitions[r.head.name] = nil }
      if case .rule(let r) = s, laterDefinitions[r.head.name] == r.head.span { laterDefinitions[r.head.name] = nil }
      if case .facts(let b) = s, laterDefinitions[b.name] == b.span { laterDefinitions[b.name] = nil }
      if case .command("import", let argument, let span) = s, let last = argument.split(separator: " ").last,
        laterDefinitions[String(last)] == span
      {
        laterDefinitions[String(last)] = nil
      }
      let status = execute(s)
      if status != .ok { return status }
    }
    laterDefinitions = [:]
    if loads && options.warnings { warnAboutEmptyRelations(inRulesOf: statements) }
    return .ok
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
      for h in heads { definitionVersion[h, default: 0] += 1 }
      schema.remove(name)
      database.drop(name)
      datasetRelations.remove(name)
      stamps = [:]
      let affected = heads.sorted().joined(separator: ", ")
      report(
        Diagnostic(
          .warning, .advice,
          "'\(name)' now names this program's relation (\(arity) column\(arity == 1 ? "" : "s")); the built-in dataset's \(name)/\(existing.arity) is set aside",
          at: span,
          hint: heads.isEmpty ? nil : "dataset rules that used it are set aside too, so these relations change: \(affected)"))
    }
  }

  /// First definitions of relations further down the text being run.
  var laterDefinitions: [String: SourceSpan] = [:]
  /// Relations already warned about as empty in the text being run (once each).
  var warnedEmpty: Set<String> = []

  /// True for `.load` and `.read` and the prefixes the shell accepts for them.
  static func isLoad(_ name: String) -> Bool {
    (name.count >= 2 && "load".hasPrefix(name)) || (name.count >= 3 && "read".hasPrefix(name))
  }

  func execute(_ statement: Statement) -> Status {
    switch statement {
    case .fact(let r):
      do {
        let tuple = try groundTuple(r.head)
        database.addFact(r.head.name, tuple, citation: currentCitation)
        noteFactsChanged(r.head.name)
      } catch {
        report(error.diagnostic)
        return .runtimeError
      }
    case .facts(let b):
      let store = database.store
      let table = database.table(b.name, arity: b.arity)
      let holder = table.factRows
      holder.reserve(b.count)
      var tuple = [Value](repeating: 0, count: max(1, b.arity))
      var added = 0
      for i in 0..<b.count {
        for c in 0..<b.arity { tuple[c] = store.constant(b.values[i * b.arity + c]) }
        if b.arity == 0 ? holder.insert([]) : holder.insert(tuple) { added += 1 }
      }
      table.appendCitations(added, currentCitation)
      noteFactsChanged(b.name)
    case .rule(let r):
      if r.body.isEmpty, r.head.variables.isEmpty { return execute(.fact(r)) }
      rules.append(r)
      database.markHasRules(r.head.name, arity: r.head.arity)
      definitionVersion[r.head.name, default: 0] += 1
    case .query(let q):
      return runQuery(q)
    case .declaration(let d):
      _ = database.table(d.name, arity: d.columns.count)
    case .citation(let c, _):
      currentCitation = c.map { database.addCitation($0) } ?? -1
    case .command(let name, let argument, let span):
      return command(name, argument, span)
    }
    return .ok
  }

  func noteFactsChanged(_ name: String) {
    if database.tables[name]?.hasRules == true {
      definitionVersion[name, default: 0] += 1
    } else {
      contentVersion[name, default: 0] += 1
    }
  }

  /// The values of a fact's arguments (constants, or arithmetic over constants).
  func groundTuple(_ atom: Atom) throws(EvaluationError) -> [Value] {
    var constants: [Value] = []
    for t in atom.arguments {
      guard case .constant(let c, _) = t else { break }
      constants.append(database.store.constant(c))
    }
    if constants.count == atom.arguments.count { return constants }
    var out: [Value] = []
    for t in atom.arguments {
      if case .constant(let c, _) = t {
        out.append(database.store.constant(c))
      } else {
        out.append(try PlanBinder.evaluate(ground: Planner.groundExpression(t), store: database.store))
      }
    }
    return out
  }

  // MARK: - Queries

  /// Brings every relation the query reads up to date, then prints its answers.
  func runQuery(_ q: Query) -> Status {
    let budget = makeBudget()
    lastTimings.plan = .zero
    lastTimings.evaluate = .zero
    defer { afterQuery?() }
    do throws(EvaluationError) {
      if options.warnings { warnAboutEmptyRelations(in: q) }
      let unknown = Set(Self.symbols(in: q.body).filter { database.store.existingSymbol($0) == nil })
      let result = try answers(q, budget: budget)
      if options.warnings, result.isEmpty { explainEmptyAnswer(q, unknown: unknown) }
      let columns = q.shownVariables
      beginBlock()
      // Printed in pieces, so Ctrl-C stops a long answer too.
      let printed = options.format.write(
        columns: columns, rows: result, store: database.store, to: write, stop: { [interrupted] in interrupted?() ?? false })
      if !printed { throw EvaluationError(.interrupted, "Interrupted", at: nil) }
      onAnswers?(q, result)
      return .ok
    } catch {
      report(error.diagnostic)
      return .runtimeError
    }
  }

  /// The sorted distinct answers of a query.
  public func answers(_ q: Query, budget: Budget) throws(EvaluationError) -> [[Value]] {
    try bindings(of: q.body, variables: q.shownVariables, budget: budget)
  }

  /// A budget with the session's limits (values past `Limits`' ceilings mean no limit).
  public func makeBudget() -> Budget {
    Budget(
      maxTuples: Limits.budgetMaxTuples(options.maxTuples), timeout: Limits.budgetTimeout(options.timeout),
      maxBytes: options.maxMemory, interrupted: interrupted)
  }

  /// Brings every relation up to date (for listings and completion).
  public func evaluateAll(budget: Budget) throws(EvaluationError) {
    let atoms = schema.relations.values.map { r in
      Literal.positive(Atom(name: r.name, arguments: [], span: r.origin ?? Self.nowhere, nameSpan: r.origin ?? Self.nowhere))
    }
    try update(for: atoms, evaluator: Evaluator(database: database, budget: budget))
  }

  static let nowhere = SourceSpan(file: SourceFile(name: "<none>", text: ""), start: 0, end: 0, line: 1, column: 1)

  /// The sorted distinct bindings of `variables` that satisfy `body`.
  public func bindings(of body: [Literal], variables: [String], budget: Budget) throws(EvaluationError) -> [[Value]] {
    let clock = ContinuousClock()
    var mark = clock.now
    // Time spent and tuples derived count even when the query is stopped (timeout, Ctrl-C).
    var evaluating = true
    defer {
      if evaluating { lastTimings.evaluate += clock.now - mark }
      lastDerived = budget.derived
    }
    let evaluator = Evaluator(database: database, budget: budget)
    try update(for: body, evaluator: evaluator)
    lastTimings.evaluate += clock.now - mark
    mark = clock.now
    evaluating = false
    let compiled = Planner.plan(body: body, projection: variables, size: database.rowCount)
    lastTimings.plan += clock.now - mark
    mark = clock.now
    evaluating = true
    let rel = try evaluator.answers(compiled)
    lastTimings.evaluate += clock.now - mark
    mark = clock.now
    evaluating = false
    // The sorted answers are arrays of their own: their memory counts toward the budget too.
    try budget.checkMemory(nil, extra: rel.count &* (rel.arity &* MemoryLayout<Value>.stride &+ 40))
    var rows = (0..<rel.count).map { rel.row($0) }
    let store = database.store
    rows.sort { a, b in
      for i in 0..<a.count {
        let c = store.compare(a[i], b[i])
        if c != 0 { return c < 0 }
      }
      return false
    }
    return rows
  }

  /// Recomputes the strata the literals depend on whose inputs or definitions changed.
  func update(for body: [Literal], evaluator: Evaluator) throws(EvaluationError) {
    guard let strata = Stratifier.strata(neededBy: body, rules: rules) else { return }
    var number = 0
    for (s, stratumRules) in strata {
      number += 1
      if stratumRules.isEmpty {
        if let trace = tracing {
          let rows = s.relations.map { database.tables[$0]?.rows.count ?? 0 }.reduce(0, +)
          trace("Stratum \(number): \(s.relations.joined(separator: ", ")): facts only, \(rows) row\(rows == 1 ? "" : "s")\n")
        }
        continue
      }
      let members = Set(s.relations)
      var stamp: [String: Int] = [:]
      for r in stratumRules {
        for l in r.body {
          for n in Self.relationNames(l) where !members.contains(n) { stamp[n] = contentVersion[n, default: 0] }
        }
      }
      for m in s.relations { stamp["#" + m] = definitionVersion[m, default: 0] }
      let key = s.relations.joined(separator: ",")
      if stamps[key] == stamp && tracing == nil { continue }
      for m in s.relations { contentVersion[m, default: 0] += 1 }
      stamps[key] = nil
      let plan = Planner.plan(stratum: s.relations, recursive: s.recursive, rules: stratumRules, size: database.rowCount)
      if let trace = tracing {
        let kind = s.recursive ? "recursive, evaluated in rounds until nothing is new" : "computed once from the strata before"
        trace("Stratum \(number): \(s.relations.joined(separator: ", ")): \(stratumRules.count) rule\(stratumRules.count == 1 ? "" : "s"), \(kind)\n")
        evaluator.onRound = { [unowned self] _, round, added in
          let total = added.values.reduce(0) { $0 + $1.count }
          if total == 0 {
            trace("  round \(round): nothing new, so this is the fixpoint\n")
            return
          }
          for name in s.relations {
            guard let range = added[name], !range.isEmpty, let rows = self.database.tables[name]?.rows else { continue }
            let shown = range.prefix(Self.stepsShown).map { r in
              "(" + rows.row(r).map(self.database.store.source).joined(separator: ", ") + ")"
            }
            let more = range.count > Self.stepsShown ? " … and \(range.count - Self.stepsShown) more" : ""
            trace("  round \(round): +\(range.count) \(name): \(shown.joined(separator: " "))\(more)\n")
          }
        }
      }
      try evaluator.evaluate(plan)
      evaluator.onRound = nil
      if let trace = tracing, !s.recursive {
        for m in s.relations {
          let rows = database.tables[m]?.rows.count ?? 0
          trace("  \(m): \(rows) row\(rows == 1 ? "" : "s")\n")
        }
      }
      stamps[key] = stamp
    }
  }

  /// Set while `.steps` runs: receives the description of each stratum and round.
  var tracing: ((String) -> Void)?
  /// Tuples shown per round by `.steps`.
  static let stepsShown = 8


  /// The symbols written in the literals.
  static func symbols(in body: [Literal]) -> [String] {
    var out: [String] = []
    func visit(_ t: Term) {
      switch t {
      case .constant(.symbol(let s), _): out.append(s)
      case .binary(_, let a, let b, _): visit(a); visit(b)
      case .negate(let a, _): visit(a)
      default: break
      }
    }
    for l in body {
      switch l {
      case .positive(let a), .negative(let a, _): a.arguments.forEach(visit)
      case .comparison(_, let a, let b, _): visit(a); visit(b)
      case .aggregate(let g): out += symbols(in: g.body)
      }
    }
    return out
  }

  static func relationNames(_ l: Literal) -> [String] { l.relationNames }

}
