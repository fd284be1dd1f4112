/// The built-in relations dataset, compiled into the binary (see `Dataset/relations.dq`).
public enum Dataset {
  /// Name used in diagnostics and provenance.
  public static let fileName = "Dataset/relations.dq"
  /// The source text; `Scripts/embed-dataset` regenerates it from `Dataset/relations.dq`.
  public static var source: String { EmbeddedDataset.text }
}
