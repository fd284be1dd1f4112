/// Reads JSON Lines (`.jsonl`, `.ndjson`) for `.import`: one JSON object per line, its keys
/// naming the relation's columns. A small parser of its own (RFC 8259), with nesting bounded so
/// a hostile line cannot exhaust the stack.
enum JSONLinesReader {
  /// Whether `.import` reads `path` as JSON Lines (by its extension).
  static func handles(_ path: String) -> Bool {
    let lower = path.lowercased()
    return lower.hasSuffix(".jsonl") || lower.hasSuffix(".ndjson")
  }

  /// Arrays and objects nested deeper than this inside a value are refused.
  static let maxDepth = 100

  /// A top-level value of an object, before it becomes a dq value.
  enum Field: Equatable {
    /// A JSON number's text.
    case number(String)
    case string(String)
    /// `true`, `false` or `null`.
    case word(String)
    /// An array or object, as its JSON text.
    case nested(String)
  }

  struct Failure: Error {
    var message: String
    var line: Int
  }

  /// The rows of the file, in the order of `columns` (or, when nil, of the first object's
  /// keys, which are returned); all or nothing: the first bad line fails the whole file.
  static func rows(_ bytes: [UInt8], path: String, columns: [String]?, relation: String, store: ValueStore)
    throws(Failure) -> (columns: [String], rows: [[Value]])
  {
    var columns = columns
    var rows: [[Value]] = []
    var lineNumber = 0
    var start = 0
    while start < bytes.count {
      lineNumber += 1
      var end = bytes[start...].firstIndex(of: 10) ?? bytes.count
      let next = end + 1
      if end > start, bytes[end - 1] == 13 { end -= 1 }
      let line = Array(bytes[start..<end])
      start = next
      if line.allSatisfy({ $0 == 32 || $0 == 9 }) { continue }
      let object: [(String, Field)]
      do throws(ParseError) {
        object = try parseObject(line)
      } catch {
        throw Failure(message: "Line \(lineNumber) of '\(path)': \(error.message) (column \(error.offset + 1))", line: lineNumber)
      }
      let names = columns ?? object.map(\.0)
      columns = names
      var row = [Value](repeating: store.symbol(""), count: names.count)
      for (key, field) in object {
        guard let k = names.firstIndex(of: key) else {
          throw Failure(
            message: "Line \(lineNumber) of '\(path)' has the key '\(key)', which is not a column of '\(relation)' (\(names.joined(separator: ", ")))",
            line: lineNumber)
        }
        row[k] = value(field, store)
      }
      rows.append(row)
    }
    return (columns ?? [], rows)
  }

  /// A field's dq value: integers and decimals, an ISO date string as a date, other strings as
  /// symbols, `true`/`false` as those symbols, `null` as the empty symbol, nested values as text.
  static func value(_ field: Field, _ store: ValueStore) -> Value {
    switch field {
    case .number(let text):
      if let i = Int64(text) { return store.integer(i) }
      if let d = Double(text), d.isFinite { return store.decimal(d) }
      return store.symbol(text)
    case .string(let s):
      if s.utf8.count == 10, let d = DateCodec.parse(s) { return store.date(d) }
      return store.symbol(s)
    case .word(let w): return store.symbol(w == "null" ? "" : w)
    case .nested(let text): return store.symbol(text)
    }
  }

  struct ParseError: Error {
    var message: String
    /// The byte offset in the line where it went wrong.
    var offset: Int
  }

  /// One line's object: its keys and values in order (a key given twice is an error).
  static func parseObject(_ line: [UInt8]) throws(ParseError) -> [(String, Field)] {
    var p = Parser(b: line)
    p.skipSpace()
    guard p.peek == UInt8(ascii: "{") else { throw ParseError(message: "expected a JSON object '{'", offset: p.i) }
    p.i += 1
    var out: [(String, Field)] = []
    p.skipSpace()
    if p.peek == UInt8(ascii: "}") {
      p.i += 1
    } else {
      while true {
        p.skipSpace()
        let keyAt = p.i
        guard p.peek == UInt8(ascii: "\"") else { throw ParseError(message: "expected a key in double quotes", offset: p.i) }
        let key = try p.string()
        if out.contains(where: { $0.0 == key }) { throw ParseError(message: "the key '\(key)' occurs twice", offset: keyAt) }
        p.skipSpace()
        guard p.peek == UInt8(ascii: ":") else { throw ParseError(message: "expected ':' after the key", offset: p.i) }
        p.i += 1
        p.skipSpace()
        out.append((key, try p.field()))
        p.skipSpace()
        if p.peek == UInt8(ascii: ",") {
          p.i += 1
          continue
        }
        guard p.peek == UInt8(ascii: "}") else { throw ParseError(message: "expected ',' or '}'", offset: p.i) }
        p.i += 1
        break
      }
    }
    p.skipSpace()
    guard p.i == line.count else { throw ParseError(message: "text after the object", offset: p.i) }
    return out
  }

  private struct Parser {
    let b: [UInt8]
    var i = 0

    var peek: UInt8? { i < b.count ? b[i] : nil }

    mutating func skipSpace() {
      while i < b.count, b[i] == 32 || b[i] == 9 || b[i] == 13 || b[i] == 10 { i += 1 }
    }

    /// A top-level value.
    mutating func field() throws(ParseError) -> Field {
      let start = i
      switch peek {
      case UInt8(ascii: "\""): return .string(try string())
      case UInt8(ascii: "{"), UInt8(ascii: "["):
        try skipValue(depth: 0)
        return .nested(String(decoding: b[start..<i], as: UTF8.self))
      case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"): return .word(try word())
      default: return .number(try number())
      }
    }

    /// Steps over any value, checking it, nested at most `maxDepth` deep.
    mutating func skipValue(depth: Int) throws(ParseError) {
      guard depth <= JSONLinesReader.maxDepth else {
        throw ParseError(message: "values nested more than \(JSONLinesReader.maxDepth) deep", offset: i)
      }
      switch peek {
      case UInt8(ascii: "\""): _ = try string()
      case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"): _ = try word()
      case UInt8(ascii: "["), UInt8(ascii: "{"):
        let object = peek == UInt8(ascii: "{")
        let close = object ? UInt8(ascii: "}") : UInt8(ascii: "]")
        i += 1
        skipSpace()
        if peek == close {
          i += 1
          return
        }
        while true {
          skipSpace()
          if object {
            guard peek == UInt8(ascii: "\"") else { throw ParseError(message: "expected a key in double quotes", offset: i) }
            _ = try string()
            skipSpace()
            guard peek == UInt8(ascii: ":") else { throw ParseError(message: "expected ':' after the key", offset: i) }
            i += 1
            skipSpace()
          }
          try skipValue(depth: depth + 1)
          skipSpace()
          if peek == UInt8(ascii: ",") {
            i += 1
            continue
          }
          guard peek == close else {
            throw ParseError(message: "expected ',' or '\(Character(Unicode.Scalar(close)))'", offset: i)
          }
          i += 1
          return
        }
      default: _ = try number()
      }
    }

    /// `true`, `false` or `null`.
    mutating func word() throws(ParseError) -> String {
      for w in ["true", "false", "null"] {
        let u = Array(w.utf8)
        if i + u.count <= b.count, Array(b[i..<(i + u.count)]) == u {
          i += u.count
          return w
        }
      }
      throw ParseError(message: "expected a value", offset: i)
    }

    /// A number as RFC 8259 writes it: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
    mutating func number() throws(ParseError) -> String {
      let start = i
      func digits() -> Int {
        let s = i
        while i < b.count, b[i] >= 48, b[i] <= 57 { i += 1 }
        return i - s
      }
      if peek == UInt8(ascii: "-") { i += 1 }
      let intStart = i
      let whole = digits()
      guard whole > 0, !(whole > 1 && b[intStart] == 48) else { throw ParseError(message: "expected a value", offset: start) }
      if peek == UInt8(ascii: ".") {
        i += 1
        guard digits() > 0 else { throw ParseError(message: "expected digits after '.'", offset: i) }
      }
      if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
        i += 1
        if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { i += 1 }
        guard digits() > 0 else { throw ParseError(message: "expected digits in the exponent", offset: i) }
      }
      return String(decoding: b[start..<i], as: UTF8.self)
    }

    /// A string in double quotes, its escapes undone.
    mutating func string() throws(ParseError) -> String {
      let open = i
      i += 1
      var out: [UInt8] = []
      while i < b.count {
        let c = b[i]
        if c == UInt8(ascii: "\"") {
          i += 1
          return String(decoding: out, as: UTF8.self)
        }
        guard c >= 0x20 else { throw ParseError(message: "a control character inside a string", offset: i) }
        if c != UInt8(ascii: "\\") {
          out.append(c)
          i += 1
          continue
        }
        guard i + 1 < b.count else { break }
        let e = b[i + 1]
        i += 2
        switch e {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
        case UInt8(ascii: "b"): out.append(8)
        case UInt8(ascii: "f"): out.append(12)
        case UInt8(ascii: "n"): out.append(10)
        case UInt8(ascii: "r"): out.append(13)
        case UInt8(ascii: "t"): out.append(9)
        case UInt8(ascii: "u"):
          var scalar = try hex4()
          if scalar >= 0xD800 && scalar < 0xDC00 {
            // A high surrogate needs its low half: \uD83D\uDE00.
            guard i + 1 < b.count, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") else {
              throw ParseError(message: "a lone surrogate in \\u escape", offset: i)
            }
            i += 2
            let low = try hex4()
            guard low >= 0xDC00 && low < 0xE000 else { throw ParseError(message: "a lone surrogate in \\u escape", offset: i) }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
          }
          guard let u = Unicode.Scalar(scalar) else { throw ParseError(message: "a lone surrogate in \\u escape", offset: i) }
          out.append(contentsOf: Array(String(Character(u)).utf8))
        default: throw ParseError(message: "an unknown escape '\\\(Character(Unicode.Scalar(e)))'", offset: i - 2)
        }
      }
      throw ParseError(message: "a string that is never closed", offset: open)
    }

    /// Four hex digits of a \u escape.
    mutating func hex4() throws(ParseError) -> UInt32 {
      guard i + 4 <= b.count else { throw ParseError(message: "expected four hex digits after \\u", offset: i) }
      var v: UInt32 = 0
      for k in i..<(i + 4) {
        let c = b[k]
        let d: UInt32
        switch c {
        case 48...57: d = UInt32(c - 48)
        case 97...102: d = UInt32(c - 87)
        case 65...70: d = UInt32(c - 55)
        default: throw ParseError(message: "expected four hex digits after \\u", offset: k)
        }
        v = v * 16 + d
      }
      i += 4
      return v
    }
  }
}
