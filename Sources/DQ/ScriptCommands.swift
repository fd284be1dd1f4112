// The commands the language itself runs in scripts (`.format`, `.why`, `.steps`, `.plan`,
// `.tokens`, `.ast`, `.import`, `.memory`); the shell adds its own on top (DQShell's Commands).
#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

extension Session {
  // MARK: - Commands

  func command(_ name: String, _ argument: String, _ span: SourceSpan) -> Status {
    var name = name
    if let handler = commandHandler {
      switch handler(name, argument, span) {
      case .handled: return .ok
      case .exit: return .exit
      case .failed(let d):
        report(d)
        return .runtimeError
      case .misused(let d):
        report(d)
        return .usageError
      case .delegated(let full): name = full
      case .failedWith(let d, let status):
        report(d)
        return status
      case .unknown: break
      }
    }
    switch name {
    case "format", "mode":
      guard let f = OutputFormat(rawValue: argument) else {
        // The mistake `--format xml` is on the command line: exit 64 like it.
        report(Diagnostic(.error, .semantic, "Unknown format '\(argument)'", at: span, hint: "use one of: table, tsv, csv, json"))
        return .usageError
      }
      options.format = f
      return .ok
    case "load", "read":
      return load(argument, span: span)
    case "why":
      guard !argument.isEmpty else {
        report(Diagnostic(.error, .semantic, "'.why' needs a query, e.g. .why met(abe, Who, _, _, _)", at: span))
        return .usageError
      }
      return why(argument, name: span.file.name)
    case "steps":
      guard !argument.isEmpty else {
        report(Diagnostic(.error, .semantic, "'.steps' needs a query, e.g. .steps linked(erdogan, X)", at: span))
        return .usageError
      }
      return steps(argument, name: span.file.name)
    case "plan":
      return plan(argument, name: span.file.name)
    case "tokens":
      beginBlock()
      write(SyntaxDump.tokens(SourceFile(name: "<tokens>", text: argument)))
      return .ok
    case "ast":
      let (statements, errors) = Parser.parse(SourceFile(name: "<ast>", text: argument))
      if !errors.isEmpty {
        errors.forEach(report)
        return .staticError
      }
      beginBlock()
      write(SyntaxDump.tree(statements))
      return .ok
    case "import":
      return importFacts(argument, span: span)
    case "memory":
      beginBlock()
      write(memoryListing(matching: argument))
      return .ok
    case "limit":
      return limit(argument, span: span)
    default:
      // A mistake in the input, like a syntax error: exit 65, not 70.
      report(Diagnostic(.error, .semantic, "Unknown command '.\(name)'", at: span, hint: "'.help' lists the commands"))
      return .staticError
    }
  }

  /// `.load FILE`: runs the clauses of a file in this session, as if they were written here.
  /// A relative FILE is looked for beside the file that loads it first, then from the working
  /// directory. A file already being loaded (a cycle) is refused, naming the chain, and so is
  /// nesting past `Limits.maxLoadDepth`, so neither can exhaust the stack. The exit statuses are
  /// those of `dq FILE`: 66 when it cannot be read, 65 for its syntax errors, 70 at run time.
  private func load(_ argument: String, span: SourceSpan) -> Status {
    guard !argument.isEmpty else {
      report(Diagnostic(.error, .semantic, "'.load' needs a file name", at: span, hint: "e.g. .load family.dq"))
      return .usageError
    }
    let path = Self.besideScript(Self.unquoted(argument), of: span.file.name)
    // The chain of files being loaded, outermost first; a file run directly is its root.
    var chain = loading
    if chain.isEmpty, let root = Self.canonicalPath(span.file.name) { chain = [(span.file.name, root)] }
    let key = Self.canonicalPath(path) ?? path
    if let i = chain.firstIndex(where: { $0.key == key }) {
      let cycle = chain[i...].map(\.name) + [path]
      report(
        Diagnostic(
          .error, .semantic, "'.load' cycle: \(cycle.joined(separator: " -> "))", at: span,
          hint: "a file cannot load itself, directly or through the files it loads"))
      return .staticError
    }
    guard chain.count < Limits.maxLoadDepth else {
      report(
        Diagnostic(
          .error, .semantic, "'.load' nested more than \(Limits.maxLoadDepth) files deep", at: span,
          hint: "load the files one after another from one script instead"))
      return .staticError
    }
    let text: String
    switch SourceReader.readText(path) {
    case .success(let t): text = t
    case .failure(let e):
      report(Diagnostic(.error, .runtime, "Cannot read '\(path)': \(e.reason)", at: span))
      return .unreadableInput
    }
    // The loaded file runs with the state of its own text; the loader's is restored after.
    let saved = (loading, laterDefinitions, currentCitation, warnedEmpty)
    loading = chain + [(path, key)]
    defer { (loading, laterDefinitions, currentCitation, warnedEmpty) = saved }
    return run(SourceFile(name: path, text: text))
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

  /// `.import FILE RELATION`: loads a TSV file (CSV when its name ends in .csv), one fact per
  /// line; numbers and dates become numbers and dates, anything else a symbol.
  private func importFacts(_ argument: String, span: SourceSpan) -> Status {
    var words: [String] = []
    var current = ""
    var quoted = false
    for ch in argument {
      if ch == "\"" { quoted.toggle(); continue }
      if ch == " " && !quoted {
        if !current.isEmpty { words.append(current) }
        current = ""
      } else {
        current.append(ch)
      }
    }
    if !current.isEmpty { words.append(current) }
    // `--skip N` leaves out the first N lines (a header).
    var skip = 0
    if words.count == 4, words[0] == "--skip", let n = Int(words[1]), n >= 0 {
      skip = n
      words.removeFirst(2)
    }
    guard words.count == 2, let first = words[1].unicodeScalars.first, first >= "a" && first <= "z" else {
      report(
        Diagnostic(
          .error, .semantic, "Use '.import [--skip N] FILE RELATION'", at: span,
          hint: "e.g. .import edges.tsv edge, or .import --skip 1 people.csv person for a file with a header"))
      return .usageError
    }
    let name = words[1]
    // A relative path is looked up beside the script first, then from the working directory.
    let path = Self.besideScript(words[0], of: span.file.name)
    let format: Importer.Format = path.lowercased().hasSuffix(".csv") ? .csv : .tsv
    let bytes: [UInt8]
    switch Importer.read(path) {
    case .success(let b): bytes = b
    case .failure(let e):
      // Like `dq nofile.dq`: an input file that cannot be read exits 66.
      report(Diagnostic(.error, .runtime, e.message, at: span))
      return .unreadableInput
    }
    // The arity comes from the relation when it is known, else from the file's first line.
    let arity =
      schema[name]?.arity
      ?? Self.firstLine(bytes, after: skip).map {
        $0.isEmpty ? 0 : Self.fieldCount($0, separator: format == .csv ? "," : "\t", quotes: format == .csv)
      } ?? 0
    var resolver = Resolver(schema: schema)
    if let existing = resolver.schema[name], existing.arity != arity {
      report(Diagnostic(.error, .semantic, "Relation '\(name)' has \(existing.arity) columns but the file has \(arity)", at: span))
      return .staticError
    }
    // A failed import leaves no trace: not the rows, not the relation's name.
    let (savedSchema, hadTable) = (schema, database.tables[name] != nil)
    resolver.declareUse(name, arity: arity, at: span)
    schema = resolver.schema
    let table = database.table(name, arity: arity)
    do throws(Importer.Failure) {
      _ = try Importer.load(
        bytes: bytes, path: path, format: format, skip: skip, into: table, store: database.store, citation: currentCitation)
    } catch {
      schema = savedSchema
      if !hadTable { database.drop(name) }
      report(Diagnostic(.error, .runtime, error.message, at: span))
      return .runtimeError
    }
    noteFactsChanged(name)
    return .ok
  }

  /// Fields on a line, with CSV's double quotes protecting separators.
  static func fieldCount(_ line: String, separator: Character, quotes: Bool) -> Int {
    var count = 1
    var quoted = false
    for ch in line {
      if quotes && ch == "\"" { quoted.toggle() } else if ch == separator && !quoted { count += 1 }
    }
    return count
  }

  /// The line after `skip` lines (nil when the file has no such line), without its line end.
  static func firstLine(_ bytes: [UInt8], after skip: Int) -> String? {
    var start = 0
    var skipped = 0
    while skipped < skip {
      guard let nl = bytes[start...].firstIndex(of: 10) else { return nil }
      start = nl + 1
      skipped += 1
    }
    guard start < bytes.count else { return nil }
    var end = bytes[start...].firstIndex(of: 10) ?? bytes.count
    while end > start, bytes[end - 1] == 13 { end -= 1 }
    return String(decoding: bytes[start..<end], as: UTF8.self)
  }


  /// `.limit [tuples N | time SECONDS | memory SIZE]`: shows or sets the limits of each query,
  /// read as the command line's --max-tuples, --timeout and --memory are; 0 means no limit.
  func limit(_ argument: String, span: SourceSpan) -> Status {
    let words = argument.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
    func usage(_ message: String) -> Status {
      report(
        Diagnostic(
          .error, .semantic, message, at: span,
          hint: "'.limit tuples N', '.limit time SECONDS' or '.limit memory SIZE' (such as 4G or 25%); 0 for no limit"))
      return .usageError
    }
    if words.isEmpty {
      let tuples = Limits.budgetMaxTuples(options.maxTuples), time = Limits.budgetTimeout(options.timeout)
      beginBlock()
      write(
        "tuples \(tuples > 0 ? String(tuples) : "none")\n"
          + "time   \(time > 0 ? formatSeconds(time) : "none")\n"
          + "memory \(options.maxMemory > 0 ? formatBytes(options.maxMemory) : "none")\n")
      return .ok
    }
    guard words.count == 2 else { return usage("'.limit' takes a limit and its value") }
    let value = words[1]
    func take<T>(_ parsed: Result<T, Limits.OptionError>, _ set: (T) -> Void) -> Status {
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
    default: return usage("Unknown limit '\(words[0])'")
    }
  }
}
