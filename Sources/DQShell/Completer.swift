/// Tab completion that knows the language and the data: commands, relations, the constants
/// that occur in a column, and the variables of the clause being typed.
import DQ

public final class Completer: CompletionSource {
  let session: Session
  /// Keywords offered where a literal or term can start.
  static let keywords = ["not", "count", "sum", "min", "max", "mod"]
  /// At most this many constants are offered for one column.
  static let constantLimit = 500

  public init(session: Session) { self.session = session }

  public func describe(_ candidate: String) -> String? {
    guard candidate.hasSuffix("("), let r = session.schema[String(candidate.dropLast())] else { return nil }
    let shape = "\(r.name)(\(r.columns.joined(separator: ", ")))"
    return r.description.isEmpty ? shape : shape + "  " + r.description
  }

  public func completions(line: String, word: String) -> Completions {
    let trimmed = line.drop { $0 == " " || $0 == "\t" }
    if trimmed.hasPrefix(".") {
      let parts = trimmed.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
      if parts.count == 1 {
        return .words(Commands.names.map { "." + $0 }.filter { $0.hasPrefix(word) })
      }
      let command = String(parts[0].dropFirst())
      let rest = String(parts[1])
      switch command {
      case "load", "read", "output", "once": return .fileNames
      case "schema", "relations": return .words(relationNames(prefix: word, withParen: false))
      case "format", "mode": return .words(OutputFormat.allCases.map(\.rawValue).filter { $0.hasPrefix(word) })
      case "timing", "headers": return .words(["on", "off"].filter { $0.hasPrefix(word) })
      case "width": return .words(["auto"].filter { $0.hasPrefix(word) })
      case "help": return .words(Commands.names.filter { $0.hasPrefix(word) })
      case "why", "retract": return clause(rest, word: word)
      default: return .words([])
      }
    }
    return clause(line, word: word)
  }

  /// Completion inside a clause.
  func clause(_ text: String, word: String) -> Completions {
    let context = Self.context(of: text)
    let variables = Self.variables(in: text).filter { $0.hasPrefix(word) && $0 != word }
    if let first = word.unicodeScalars.first, first == "_" || (first >= "A" && first <= "Z") {
      return .words(variables)
    }
    if let (relation, column, earlier) = context {
      return .words(constants(relation, column, prefix: word, earlier: earlier) + variables)
    }
    var words = relationNames(prefix: word, withParen: true)
    let before = String(text.dropLast(word.count)).trimmingCharacters(in: " \t\n")
    if before.isEmpty {
      // At the start of the input: a query, a clause, or a dot-command.
      if "?-".hasPrefix(word) { words.insert("?-", at: 0) }
      if word.isEmpty { words += Commands.names.map { "." + $0 } }
    } else {
      words += Self.keywords.filter { $0.hasPrefix(word) && !word.isEmpty }
    }
    return .words(words)
  }

  /// The program's relations and, with `--engine postgres`, the server's tables and views
  /// (every one has a column).
  func relationNames(prefix: String, withParen: Bool) -> [String] {
    var names = Set(session.schema.relations.values
      .filter { $0.name.hasPrefix(prefix) }
      .map { withParen && $0.arity > 0 ? $0.name + "(" : $0.name })
    for name in session.serverTableNames() where name.hasPrefix(prefix) && session.schema[name] == nil {
      names.insert(withParen ? name + "(" : name)
    }
    return names.sorted()
  }

  /// The constants in one column of a relation, as source text, among the rows that agree with
  /// the constants already typed in earlier columns (after `met(erdogan, ` the people Erdogan met).
  func constants(_ relation: String, _ column: Int, prefix: String, earlier: [String] = []) -> [String] {
    guard let shape = session.schema[relation], column < shape.arity else { return [] }
    try? session.evaluateAll(budget: Budget(maxTuples: session.options.maxTuples, timeout: 2, maxBytes: session.options.maxMemory))
    guard let table = session.database.tables[relation] else { return [] }
    let rows = table.rows
    var seen: Set<Value> = []
    var out: [String] = []
    let store = session.database.store
    // Constants typed in earlier columns narrow the rows; variables and blanks do not.
    var fixed: [(Int, Value)] = []
    for (i, text) in earlier.enumerated() where i < shape.arity {
      guard let c = Self.constant(text) else { continue }
      guard let v = store.existingValue(c) else { return [] }
      fixed.append((i, v))
    }
    rowLoop: for r in 0..<rows.count {
      for (i, v) in fixed where rows[r, i] != v { continue rowLoop }
      let v = rows[r, column]
      guard seen.insert(v).inserted else { continue }
      let text = store.source(v)
      if text.hasPrefix(prefix) { out.append(text) }
      if out.count >= Self.constantLimit { break }
    }
    return out.sorted()
  }

  /// A constant written as one token (`putin`, `"Park Geun-hye"`, `42`, `2016-08-09`), else nil.
  static func constant(_ text: String) -> Constant? {
    var lexer = Lexer(file: SourceFile(name: "", text: text))
    let tokens = lexer.tokenize()
    guard tokens.count == 2 else { return nil }
    switch tokens[0].kind {
    case .identifier(let s), .string(let s): return .symbol(s)
    case .integer(let i): return i <= UInt64(Int64.max) ? .integer(Int64(i)) : nil
    case .decimal(let d): return .decimal(d)
    case .date(let d): return .date(d)
    default: return nil
    }
  }

  /// The relation and argument position the text ends inside (with the text of the arguments
  /// before it), if it ends inside an atom's arguments.
  static func context(of text: String) -> (String, Int, [String])? {
    var stack: [(name: String?, column: Int, arguments: [String], current: String)] = []
    var identifier = ""
    var inString = false, escaped = false, inComment = false
    var lastIdentifier: String? = nil
    for ch in text {
      if inComment {
        if ch == "\n" { inComment = false }
        continue
      }
      if !stack.isEmpty && ch != "," && !(ch == ")" && !inString) && !(ch == "(" && !inString) {
        stack[stack.count - 1].current.append(ch)
      }
      if inString {
        if escaped { escaped = false } else if ch == "\\" { escaped = true } else if ch == "\"" { inString = false }
        continue
      }
      if ch.isLetter || ch.isNumber || ch == "_" {
        identifier.append(ch)
        continue
      }
      if !identifier.isEmpty {
        lastIdentifier = identifier
        identifier = ""
      }
      switch ch {
      case "\"": inString = true
      case "%": inComment = true
      case "(":
        let name = lastIdentifier.flatMap { $0.first?.isLowercase == true ? $0 : nil }
        if !stack.isEmpty, let n = name, stack[stack.count - 1].current.hasSuffix(n) {
          stack[stack.count - 1].current.removeLast(n.count)
        }
        stack.append((name, 0, [], ""))
      case ")": _ = stack.popLast()
      case ",":
        if !stack.isEmpty {
          let top = stack.count - 1
          stack[top].column += 1
          stack[top].arguments.append(stack[top].current.trimmingCharacters(in: " \t\n"))
          stack[top].current = ""
        }
      case ".": stack.removeAll()
      case " ", "\t", "\n": continue
      default: break
      }
      lastIdentifier = nil
    }
    guard let top = stack.last, let name = top.name else { return nil }
    return (name, top.column, top.arguments)
  }

  /// Variables already used in the clause (from its last `.` on), in order of appearance.
  static func variables(in text: String) -> [String] {
    let clause = text.split(separator: ".", omittingEmptySubsequences: false).last.map(String.init) ?? text
    var out: [String] = []
    var current = ""
    var inString = false
    for ch in clause + " " {
      if inString {
        if ch == "\"" { inString = false }
        continue
      }
      if ch == "\"" {
        inString = true
        continue
      }
      if ch.isLetter || ch.isNumber || ch == "_" {
        current.append(ch)
      } else {
        if let f = current.first, f.isUppercase || (f == "_" && current.count > 1), !out.contains(current) {
          out.append(current)
        }
        current = ""
      }
    }
    return out
  }
}

extension String {
  func trimmingCharacters(in set: String) -> String {
    var s = Substring(self)
    while let f = s.first, set.contains(f) { s = s.dropFirst() }
    while let l = s.last, set.contains(l) { s = s.dropLast() }
    return String(s)
  }
}
