/// Long answers are written in pieces, and printing stops between pieces when asked (Ctrl-C).
import Testing

@testable import DQ

@Suite struct OutputPiecesTests {
  let store = ValueStore()

  func rows(_ n: Int) -> [[Value]] { (0..<n).map { [store.constant(.integer(Int64($0))), store.constant(.symbol("s\($0)"))] } }

  @Test(arguments: OutputFormat.allCases)
  func piecesMakeTheWholeAnswer(_ format: OutputFormat) {
    let rows = rows(OutputFormat.rowsPerPiece * 3 + 7)
    var pieces: [String] = []
    let done = format.write(columns: ["N", "S"], rows: rows, store: store, to: { pieces.append($0) })
    #expect(done)
    #expect(pieces.count == 4)
    // JSON writes one object of the run's document; `render` gives the whole document.
    let whole = format == .json ? "[\n" + pieces.joined() + "\n]\n" : pieces.joined()
    #expect(whole == format.render(columns: ["N", "S"], rows: rows, store: store))
  }

  @Test(arguments: OutputFormat.allCases)
  func stopEndsPrintingAfterThePieceWritten(_ format: OutputFormat) {
    let rows = rows(OutputFormat.rowsPerPiece * 3)
    var pieces: [String] = []
    var asked = 0
    let done = format.write(
      columns: ["N", "S"], rows: rows, store: store, to: { pieces.append($0) },
      stop: {
        asked += 1
        return true
      })
    #expect(!done)
    #expect(pieces.count == 1)
    #expect(asked == 1)
    // The first piece holds whole lines only (JSON Lines: whole rows of its one line).
    #expect(pieces.first?.utf8.last == UInt8(ascii: format == .jsonl ? "}" : "\n"))
    #expect(pieces.first?.contains("s\(OutputFormat.rowsPerPiece)") == false)
  }
}
