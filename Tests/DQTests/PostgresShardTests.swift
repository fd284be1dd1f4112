/// Across servers: three throwaway PostgreSQL servers (a coordinator and two shards, each
/// started by Scripts/postgres-test-server), an `edge` table hash-partitioned on the
/// coordinator whose partitions are postgres_fdw foreign tables on the shards, and a recursive
/// dq program run with `--engine postgres --db <coordinator>` reading `edge` from the server:
/// its answers are the native engine's on the same edges given as facts. Never skipped: when
/// the servers cannot start, the test fails, saying why.
import Foundation
import Testing

@testable import DQ

@Suite(.serialized) struct PostgresShardTests {
  /// A server started by the script: its folder (socket directory) and port.
  struct Server {
    let dir: String
    let port: String
    var conninfo: String { "host=\(dir) port=\(port) user=postgres dbname=postgres connect_timeout=10" }
  }

  struct StartFailure: Error, CustomStringConvertible { let description: String }

  static var script: String { Fixture.root.appendingPathComponent("Scripts/postgres-test-server").path }

  /// Starts a server with the script (through system(), its output in a file: the server
  /// inherits the descriptors, so a pipe would never close).
  static func start() throws -> Server {
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("dq-shard-env-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
    defer { try? FileManager.default.removeItem(atPath: out) }
    let status = system("'\(script)' start > '\(out)' 2>/dev/null")
    let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
    var values: [String: String] = [:]
    for word in text.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
      let kv = word.split(separator: "=", maxSplits: 1)
      if kv.count == 2 { values[String(kv[0])] = String(kv[1]) }
    }
    guard status == 0, let dir = values["DQ_TEST_PGHOST"], let port = values["DQ_TEST_PGPORT"] else {
      throw StartFailure(description: "\(script) start failed (status \(status)): \(text)")
    }
    return Server(dir: dir, port: port)
  }

  static func stop(_ s: Server) { _ = system("'\(script)' stop '\(s.dir)' > /dev/null 2>&1") }

  @Test("A recursive program over an edge table partitioned across two postgres_fdw shards answers as the native engine")
  func transitiveClosureAcrossShards() throws {
    var servers: [Server] = []
    defer { servers.forEach(Self.stop) }
    for _ in 0..<3 { servers.append(try Self.start()) }
    let coordinator = servers[0]
    // A graph with cycles and long chains (deterministic).
    var edges: [(Int, Int)] = []
    var x: UInt64 = 12345
    for _ in 0..<150 {
      x = x &* 6364136223846793005 &+ 1442695040888963407
      let a = Int((x >> 33) % 80)
      x = x &* 6364136223846793005 &+ 1442695040888963407
      let b = Int((x >> 33) % 80)
      edges.append((a, b))
    }
    for (i, shard) in servers.dropFirst().enumerated() {
      try PostgresConnection(shard.conninfo).execute("CREATE TABLE edge_p\(i) (a bigint, b bigint)")
    }
    let c = try PostgresConnection(coordinator.conninfo)
    var setup = "CREATE EXTENSION postgres_fdw; CREATE TABLE edge (a bigint, b bigint) PARTITION BY HASH (a); "
    for (i, shard) in servers.dropFirst().enumerated() {
      setup += """
        CREATE SERVER shard\(i) FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '\(shard.dir)', port '\(shard.port)', dbname 'postgres');
        CREATE USER MAPPING FOR CURRENT_USER SERVER shard\(i) OPTIONS (user 'postgres');
        CREATE FOREIGN TABLE edge_p\(i) PARTITION OF edge FOR VALUES WITH (modulus 2, remainder \(i)) SERVER shard\(i) OPTIONS (table_name 'edge_p\(i)');

        """
    }
    try c.execute(setup)
    try c.execute("INSERT INTO edge VALUES " + edges.map { "(\($0.0), \($0.1))" }.joined(separator: ", "))
    // The rows are on the shards (both hold some), not on the coordinator.
    let onShards = try servers.dropFirst().enumerated().map { i, s in
      Int(try PostgresConnection(s.conninfo).query("SELECT count(*) FROM edge_p\(i)").first?.first.flatMap { $0 } ?? "") ?? -1
    }
    #expect(onShards.allSatisfy { $0 > 0 } && onShards.reduce(0, +) == edges.count, "\(onShards)")

    let program = """
      path(X, Y) :- edge(X, Y).
      path(X, Z) :- path(X, Y), edge(Y, Z).
      ?- N = count : { path(X, Y) }.
      ?- path(\(edges[0].0), Y).
      ?- path(X, X), X < 20.

      """
    let dir = FileManager.default.temporaryDirectory
    let tc = dir.appendingPathComponent("dq-shard-tc-\(getpid()).dq")
    let withFacts = dir.appendingPathComponent("dq-shard-facts-\(getpid()).dq")
    defer {
      try? FileManager.default.removeItem(at: tc)
      try? FileManager.default.removeItem(at: withFacts)
    }
    try program.write(to: tc, atomically: true, encoding: .utf8)
    try (edges.map { "edge(\($0.0), \($0.1)).\n" }.joined() + program).write(to: withFacts, atomically: true, encoding: .utf8)
    let server = try DQBinary.run(["--no-dataset", "--no-warnings", "--engine", "postgres", "--db", coordinator.conninfo, tc.path])
    let native = try DQBinary.run(["--no-dataset", "--no-warnings", withFacts.path])
    #expect(server.status == 0, "\(server.stderr)")
    #expect(native.status == 0, "\(native.stderr)")
    #expect(server.stdout == native.stdout)
    #expect(server.stdout.contains("row"), "\(server.stdout)")
    // Not an empty answer that both happen to share.
    #expect(!native.stdout.contains("0 rows"), "\(native.stdout)")
  }
}
