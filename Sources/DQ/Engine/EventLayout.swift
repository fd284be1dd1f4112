/// The fixed column layouts of the event exports `.import --format gdelt|icews` reads: which
/// relation they fill, its columns, and the kind every column's fields must have.
///
/// GDELT (codebooks for the 1.0 and 2.0 event tables): tab-separated, no header. A 2.0 record
/// has 61 fields; a 1.0 record has 57, or 58 with SOURCEURL (from April 2013), and no
/// `*_ADM2Code` columns. Every version loads into the 61 columns of the 2.0 table, 1.0 records
/// giving the empty symbol for the three `*_adm2code` columns (and for `sourceurl` with 57).
/// ICEWS: tab-separated with a header row (`Event ID`, `Event Date`, `Source Name`, ...).
struct EventLayout: Sendable {
  /// How a field becomes a value. An empty field is the empty symbol '' in every kind.
  enum Kind: Sendable {
    /// The text as it is: codes keep their leading zeros (`036`, `0871`).
    case symbol
    /// `-?digits`.
    case integer
    /// `-?digits(.digits)?`, always a decimal (`40` reads as 40.0): a column holds one kind.
    case decimal
    /// `YYYY-MM-DD`.
    case isoDate
    /// `YYYYMMDD` (GDELT's SQLDATE).
    case compactDate
  }

  /// The format's name as `--format` spells it.
  let name: String
  /// The relation loaded when `.import` names none.
  let relation: String
  let columns: [String]
  let kinds: [Kind]
  /// For each field count a record may have, the field each column takes (nil: the column
  /// is the empty symbol for records of that version).
  let versions: [Int: [Int?]]
  /// The first fields of the header row, which is skipped (nil: the format has no header).
  let headerPrefix: [String]?

  var arity: Int { columns.count }

  /// The field counts a record may have, for messages (`57, 58 or 61`).
  var fieldCounts: String {
    let counts = versions.keys.sorted().map(String.init)
    return counts.count == 1 ? counts[0] : counts.dropLast().joined(separator: ", ") + " or " + (counts.last ?? "")
  }

  /// The layout `--format NAME` names, if any.
  static func named(_ name: String) -> EventLayout? {
    switch name.lowercased() {
    case "gdelt": return gdelt
    case "icews": return icews
    default: return nil
    }
  }

  // MARK: - GDELT

  /// GDELT's event table, 2.0 order. Dates: SQLDATE is a date; DATEADDED stays an integer in
  /// both versions (YYYYMMDDHHMMSS in 2.0, YYYYMMDD in 1.0), so the column has one kind.
  static let gdelt: EventLayout = {
    var columns = ["globaleventid", "sqldate", "monthyear", "year", "fractiondate"]
    var kinds: [Kind] = [.integer, .compactDate, .integer, .integer, .decimal]
    for actor in ["actor1", "actor2"] {
      for part in [
        "code", "name", "countrycode", "knowngroupcode", "ethniccode", "religion1code", "religion2code", "type1code",
        "type2code", "type3code",
      ] {
        columns.append(actor + part)
        kinds.append(.symbol)
      }
    }
    columns += [
      "isrootevent", "eventcode", "eventbasecode", "eventrootcode", "quadclass", "goldsteinscale", "nummentions",
      "numsources", "numarticles", "avgtone",
    ]
    kinds += [.integer, .symbol, .symbol, .symbol, .integer, .decimal, .integer, .integer, .integer, .decimal]
    for geo in ["actor1geo_", "actor2geo_", "actiongeo_"] {
      columns += ["type", "fullname", "countrycode", "adm1code", "adm2code", "lat", "long", "featureid"].map { geo + $0 }
      kinds += [.integer, .symbol, .symbol, .symbol, .symbol, .decimal, .decimal, .symbol]
    }
    columns += ["dateadded", "sourceurl"]
    kinds += [.integer, .symbol]
    // 1.0: the same first 35 fields, then three geo blocks of 7 (no ADM2Code), DATEADDED and
    // SOURCEURL (58) or not (57).
    var v1: [Int?] = Array(0..<35)
    for block in 0..<3 {
      let base = 35 + block * 7
      v1 += [base, base + 1, base + 2, base + 3, nil, base + 4, base + 5, base + 6]
    }
    let v1Short = v1 + [56, nil]
    let v1Long = v1 + [56, 57]
    return EventLayout(
      name: "gdelt", relation: "gdelt_event", columns: columns, kinds: kinds,
      versions: [57: v1Short, 58: v1Long, 61: Array(0..<61)], headerPrefix: nil)
  }()

  // MARK: - ICEWS

  /// ICEWS's event files, in the order of their header.
  static let icews = EventLayout(
    name: "icews", relation: "icews_event",
    columns: [
      "event_id", "event_date", "source_name", "source_sectors", "source_country", "event_text", "cameo_code",
      "intensity", "target_name", "target_sectors", "target_country", "story_id", "sentence_number", "publisher",
      "city", "district", "province", "country", "latitude", "longitude",
    ],
    kinds: [
      .integer, .isoDate, .symbol, .symbol, .symbol, .symbol, .symbol, .decimal, .symbol, .symbol, .symbol, .integer,
      .integer, .symbol, .symbol, .symbol, .symbol, .symbol, .decimal, .decimal,
    ],
    versions: [20: Array(0..<20)], headerPrefix: ["Event ID", "Event Date", "Source Name"])

  // MARK: - Detection

  /// The layout a file's first record shows, when the target relation does not say otherwise:
  /// an ICEWS header row, or a header-less tab-separated record of 57, 58 or 61 fields (GDELT).
  /// `tabFields` is the first record split at tabs.
  static func detect(tabFields: [String]) -> EventLayout? {
    if let prefix = icews.headerPrefix, tabFields.count >= prefix.count, Array(tabFields.prefix(prefix.count)) == prefix {
      return icews
    }
    if gdelt.versions[tabFields.count] != nil { return gdelt }
    return nil
  }

  /// Whether a relation with these columns (nil: not known) takes this layout: unknown, or
  /// with exactly its column names (as the dataset declares `gdelt_event`), or with its arity
  /// and no names of its own (`c1`, `c2`, ...).
  func fits(columns existing: [String]?) -> Bool {
    guard let existing else { return true }
    if existing == columns { return true }
    return existing.count == arity && existing.enumerated().allSatisfy { $1 == "c\($0 + 1)" }
  }
}
