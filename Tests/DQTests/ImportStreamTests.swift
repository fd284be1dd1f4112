/// Issue #14, "big files stream": `.import` reads its file in blocks, carrying a record that
/// crosses a block over. Every block size must give the same facts as reading the file whole,
/// and a failed load (also in a later block, and for GDELT) must leave the relation as it was.
import Foundation
import Testing

@testable import DQ

@Suite struct ImportStreamTests {
  /// A temporary file holding `bytes`, removed by the caller.
  private func file(_ name: String, _ bytes: [UInt8]) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("dq-stream-\(UUID().uuidString)-\(name)")
    try Data(bytes).write(to: url)
    return url
  }

  /// The rows `path` loads as text, with the given block size.
  private func rows(
    _ path: String, arity: Int, format: Importer.Format, layout: EventLayout? = nil, header: Bool = false, skip: Int = 0,
    blockBytes: Int
  ) throws -> [[String]] {
    let database = Database()
    let table = database.table("t", arity: arity)
    _ = try Importer.load(
      path: path, format: format, skip: skip, header: header, layout: layout, into: table, store: database.store,
      citation: -1, blockBytes: blockBytes)
    let facts = table.factRows
    return (0..<facts.count).map { r in facts.row(r).map { database.store.text($0) } }
  }

  @Test func everyBlockSizeReadsTheSameFacts() throws {
    // Quoted separators, quotes and newlines, CRLF, blank lines, multi-byte UTF-8, a last
    // record with no newline: each can be cut by a block boundary.
    let csv = "name,n,day\r\n\"a, \"\"b\"\"\",1,2016-05-15\r\n\r\n\"two\nlines\",-2.5,040\nкод 😀,007,x\n\"\",3,\"\"\"\""
    let url = try file("t.csv", Array(csv.utf8))
    defer { try? FileManager.default.removeItem(at: url) }
    let whole = try rows(url.path, arity: 3, format: .csv, header: true, blockBytes: 1 << 20)
    #expect(whole == [
      ["a, \"b\"", "1", "2016-05-15"], ["two\nlines", "-2.5", "040"], ["код 😀", "007", "x"], ["", "3", "\""],
    ])
    for size in 1...48 {
      #expect(try rows(url.path, arity: 3, format: .csv, header: true, blockBytes: size) == whole, "block of \(size)")
    }
    // --skip across blocks.
    let skipped = try rows(url.path, arity: 3, format: .csv, skip: 3, blockBytes: 1 << 20)
    for size in 1...20 { #expect(try rows(url.path, arity: 3, format: .csv, skip: 3, blockBytes: size) == skipped) }
  }

  @Test func gdeltReadsTheSameInEveryBlockSize() throws {
    let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/import")
    let path = fixtures.appendingPathComponent("gdelt2.tsv").path
    let whole = try rows(path, arity: 61, format: .tsv, layout: .gdelt, blockBytes: 1 << 20)
    #expect(whole.count == 3)
    #expect(whole.map { $0[26] } == ["036", "042", "0871"])
    for size in [1, 2, 3, 7, 64, 100, 289, 290, 291, 500] {
      #expect(try rows(path, arity: 61, format: .tsv, layout: .gdelt, blockBytes: size) == whole, "block of \(size)")
    }
    let icews = fixtures.appendingPathComponent("icews.tsv").path
    let events = try rows(icews, arity: 20, format: .tsv, layout: .icews, blockBytes: 1 << 20)
    #expect(events.map { $0[6] } == ["036", "010"])
    for size in [1, 5, 40, 200] {
      #expect(try rows(icews, arity: 20, format: .tsv, layout: .icews, blockBytes: size) == events)
    }
  }

  @Test func aBadRecordInALaterBlockLoadsNothing() throws {
    var text = ""
    for k in 0..<50_000 { text += "r\(k),\(k)\n" }
    text += "bad,\"open\n"
    let url = try file("late.csv", Array(text.utf8))
    defer { try? FileManager.default.removeItem(at: url) }
    var diagnostics: [Diagnostic] = []
    let session = TestDQ.quietSession()
    session.capture.onReport = { diagnostics.append($0) }
    #expect(session.run(SourceFile(name: "t.dq", text: "kept(x, 0).\n")) == .ok)
    #expect(session.run(SourceFile(name: "t.dq", text: ".import \(url.path) kept\n")) == .runtimeError)
    #expect(diagnostics.map(\.message) == ["Line 50001 of '\(url.path)' opens a quoted field that is never closed"])
    #expect(session.database.tables["kept"]?.factRows.count == 1)
  }

  @Test func decimalsReadFromBytesAreTheDoublesTheirTextSpells() throws {
    // The importer reads decimals without making a String; every one must be the double
    // Double(text) gives, short or long (the long ones take Double's own parser).
    var generator = SystemRandomNumberGenerator()
    var texts: [String] = ["0.1", "-0.0", "0.30000000000000004", "123456789012.345", "9007199254740993.5", "1.7976931348623157"]
    for _ in 0..<2000 {
      let digits = Int.random(in: 1...9, using: &generator)
      let fraction = Int.random(in: 1...10, using: &generator)
      var t = Int.random(in: 0...1, using: &generator) == 0 ? "" : "-"
      t += String(Int.random(in: 1...9, using: &generator))
      for _ in 1..<digits { t += String(Int.random(in: 0...9, using: &generator)) }
      t += "."
      for _ in 0..<fraction { t += String(Int.random(in: 0...9, using: &generator)) }
      texts.append(t)
    }
    let url = try file("decimals.tsv", Array(texts.joined(separator: "\n").utf8))
    defer { try? FileManager.default.removeItem(at: url) }
    let database = Database()
    let table = database.table("d", arity: 1)
    _ = try Importer.load(path: url.path, format: .tsv, into: table, store: database.store, citation: -1)
    var loaded: [UInt64: Bool] = [:]
    for r in 0..<table.factRows.count {
      guard case .decimal(let d) = database.store.decode(table.factRows[r, 0]) else {
        Issue.record("row \(r) is not a decimal")
        continue
      }
      loaded[d.bitPattern] = true
    }
    for t in texts {
      let expected = Double(t) ?? .nan
      #expect(loaded[(expected == 0 ? 0.0 : expected).bitPattern] == true, "\(t)")
    }
  }

  @Test func skippingPastTheFirstBlocksLoadsTheRest() throws {
    var text = ""
    for k in 0..<300_000 { text += "r\(k),\(k)\n" }
    let url = try file("skip.csv", Array(text.utf8))
    defer { try? FileManager.default.removeItem(at: url) }
    let session = TestDQ.quietSession()
    #expect(session.run(SourceFile(name: "t.dq", text: ".import --skip 250000 \(url.path) r\n")) == .ok)
    #expect(session.database.tables["r"]?.factRows.count == 50_000)
    #expect(session.database.tables["r"]?.factRows.row(0).map { session.database.store.text($0) } == ["r250000", "250000"])
  }

  @Test func bytesThatAreNotUTF8InALaterBlockNameTheirLine() throws {
    var bytes = Array(String(repeating: "a\t1\n", count: 400_000).utf8)
    bytes += [0x62, 0xE9, 0x09, 0x32, 0x0A]
    let url = try file("latin1.tsv", bytes)
    defer { try? FileManager.default.removeItem(at: url) }
    let r = try DQBinary.run(["--no-dataset", "-e", ".import \(url.path) r"])
    #expect(r.status == 66)
    #expect(r.stderr.contains("Cannot read '\(url.path)': line 400001 is not valid UTF-8 text"), "\(r.stderr)")
  }

  @Test func aFailedGDELTImportLeavesTheRelationAsItWas() throws {
    let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/import")
    var diagnostics: [Diagnostic] = []
    let session = TestDQ.quietSession()
    session.capture.onReport = { diagnostics.append($0) }
    let good = fixtures.appendingPathComponent("gdelt2.tsv").path
    let bad = fixtures.appendingPathComponent("gdelt_bad_date.tsv").path
    #expect(session.run(SourceFile(name: "t.dq", text: ".import --format gdelt \(good)\n")) == .ok)
    #expect(session.run(SourceFile(name: "t.dq", text: ".import --format gdelt \(bad)\n")) == .runtimeError)
    #expect(diagnostics.first?.message.hasPrefix("\(bad):2:11: '20161332' in column 2 ('sqldate')") == true)
    #expect(session.database.tables["gdelt_event"]?.factRows.count == 3)
    // A new relation the failed import named is not left behind.
    #expect(session.run(SourceFile(name: "t.dq", text: ".import --format gdelt \(bad) fresh\n")) == .runtimeError)
    #expect(session.schema["fresh"] == nil && session.database.tables["fresh"] == nil)
    // A missing file is unreadable (exit status 66), and loads nothing either.
    let missing = try DQBinary.run(["--no-dataset", "-e", ".import --format gdelt /nonexistent/events.tsv"])
    #expect(missing.status == 66, "\(missing.stderr)")
    // A relation with other columns is not filled with GDELT's.
    #expect(session.run(SourceFile(name: "t.dq", text: ".decl pair(a, b)\n.import --format gdelt \(good) pair\n")) != .ok)
    #expect(session.database.tables["pair"]?.factRows.count ?? 0 == 0)
  }
}
