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
    if let handler = commandHandler {
      switch handler(name, argument, span) {
      case .handled: return .ok
      case .exit: return .exit
      case .failed(let d):
        report(d)
        return .runtimeError
      case .failedWith(let d, let status):
        report(d)
        return status
      case .unknown: break
      }
    }
    switch name {
    case "format", "mode":
      guard let f = OutputFormat(rawValue: argument) else {
        report(Diagnostic(.error, .runtime, "Unknown format '\(argument)'", at: span, hint: "use one of: table, tsv, csv, json"))
        return .runtimeError
      }
      options.format = f
      return .ok
    case "why":
      return why(argument, name: span.file.name)
    case "steps":
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
    default:
      // A mistake in the input, like a syntax error: exit 65, not 70.
      report(Diagnostic(.error, .semantic, "Unknown command '.\(name)'", at: span, hint: "'.help' lists the commands"))
      return .staticError
    }
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
      return .staticError
    }
    var (path, name) = (words[0], words[1])
    // A relative path is looked up beside the script first, then from the working directory.
    if !path.hasPrefix("/"), let slash = span.file.name.lastIndex(of: "/") {
      let beside = String(span.file.name[...slash]) + path
      if access(beside, R_OK) == 0 { path = beside }
    }
    let format: Importer.Format = path.lowercased().hasSuffix(".csv") ? .csv : .tsv
    // The arity comes from the relation when it is known, else from the file's first line.
    var arity = schema[name]?.arity
    if arity == nil {
      guard let first = firstLine(path, after: skip) else {
        report(Diagnostic(.error, .runtime, "Cannot read '\(path)'", at: span))
        return .runtimeError
      }
      arity = first.isEmpty ? 0 : Self.fieldCount(first, separator: format == .csv ? "," : "\t", quotes: format == .csv)
    }
    guard let arity else { return .runtimeError }
    var resolver = Resolver(schema: schema)
    if let existing = resolver.schema[name], existing.arity != arity {
      report(Diagnostic(.error, .semantic, "Relation '\(name)' has \(existing.arity) columns but the file has \(arity)", at: span))
      return .staticError
    }
    resolver.declareUse(name, arity: arity, at: span)
    schema = resolver.schema
    let table = database.table(name, arity: arity)
    do throws(Importer.Failure) {
      _ = try Importer.load(
        path: path, format: format, skip: skip, into: table, store: database.store, citation: currentCitation)
    } catch {
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

  private func firstLine(_ path: String, after skip: Int) -> String? {
    guard let f = fopen(path, "rb") else { return nil }
    defer { fclose(f) }
    var line: UnsafeMutablePointer<CChar>? = nil
    var capacity = 0
    defer { free(line) }
    for _ in 0..<skip where getline(&line, &capacity, f) < 0 { return "" }
    guard getline(&line, &capacity, f) >= 0, let l = line else { return "" }
    var s = String(cString: l)
    while s.hasSuffix("\n") || s.hasSuffix("\r") { s.removeLast() }
    return s
  }

}
