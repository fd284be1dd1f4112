// swift-tools-version: 6.0
import PackageDescription

let package = Package(
  name: "dq",
  products: [
    .executable(name: "dq", targets: ["dq"]),
    .library(name: "DQ", targets: ["DQ"]),
  ],
  targets: [
    // Library: the language and the engine; no terminal, no argv, no libedit.
    .target(
      name: "DQ",
      dependencies: ["CEngine", "CSQLite", "CPostgres"],
      swiftSettings: [
        // The engine's buffers are owned by single-threaded classes; runtime exclusivity checks
        // cost a fifth of the evaluation time, so release builds leave them out.
        .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))
      ]),
    // SQLite databases in and out (`.attach`, `.import FILE.db`, `.export RELATION FILE.db`).
    .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
    // Shell: the REPL and script front end, testable without a terminal.
    .target(name: "DQShell", dependencies: ["DQ", "CSupport", "CEditLine"]),
    // A prefetch hint for the engine's hash tables (Swift cannot spell one).
    .target(name: "CEngine"),
    // libpq, opened with dlopen on first use of `--engine postgres` (nothing is linked, so the
    // static binary and the native engine do not depend on it).
    .target(name: "CPostgres", linkerSettings: [.linkedLibrary("dl")]),
    // Standard streams and SIGINT, touched from C (Swift 6 rejects the C globals).
    .target(name: "CSupport"),
    // libedit through its readline-compatible API.
    .systemLibrary(name: "CEditLine", pkgConfig: "libedit", providers: [.apt(["libedit-dev"])]),
    // The `% expect:` checker behind `dq --check` and the golden tests: it runs files the way
    // `dq FILE` does, so it needs the shell's script runner.
    .target(name: "DQCheck", dependencies: ["DQ", "DQShell"]),
    // Executable: wiring only (the command line is parsed by DQShell's `Arguments`).
    .executableTarget(name: "dq", dependencies: ["DQ", "DQShell", "DQCheck", "CSupport"]),
    // Tests
    .testTarget(name: "DQTests", dependencies: ["DQ", "DQShell", "DQCheck"], exclude: ["Fixtures"]),
    .testTarget(name: "DQShellTests", dependencies: ["DQShell", "DQ"]),
  ]
)
