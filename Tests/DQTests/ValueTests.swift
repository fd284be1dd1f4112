/// Values: the 32-bit encoding round trip, boxing of big numbers, dates, and the cross-kind order.
import Testing

@testable import DQ

@Suite struct ValueTests {
  static let integers: [Int64] = [
    0, 1, -1, 42, -7, (1 << 28) - 1, -(1 << 28), 1 << 28, -(1 << 28) - 1, 1 << 31, -(1 << 31), 1 << 59, -(1 << 59), (1 << 60) - 1, -(1 << 60), 1 << 60, -(1 << 60) - 1, 1 << 62,
    Int64.max, Int64.min, Int64.max - 1, Int64.min + 1,
  ]

  @Test(arguments: integers)
  func integerRoundTrip(_ i: Int64) {
    let store = ValueStore()
    let v = store.integer(i)
    #expect(store.decode(v) == .integer(i))
    #expect(store.kind(v) == .number)
    #expect(store.text(v) == String(i))
    // Canonical: encoding twice gives the same word.
    #expect(store.integer(i) == v)
  }

  @Test func smallIntegersAreInlineAndBigOnesBoxed() {
    let store = ValueStore()
    #expect(ValueStore.smallInteger(store.integer(ValueStore.smallMax)) == ValueStore.smallMax)
    #expect(ValueStore.smallInteger(store.integer(ValueStore.smallMin)) == ValueStore.smallMin)
    #expect(ValueStore.smallInteger(store.integer(ValueStore.smallMax + 1)) == nil)
    #expect(ValueStore.smallInteger(store.integer(ValueStore.smallMin - 1)) == nil)
    #expect(ValueStore.tag(store.integer(Int64.max)) == 1)
    #expect(ValueStore.tag(store.integer(Int64.min)) == 1)
    #expect(store.integer(Int64.max) != store.integer(Int64.min))
  }

  @Test func decimalsRoundTrip() {
    let store = ValueStore()
    for d in [0.0, 1.5, -2.25, 1e300, -1e-300, 0.1, Double.greatestFiniteMagnitude] {
      #expect(store.decode(store.decimal(d)) == .decimal(d))
      #expect(store.decimal(d) == store.decimal(d))
    }
    // -0.0 and 0.0 are one value.
    #expect(store.decimal(-0.0) == store.decimal(0.0))
    // A decimal is never the same word as the integer of the same magnitude.
    #expect(store.decimal(1.0) != store.integer(1))
  }

  @Test func symbolsAreInterned() {
    let store = ValueStore()
    let a = store.symbol("putin")
    #expect(store.symbol("putin") == a)
    #expect(store.symbol("abe") != a)
    #expect(store.decode(a) == .symbol("putin"))
    #expect(store.symbolText(a) == "putin")
    #expect(store.symbolText(store.integer(1)) == nil)
    #expect(store.existingSymbol("putin") == a)
    #expect(store.existingSymbol("nobody") == nil)
    #expect(store.kind(a) == .symbol)
    #expect(store.symbol("") != store.symbol(" "))
    #expect(store.decode(store.symbol("tab\tnew\nline")) == .symbol("tab\tnew\nline"))
  }

  // MARK: - Dates

  @Test func datesRoundTrip() {
    let store = ValueStore()
    for text in ["1970-01-01", "2016-08-09", "2000-02-29", "1900-03-01", "0001-01-01", "0000-01-01", "9999-12-31"] {
      guard let days = DateCodec.parse(text) else {
        Issue.record("\(text) did not parse")
        continue
      }
      let v = store.date(days)
      #expect(store.decode(v) == .date(days))
      #expect(store.text(v) == text)
      #expect(store.kind(v) == .date)
      #expect(DateCodec.format(days: days) == text)
    }
  }

  @Test func dayNumbers() {
    #expect(DateCodec.parse("1970-01-01") == 0)
    #expect(DateCodec.parse("1970-01-02") == 1)
    #expect(DateCodec.parse("1969-12-31") == -1)
    #expect(DateCodec.parse("2016-08-09")! - DateCodec.parse("2016-01-01")! == 221)
    #expect(DateCodec.minDay == DateCodec.parse("0000-01-01"))
    #expect(DateCodec.maxDay == DateCodec.parse("9999-12-31"))
  }

  @Test func civilRoundTripOverFourCenturies() {
    // Every day from 1800 to 2200 converts both ways.
    let start = DateCodec.days(year: 1800, month: 1, day: 1)
    let end = DateCodec.days(year: 2200, month: 12, day: 31)
    var previous = DateCodec.civil(start - 1)
    var bad = 0
    for d in start...end {
      let c = DateCodec.civil(d)
      if DateCodec.days(year: c.year, month: c.month, day: c.day) != d { bad += 1 }
      // Consecutive days: the next day of the month, or day 1 of the next month.
      if !(c.day == previous.day + 1 || c.day == 1) { bad += 1 }
      previous = c
    }
    #expect(bad == 0)
  }

  @Test func leapYears() {
    #expect(DateCodec.isLeap(2000))
    #expect(DateCodec.isLeap(2016))
    #expect(!DateCodec.isLeap(1900))
    #expect(!DateCodec.isLeap(2015))
    #expect(DateCodec.parse("2016-02-29") != nil)
    #expect(DateCodec.parse("2015-02-29") == nil)
    #expect(DateCodec.parse("1900-02-29") == nil)
  }

  @Test(arguments: ["2016-02-30", "2016-13-01", "2016-00-01", "2016-01-00", "2016-04-31", "16-01-01", "2016-1-01", "abcd-01-01", "2016-01-01-"])
  func invalidDates(_ text: String) {
    #expect(DateCodec.parse(text) == nil)
  }

  // MARK: - Order

  @Test func orderAcrossKinds() {
    let store = ValueStore()
    // Ascending, as the contract orders them.
    let expected: [Value] = [
      store.decimal(-1e300), store.integer(Int64.min), store.integer(-(1 << 60) - 1), store.integer(-5),
      store.decimal(-4.5), store.integer(0), store.decimal(0.5), store.integer(1), store.decimal(1.5),
      store.integer(1 << 60), store.integer(Int64.max), store.decimal(1e19),
      store.date(DateCodec.parse("0000-01-01")!), store.date(-1), store.date(0),
      store.date(DateCodec.parse("9999-12-31")!),
      store.symbol(""), store.symbol(" "), store.symbol("A"), store.symbol("Zebra"), store.symbol("a"),
      store.symbol("ab"), store.symbol("b"), store.symbol("z"), store.symbol("é"), store.symbol("中"),
    ]
    for i in expected.indices {
      for j in expected.indices {
        let c = store.compare(expected[i], expected[j])
        let want = i < j ? -1 : (i > j ? 1 : 0)
        #expect(c == want, "\(store.source(expected[i])) vs \(store.source(expected[j]))")
      }
    }
  }

  @Test func numbersCompareExactly() {
    let store = ValueStore()
    // 2^53 + 1 is not representable as a double; it is still above 2^53 as a decimal.
    let big = store.integer((1 << 53) + 1)
    let d = store.decimal(Double(1 << 53))
    #expect(store.compare(big, d) == 1)
    #expect(store.compare(d, big) == -1)
    #expect(store.compareNumerically(store.integer(2), store.decimal(2.0)) == 0)
    #expect(store.compare(store.integer(-3), store.decimal(-2.5)) == -1)
    #expect(store.compare(store.integer(Int64.max), store.decimal(1e19)) == -1)
    // Regression: decimals just above 2^63 were clamped to Int64.max and compared equal.
    #expect(store.compare(store.integer(Int64.max), store.decimal(9.3e18)) == -1)
    #expect(store.compare(store.integer(Int64.max), store.decimal(9_223_372_036_854_775_808.0)) == -1)
    #expect(store.compare(store.integer(Int64.min), store.decimal(-9.3e18)) == 1)
    #expect(store.compareNumerically(store.integer(Int64.min), store.decimal(-9_223_372_036_854_775_808.0)) == 0)
    #expect(store.compare(store.integer(Int64.min), store.decimal(-1e19)) == 1)
  }

  @Test func symbolOrderIsByCodePoint() {
    let store = ValueStore()
    let b = store.symbol("b")
    let a = store.symbol("a")
    #expect(store.compare(a, b) == -1)
    // Symbols interned later still take their place in the order.
    let ab = store.symbol("ab")
    let upper = store.symbol("B")
    #expect(store.compare(a, ab) == -1)
    #expect(store.compare(ab, b) == -1)
    #expect(store.compare(upper, a) == -1)
    // Code points, not a locale: "é" (U+E9) sorts after "z"; "Z" before "a".
    #expect(store.compare(store.symbol("é"), store.symbol("z")) == 1)
    #expect(store.compare(store.symbol("Z"), a) == -1)
    // A supplementary-plane character is above every BMP one, as code points order them.
    #expect(store.compare(store.symbol("😀"), store.symbol("\u{FFFD}")) == 1)
  }

  /// `=` is identity: 1 and 1.0 are different values; the order comparisons are numeric.
  @Test func equalityIsIdentityOrderIsNumeric() {
    let store = ValueStore()
    #expect(!Arithmetic.compare(.equal, store.integer(1), store.decimal(1.0), store: store))
    #expect(Arithmetic.compare(.notEqual, store.integer(1), store.decimal(1.0), store: store))
    #expect(Arithmetic.compare(.lessEqual, store.integer(1), store.decimal(1.0), store: store))
    #expect(Arithmetic.compare(.greaterEqual, store.integer(1), store.decimal(1.0), store: store))
    #expect(!Arithmetic.compare(.equal, store.integer(1), store.symbol("1"), store: store))
    #expect(Arithmetic.compare(.less, store.integer(1000), store.date(0), store: store))
    #expect(Arithmetic.compare(.greater, store.symbol(""), store.date(DateCodec.maxDay), store: store))
  }

  // MARK: - Printing

  @Test func decimalText() {
    #expect(DecimalSyntax.format(1.0) == "1.0")
    #expect(DecimalSyntax.format(-2.5) == "-2.5")
    #expect(DecimalSyntax.format(0.1) == "0.1")
    #expect(DecimalSyntax.format(1e-7) == "0.0000001")
    #expect(DecimalSyntax.format(1.25e-5) == "0.0000125")
    #expect(DecimalSyntax.format(1e16) == "10000000000000000.0")
  }

  @Test(arguments: [0.1, 1.5, 1e-7, 1.25e-5, 3.14159, 123456.789, 1e16, 2.5e18, 1e22, 1e23, 1e100, 1e300, 1e-50, 0.30000000000000004, 2.0e-30, Double.leastNonzeroMagnitude, 1.7976931348623157e308])
  func decimalTextReadsBackAsTheSameNumber(_ d: Double) {
    let text = DecimalSyntax.format(d)
    #expect(!text.contains("e"), "\(text)")
    #expect(text.contains("."), "\(text)")
    #expect(Double(text) == d, "\(d) printed as \(text)")
    // And dq's own lexer reads it back as the same number.
    #expect(TestDQ.kinds(text).first == .decimal(d), "\(d) printed as \(text)")
  }

  @Test func decimalsPrintTheirShortestDigits() {
    // Regression: exponent forms used to be expanded digit by digit, giving wrong digits
    // (1e23 -> ...0002.0), "0." from 1e300 up, and zeros below 1e-40.
    #expect(DecimalSyntax.format(1e23) == "100000000000000000000000.0")
    #expect(DecimalSyntax.format(1e100) == "1" + String(repeating: "0", count: 100) + ".0")
    #expect(DecimalSyntax.format(1e300) == "1" + String(repeating: "0", count: 300) + ".0")
    #expect(DecimalSyntax.format(1e-50) == "0." + String(repeating: "0", count: 49) + "1")
    #expect(DecimalSyntax.format(-1.5e-7) == "-0.00000015")
  }

  @Test func hugeDecimalComparisonsInAProgram() {
    let run = TestDQ.run(
      """
      ?- 9223372036854775807 = 9300000000000000000.0.
      ?- 9223372036854775807 < 9300000000000000000.0.
      ?- -9223372036854775808 = -9300000000000000000.0.
      ?- 9223372036854775807 < 9223372036854775808.0.
      """)
    #expect(run.output == "false\n\ntrue\n\nfalse\n\ntrue\n")
    let a = "1" + String(repeating: "0", count: 100) + ".0"
    let big = TestDQ.run("?- A = \(a), X = A * A * A.\n")
    #expect(big.output == "A\tX\n\(a)\t1\(String(repeating: "0", count: 300)).0\n")
  }

  @Test func sourceTextQuotesWhenNeeded() {
    let store = ValueStore()
    #expect(store.source(store.symbol("putin")) == "putin")
    #expect(store.source(store.symbol("Putin")) == "\"Putin\"")
    #expect(store.source(store.symbol("not")) == "\"not\"")
    #expect(store.source(store.symbol("a b")) == "\"a b\"")
    #expect(store.source(store.symbol("q\"\\\n\t")) == #""q\"\\\n\t""#)
    #expect(store.source(store.symbol("")) == "\"\"")
    #expect(store.source(store.integer(-3)) == "-3")
    #expect(store.source(store.date(0)) == "1970-01-01")
  }
}
