/// Orders relations into strata: strongly connected components of the predicate graph,
/// dependencies first; rejects a cycle through `not` or an aggregate.
public struct Stratifier {
  /// An edge from a rule's head to a relation its body reads.
  struct Edge {
    var to: Int
    /// Through `not` or an aggregate: the head needs the body relation complete.
    var negative: Bool
    var span: SourceSpan
  }

  /// One stratum: the relations evaluated together, and whether they recurse.
  public struct Stratum: Sendable {
    public var relations: [String]
    public var recursive: Bool
  }

  /// Strata in evaluation order, or the diagnostics of every cycle through negation.
  public static func stratify(rules: [Rule], relations extra: [String] = []) -> Result<[Stratum], StratificationError> {
    var ids: [String: Int] = [:]
    var names: [String] = []
    func id(_ n: String) -> Int {
      if let i = ids[n] { return i }
      ids[n] = names.count
      names.append(n)
      return names.count - 1
    }
    for n in extra { _ = id(n) }
    var edges: [[Edge]] = []
    func addEdge(_ from: Int, _ e: Edge) {
      while edges.count <= max(from, e.to) { edges.append([]) }
      edges[from].append(e)
    }
    func visit(_ head: Int, _ l: Literal, negated: Bool) {
      switch l {
      case .positive(let a): addEdge(head, Edge(to: id(a.name), negative: negated, span: a.span))
      case .negative(let a, let s): addEdge(head, Edge(to: id(a.name), negative: true, span: s))
      case .comparison: break
      case .aggregate(let g): for b in g.body { visit(head, b, negated: true) }
      }
    }
    for r in rules {
      let h = id(r.head.name)
      for l in r.body { visit(h, l, negated: false) }
    }
    while edges.count < names.count { edges.append([]) }

    let components = stronglyConnectedComponents(edges)
    var componentOf = [Int](repeating: 0, count: names.count)
    for (c, members) in components.enumerated() { for m in members { componentOf[m] = c } }

    var errors: [Diagnostic] = []
    var strata: [Stratum] = []
    for (c, members) in components.enumerated() {
      var recursive = members.count > 1
      var reported = false
      for m in members {
        for e in edges[m] where componentOf[e.to] == c {
          if e.to == m { recursive = true }
          if e.negative && !reported {
            // One error per cycle: the first negative edge found names it.
            reported = true
            let cycle = path(from: e.to, to: m, within: c, componentOf, edges).map { names[$0] }
            let shown = ([names[m]] + cycle).joined(separator: " -> ")
            let message = cycle.count <= 1 && e.to == m
              ? "Relation '\(names[m])' depends on itself through 'not' or an aggregate"
              : "Relations \(shown) depend on each other through 'not' or an aggregate"
            errors.append(
              Diagnostic(
                .error, .semantic, message, at: e.span,
                hint: "negation and aggregates need their relation complete first, so it cannot be part of the same recursion"))
          }
        }
      }
      strata.append(Stratum(relations: members.map { names[$0] }, recursive: recursive))
    }
    if !errors.isEmpty { return .failure(StratificationError(diagnostics: errors)) }
    return .success(strata)
  }

  /// A shortest path of nodes from `from` to `to` inside one component (both ends included).
  private static func path(from: Int, to: Int, within c: Int, _ componentOf: [Int], _ edges: [[Edge]]) -> [Int] {
    var previous: [Int: Int] = [from: from]
    var queue = [from]
    var head = 0
    while head < queue.count {
      let n = queue[head]
      head += 1
      if n == to { break }
      for e in edges[n] where componentOf[e.to] == c && previous[e.to] == nil {
        previous[e.to] = n
        queue.append(e.to)
      }
    }
    var out = [to]
    var n = to
    while n != from, let p = previous[n] {
      out.append(p)
      n = p
    }
    return out.reversed()
  }

  /// Tarjan's algorithm without recursion; components come out dependencies first.
  static func stronglyConnectedComponents(_ edges: [[Edge]]) -> [[Int]] {
    let n = edges.count
    var index = [Int](repeating: -1, count: n)
    var low = [Int](repeating: 0, count: n)
    var onStack = [Bool](repeating: false, count: n)
    var stack: [Int] = []
    var components: [[Int]] = []
    var counter = 0
    for root in 0..<n where index[root] == -1 {
      var work: [(node: Int, edge: Int)] = [(root, 0)]
      index[root] = counter
      low[root] = counter
      counter += 1
      stack.append(root)
      onStack[root] = true
      while let (v, i) = work.last {
        if i < edges[v].count {
          work[work.count - 1].edge += 1
          let w = edges[v][i].to
          if index[w] == -1 {
            index[w] = counter
            low[w] = counter
            counter += 1
            stack.append(w)
            onStack[w] = true
            work.append((w, 0))
          } else if onStack[w] {
            low[v] = min(low[v], index[w])
          }
        } else {
          work.removeLast()
          if let parent = work.last { low[parent.node] = min(low[parent.node], low[v]) }
          if low[v] == index[v] {
            var component: [Int] = []
            while let w = stack.popLast() {
              onStack[w] = false
              component.append(w)
              if w == v { break }
            }
            components.append(component.sorted())
          }
        }
      }
    }
    return components
  }
}

extension Stratifier {
  /// The strata, in evaluation order, holding a relation the literals read directly or through
  /// rules, each with the rules defining its relations (none for facts only); nil when the
  /// rules cannot be stratified (reported when they were loaded).
  static func strata(neededBy body: [Literal], rules: [Rule]) -> [(stratum: Stratum, rules: [Rule])]? {
    guard case .success(let strata) = stratify(rules: rules) else { return nil }
    var byHead: [String: [Rule]] = [:]
    for r in rules { byHead[r.head.name, default: []].append(r) }
    // The relations read, and those their rules read, transitively.
    var needed = Set(body.flatMap(\.relationNames))
    var work = Array(needed)
    while let n = work.popLast() {
      for r in byHead[n] ?? [] {
        for l in r.body {
          for m in l.relationNames where needed.insert(m).inserted { work.append(m) }
        }
      }
    }
    return strata.filter { $0.relations.contains(where: needed.contains) }.map { s in
      (s, s.relations.flatMap { byHead[$0] ?? [] })
    }
  }
}

/// Cycles through negation or aggregation, one diagnostic each.
public struct StratificationError: Error, Sendable {
  public var diagnostics: [Diagnostic]
}
