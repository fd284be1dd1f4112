/// The planner: rules compiled into plans, compared as values (join order, index columns,
/// delta versions, negation, aggregates, expressions, existence checks). Plans name relations
/// and columns only, so they are built here without a database; relation sizes are given.
import Testing

@testable import DQ

@Suite struct PlannerTests {
  /// The only rule of a program.
  private func rule(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> Rule {
    let rules = TestDQ.rules(text, sourceLocation: sourceLocation)
    #expect(rules.count == 1, sourceLocation: sourceLocation)
    return rules[0]
  }

  private func sizes(_ table: [String: Int]) -> (String) -> Int { { table[$0] ?? 0 } }

  @Test func joinStartsFromTheSmallerRelationAndLooksUpTheOther() {
    // Neither atom has a bound column at first: the smaller relation is scanned, then the
    // other looked up by the column the scan bound.
    let r = rule("p(X, Z) :- big(Y, Z), small(X, Y).")
    let plan = Planner.plan(rule: r, deltaAtom: nil, size: sizes(["big": 1000, "small": 10]), recursive: [])
    let expected = RulePlan(
      steps: [
        .scan(AtomAccess(relation: "small", arity: 2, bindColumns: [0, 1], bindSlots: [0, 1]), .everyRow),
        .lookup(
          AtomAccess(relation: "big", arity: 2, keyColumns: [0], keys: [.slot(1)], bindColumns: [1], bindSlots: [2]),
          .everyRow),
      ],
      projection: [.slot(0), .slot(2)], headName: "p", slotNames: ["X", "Y", "Z"])
    #expect(plan == expected)
    // With the sizes the other way round, the join starts from `big`.
    let swapped = Planner.plan(rule: r, deltaAtom: nil, size: sizes(["big": 10, "small": 1000]), recursive: [])
    #expect(swapped.steps.first?.positiveAtom?.relation == "big")
    #expect(swapped != plan)
  }

  @Test func deltaVersionReadsTheDeltaFirstAndOldRowsBefore() {
    let program = TestDQ.rules("p(X, Y) :- e(X, Y). p(X, Z) :- p(X, Y), p(Y, Z).")
    let stratum = Planner.plan(stratum: ["p"], recursive: true, rules: program, size: sizes(["e": 5]))
    #expect(stratum.firstRound.count == 2)
    // One version per recursive atom of the second rule.
    #expect(stratum.deltaVersions.count == 2)
    let second = stratum.deltaVersions[1]
    #expect(second.deltaAtom == 1)
    let expected: [Step] = [
      .scan(AtomAccess(relation: "p", arity: 2, range: .delta, bindColumns: [0, 1], bindSlots: [0, 1]), .everyRow),
      .lookup(
        AtomAccess(relation: "p", arity: 2, range: .old, keyColumns: [1], keys: [.slot(0)], bindColumns: [0], bindSlots: [2]),
        .everyRow),
    ]
    #expect(second.steps == expected)
    #expect(second.projection == [.slot(2), .slot(1)])
    #expect(stratum.deltaVersions[0].steps.first?.positiveAtom?.range == .delta)
  }

  @Test func deltaVersionHasAnOrderStartingElsewhere() {
    // Points-to's version reading heapPointsTo's delta: first the delta, then every load per
    // delta row; or (`alternative`) load first, pointsTo by X, and the delta looked up by H,
    // which costs what load and pointsTo match however large the delta is.
    let program = TestDQ.rules(
      "pointsTo(Y, X) :- addressOf(Y, X).\npointsTo(Y, W) :- load(Y, X), pointsTo(X, H), heapPointsTo(H, W).\n"
        + "heapPointsTo(H, W) :- store(Y, X), pointsTo(Y, H), pointsTo(X, W).\n")
    let stratum = Planner.plan(
      stratum: ["pointsTo", "heapPointsTo"], recursive: true, rules: program,
      size: sizes(["addressOf": 2500, "load": 500, "store": 500]))
    guard let version = stratum.deltaVersions.first(where: { $0.headName == "pointsTo" && $0.deltaAtom == 2 }) else {
      Issue.record("no version reads heapPointsTo's delta")
      return
    }
    #expect(version.steps.first?.positiveAtom?.relation == "heapPointsTo")
    let other = version.alternative ?? []
    #expect(other.map { $0.positiveAtom?.relation } == ["load", "pointsTo", "heapPointsTo"])
    #expect(other.map { $0.positiveAtom?.range } == [.full, .old, .delta])
    guard case .lookup(let access, _) = other.last else {
      Issue.record("the delta is not looked up: \(other)")
      return
    }
    #expect(access.keyColumns == [0])
    #expect(version.describe(title: "v").contains("  or, in a round where it is estimated cheaper:\n  scan load"))
    // A first-round plan has none, nor does a version whose other order also starts at the delta.
    #expect(stratum.firstRound.allSatisfy { $0.alternative == nil })
  }

  @Test func negationNamesItsBoundColumns() {
    let plan = Planner.plan(rule: rule("q(X) :- e(X, _), not f(_, X, 3)."), deltaAtom: nil, size: sizes([:]), recursive: [])
    let absent = AtomAccess(relation: "f", arity: 3, keyColumns: [1, 2], keys: [.slot(0), .constant(.integer(3))])
    #expect(plan.steps.last == .absent(absent))
    #expect(plan.describe(title: "q").contains("  not f(_, X, 3)\n"))
  }

  @Test func aggregateCountingRows() {
    let plan = Planner.plan(
      rule: rule("n(X, N) :- node(X), N = count : { e(X, Y) }."), deltaAtom: nil, size: sizes([:]), recursive: [])
    let body: [Step] = [
      .lookup(AtomAccess(relation: "e", arity: 2, keyColumns: [0], keys: [.slot(0)], bindColumns: [1], bindSlots: [1]), .everyRow)
    ]
    let expected = RulePlan(
      steps: [
        .scan(AtomAccess(relation: "node", arity: 1, bindColumns: [0], bindSlots: [0]), .everyRow),
        .aggregate(
          AggregatePlan(function: .count, body: body, localSlots: [1], value: nil, result: .bind(2), countsRows: true)),
      ],
      projection: [.slot(0), .slot(2)], headName: "n", slotNames: ["X", "Y", "N"])
    #expect(plan == expected)
  }

  @Test func expressionsAreValuesAndPrinted() {
    let plan = Planner.plan(
      rule: rule("s(N) :- n(M), N = (M + 1) * -M, N != M mod 2."), deltaAtom: nil, size: sizes([:]), recursive: [])
    let m = Expression.slot(0)
    let value = Expression.binary(.multiply, .binary(.add, m, .constant(.integer(1)), .none), .negate(m, .none), .none)
    #expect(plan.steps[1] == .assign(1, .expression(value)))
    #expect(plan.steps[2] == .filter(.notEqual, .slot(1), .expression(.binary(.modulo, m, .constant(.integer(2)), .none))))
    let text = plan.describe(title: "s")
    #expect(text.contains("  let N = (M + 1) * -M\n"))
    #expect(text.contains("  filter N != M mod 2\n"))
  }

  @Test func atomWhoseVariablesAreNotReadLaterIsAnExistenceCheck() {
    let plan = Planner.plan(rule: rule("a(X) :- n(X), e(X, Y)."), deltaAtom: nil, size: sizes(["n": 1, "e": 10]), recursive: [])
    let expected: [Step] = [
      .scan(AtomAccess(relation: "n", arity: 1, bindColumns: [0], bindSlots: [0]), .everyRow),
      .lookup(
        AtomAccess(relation: "e", arity: 2, keyColumns: [0], keys: [.slot(0)], bindColumns: [1], bindSlots: [1]),
        .firstMatch),
    ]
    #expect(plan.steps == expected)
  }

  @Test func queryPlanningCreatesNoRelationAndRegistersNoIndex() throws {
    let session = TestDQ.quietSession()
    #expect(session.run(SourceFile(name: "test.dq", text: "e(1, 2). e(2, 3).")) == .ok)
    let before = session.database.tables.keys.sorted()
    // The lookup of the second atom needs an index on e's first column; planning leaves it to
    // the binder, which runs only when the query does.
    #expect(session.plan(CommandArgument(standalone: "e(X, Y), e(Y, Z), not e(Z, 1)", name: "<query>")) == .ok)
    #expect(session.database.tables.keys.sorted() == before)
    let e = try #require(session.database.tables["e"])
    #expect(e.rows.indexes.isEmpty)
  }
}
