// The commands that are part of the language, with the work they do; the shell adds its own
// to the same table (DQShell's `Commands.table`).
#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

extension CommandTable {
  /// The commands that are part of the language: they run the same in `dq FILE`, `dq --check`,
  /// `-e` text and the shell. ORDER: as `.help` lists them (the shell inserts its own).
  public static let language: CommandTable = CommandTable([
    Command(
      name: "help", aliases: ["\\?"], usage: ".help [COMMAND]", summary: "List the commands, or explain one",
      run: { session, arg in
        guard !arg.text.isEmpty else {
          session.write(session.commands.overview)
          return .ok
        }
        let name = arg.text.hasPrefix(".") ? String(arg.text.dropFirst()) : arg.text
        guard case .found(let cmd) = session.commands.find(name) else {
          let close = session.commands.suggestion(for: name).map { "; did you mean '.\($0)'?" } ?? "; '.help' lists them"
          return .error("No command '.\(name)'\(close)")
        }
        session.write("\(cmd.usage)\n  \(cmd.summary).\n" + (cmd.details.isEmpty ? "" : cmd.details + "\n"))
        return .ok
      }),
    Command(
      name: "quit", aliases: ["exit", "\\q"], usage: ".quit", summary: "Leave dq (Ctrl-D also does)",
      run: { _, _ in .exit }),
    Command(
      name: "load", aliases: ["read"], usage: ".load FILE", summary: "Run the clauses of a file",
      details: "  Facts and rules join the session; queries in the file print their answers.\n  A relative FILE is looked for beside the script first.",
      run: { session, arg in session.load(arg) }),
    Command(
      name: "reload", usage: ".reload", summary: "Load every loaded file again, replacing what each added",
      details: "  Loading a file again (.load, .reload) replaces the rules and facts it added last time,\n  as SWI-Prolog's reconsult does; a new version with a syntax error changes nothing.",
      wholeNameOnly: true,
      run: { session, arg in session.reload(arg) }),
    Command(
      name: "unload", usage: ".unload FILE", summary: "Remove the rules and facts a loaded file added",
      details: "  A fact stays when another loaded file states it too, or it was also stated outside\n  the loaded files (at the prompt, with -e, in the dataset). Files it loaded stay loaded.",
      wholeNameOnly: true,
      run: { session, arg in session.unload(arg) }),
    Command(
      name: "import", usage: ".import [--skip N] [--header | --no-header] [--delimiter C] FILE [RELATION]",
      summary: "Load facts from a TSV file (CSV if it ends in .csv, JSON Lines if .jsonl, SQLite if .db)",
      details: """
          One fact per record, into RELATION, or without one the relation named after the file
          (un-members.csv loads un_members). CSV follows RFC 4180: quoted fields hold commas, "" and line
          breaks; CRLF line ends are fine. Souffle's .facts files are TSV.
          Integers, decimals and dates (YYYY-MM-DD) become numbers and dates; anything else,
          a quoted field, or digits with a leading zero (040, 007) is a symbol.
          A first record of text over a record with a number or date is a header: it is skipped
          and names a new relation's columns. --header / --no-header force it either way.
          Souffle's .facts files have no header. --delimiter C separates fields with C (such as ;
          or |; \\t or tab for a tab). A column of a .decl'ared relation whose facts are all
          numbers (or all dates) takes no other kind: FILE:LINE:COL names the field, nothing loads.
          --skip N leaves out the first N lines. JSON Lines (.jsonl, .ndjson): one object per
          line, its keys naming the columns. SQLite (.db, .sqlite, .sqlite3, or SQLite's header):
          '.import FILE.db' loads every table as '.attach' does; '.import FILE.db TABLE [RELATION]'
          one table. Event exports: '.import --format gdelt FILE [RELATION]' (GDELT 1.0 or 2.0,
          into gdelt_event) and '.import --format icews FILE [RELATION]' (into icews_event), also
          recognised without --format. A relative FILE is looked for beside the script first.
        """,
      run: { session, arg in session.importFacts(arg) }),
    Command(
      name: "attach", usage: ".attach FILE.db", summary: "Load every table and view of a SQLite database as relations",
      details: """
          Each table or view becomes a relation named after it, its columns named as .decl spells
          them (lower snake case). INTEGER is an integer, REAL a decimal, TEXT a symbol (a date
          when its column's declared type says DATE), NULL the empty symbol; a BLOB is refused.
          Every table is read before any relation changes: an error loads nothing.
        """,
      wholeNameOnly: true,
      run: { session, arg in session.attachDatabase(arg) }),
    Command(
      name: "export", usage: ".export [--format F] RELATION FILE",
      summary: "Write every tuple of a relation to a file (TSV, CSV, JSON Lines, JSON, SQLite)",
      details: """
          The format comes from FILE's extension (.tsv, .csv, .jsonl or .ndjson, .json, .db or
          .sqlite) or --format; derived relations are computed first. A header names the columns
          (TSV, CSV). SQLite: one table named RELATION, replaced in an existing database (its
          other tables are kept). The file is written beside its target and renamed over it,
          never left half-written; .import reads it back.
        """,
      run: { session, arg in session.exportRelation(arg) }),
    Command(
      name: "relations", aliases: ["tables"], usage: ".relations [PATTERN]", summary: "List relations: arity, columns, rows, description",
      run: { session, arg in
        do throws(EvaluationError) {
          try session.writeRelationListing(matching: arg.text)
          return .ok
        } catch {
          return .error(error.message)
        }
      }),
    Command(
      name: "schema", usage: ".schema [RELATION]", summary: "Show a relation's declaration and rules, or every declaration",
      run: { session, arg in
        let name = arg.text
        // With --engine postgres, the server's tables and views are declarations too.
        let server: [PostgresEngine.ServerTable]
        do throws(EvaluationError) { server = try session.serverTables() } catch {
          // A relation of the program's own is shown even when the server cannot be reached.
          guard !name.isEmpty, let r = session.schema[name] else { return .error(error.message) }
          session.writeSchema(r)
          return .ok
        }
        guard !name.isEmpty else {
          session.beginBlock()
          session.write(session.schemaListing(server: server))
          return .ok
        }
        if let t = server.first(where: { $0.name == name }) {
          let line = Session.declarationLine(t)
          session.writeListing(
            Grid(columns: ["relation", "clause"], rows: [[name, String(line.dropLast())]], numbers: [false, false]),
            command: ".schema \(name)") { line }
          return .ok
        }
        guard let r = session.schema[name] else {
          let hint = Suggest.closest(to: name, in: Array(session.schema.relations.keys)).map { "; did you mean '\($0)'?" } ?? ""
          return .error("No relation '\(name)'\(hint)")
        }
        session.writeSchema(r)
        return .ok
      }),
    Command(
      name: "rules", usage: ".rules [RELATION]", summary: "List the session's rules, or every rule of a relation, as dq source",
      details: "  With no RELATION, the rules added in this session (not the dataset's), under a comment\n  naming the file each came from; like SWI-Prolog's listing.",
      run: { session, arg in
        let (listing, problem) = session.ruleListing(of: arg.text)
        if let problem { return .error(problem) }
        do {
          guard !listing.isEmpty else {
            session.frontEnd.tell(arg.text.isEmpty ? "No rules of this session's own (.rules RELATION lists a dataset relation's)." : "'\(arg.text)' has no rules.")
            return .ok
          }
          session.beginBlock()
          session.write(listing)
          return .ok
        }
      }),
    .onQuery(
      name: "why", usage: ".why [--depth N] [--graph] QUERY", summary: "Explain each answer down to facts and their sources",
      details: "  Shows the rule behind each derived tuple, recursively, and the sentence each fact cites;\n  the tree stops after N levels of rules (6 by default). With --graph the trees are drawn\n  in Graphviz DOT, as '.graph' draws (--output FILE.svg renders them).",
      example: "met(abe, Who, _, _, _)", run: { $0.why($1) }),
    .onQuery(
      name: "graph", usage: ".graph [--output FILE] QUERY", summary: "Draw the answers as a graph (Graphviz DOT; SVG/PNG with dot)",
      details: "  The query shows two variables (an edge from the first to the second) or three (the third\n  labels the edge). The DOT text goes where answers go; '--output FILE' with FILE ending in\n  .svg, .png or .pdf renders it with Graphviz's 'dot' (on PATH), and so does '.output FILE.svg'.",
      example: "met(X, Y, _, _, _)", run: { $0.graph($1) }),
    .onQuery(
      name: "steps", usage: ".steps QUERY", summary: "Show how the answer is computed: strata and semi-naive rounds",
      details: "  Lists the strata the query needs and, for each recursive one, the tuples each round adds.",
      example: "linked(erdogan, X)", run: { $0.steps($1) }),
    Command(
      name: "plan", usage: ".plan QUERY", summary: "Show the evaluation plan: join order, indexes, delta versions",
      run: { session, arg in CommandOutcome(session.plan(arg)) }),
    Command(
      name: "memory", usage: ".memory [PATTERN]", summary: "Show the bytes each stored relation holds, per tuple",
      details: "  Rows, the deduplication table and the indexes built so far; derived relations are stored\n  once a query has needed them, and brought up to date after edits before they are listed.",
      run: { session, arg in
        do throws(EvaluationError) {
          try session.updateStored(matching: arg.text)
        } catch {
          session.report(error.diagnostic)
          return .reported(.runtimeError)
        }
        session.writeMemoryListing(matching: arg.text)
        return .ok
      }),
    Command(
      name: "limit", usage: ".limit [tuples N | time SECONDS | memory SIZE | threads N]",
      summary: "Show the limits of each query, or set one (0: no limit)",
      details: "  tuples: distinct tuples a query may store (--max-tuples); time: seconds it may run\n  (--timeout); memory: bytes dq may hold while it runs (--memory; 4G, 800M, 25%);\n  threads: threads evaluation may use (--threads; 1: one thread).",
      run: { session, arg in session.limit(arg) }),
    Command(
      name: "engine", usage: ".engine [native | postgres [CONNINFO]]",
      summary: "Show the engine that computes answers, or choose one",
      details: "  postgres computes each query inside a PostgreSQL server (CONNINFO: anything libpq\n  accepts; without it PGHOST, PGPORT, PGDATABASE, PGUSER apply). .why, .steps, .graph and\n  listings still use the native engine.",
      wholeNameOnly: true,
      run: { session, arg in session.chooseEngine(arg.text) }),
    Command(
      name: "tokens", usage: ".tokens TEXT", summary: "Show the tokens the lexer reads in TEXT",
      run: { session, arg in
        session.beginBlock()
        session.write(SyntaxDump.tokens(SourceFile(name: "<tokens>", text: arg.text)))
        return .ok
      }),
    Command(
      name: "ast", usage: ".ast TEXT", summary: "Show the syntax tree the parser builds from TEXT",
      run: { session, arg in
        // Parsed where it stands, so its errors point into the file; the tree has no positions.
        let (statements, errors) =
          arg.located
          ? Parser.parse(arg.span.file, from: arg.span.start, to: arg.span.end)
          : Parser.parse(SourceFile(name: "<ast>", text: arg.text))
        if !errors.isEmpty {
          errors.forEach(session.report)
          return .reported(.staticError)
        }
        session.beginBlock()
        session.write(SyntaxDump.tree(statements))
        return .ok
      }),
    Command(
      name: "format", aliases: ["mode"], usage: ".format [FORMAT]",
      summary: "Show or choose how answers print: table, tsv, csv, json, jsonl, markdown, line",
      details: """
          table: boxed, fitted to the terminal; tsv, csv: a header line, then one line per row;
          json: one document per run, an array of {query, columns, rows} objects (a yes/no query:
          {query, columns, answer: true|false}); jsonl: one such object per line; markdown: a
          Markdown table; line: one 'column = value' line per cell, a blank line between rows.
        """,
      run: { session, arg in
        guard !arg.text.isEmpty else { return session.show(session.options.format.rawValue) }
        guard let f = OutputFormat(rawValue: arg.text) else {
          // The mistake `--format xml` is on the command line: exit 64 like it.
          session.report(
            Diagnostic(.error, .semantic, "Unknown format '\(arg.text)'", at: arg.span, hint: "use one of: \(OutputFormat.names)"))
          return .reported(.usageError)
        }
        // The JSON document of the answers so far ends before answers print another way.
        if f != session.options.format { session.endDocument() }
        session.options.format = f
        return .ok
      }),
    Command(
      name: "headers", usage: ".headers [on|off]", summary: "Show or choose whether answers print column names",
      run: { session, arg in
        switch arg.text {
        case "": return session.show(session.options.headers ? "on" : "off")
        case "on": session.options.headers = true
        case "off": session.options.headers = false
        default: return .usage("Use '.headers on' or '.headers off'")
        }
        return .ok
      }),
    Command(
      name: "width", usage: ".width [N|auto|0]", summary: "Show or set the width tables are fitted to",
      details: "  auto (the default): the terminal's width, and no limit for files and pipes; N: N columns\n  everywhere; 0: never cut. Cells too long for their column end in '…'.",
      run: { session, arg in
        switch arg.text {
        case "": return session.show(session.describeWidth())
        case "auto": session.options.width = nil
        default:
          guard let n = Int(arg.text), n >= 0, n <= Limits.maxShownWidth else {
            return .usage("Use '.width N' (0 to \(Limits.maxShownWidth)), '.width auto' or '.width 0'")
          }
          session.options.width = n
        }
        return .ok
      }),
    Command(
      name: "maxrows", usage: ".maxrows [N]", summary: "Show or set how many rows a table shows (0: all)",
      details: "  Applies to the table, markdown and line formats on the screen; files (.output, .once)\n  and the formats for programs always get every row. The shell starts at 40, scripts at 0.",
      run: { session, arg in
        guard !arg.text.isEmpty else { return session.show(session.options.maxRows == 0 ? "0 (all rows)" : "\(session.options.maxRows)") }
        guard let n = Int(arg.text), n >= 0 else { return .usage("'.maxrows' takes a number of rows (0 for all), not '\(arg.text)'") }
        session.options.maxRows = n
        return .ok
      }),
    Command(
      name: "clear", usage: ".clear", summary: "Forget the facts and rules added in this session; keep the dataset",
      run: { session, _ in
        session.reset()
        // A message, not an answer: it must not mix with CSV or TSV answers on stdout.
        session.frontEnd.tell("Cleared: back to the built-in dataset.")
        return .ok
      }),
    Command(
      name: "retract", usage: ".retract FACT", summary: "Remove one fact, e.g. .retract parent(alice, bob).",
      run: { session, arg in
        switch session.retract(arg.text) {
        case .success(true): return .ok
        case .success(false): return .error("'\(arg.text)' is not a stored fact")
        case .failure(let e): return .error(e.all.map(\.message).joined(separator: "; "))
        }
      }),
  ])
}

extension CommandOutcome {
  /// The outcome of a command that reported its own errors.
  init(_ status: Session.Status) {
    switch status {
    case .ok: self = .ok
    case .exit: self = .exit
    default: self = .reported(status)
    }
  }
}

extension Session {
  /// `.load FILE`: runs the clauses of a file in this session, as if they were written here.
  /// A relative FILE is looked for beside the file that loads it first, then from the working
  /// directory. A file already being loaded (a cycle) is refused, naming the chain, and so is
  /// nesting past `Limits.maxLoadDepth`, so neither can exhaust the stack. The exit statuses are
  /// those of `dq FILE`: 66 when it cannot be read, 65 for its syntax errors, 70 at run time.
  func load(_ arg: CommandArgument) -> CommandOutcome {
    let (argument, span) = (arg.text, arg.span)
    guard !argument.isEmpty else {
      report(Diagnostic(.error, .semantic, "'.load' needs a file name", at: span, hint: "e.g. .load family.dq"))
      return .reported(.usageError)
    }
    return load(path: Self.besideScript(Self.unquoted(argument), of: span.file.name), at: span)
  }

  /// Runs the file at `path` (already resolved) as `.load` does, for the command at `span`;
  /// a file loaded before is reloaded: what it added last time is replaced.
  func load(path: String, at span: SourceSpan) -> CommandOutcome {
    // The chain of files being loaded, outermost first; a file run directly is its root.
    var chain = reading.loading
    if chain.isEmpty, let root = Self.canonicalPath(span.file.name) { chain = [(span.file.name, root)] }
    let key = Self.canonicalPath(path) ?? path
    if let i = chain.firstIndex(where: { $0.key == key }) {
      let cycle = chain[i...].map(\.name) + [path]
      report(
        Diagnostic(
          .error, .semantic, "'.load' cycle: \(cycle.joined(separator: " -> "))", at: span,
          hint: "a file cannot load itself, directly or through the files it loads"))
      return .reported(.staticError)
    }
    guard chain.count < Limits.maxLoadDepth else {
      report(
        Diagnostic(
          .error, .semantic, "'.load' nested more than \(Limits.maxLoadDepth) files deep", at: span,
          hint: "load the files one after another from one script instead"))
      return .reported(.staticError)
    }
    let text: String
    switch SourceReader.readText(path) {
    case .success(let t): text = t
    case .failure(let e):
      return .unreadable("Cannot read '\(path)': \(e.reason)")
    }
    // The loaded file runs with the state of its own text; the loader's is restored after.
    let saved = reading
    reading.loading = chain + [(path, key)]
    defer { reading = saved }
    return CommandOutcome(runLoaded(SourceFile(name: path, text: text), key: key))
  }

  /// Strips one pair of surrounding double quotes.
  static func unquoted(_ s: String) -> String {
    s.count >= 2 && s.hasPrefix("\"") && s.hasSuffix("\"") ? String(s.dropFirst().dropLast()) : s
  }

  /// A relative `path` beside the file `including` when it exists there, else as given.
  static func besideScript(_ path: String, of including: String) -> String {
    guard !path.hasPrefix("/"), let slash = including.lastIndex(of: "/") else { return path }
    let beside = String(including[...slash]) + path
    return access(beside, F_OK) == 0 ? beside : path
  }

  /// The absolute path without links of an existing file (to tell one file under two names).
  static func canonicalPath(_ path: String) -> String? {
    guard let p = realpath(path, nil) else { return nil }
    defer { free(p) }
    return String(cString: p)
  }

  /// `.import [--skip N] [--header | --no-header] [--delimiter C] FILE [RELATION]`: loads a TSV
  /// file into RELATION, else the relation named after the file (CSV when its name ends in .csv
  /// or a delimiter other than a tab is named), one fact per record; numbers and dates become
  /// numbers and dates, anything else a symbol. A header (sniffed, or forced) is skipped and names a new relation's columns. `--format gdelt` and
  /// `--format icews` read event exports into their fixed columns (EventLayout), RELATION
  /// then defaulting to `gdelt_event` / `icews_event`; such files are also recognised unasked.
  func importFacts(_ arg: CommandArgument) -> CommandOutcome {
    if let sqlite = importDatabaseIfSQLite(arg) { return sqlite }
    let span = arg.span
    var words = arg.words
    // Options come before FILE: `--skip N` leaves out the first N lines, `--header` and
    // `--no-header` say whether the first record names the columns (else it is sniffed), and
    // `--delimiter C` separates fields with C (`\t` or `tab` for a tab).
    var skip = 0
    var header: Bool?
    var delimiter: UInt8?
    var layout: EventLayout?
    var badOption = false
    while words.count > 1, words[0].hasPrefix("--") {
      let option = words.removeFirst()
      switch option {
      case "--skip":
        guard let n = Int(words.removeFirst()), n >= 0 else { badOption = true; break }
        skip = n
      case "--format":
        guard let l = EventLayout.named(words.removeFirst()) else { badOption = true; break }
        layout = l
      case "--header": header = true
      case "--no-header": header = false
      case "--delimiter":
        let d = words.removeFirst()
        if d == "\\t" || d == "tab" {
          delimiter = 9
        } else if d.utf8.count == 1, let b = d.utf8.first, b != 10, b != 13, b != UInt8(ascii: "\"") {
          delimiter = b
        } else {
          badOption = true
        }
      default: badOption = true
      }
      if badOption { break }
    }
    // A relative path is looked up beside the script first, then from the working directory.
    // An event export needs no RELATION: it has its own (`gdelt_event`, `icews_event`).
    let path = words.first.map { Self.besideScript($0, of: span.file.name) } ?? ""
    if !badOption, words.count == 1, layout == nil, delimiter == nil, header == nil, skip == 0 {
      layout = detectedLayout(path, into: nil)
    }
    // Any other file without RELATION loads into the relation named after it, as `.attach`
    // names tables: `un-members.csv` is `un_members`.
    if !badOption, words.count == 1, layout == nil {
      words.append(Self.relationName(forFile: path))
    }
    guard !badOption, words.count == 2 || (words.count == 1 && layout != nil),
      let first = (words.last ?? "").unicodeScalars.first, words.count == 1 || (first >= "a" && first <= "z")
    else {
      report(
        Diagnostic(
          .error, .semantic, "Use '.import [--skip N] [--header | --no-header] [--delimiter C] FILE [RELATION]'", at: span,
          hint: "e.g. .import edges.tsv edge, or .import --header --delimiter ; people.csv person; event exports: .import --format gdelt|icews FILE [RELATION]"))
      return .reported(.usageError)
    }
    if let layout {
      return importEvents(path, layout: layout, into: words.count == 2 ? words[1] : layout.relation, at: span)
    }
    let name = words[1]
    if JSONLinesReader.handles(path) { return importJSONLines(path, into: name, at: span) }
    if delimiter == nil, header == nil, skip == 0, let detected = detectedLayout(path, into: name) {
      return importEvents(path, layout: detected, into: name, at: span)
    }
    // A named delimiter other than a tab reads fields as CSV does (with quotes); Souffle's
    // `.facts` files are TSV, like every name that does not end in `.csv`.
    let format: Importer.Format =
      delimiter.map { $0 == 9 ? .tsv : .csv } ?? (path.lowercased().hasSuffix(".csv") ? .csv : .tsv)
    // The first record: a header when forced, or when it sniffs like one.
    let firstRecord: (fields: [String], looksLikeHeader: Bool)?
    do throws(Importer.Failure) {
      firstRecord = try Importer.firstRecord(path: path, format: format, separator: delimiter, skip: skip)
    } catch {
      // Like `dq nofile.dq`: an input file that cannot be read exits 66.
      return error.unreadable ? .unreadable(error.message) : .error(error.message)
    }
    // Souffle writes `.facts` files without a header: they are never sniffed for one.
    let isFacts = path.lowercased().hasSuffix(".facts")
    let hasHeader = header ?? (!isFacts && firstRecord?.looksLikeHeader == true)
    // The arity comes from the relation when it is known, else from the file's first record.
    let arity = schema[name]?.arity ?? firstRecord?.fields.count ?? 0
    var resolver = Resolver(schema: schema)
    if let existing = resolver.schema[name], existing.arity != arity {
      report(Diagnostic(.error, .semantic, "Relation '\(name)' has \(existing.arity) columns but the file has \(arity)", at: span))
      return .reported(.staticError)
    }
    // A failed import leaves no trace: not the rows, not the relation's name.
    let (savedSchema, hadTable) = (schema, database.tables[name] != nil)
    if hasHeader, resolver.schema[name]?.declared != true, (database.tables[name]?.rows.count ?? 0) == 0,
      let names = firstRecord?.fields, names.count == arity, arity > 0
    {
      // A new relation (not declared, no facts yet: a script may already have used its name)
      // takes its column names from the header, as `.decl` gives them.
      _ = resolver.schema.declare(
        Declaration(name: name, columns: Self.columnNames(names), description: "", span: span))
    }
    resolver.declareUse(name, arity: arity, at: span)
    schema = resolver.schema
    let declared = savedSchema[name].flatMap { $0.declared ? $0.columns : nil }
    return loadRows(into: name, arity: arity, restoring: savedSchema, hadTable: hadTable) { table throws(Importer.Failure) in
      _ = try Importer.load(
        path: path, format: format, separator: delimiter, skip: skip, header: hasHeader,
        declaredColumns: declared, into: table, store: database.store, citation: reading.currentCitation)
    }
  }

  /// Runs an importer's `load` into relation `name`, all or nothing: on a failure the schema
  /// goes back to `savedSchema` and a table the import made is dropped; on success the rows it
  /// appended are recorded as the loading file's own (so `.unload` and a reload find them).
  func loadRows(
    into name: String, arity: Int, restoring savedSchema: Schema, hadTable: Bool,
    _ load: (Database.Table) throws(Importer.Failure) -> Void
  ) -> CommandOutcome {
    let table = database.table(name, arity: arity)
    let before = table.factRows.count
    do throws(Importer.Failure) {
      try load(table)
    } catch {
      schema = savedSchema
      if !hadTable { database.drop(name) }
      // Like `dq nofile.dq`: an input file that cannot be read exits 66.
      return error.unreadable ? .unreadable(error.message) : .error(error.message)
    }
    recordImported(name, table.factRows, from: before)
    noteFactsChanged(name)
    return .ok
  }

  /// `.export [--format F] RELATION FILE`: every tuple of the relation (derived ones computed
  /// first) written to FILE in the format its extension (or F) names, all or nothing.
  func exportRelation(_ arg: CommandArgument) -> CommandOutcome {
    if let sqlite = exportDatabaseIfSQLite(arg) { return sqlite }
    var words = arg.words
    var format: Exporter.Format?
    if words.count == 4, words[0] == "--format" {
      guard let f = Exporter.Format(rawValue: words[1].lowercased()) else {
        return .usage("Unknown export format '\(words[1])'; use tsv, csv, jsonl, json or sqlite")
      }
      format = f
      words.removeFirst(2)
    }
    guard words.count == 2 else { return .usage("Use '.export [--format F] RELATION FILE', e.g. .export met met.csv") }
    let (name, path) = (words[0], words[1])
    guard let chosen = format ?? Exporter.format(forPath: path) else {
      return .usage("Cannot tell the format of '\(path)' from its extension; use .tsv, .csv, .jsonl, .json, .db or --format")
    }
    let relation: RelationSchema, rows: [[Value]]
    switch tuplesToExport(name) {
    case .success(let found): (relation, rows) = found
    case .failure(let refusal): return refusal.outcome
    }
    let text = Exporter.render(rows: rows, columns: relation.columns, format: chosen, store: database.store)
    if let problem = Exporter.writeAtomically(path, text) { return .ioError(problem) }
    return .ok
  }

  /// Why a relation cannot be exported: it is unknown, or computing it failed.
  struct ExportRefusal: Error { let outcome: CommandOutcome }

  /// Every tuple of relation `name` for `.export`, derived ones computed first, with its schema
  /// entry (for the column names).
  func tuplesToExport(_ name: String) -> Result<(RelationSchema, [[Value]]), ExportRefusal> {
    guard let relation = schema[name] else {
      let hint = Suggest.closest(to: name, in: Array(schema.relations.keys)).map { "; did you mean '\($0)'?" } ?? ""
      return .failure(ExportRefusal(outcome: .error("No relation '\(name)'\(hint)")))
    }
    do throws(EvaluationError) {
      try evaluateAll(budget: makeBudget())
    } catch {
      return .failure(ExportRefusal(outcome: .error(error.message)))
    }
    let stored = database.tables[name]?.rows
    return .success((relation, (0..<(stored?.count ?? 0)).compactMap { stored?.row($0) }))
  }

  /// The relation a file loads into when `.import` names none: its name without folders and
  /// extensions, in lower snake case (`data/UN Members.csv` is `un_members`, `2024.tsv` `c2024`).
  static func relationName(forFile path: String) -> String {
    let base = path.split(separator: "/").last.map(String.init) ?? path
    let stem = base.split(separator: ".", omittingEmptySubsequences: false).first.map(String.init) ?? base
    return columnNames([stem])[0]
  }

  /// A header's fields as column names: lower snake case (`Event ID` is `event_id`), `cN` for
  /// one with no letters or digits, and a number after a name seen before.
  static func columnNames(_ fields: [String]) -> [String] {
    var seen: Set<String> = []
    return fields.enumerated().map { k, field in
      var name = ""
      for ch in field.lowercased().unicodeScalars {
        if (ch >= "a" && ch <= "z") || (ch >= "0" && ch <= "9") {
          name.unicodeScalars.append(ch)
        } else if !name.isEmpty, !name.hasSuffix("_") {
          name += "_"
        }
      }
      while name.hasSuffix("_") { name.removeLast() }
      if name.isEmpty { name = "c\(k + 1)" } else if let c = name.first, c.isNumber { name = "c" + name }
      var unique = name
      var n = 2
      while seen.contains(unique) {
        unique = "\(name)_\(n)"
        n += 1
      }
      seen.insert(unique)
      return unique
    }
  }

  /// Prints the value of a setting (`.format`, `.headers`, ... with no argument).
  public func show(_ value: String) -> CommandOutcome {
    beginBlock()
    write(value + "\n")
    return .ok
  }

  /// `.width` as `.width` and `.show` print it.
  public func describeWidth() -> String {
    switch options.width {
    case nil: return "auto" + (frontEnd.screenWidth.map { " (\($0) columns)" } ?? " (no limit here)")
    case 0?: return "0 (no limit)"
    case let n?: return "\(n)"
    }
  }

  /// The settings `.show` lists that belong to the language: name and value.
  public var languageSettings: [(String, String)] {
    let tuples = Limits.budgetMaxTuples(options.maxTuples), time = Limits.budgetTimeout(options.timeout)
    return [
      ("format", options.format.rawValue), ("headers", options.headers ? "on" : "off"),
      ("width", describeWidth()), ("maxrows", options.maxRows == 0 ? "0 (all rows)" : "\(options.maxRows)"),
      ("limit tuples", tuples > 0 ? String(tuples) : "none"), ("limit time", time > 0 ? formatSeconds(time) : "none"),
      ("limit memory", options.maxMemory > 0 ? formatBytes(options.maxMemory) : "none"),
      ("limit threads", String(options.threads)),
      ("warnings", options.warnings ? "on" : "off"),
    ]
  }

  /// `.limit [tuples N | time SECONDS | memory SIZE]`: shows or sets the limits of each query,
  /// read as the command line's --max-tuples, --timeout and --memory are; 0 means no limit.
  func limit(_ arg: CommandArgument) -> CommandOutcome {
    let argument = arg.text
    let words = argument.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
    func usage(_ message: String) -> CommandOutcome {
      report(
        Diagnostic(
          .error, .semantic, message, at: arg.span,
          hint: "'.limit tuples N', '.limit time SECONDS', '.limit memory SIZE' (such as 4G or 25%; 0 for no limit) or '.limit threads N'"))
      return .reported(.usageError)
    }
    if words.isEmpty {
      let tuples = Limits.budgetMaxTuples(options.maxTuples), time = Limits.budgetTimeout(options.timeout)
      beginBlock()
      write(
        "tuples  \(tuples > 0 ? String(tuples) : "none")\n"
          + "time    \(time > 0 ? formatSeconds(time) : "none")\n"
          + "memory  \(options.maxMemory > 0 ? formatBytes(options.maxMemory) : "none")\n"
          + "threads \(options.threads)\n")
      return .ok
    }
    guard words.count == 2 else { return usage("'.limit' takes a limit and its value") }
    let value = words[1]
    func take<T>(_ parsed: Result<T, Limits.OptionError>, _ set: (T) -> Void) -> CommandOutcome {
      switch parsed {
      case .success(let v):
        set(v)
        return .ok
      case .failure(let e):
        return usage("'.limit \(words[0])': \(e.message)")
      }
    }
    switch words[0] {
    case "tuples": return take(Limits.parseMaxTuples(value)) { options.maxTuples = $0 }
    case "time": return take(Limits.parseTimeout(value)) { options.timeout = $0 }
    case "memory": return take(Limits.parseMemory(value)) { options.maxMemory = $0 }
    case "threads": return take(Limits.parseThreads(value)) { options.threads = $0 }
    default: return usage("Unknown limit '\(words[0])'")
    }
  }
}

extension Command {
  /// A command whose argument is a query it inspects (`.why`, `.graph`, `.steps`): without one
  /// it is a usage error that shows an example.
  static func onQuery(
    name: String, usage: String, summary: String, details: String, example: String,
    run: @escaping @Sendable (Session, CommandArgument) -> Session.Status
  ) -> Command {
    Command(
      name: name, usage: usage, summary: summary, details: details,
      run: { session, arg in
        guard !arg.text.isEmpty else { return .usage("'.\(name)' needs a query, e.g. .\(name) \(example)") }
        return CommandOutcome(run(session, arg))
      })
  }
}
