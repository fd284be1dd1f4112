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
    #expect(pieces.joined() == format.render(columns: ["N", "S"], rows: rows, store: store))
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
    // The first piece holds whole lines only.
    #expect(pieces.first?.utf8.last == UInt8(ascii: "\n"))
    #expect(pieces.first?.contains("s\(OutputFormat.rowsPerPiece)") == false)
  }
}
