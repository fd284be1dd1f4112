/// FactSet: the facts a loaded file stated, kept in flat rows; a value type (copy on write).
import Testing

@testable import DQ

@Suite struct FactSetTests {
  @Test func insertContainsRemove() {
    var s = FactSet()
    #expect(!s.contains([1, 2]))
    s.insert([1, 2])
    s.insert([1, 2])
    s.insert([3, 4])
    #expect(s.count == 2)
    #expect(s.contains([1, 2]) && s.contains([3, 4]) && !s.contains([2, 1]))
    #expect(!s.contains([1]))
    s.remove([1, 2])
    s.remove([7, 7])
    #expect(s.count == 1 && !s.contains([1, 2]) && s.contains([3, 4]))
  }

  @Test func insertAllKeepsOneOfEach() {
    var s = FactSet()
    let rows: [Value] = [1, 2, 3, 4, 1, 2, 5, 6]
    rows.withUnsafeBufferPointer { p in if let base = p.baseAddress { s.insertAll(base, count: 4, arity: 2) } }
    #expect(s.count == 3)
    #expect(s.filter { $0[0] > 1 } == [[3, 4], [5, 6]])
  }

  @Test func tuplesOfAnotherArityNeverTrap() {
    var s = FactSet()
    s.insert([1])
    #expect(!s.contains([1, 2]))
    s.remove([1, 2])
    s.insert([1, 2])
    #expect(s.count == 1 && s.contains([1, 2]) && !s.contains([1]))
  }

  @Test func copiesDoNotShareChanges() {
    var a = FactSet()
    a.insert([1])
    var b = a
    b.insert([2])
    a.remove([1])
    #expect(a.count == 0 && !a.contains([2]))
    #expect(b.count == 2 && b.contains([1]) && b.contains([2]))
  }
}
