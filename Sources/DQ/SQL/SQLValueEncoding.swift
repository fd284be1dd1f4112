/// How dq values live in PostgreSQL: every column has the composite type `dqv`
/// `(k smallint, i bigint, f float8, s text COLLATE "C")`, k being the kind (0 integer,
/// 1 decimal, 2 date, 3 symbol), i the integer or the date's day number, f the decimal, s the
/// symbol; unused parts are 0 or ''. Never null, so SQL equality of two `dqv` is dq's identity
/// (1 and 1.0 differ; symbols compare byte by byte). The contract's order (numbers numerically,
/// an integer and a decimal compared exactly, then dates, then symbols by code point) is the
/// function `dq_cmp`; arithmetic is `dq_arith`/`dq_neg`, raising dq's own errors.
///
/// That is the type of a column mixing kinds; a column whose values are all of one kind has that
/// kind's SQL type instead (see `SQLKind`), and its values become `dqv`s only where they meet
/// values of other kinds (`SQLGenerator`).
enum SQLValueEncoding {
  /// The SQLSTATE of the errors dq's SQL functions raise; DETAIL carries the span number and
  /// the values the message names.
  static let errorCode = "DQ001"
  /// Separates the parts of such an error's DETAIL.
  static let separator: Character = "\u{1F}"

  /// The SQL literal of a constant, of type `dqv` in `schema`.
  static func literal(_ c: Constant, schema: String) -> String {
    let (k, i, f, s) = parts(c)
    return "ROW(\(k),\(i),\(f),\(quote(s)))::\(schema).dqv"
  }

  static func parts(_ c: Constant) -> (Int, Int64, String, String) {
    switch c {
    case .integer(let i): return (0, i, "0", "")
    case .decimal(let d): return (1, 0, floatText(d), "")
    case .date(let d): return (2, d, "0", "")
    case .symbol(let s): return (3, 0, "0", s)
    }
  }

  /// A double as text float8in reads back exactly (Swift prints the shortest round-trip form).
  static func floatText(_ d: Double) -> String { d == 0 ? "0" : "\(d)" }

  /// A string literal (standard_conforming_strings: only quotes are doubled). PostgreSQL text
  /// cannot hold NUL, so a NUL is dropped (dq symbols never contain one in practice).
  static func quote(_ s: String) -> String {
    "'" + s.replacing("\0", with: "").replacing("'", with: "''") + "'"
  }

  /// A quoted identifier.
  static func identifier(_ s: String) -> String { "\"" + s.replacing("\"", with: "\"\"") + "\"" }

  /// One value as a field of a `COPY ... FROM STDIN` text line: the composite literal
  /// `(k,i,f,"s")`, then COPY's own escapes.
  static func copyField(_ c: Constant, into out: inout String) {
    let (k, i, f, s) = parts(c)
    out += "(\(k),\(i),\(f),\""
    for ch in s.unicodeScalars {
      switch ch {
      // Composite quoting doubles as a backslash escape; COPY then escapes each backslash.
      case "\\": out += "\\\\\\\\"
      case "\"": out += "\\\\\""
      case "\t": out += "\\t"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\0": break
      default: out.unicodeScalars.append(ch)
      }
    }
    out += "\")"
  }

  /// An integer's decimal digits, as UTF-8 (COPY data is built without a String per value).
  static func appendDecimal(_ i: Int64, to out: inout [UInt8]) {
    if i < 0 { out.append(45) }
    var m = i.magnitude
    var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                 UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
      (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    var n = 0
    withUnsafeMutableBytes(of: &digits) { d in
      repeat {
        d[n] = UInt8(48 + m % 10)
        m /= 10
        n += 1
      } while m > 0
      while n > 0 {
        n -= 1
        out.append(d[n])
      }
    }
  }

  /// One value as a field of a `COPY ... FROM STDIN` text line for a column of `kind`: a
  /// scalar column holds the value itself (a date its day number), a `mixed` one a `dqv`.
  static func copyField(_ c: Constant, kind: SQLKind, into out: inout String) {
    switch (kind, c) {
    case (.integer, .integer(let i)), (.date, .date(let i)), (.none, .integer(let i)): out += String(i)
    case (.decimal, .decimal(let d)): out += floatText(d)
    case (.symbol, .symbol(let s)):
      for ch in s.unicodeScalars {
        switch ch {
        case "\\": out += "\\\\"
        case "\t": out += "\\t"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\0": break
        default: out.unicodeScalars.append(ch)
        }
      }
    default: copyField(c, into: &out)
    }
  }

  /// A column of a server table as a value of `kind` (`SQLKind.ofServerType` of its type):
  /// the value itself when the column is of one kind (a NULL only in a column of symbols, as the
  /// empty symbol), else a `dqv` as `fromColumn` makes it.
  static func fromColumn(_ column: String, type: String, kind: SQLKind, schema s: String) -> String {
    switch kind {
    case .integer: return "\(column)::bigint"
    case .decimal: return "CASE WHEN \(column) = 0 THEN 0 ELSE \(column)::float8 END"
    case .date: return "(\(column) - DATE '1970-01-01')::bigint"
    case .symbol: return "coalesce(\(column)::text, '')"
    case .none, .mixed: return fromColumn(column, type: type, schema: s)
    }
  }

  /// A column of a server table as a `dqv` (reading tables that already exist): integer types
  /// as integers, numeric, real and double precision as decimals, dates as dates, NULL as the
  /// empty symbol, and every other type (text, varchar, boolean, timestamp, ...) as the symbol
  /// of its text.
  static func fromColumn(_ column: String, type: String, schema s: String) -> String {
    let value: String
    switch type {
    case "smallint", "integer", "bigint":
      value = "ROW(0, \(column)::bigint, 0, '')"
    case "real", "double precision":
      value = "ROW(1, 0, CASE WHEN \(column) = 0 THEN 0 ELSE \(column)::float8 END, '')"
    case _ where type == "numeric" || type.hasPrefix("numeric("):
      value = "ROW(1, 0, CASE WHEN \(column) = 0 THEN 0 ELSE \(column)::float8 END, '')"
    case "date":
      value = "ROW(2, \(column) - DATE '1970-01-01', 0, '')"
    default:
      value = "ROW(3, 0, 0, \(column)::text)"
    }
    return "CASE WHEN \(column) IS NULL THEN ROW(3, 0, 0, '')::\(s).dqv ELSE \(value)::\(s).dqv END"
  }

  /// The four parts selected for a `dqv` expression: `(e).k, (e).i, (e).f, (e).s`.
  static func selectParts(_ e: String) -> String { "(\(e)).k, (\(e)).i, (\(e)).f, (\(e)).s" }

  /// A value from the four text parts `selectParts` returns.
  static func decode(k: String?, i: String?, f: String?, s: String?) -> Constant? {
    switch k {
    case "0": return i.flatMap { Int64($0) }.map { .integer($0) }
    case "1": return f.flatMap { Double($0) }.map { .decimal($0) }
    case "2": return i.flatMap { Int64($0) }.map { .date($0) }
    case "3": return .symbol(s ?? "")
    default: return nil
    }
  }

  /// A value of `kind` from the text fields of an answer: one for a typed column (a date as its
  /// day number), the four of `selectParts` for a `dqv`.
  static func decode(_ fields: ArraySlice<String?>, kind: SQLKind) -> Constant? {
    guard let first = fields.first else { return nil }
    switch kind {
    case .none, .integer: return first.flatMap { Int64($0) }.map { .integer($0) }
    case .decimal: return first.flatMap { Double($0) }.map { .decimal($0) }
    case .date: return first.flatMap { Int64($0) }.map { .date($0) }
    case .symbol: return .symbol(first ?? "")
    case .mixed:
      let p = Array(fields)
      guard p.count == 4 else { return nil }
      return decode(k: p[0], i: p[1], f: p[2], s: p[3])
    }
  }

  /// A value as dq_describe writes it in error details: `k:i:f:s`.
  static func decodeDetail(_ text: Substring) -> Constant? {
    let p = text.split(separator: ":", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
    guard p.count == 4 else { return nil }
    return decode(k: p[0], i: p[1], f: p[2], s: p[3])
  }

  /// The type and functions the generated SQL uses, created in `schema` (pg_temp by default,
  /// so they vanish with the connection).
  static func support(schema s: String) -> String {
    let minDay = DateCodec.minDay, maxDay = DateCodec.maxDay
    return """
      CREATE TYPE \(s).dqv AS (k smallint, i bigint, f float8, s text COLLATE "C");
      -- A value for an error's DETAIL (decoded by dq to name it as the native engine does).
      CREATE FUNCTION \(s).dq_enc(a \(s).dqv) RETURNS text LANGUAGE sql IMMUTABLE AS
        $$ SELECT a.k || ':' || a.i || ':' || a.f || ':' || a.s $$;
      CREATE FUNCTION \(s).dq_fail(msg text, sp int, a \(s).dqv, b \(s).dqv, hint text) RETURNS \(s).dqv
        LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION USING ERRCODE = '\(errorCode)', MESSAGE = msg,
          DETAIL = sp || chr(31) || coalesce(\(s).dq_enc(a), '') || chr(31) || coalesce(\(s).dq_enc(b), ''),
          HINT = coalesce(hint, '');
      END $$;
      -- An exact comparison of a decimal with a 64-bit integer (as ValueStore does).
      CREATE FUNCTION \(s).dq_cmp_fi(d float8, i bigint) RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$
      DECLARE t float8; ti bigint;
      BEGIN
        IF d >= 9223372036854775808.0::float8 THEN RETURN 1; END IF;
        IF d < -9223372036854775808.0::float8 THEN RETURN -1; END IF;
        t := floor(d); ti := t::bigint;
        IF ti < i THEN RETURN -1; END IF;
        IF ti > i THEN RETURN 1; END IF;
        RETURN CASE WHEN d > t THEN 1 ELSE 0 END;
      END $$;
      -- The order of <, <=, >, >=: numbers numerically (1 and 1.0 rank the same), then dates,
      -- then symbols by code point.
      CREATE FUNCTION \(s).dq_cmp(a \(s).dqv, b \(s).dqv) RETURNS int LANGUAGE plpgsql IMMUTABLE STRICT AS $$
      DECLARE ka int := CASE WHEN a.k <= 1 THEN 0 ELSE a.k - 1 END;
              kb int := CASE WHEN b.k <= 1 THEN 0 ELSE b.k - 1 END;
      BEGIN
        IF ka <> kb THEN RETURN CASE WHEN ka < kb THEN -1 ELSE 1 END; END IF;
        IF ka = 2 THEN RETURN CASE WHEN a.s < b.s THEN -1 WHEN a.s > b.s THEN 1 ELSE 0 END; END IF;
        IF a.k = 1 AND b.k = 1 THEN RETURN CASE WHEN a.f < b.f THEN -1 WHEN a.f > b.f THEN 1 ELSE 0 END; END IF;
        IF a.k = 1 THEN RETURN \(s).dq_cmp_fi(a.f, b.i); END IF;
        IF b.k = 1 THEN RETURN -\(s).dq_cmp_fi(b.f, a.i); END IF;
        RETURN CASE WHEN a.i < b.i THEN -1 WHEN a.i > b.i THEN 1 ELSE 0 END;
      END $$;
      -- The total order of sorting, min and max: as dq_cmp, an integer before an equal decimal.
      CREATE FUNCTION \(s).dq_total(a \(s).dqv, b \(s).dqv) RETURNS int LANGUAGE plpgsql IMMUTABLE STRICT AS $$
      DECLARE c int := \(s).dq_cmp(a, b);
      BEGIN
        IF c <> 0 OR a = b THEN RETURN c; END IF;
        RETURN CASE WHEN a.k = 0 THEN -1 ELSE 1 END;
      END $$;
      CREATE FUNCTION \(s).dq_min2(a \(s).dqv, b \(s).dqv) RETURNS \(s).dqv LANGUAGE sql IMMUTABLE STRICT AS
        $$ SELECT CASE WHEN \(s).dq_total(b, a) < 0 THEN b ELSE a END $$;
      CREATE FUNCTION \(s).dq_max2(a \(s).dqv, b \(s).dqv) RETURNS \(s).dqv LANGUAGE sql IMMUTABLE STRICT AS
        $$ SELECT CASE WHEN \(s).dq_total(b, a) > 0 THEN b ELSE a END $$;
      CREATE AGGREGATE \(s).dq_min(\(s).dqv) (SFUNC = \(s).dq_min2, STYPE = \(s).dqv);
      CREATE AGGREGATE \(s).dq_max(\(s).dqv) (SFUNC = \(s).dq_max2, STYPE = \(s).dqv);
      -- sum: integers exactly, then the decimals in ascending order, as the native fold does.
      CREATE FUNCTION \(s).dq_sum(vals \(s).dqv[], sp int) RETURNS \(s).dqv LANGUAGE plpgsql AS $$
      DECLARE v \(s).dqv; isum numeric := 0; total float8; decimals boolean := false;
      BEGIN
        FOREACH v IN ARRAY coalesce(vals, '{}') LOOP
          IF v.k = 0 THEN isum := isum + v.i;
          ELSIF v.k = 1 THEN decimals := true;
          ELSE PERFORM \(s).dq_fail('''sum'' needs numbers but got {a}', sp, v, NULL, NULL);
          END IF;
        END LOOP;
        IF decimals THEN
          total := isum::float8;
          BEGIN
            FOREACH v IN ARRAY vals LOOP
              IF v.k = 1 THEN total := total + v.f; END IF;
            END LOOP;
          EXCEPTION WHEN numeric_value_out_of_range THEN
            PERFORM \(s).dq_fail('Decimal overflow in ''sum''', sp, NULL, NULL, NULL);
          END;
          RETURN ROW(1, 0, total, '')::\(s).dqv;
        END IF;
        IF isum > 9223372036854775807 OR isum < -9223372036854775808 THEN
          PERFORM \(s).dq_fail('Integer overflow in ''sum''', sp, NULL, NULL,
            'integers are 64-bit; a decimal among the values makes the sum a decimal');
        END IF;
        RETURN ROW(0, isum::bigint, 0, '')::\(s).dqv;
      END $$;
      -- sum of a column of integers: exact, then checked against 64 bits.
      CREATE FUNCTION \(s).dq_isum(n numeric, sp int) RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
      BEGIN
        IF n > 9223372036854775807 OR n < -9223372036854775808 THEN
          PERFORM \(s).dq_fail('Integer overflow in ''sum''', sp, NULL, NULL,
            'integers are 64-bit; a decimal among the values makes the sum a decimal');
        END IF;
        RETURN n::bigint;
      END $$;
      CREATE FUNCTION \(s).dq_neg(a \(s).dqv, sp int) RETURNS \(s).dqv LANGUAGE plpgsql VOLATILE AS $$
      BEGIN
        IF a.k = 0 THEN
          IF a.i = -9223372036854775808 THEN RETURN \(s).dq_fail('Integer overflow in ''-''', sp, NULL, NULL, NULL); END IF;
          RETURN ROW(0, -a.i, 0, '')::\(s).dqv;
        END IF;
        IF a.k = 1 THEN RETURN ROW(1, 0, CASE WHEN a.f = 0 THEN 0 ELSE -a.f END, '')::\(s).dqv; END IF;
        RETURN \(s).dq_fail('Cannot negate {a}', sp, a, NULL, NULL);
      END $$;
      CREATE FUNCTION \(s).dq_arith(op text, a \(s).dqv, b \(s).dqv, sp int) RETURNS \(s).dqv LANGUAGE plpgsql VOLATILE AS $$
      DECLARE n numeric; m bigint; x float8; y float8; r float8; t float8;
      BEGIN
        IF a.k = 0 AND b.k = 0 THEN
          IF op = '+' THEN n := a.i::numeric + b.i;
          ELSIF op = '-' THEN n := a.i::numeric - b.i;
          ELSIF op = '*' THEN n := a.i::numeric * b.i;
          ELSIF op = '/' THEN
            IF b.i = 0 THEN RETURN \(s).dq_fail('Division by zero', sp, NULL, NULL, NULL); END IF;
            n := div(a.i::numeric, b.i::numeric);  -- exact (numeric / rounds past 16 digits)
          ELSE
            IF b.i = 0 THEN RETURN \(s).dq_fail('Division by zero in ''mod''', sp, NULL, NULL, NULL); END IF;
            IF b.i = -1 THEN RETURN ROW(0, 0, 0, '')::\(s).dqv; END IF;
            m := a.i % b.i;
            IF m <> 0 AND (m < 0) <> (b.i < 0) THEN m := m + b.i; END IF;
            RETURN ROW(0, m, 0, '')::\(s).dqv;
          END IF;
          IF n > 9223372036854775807 OR n < -9223372036854775808 THEN
            RETURN \(s).dq_fail('Integer overflow in ''' || op || '''', sp, NULL, NULL,
              'integers are 64-bit; use a decimal (e.g. 1.0) for larger magnitudes');
          END IF;
          RETURN ROW(0, n::bigint, 0, '')::\(s).dqv;
        END IF;
        IF a.k <= 1 AND b.k <= 1 THEN
          x := CASE WHEN a.k = 0 THEN a.i::float8 ELSE a.f END;
          y := CASE WHEN b.k = 0 THEN b.i::float8 ELSE b.f END;
          IF (op = '/' OR op = 'mod') AND y = 0 THEN
            RETURN \(s).dq_fail(CASE WHEN op = '/' THEN 'Division by zero' ELSE 'Division by zero in ''mod''' END, sp, NULL, NULL, NULL);
          END IF;
          BEGIN
            IF op = '+' THEN r := x + y;
            ELSIF op = '-' THEN r := x - y;
            ELSIF op = '*' THEN r := x * y;
            ELSIF op = '/' THEN r := x / y;
            ELSE
              -- The remainder exactly, as the native engine's (C's fmod): |x| less |y| times
              -- powers of two, largest first, each subtraction exact (t <= r < 2t), with the
              -- sign of x; then floored to the sign of y. (x - y * trunc(x / y) rounds.)
              r := abs(x); t := abs(y);
              WHILE t <= r - t LOOP t := t * 2; END LOOP;
              LOOP
                IF r >= t THEN r := r - t; END IF;
                EXIT WHEN t = abs(y);
                t := t / 2;
              END LOOP;
              IF x < 0 THEN r := -r; END IF;
              IF r <> 0 AND (r < 0) <> (y < 0) THEN r := r + y; END IF;
            END IF;
          EXCEPTION WHEN numeric_value_out_of_range THEN
            RETURN \(s).dq_fail('Decimal overflow in ''' || op || '''', sp, NULL, NULL, NULL);
          END;
          RETURN ROW(1, 0, CASE WHEN r = 0 THEN 0 ELSE r END, '')::\(s).dqv;
        END IF;
        IF a.k = 2 AND b.k = 0 AND (op = '+' OR op = '-') OR a.k = 0 AND b.k = 2 AND op = '+' THEN
          n := CASE WHEN a.k = 2 AND op = '+' THEN a.i::numeric + b.i WHEN a.k = 2 THEN a.i::numeric - b.i ELSE b.i::numeric + a.i END;
          IF n < \(minDay) OR n > \(maxDay) THEN
            RETURN \(s).dq_fail('Date arithmetic goes outside the years 0000-9999', sp, NULL, NULL, NULL);
          END IF;
          RETURN ROW(2, n::bigint, 0, '')::\(s).dqv;
        END IF;
        IF a.k = 2 AND b.k = 2 AND op = '-' THEN RETURN ROW(0, a.i - b.i, 0, '')::\(s).dqv; END IF;
        RETURN \(s).dq_fail('Cannot apply ''' || op || ''' to {a} and {b}', sp, a, b,
          'arithmetic works on numbers; dates take ''+''/''-'' of a number of days, and ''date - date'' gives days');
      END $$;
      """
  }

  /// Functions a script uses to show answers: `dq_show` (a value as text) and `dq_key` (a sort
  /// key in dq's order; numbers compared as numeric, so decimals beyond 15 digits may tie).
  static func display(schema s: String) -> String {
    """
    CREATE FUNCTION \(s).dq_show(a \(s).dqv) RETURNS text LANGUAGE sql IMMUTABLE AS $$
      SELECT CASE a.k WHEN 0 THEN a.i::text WHEN 1 THEN a.f::text
        WHEN 2 THEN to_char(DATE '1970-01-01' + a.i::int, 'YYYY-MM-DD') ELSE a.s END $$;
    CREATE FUNCTION \(s).dq_key(a \(s).dqv, OUT g int, OUT n numeric, OUT k smallint, OUT i bigint, OUT s text)
      LANGUAGE sql IMMUTABLE AS $$
      SELECT CASE WHEN a.k <= 1 THEN 0 ELSE a.k - 1 END, CASE a.k WHEN 0 THEN a.i::numeric WHEN 1 THEN a.f::numeric END,
        a.k, a.i, a.s COLLATE "C" $$;
    """
  }
}
