/// Calendar dates as day numbers (days since 1970-01-01, proleptic Gregorian).
public enum DateCodec {
  /// Days since the epoch for a valid `YYYY-MM-DD`, or nil.
  public static func parse(_ text: String) -> Int64? {
    let parts = text.split(separator: "-", omittingEmptySubsequences: false)
    // Digits only: Int64 would also take a sign ("+123-01-01").
    guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
      parts.allSatisfy({ $0.utf8.allSatisfy { $0 >= 48 && $0 <= 57 } }),
      let y = Int64(parts[0]), let m = Int64(parts[1]), let d = Int64(parts[2])
    else { return nil }
    guard m >= 1, m <= 12, d >= 1, d <= daysInMonth(year: y, month: m) else { return nil }
    return days(year: y, month: m, day: d)
  }

  public static func isLeap(_ y: Int64) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

  public static func daysInMonth(year: Int64, month: Int64) -> Int64 {
    switch month {
    case 2: return isLeap(year) ? 29 : 28
    case 4, 6, 9, 11: return 30
    default: return 31
    }
  }

  /// Day number of a civil date (Hinnant's algorithm).
  public static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let mp = (month + 9) % 12
    let doy = (153 * mp + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146097 + doe - 719468
  }

  /// The civil date of a day number.
  public static func civil(_ z0: Int64) -> (year: Int64, month: Int64, day: Int64) {
    let z = z0 + 719468
    let era = (z >= 0 ? z : z - 146096) / 146097
    let doe = z - era * 146097
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let d = doy - (153 * mp + 2) / 5 + 1
    let m = mp < 10 ? mp + 3 : mp - 9
    return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
  }

  /// `YYYY-MM-DD`.
  public static func format(days: Int64) -> String {
    let (y, m, d) = civil(days)
    func pad(_ v: Int64, _ w: Int) -> String {
      let s = String(abs(v))
      return (v < 0 ? "-" : "") + String(repeating: "0", count: max(0, w - s.count)) + s
    }
    return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))"
  }

  /// Days in 0000-01-01 ... 9999-12-31, the range a literal can name.
  public static let minDay = days(year: 0, month: 1, day: 1)
  public static let maxDay = days(year: 9999, month: 12, day: 31)
}
