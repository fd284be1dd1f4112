/// Answers drawn as a picture: a query with two shown variables is a set of edges, a third
/// shown variable labels them. The text is Graphviz's DOT language, which `dot` renders
/// (`.graph`, `dq --graph`).
public enum GraphDOT {
  /// The DOT text of a query's answers: an edge from the first column's value to the second's
  /// for each row, labelled with the third column's value when there is one. Nodes are named by
  /// their values' text; rows are drawn in answer order, so the text is the same on every run.
  public static func graph(title: String, columns: [String], rows: [[Value]], store: ValueStore) -> String {
    var out = "// \(title.split(separator: "\n").joined(separator: " "))\n"
    out += "digraph answers {\n"
    out += "  rankdir=LR;\n"
    out += "  node [shape=box, style=rounded, fontname=\"Helvetica\", fontsize=11];\n"
    out += "  edge [fontname=\"Helvetica\", fontsize=9];\n"
    if columns.count == 3 { out += "  // edge labels: \(columns[2])\n" }
    out += "  // \(columns[0]) -> \(columns[1])\n"
    for row in rows where row.count >= 2 {
      out += "  \(quoted(store.text(row[0]))) -> \(quoted(store.text(row[1])))"
      if row.count >= 3 { out += " [label=\(quoted(store.text(row[2])))]" }
      out += ";\n"
    }
    out += "}\n"
    return out
  }

  /// A DOT string literal: in double quotes, with `"` and `\` escaped and line ends as `\n`.
  public static func quoted(_ text: String) -> String {
    let escaped = Escaping.escape(text) { ch in
      switch ch {
      case "\"": return "\\\""
      case "\\": return "\\\\"
      case "\n": return "\\n"
      case "\r", "\t": return " "
      default: return nil
      }
    }
    return "\"" + escaped + "\""
  }
}
