/// Text with some characters written another way: one loop for every format's escapes (dq
/// strings, TSV fields, DOT labels, table cells), each giving only its own table.
enum Escaping {
  /// `text` with each scalar that `replacement` names replaced by what it gives.
  static func escape(_ text: String, _ replacement: (Unicode.Scalar) -> String?) -> String {
    var out = ""
    for ch in text.unicodeScalars {
      if let r = replacement(ch) { out += r } else { out.unicodeScalars.append(ch) }
    }
    return out
  }
}
