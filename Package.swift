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
    .target(name: "DQ"),
    // Shell: standard streams and SIGINT, touched from C (Swift 6 rejects the C globals).
    .target(name: "CSupport"),
    // Executable: argument parsing and wiring only.
    .executableTarget(name: "dq", dependencies: ["DQ", "CSupport"]),
    // Tests
    .testTarget(name: "DQTests", dependencies: ["DQ"]),
  ]
)
