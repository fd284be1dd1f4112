/// How `.import` names what a file brings: a header's fields become column names and, when no
/// RELATION is given, the file's own name becomes the relation's, both as `.decl` spells names.
import Testing

@testable import DQ

@Suite struct ImportNamingTests {
  @Test func relationNamedAfterTheFile() {
    #expect(Session.relationName(forFile: "people.csv") == "people")
    #expect(Session.relationName(forFile: "data/UN Members.csv") == "un_members")
    #expect(Session.relationName(forFile: "/tmp/un-members.csv") == "un_members")
    #expect(Session.relationName(forFile: "edges.tar.gz") == "edges")
    #expect(Session.relationName(forFile: "2024.tsv") == "c2024")
    #expect(Session.relationName(forFile: "Ümlaut only.tsv") == "mlaut_only")
  }

  @Test func headerFieldsAsColumnNames() {
    #expect(Session.columnNames(["Event ID", "Event Date", "event id", "", "1st"]) == ["event_id", "event_date", "event_id_2", "c4", "c1st"])
  }
}
