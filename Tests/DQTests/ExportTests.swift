/// `.export RELATION FILE` and `dq --export`: the bytes each format writes, export then import
/// giving back the same tuples, and failures that leave no file behind.
import Foundation
import Testing

@testable import DQ

@Suite struct ExportTests {
  /// A fresh empty folder for one test's files.
  private func folder() throws -> String {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("dq-export-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url.path
  }

  /// Tuples with a leading-zero code, dates, decimals, a large integer and symbols holding tabs,
  /// newlines, quotes, commas and backslashes.
  private let program = """
    .decl item(code, day, amount, label)
    item("040", 2020-01-02, 1.5, "tab\\there").
    item("7", 2021-12-31, -3, "line\\nbreak, \\"q\\"").
    item(abc, 2021-12-31, 12345678901234, "back\\\\slash").
    item(def, 1999-03-04, 0.25, "").
    double(X, Y) :- item(X, _, Y, _).

    """

  private func contents(_ path: String) throws -> String {
    String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
  }

  @Test func csvRoundTripGivesTheSameTuples() throws {
    let dir = try folder()
    let prog = try DQBinary.temporaryFile(program)
    let file = dir + "/item.csv"
    let export = try DQBinary.run(["--no-dataset", prog, "--export", "item", file])
    #expect(export.status == 0, "\(export.stderr)")
    let original = try DQBinary.run(["--no-dataset", "-f", "tsv", prog, "-e", "?- item(A, B, C, D)."])
    let back = try DQBinary.run([
      "--no-dataset", "-f", "tsv", "-e", ".decl item(code, day, amount, label)", "-e", ".import --skip 1 \(file) item",
      "-e", "?- item(A, B, C, D).",
    ])
    #expect(back.status == 0, "\(back.stderr)")
    #expect(original.stdout.split(separator: "\n").count == 5)
    #expect(back.stdout == original.stdout)
    // Only the file itself is left in the folder: no temporary beside it.
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["item.csv"])
  }

  @Test func tsvRoundTripKeepsTabsNewlinesAndBackslashes() throws {
    let dir = try folder()
    let prog = try DQBinary.temporaryFile(
      ".decl s(name, text)\ns(a, \"tab\\there\").\ns(b, \"line\\nbreak\").\ns(c, \"back\\\\slash \\\"q\\\"\").\n")
    let file = dir + "/s.tsv"
    let export = try DQBinary.run(["--no-dataset", prog, "-e", ".export s \(file)"])
    #expect(export.status == 0, "\(export.stderr)")
    #expect(try contents(file) == "name\ttext\na\ttab\\there\nb\tline\\nbreak\nc\tback\\\\slash \"q\"\n")
    let original = try DQBinary.run(["--no-dataset", "-f", "jsonl", prog, "-e", "?- s(A, B)."])
    let back = try DQBinary.run(["--no-dataset", "-f", "jsonl", "-e", ".import --skip 1 \(file) s", "-e", "?- s(A, B)."])
    #expect(back.stdout == original.stdout)
  }

  @Test func derivedRelationsAreComputedAndNamedC1ToCn() throws {
    let dir = try folder()
    let prog = try DQBinary.temporaryFile(program)
    let csv = dir + "/double.csv"
    let result = try DQBinary.run(["--no-dataset", prog, "--export", "double", csv])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(try contents(csv) == "c1,c2\r\n\"040\",1.5\r\n\"7\",-3\r\nabc,12345678901234\r\ndef,0.25\r\n")
  }

  @Test func jsonLinesAndJSONWriteNumbersAsNumbersAndDatesAsStrings() throws {
    let dir = try folder()
    let prog = try DQBinary.temporaryFile(program)
    let result = try DQBinary.run([
      "--no-dataset", prog, "-e", ".export item \(dir)/item.jsonl", "-e", ".export --format json double \(dir)/double.out",
    ])
    #expect(result.status == 0, "\(result.stderr)")
    let lines = try contents(dir + "/item.jsonl").split(separator: "\n")
    #expect(lines.count == 4)
    #expect(lines.first == #"{"code":"040","day":"2020-01-02","amount":1.5,"label":"tab\there"}"#)
    #expect(lines.contains(#"{"code":"7","day":"2021-12-31","amount":-3,"label":"line\nbreak, \"q\""}"#))
    #expect(
      try contents(dir + "/double.out")
        == "[{\"c1\":\"040\",\"c2\":1.5},\n{\"c1\":\"7\",\"c2\":-3},\n{\"c1\":\"abc\",\"c2\":12345678901234},\n{\"c1\":\"def\",\"c2\":0.25}]\n")
  }

  @Test func failuresLeaveTheOldFileAndNoTemporary() throws {
    let dir = try folder()
    let file = dir + "/keep.csv"
    try Data("old\n".utf8).write(to: URL(fileURLWithPath: file))
    let missing = try DQBinary.run(["--no-dataset", "-e", "a(1).", "--export", "nope", file])
    #expect(missing.status == 70)
    #expect(missing.stderr.contains("No relation 'nope'"))
    let unknown = try DQBinary.run(["--no-dataset", "-e", "a(1).", "--export", "a", dir + "/a.xyz"])
    #expect(unknown.status == 64)
    let unwritable = try DQBinary.run(["--no-dataset", "-e", "a(1).", "--export", "a", dir + "/no/such/folder/a.csv"])
    #expect(unwritable.status == 74)
    #expect(unwritable.stderr.contains("Cannot write"))
    #expect(try contents(file) == "old\n")
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["keep.csv"])
    let noValue = try DQBinary.run(["--no-dataset", "--export", "a"])
    #expect(noValue.status == 64)
  }

  @Test func jsonLinesRoundTripGivesTheSameTuplesAndColumns() throws {
    let dir = try folder()
    let prog = try DQBinary.temporaryFile(program)
    let file = dir + "/item.jsonl"
    let export = try DQBinary.run(["--no-dataset", prog, "--export", "item", file])
    #expect(export.status == 0, "\(export.stderr)")
    let original = try DQBinary.run(["--no-dataset", "-f", "tsv", prog, "-e", "?- item(A, B, C, D)."])
    // Undeclared: the first object's keys name the columns, so a second export is the same file.
    let back = try DQBinary.run([
      "--no-dataset", "-f", "tsv", "-e", ".import \(file) copy", "-e", "?- copy(A, B, C, D).", "-e",
      ".export copy \(dir)/copy.jsonl",
    ])
    #expect(back.status == 0, "\(back.stderr)")
    #expect(back.stdout == original.stdout)
    #expect(try contents(dir + "/copy.jsonl") == contents(file))
  }

  @Test func jsonParserReadsEscapesNumbersAndNestedText() throws {
    let line = Array(#"{"s": "a\"b\\c\u00e9\ud83d\ude00\n", "n": -1.5e3, "z": 0, "w": null, "x": [1, {"k": "v"}]}"#.utf8)
    let object = try JSONLinesReader.parseObject(line)
    #expect(object.map(\.0) == ["s", "n", "z", "w", "x"])
    #expect(object[0].1 == .string("a\"b\\c\u{e9}\u{1F600}\n"))
    #expect(object[1].1 == .number("-1.5e3"))
    #expect(object[2].1 == .number("0"))
    #expect(object[3].1 == .word("null"))
    #expect(object[4].1 == .nested(#"[1, {"k": "v"}]"#))
    for bad in [
      #"{"a": 01}"#, #"{"a": 1,}"#, #"{"a" 1}"#, #"[1]"#, #"{"a": "\x"}"#, #"{"a": "\ud83d"}"#, #"{"a": tru}"#,
      #"{"a": 1} x"#, #"{"a": 1, "a": 2}"#, "{\"a\": \"\u{1}\"}", #"{"a": [1, 2}"#, #"{"a": 1."#,
    ] {
      #expect(throws: JSONLinesReader.ParseError.self, "\(bad)") { try JSONLinesReader.parseObject(Array(bad.utf8)) }
    }
  }
}
