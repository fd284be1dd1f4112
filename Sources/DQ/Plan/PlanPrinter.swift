/// Prints plans as text: what `.plan QUERY` shows, one line per step.
extension CompiledRule {
  /// The steps, indented under a title line.
  func describe(title: String, show: @escaping (Value) -> String) -> String {
    var p = PlanText(rule: self, show: show)
    return p.render(title: title)
  }
}

/// The text of one compiled rule.
private struct PlanText {
  let rule: CompiledRule
  let show: (Value) -> String
  var slotNames: [String] { rule.slotNames }

  mutating func render(title: String) -> String {
    var out = title + "\n"
    describe(rule.body, indent: "  ", into: &out)
    let projection = rule.body.projection.map(describe).joined(separator: ", ")
    out += rule.headName.map { "  emit \($0)(\(projection))\n" } ?? "  answer (\(projection))\n"
    return out
  }

  private func name(_ slot: Int) -> String {
    guard slot < slotNames.count else { return "?" }
    let n = slotNames[slot]
    return n.hasPrefix("_#") || n.hasPrefix("_Any") ? "_" : n
  }

  private func describe(_ list: StepList, indent: String, into out: inout String) {
    for step in list.steps {
      out += indent + describe(step) + "\n"
      if let plan = step.aggregate {
        describe(plan.body, indent: indent + "  ", into: &out)
      }
    }
  }

  private func describe(_ step: Step) -> String {
    let range: String
    switch step.range {
    case .full: range = ""
    case .old: range = "[old]"
    case .delta: range = "[delta]"
    }
    let binds = zip(step.bindColumns, step.bindSlots).map { "c\($0 + 1)->\(name($1))" }
    let bindText = binds.isEmpty ? "" : " bind(\(binds.joined(separator: ", ")))"
    let checks = zip(step.checkColumns, step.checkOperands).map { "c\($0 + 1)=\(describe($1))" }
    let checkText = checks.isEmpty ? "" : " check(\(checks.joined(separator: ", ")))"
    let keys = step.keys.map(describe).joined(separator: ", ")
    let distinct = step.distinctColumns.map { "c\($0 + 1)" }.joined(separator: ", ")
    let counted =
      step.countsOnly ? " (rows counted, not visited)"
      : step.existsOnly ? " (exists: first match only)"
      : distinct.isEmpty ? "" : " (distinct (\(distinct)) only)"
    switch step.kind {
    case .scan: return "scan \(step.relationName)\(range)\(bindText)\(checkText)\(counted)"
    case .lookup:
      let columns = step.index?.columns.map { "c\($0 + 1)" }.joined(separator: ", ") ?? ""
      return "lookup \(step.relationName)\(range) on (\(columns)) = (\(keys))\(bindText)\(checkText)\(counted)"
    case .member: return "member \(step.relationName)\(range)(\(keys))"
    case .absent: return "not \(step.relationName)(\(keys))"
    case .filter: return "filter \(describe(step.left)) \(step.comparison.rawValue) \(describe(step.right))"
    case .assign: return "let \(name(step.target)) = \(describe(step.right))"
    case .aggregate:
      guard let plan = step.aggregate else { return "aggregate" }
      let result = plan.resultSlot.map(name) ?? plan.resultOperand.map(describe) ?? "?"
      let value = plan.value.map { " " + describe($0) } ?? ""
      let fast = plan.countsRows ? " (counts rows)" : ""
      return "\(result) = \(plan.function.rawValue)\(value) over\(fast):"
    }
  }

  private func describe(_ o: Operand) -> String {
    switch o.kind {
    case .slot: return name(Int(o.payload))
    case .constant: return show(o.payload)
    case .expression: return "<expression>"
    }
  }
}
