/// Prints plans as text: what `.plan QUERY` shows, one line per step (forms in Plan.swift).
extension RulePlan {
  /// The steps, indented under a title line.
  public func describe(title: String) -> String {
    let p = PlanText(slotNames: slotNames)
    var out = title + "\n"
    p.describe(steps, indent: "  ", into: &out)
    let projection = self.projection.map(p.describe).joined(separator: ", ")
    let end = headName.map { "  emit \($0)(\(projection))\n" } ?? "  answer (\(projection))\n"
    out += end
    if let alternative {
      out += "  or, in a round where it is estimated cheaper:\n"
      p.describe(alternative, indent: "  ", into: &out)
      out += end
    }
    return out
  }
}

/// The text of the steps of one plan.
private struct PlanText {
  let slotNames: [String]

  private func name(_ slot: Int) -> String {
    guard slot >= 0, slot < slotNames.count else { return "?" }
    let n = slotNames[slot]
    return n.hasPrefix("_#") || n.hasPrefix("_Any") ? "_" : n
  }

  func describe(_ steps: [Step], indent: String, into out: inout String) {
    for step in steps {
      out += indent + describe(step) + "\n"
      if case .aggregate(let plan) = step {
        describe(plan.body, indent: indent + "  ", into: &out)
      }
    }
  }

  private func describe(_ step: Step) -> String {
    switch step {
    case .scan(let a, let visit):
      return "scan \(a.relation)\(range(a))\(binds(a))\(describe(visit))"
    case .lookup(let a, let visit):
      let columns = a.keyColumns.map { "c\($0 + 1)" }.joined(separator: ", ")
      let keys = a.keys.map(describe).joined(separator: ", ")
      return "lookup \(a.relation)\(range(a)) on (\(columns)) = (\(keys))\(binds(a))\(describe(visit))"
    case .member(let a):
      return "member \(a.relation)\(range(a))(\(a.keys.map(describe).joined(separator: ", ")))"
    case .absent(let a):
      // Every column, `_` for those the negation leaves open.
      var columns = Array(repeating: "_", count: a.arity)
      for (c, k) in zip(a.keyColumns, a.keys) where c < a.arity { columns[c] = describe(k) }
      return "not \(a.relation)(\(columns.joined(separator: ", ")))"
    case .filter(let op, let left, let right):
      return "filter \(describe(left)) \(op.rawValue) \(describe(right))"
    case .assign(let target, let value):
      return "let \(name(target)) = \(describe(value))"
    case .aggregate(let plan):
      let result: String
      switch plan.result {
      case .bind(let s): result = name(s)
      case .compare(let o): result = describe(o)
      }
      let value = plan.value.map { " " + describe($0) } ?? ""
      let fast = plan.countsRows ? " (counts rows)" : ""
      return "\(result) = \(plan.function.rawValue)\(value) over\(fast):"
    }
  }

  private func range(_ a: AtomAccess) -> String {
    switch a.range {
    case .full: return ""
    case .old: return "[old]"
    case .delta: return "[delta]"
    }
  }

  private func binds(_ a: AtomAccess) -> String {
    let binds = zip(a.bindColumns, a.bindSlots).map { "c\($0 + 1)->\(name($1))" }
    let checks = zip(a.checkColumns, a.checkOperands).map { "c\($0 + 1)=\(describe($1))" }
    return (binds.isEmpty ? "" : " bind(\(binds.joined(separator: ", ")))")
      + (checks.isEmpty ? "" : " check(\(checks.joined(separator: ", ")))")
  }

  private func describe(_ visit: Visit) -> String {
    switch visit {
    case .everyRow: return ""
    case .firstMatch: return " (exists: first match only)"
    case .distinct(let columns): return " (distinct (\(columns.map { "c\($0 + 1)" }.joined(separator: ", "))) only)"
    case .counted: return " (rows counted, not visited)"
    }
  }

  func describe(_ o: Operand) -> String {
    switch o {
    case .slot(let s): return name(s)
    case .constant(let c): return c.description
    case .expression(let e): return describe(e, parentPrecedence: 0)
    }
  }

  /// Arithmetic as dq source, parenthesised as `Term` prints it.
  private func describe(_ e: Expression, parentPrecedence: Int) -> String {
    let precedence: Int
    let text: String
    switch e {
    case .slot(let s): return name(s)
    case .constant(let c): return c.description
    case .binary(let op, let l, let r, _):
      precedence = op == .add || op == .subtract ? 1 : 2
      let opText = op == .modulo ? " mod " : " \(op.rawValue) "
      // Left-associative: the right operand needs parentheses at equal precedence.
      text = describe(l, parentPrecedence: precedence) + opText + describe(r, parentPrecedence: precedence + 1)
    case .negate(let a, _):
      precedence = 3
      text = "-" + describe(a, parentPrecedence: 3)
    }
    return precedence < parentPrecedence ? "(\(text))" : text
  }
}
