/// The built-in dataset: embedded copy current, loads cleanly, quotes verbatim, questions answered.
import Foundation
import Testing

@testable import DQ

@Suite struct DatasetTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
  static let seeds = root.deletingLastPathComponent().appendingPathComponent("shared/seeds")

  static func read(_ path: String) throws -> String {
    try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
  }

  @Test func embeddedCopyMatchesTheSource() throws {
    let source = try Self.read("Dataset/relations.dq")
    #expect(Dataset.source == source, "run Scripts/embed-dataset after editing Dataset/relations.dq")
  }

  @Test func loadsWithoutDiagnostics() {
    var problems: [Diagnostic] = []
    let session = Session(options: Session.Options(), loadDataset: false)
    session.capture.onReport = { problems.append($0) }
    let status = session.run(SourceFile(name: Dataset.fileName, text: Dataset.source))
    #expect(status == .ok)
    #expect(problems.isEmpty, "\(problems.map { "\($0.span?.description ?? ""): \($0.message)" })")
    #expect(session.schema.relations.count >= 50)
  }

  @Test func everyRelationIsDeclaredAndDescribed() {
    let session = Session()
    for r in session.schema.relations.values {
      #expect(r.declared, "\(r.name) is not declared")
      #expect(!r.description.isEmpty, "\(r.name) has no description")
    }
  }

  /// Sources that are reference works rather than seed files (Dataset/check_quotes.py's CODEBOOKS).
  static let codebooks: Set = ["CAMEO codebook"]

  /// Every `.source` quote occurs verbatim in its seed file (skipped, and said, when ../shared/seeds is absent).
  @Test func everyQuoteIsVerbatim() throws {
    guard FileManager.default.fileExists(atPath: Self.seeds.path) else {
      print("DatasetTests: skipping the quote check: \(Self.seeds.path) is not here")
      return
    }
    let (statements, errors) = Parser.parse(SourceFile(name: Dataset.fileName, text: Dataset.source))
    #expect(errors.isEmpty)
    var checked = 0
    var texts: [String: String] = [:]
    for s in statements {
      guard case .citation(let c?, _) = s, !Self.codebooks.contains(c.file) else { continue }
      if texts[c.file] == nil {
        texts[c.file] = try String(contentsOf: Self.seeds.appendingPathComponent(c.file), encoding: .utf8)
      }
      #expect(texts[c.file]?.contains(c.quote) == true, "not verbatim in \(c.file): \(c.quote)")
      checked += 1
    }
    #expect(checked >= 30)
  }

  /// Every fact outside the vocabulary section cites a source.
  @Test func factsCiteTheirEvidence() {
    let session = Session()
    var uncited = 0
    let vocabulary: Set = ["cameo", "meeting_code", "future_status", "head_role", "research_kind", "country_code"]
    for (name, t) in session.database.tables where !vocabulary.contains(name) {
      uncited += (0..<t.factRows.count).filter { t.citation(ofRow: $0) < 0 }.count
    }
    #expect(uncited == 0)
  }

  /// event_evidence(Id, File, Quote) repeats the `.source` citation the engine keeps for each
  /// event fact, one row per event: the cited sentence is reachable by a query.
  @Test func eventEvidenceIsTheEventsOwnCitation() {
    let session = Session()
    let db = session.database
    guard let events = db.tables["event"], let evidence = db.tables["event_evidence"] else {
      Issue.record("event or event_evidence is missing")
      return
    }
    var cited: [String: [String]] = [:]
    let rows = events.factRows
    for r in 0..<rows.count {
      let c = events.citation(ofRow: r)
      #expect(c >= 0, "an event fact without a citation")
      guard c >= 0 else { continue }
      let citation = db.citationList[Int(c)]
      cited[db.store.text(rows.row(r)[0])] = [citation.file, citation.quote]
    }
    var given: [String: [String]] = [:]
    let evidenceRows = evidence.factRows
    for r in 0..<evidenceRows.count {
      let row = evidenceRows.row(r).map { db.store.text($0) }
      #expect(given[row[0]] == nil, "two event_evidence rows for \(row[0])")
      given[row[0]] = [row[1], row[2]]
    }
    #expect(cited.count == 30)
    #expect(given == cited)
  }

  struct Question: CustomTestStringConvertible, Sendable {
    var title: String
    var query: String
    var expected: String
    var testDescription: String { title }
  }

  /// The questions of Dataset/QUESTIONS.md: a `dq` block, then a `tsv` block with the answer.
  static let questions: [Question] = {
    guard let text = try? read("Dataset/QUESTIONS.md") else { return [] }
    var out: [Question] = []
    var title = ""
    var block: String? = nil
    var kind = ""
    var lastQuery: String? = nil
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
      if line.hasPrefix("## ") { title = String(line.dropFirst(3)) }
      if line.hasPrefix("```") {
        if let b = block {
          if kind == "dq" { lastQuery = b }
          if kind == "tsv", let q = lastQuery {
            out.append(Question(title: "\(title) \(q)", query: q, expected: b))
            lastQuery = nil
          }
          block = nil
        } else {
          kind = String(line.dropFirst(3))
          block = ""
        }
        continue
      }
      if block != nil { block! += line + "\n" }
    }
    return out
  }()

  @Test func atLeastFifteenQuestions() { #expect(Self.questions.count >= 15) }

  /// One session answers every question (loading the dataset once keeps the suite fast).
  @Test func everyQuestionIsAnswered() {
    var options = Session.Options()
    options.format = .tsv
    let session = Session(options: options)
    for q in Self.questions {
      var out = ""
      var problems: [String] = []
      session.capture.onWrite = { out += $0 }
      session.capture.onReport = { problems.append($0.message) }
      let status = session.run(SourceFile(name: "question", text: q.query))
      #expect(status == .ok && problems.isEmpty, "\(q.title): \(problems)")
      #expect(out.hasPrefix("\n") ? String(out.dropFirst()) == q.expected : out == q.expected, "\(q.title)\n\(out)")
    }
  }
}
