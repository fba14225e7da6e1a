// swift-tools-version: 6.1
import PackageDescription

let package = Package(
  name: "ConcurrentBus",
  platforms: [.macOS(.v15)],
  products: [
    .library(name: "ConcurrentBus", targets: ["ConcurrentBus"]),
    .library(name: "RCU", targets: ["RCU"]),
    .executable(name: "stress", targets: ["stress"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
  ],
  targets: [
    // Layer 0: the C shim over liburcu (memb and bp flavors).
    .target(
      name: "CURCU",
      linkerSettings: [
        .linkedLibrary("urcu-memb"),
        .linkedLibrary("urcu-bp"),
        .linkedLibrary("urcu-common"),
      ]
    ),
    // Layer 1: the safe Swift RCU wrapper.
    .target(name: "RCU", dependencies: ["CURCU"]),
    // Layers 2 and 3: the bus (Bus/) and its devices (Devices/).
    .target(
      name: "ConcurrentBus",
      dependencies: ["RCU", .product(name: "SystemPackage", package: "swift-system")]
    ),
    // Layer 5: the stress CLI.
    .executableTarget(
      name: "stress",
      dependencies: [
        "ConcurrentBus", "RCU",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    // Not a product: the dispatch path in a binary of its own, for Scripts/check-hot-path.sh.
    .executableTarget(name: "HotPathProbe", dependencies: ["ConcurrentBus", "RCU"]),
    .testTarget(name: "RCUTests", dependencies: ["RCU"]),
    .testTarget(name: "ConcurrentBusTests", dependencies: ["ConcurrentBus", "RCU"]),
  ],
  swiftLanguageModes: [.v6]
)
