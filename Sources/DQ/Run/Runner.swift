/// The runner: turns statements into effects and output, top to bottom, stopping at the first
/// that fails (jlox's `run`: parse, stop on errors; check, stop on errors; run).

/// What the runner knows about the text it is running, beside the program and what is
/// computed: `.load` saves it and gives it back when the loaded file is done.
struct TextState {
  /// The citation (`.source`) the facts that follow carry; -1: none.
  var currentCitation: Int32 = -1
  /// The files `.load` is running, outermost first (name as written, canonical path).
  var loading: [(name: String, key: String)] = []
  /// First definitions of relations further down the text being run.
  var laterDefinitions: [String: SourceSpan] = [:]
  /// Relations already warned about as empty in the text being run (once each).
  var warnedEmpty: Set<String> = []
  /// The loaded file (its key in `Program.loadedFiles`) whose text is running, if any: the
  /// facts it states are recorded as its own.
  var origin: String?
  /// True while a statement after the one running, in this text or in one that loaded it,
  /// adds or takes out facts (see `Session.editsMayFollow`).
  var editsFollow = false
}

extension Session {
  // MARK: - Running

  /// Parses and checks the whole text, then runs its statements top to bottom.
  @discardableResult
  public func run(_ file: SourceFile) -> Status {
    reading.currentCitation = -1
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

  /// Runs a start-up file (`~/.dqrc`): each statement on its own, so an error (reported with
  /// the file's line and column) skips only its statement, and a syntax error only the clause
  /// it is in. Returns the first status that was not ok (`.exit` stops at once).
  @discardableResult
  public func runEach(_ file: SourceFile) -> Status {
    reading.currentCitation = -1
    let (statements, syntaxErrors) = Parser.parse(file, batchingFacts: true)
    syntaxErrors.forEach(report)
    var first: Status = syntaxErrors.isEmpty ? .ok : .staticError
    for s in statements {
      let status = run([s])
      if status == .exit { return .exit }
      if first == .ok { first = status }
    }
    return first
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
    reading.warnedEmpty = []
    // A text that loads files may read relations they define: its rules are checked for empty
    // relations once it has run (queries are checked as they run, in `runQuery`).
    let loads = statements.contains { if case .command(let name, _, _) = $0 { return isLoad(name) } else { return false } }
    if options.warnings {
      if !loads { warnAboutEmptyRelations(inRulesOf: statements) }
      warnAboutSingletons(statements)
    }
    // Where each relation is first defined in this text, so a query above its facts can say so.
    reading.laterDefinitions = [:]
    for s in statements.reversed() {
      switch s {
      case .fact(let r), .rule(let r): reading.laterDefinitions[r.head.name] = r.head.span
      case .facts(let b): reading.laterDefinitions[b.name] = b.span
      case .command("import", let argument, let span):
        if let last = argument.split(separator: " ").last { reading.laterDefinitions[String(last)] = span }
      default: break
      }
    }
    // Whether edits follow each statement: a later one here, or one after the text that loaded this.
    let editsAfter = reading.editsFollow
    let lastEdit = statements.lastIndex { isEdit($0) }
    defer { reading.editsFollow = editsAfter }
    for (i, s) in statements.enumerated() {
      reading.editsFollow = editsAfter || (lastEdit.map { i < $0 } ?? false)
      if case .fact(let r) = s, reading.laterDefinitions[r.head.name] == r.head.span { reading.laterDefinitions[r.head.name] = nil }
      if case .rule(let r) = s, reading.laterDefinitions[r.head.name] == r.head.span { reading.laterDefinitions[r.head.name] = nil }
      if case .facts(let b) = s, reading.laterDefinitions[b.name] == b.span { reading.laterDefinitions[b.name] = nil }
      if case .command("import", let argument, let span) = s, let last = argument.split(separator: " ").last,
        reading.laterDefinitions[String(last)] == span
      {
        reading.laterDefinitions[String(last)] = nil
      }
      let status = execute(s)
      if status != .ok { return status }
      if let failure = frontEnd.failure { return failure }
    }
    reading.laterDefinitions = [:]
    if loads && options.warnings { warnAboutEmptyRelations(inRulesOf: statements) }
    return .ok
  }

  /// True when the statement adds or takes out facts: a fact, or a command that loads,
  /// imports or retracts (any of them may change a computed stratum's inputs).
  func isEdit(_ statement: Statement) -> Bool {
    switch statement {
    case .fact, .facts: return true
    case .command(let name, _, _):
      guard case .found(let c) = commands.find(name) else { return false }
      return ["load", "reload", "unload", "import", "attach", "retract"].contains(c.name)
    default: return false
    }
  }

  /// True when the command name (or prefix) runs `.load`.
  func isLoad(_ name: String) -> Bool {
    if case .found(let c) = commands.find(name) { return c.name == "load" }
    return false
  }

  func execute(_ statement: Statement) -> Status {
    switch statement {
    case .fact(let r):
      if options.warnings { warnAboutHalt(r) }
      do {
        let tuple = try groundTuple(r.head)
        let added = database.addFact(r.head.name, tuple, citation: reading.currentCitation)
        recordFact(r.head.name, tuple, new: added)
        if added { noteFactsChanged(r.head.name, inserted: [tuple]) }
      } catch {
        report(error.diagnostic)
        return .runtimeError
      }
    case .facts(let b):
      let store = database.store
      let table = database.table(b.name, arity: b.arity)
      let holder = table.factRows
      holder.reserve(b.count)
      let before = holder.count
      var tuple = [Value](repeating: 0, count: max(1, b.arity))
      var added = 0
      let tracking = reading.origin != nil || !program.loadedFiles.isEmpty
      for i in 0..<b.count {
        for c in 0..<b.arity { tuple[c] = store.constant(b.values[i * b.arity + c]) }
        let stored = b.arity == 0 ? holder.insert([]) : holder.insert(tuple)
        if stored { added += 1 }
        if tracking { recordFact(b.name, b.arity == 0 ? [] : tuple, new: stored) }
      }
      table.appendCitations(added, reading.currentCitation)
      // New facts are appended: the rows after `before` are the ones this batch added.
      if added > EvaluationState.logLimit || holder.count != before + added {
        noteFactsChanged(b.name)
      } else if added > 0 {
        noteFactsChanged(b.name, inserted: (before..<holder.count).map { holder.row($0) })
      }
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
      reading.currentCitation = c.map { database.addCitation($0) } ?? -1
    case .command(let name, let argument, let span):
      return command(name, argument, span)
    }
    return .ok
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
    defer { frontEnd.queryFinished() }
    do throws(EvaluationError) {
      if options.warnings { warnAboutEmptyRelations(in: q) }
      let unknown = Set(Self.symbols(in: q.body).filter { database.store.existingSymbol($0) == nil })
      let result = try answers(q, budget: budget)
      if options.warnings, result.isEmpty { explainEmptyAnswer(q, unknown: unknown) }
      let columns = q.shownVariables
      // Printed in pieces, so Ctrl-C stops a long answer too.
      let printed = writeAnswer(Grid(columns: columns, rows: result, store: database.store), title: ("query", "\(q)"))
      if !printed { throw EvaluationError(.interrupted, "Interrupted", at: nil) }
      frontEnd.answered(q, rows: result)
      return .ok
    } catch {
      report(error.diagnostic)
      return error.reason == .unavailable ? .unavailable : .runtimeError
    }
  }
}
