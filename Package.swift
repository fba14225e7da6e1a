// swift-tools-version: 6.1
import PackageDescription

let package = Package(
  name: "ConcurrentBus",
  platforms: [.macOS(.v15)],
  products: [
    .library(name: "ConcurrentBus", targets: ["ConcurrentBus"]),
    .library(name: "RCU", targets: ["RCU"]),
    .library(name: "KVM", targets: ["KVM"]),
    .executable(name: "stress", targets: ["stress"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
    .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
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
    // The Linux eventfd and epoll headers, missing from Swift's Glibc module.
    .target(name: "CLinuxEvents"),
    // Layers 2 and 3: the bus (Bus/) and its devices (Devices/).
    .target(
      name: "ConcurrentBus",
      dependencies: [
        "RCU", "CURCU", "CLinuxEvents",
        .product(name: "SystemPackage", package: "swift-system"),
      ]
    ),
    // Layer 4: the KVM harness.
    .target(name: "CKVM"),
    .target(name: "KVM", dependencies: ["CKVM", "ConcurrentBus", "RCU"]),
    // Layer 5: the stress CLI.
    .executableTarget(
      name: "stress",
      dependencies: [
        "ConcurrentBus", "RCU", "KVM",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Histogram", package: "hdrhistogram-swift"),
      ]
    ),
    // Not a product: the dispatch path in a binary of its own, for Scripts/check-hot-path.sh.
    .executableTarget(name: "HotPathProbe", dependencies: ["ConcurrentBus", "RCU"]),
    .testTarget(name: "RCUTests", dependencies: ["RCU"]),
    .testTarget(
      name: "ConcurrentBusTests", dependencies: ["ConcurrentBus", "RCU", "CLinuxEvents"]),
    .testTarget(name: "KVMTests", dependencies: ["KVM", "CKVM", "ConcurrentBus", "RCU"]),
  ],
  swiftLanguageModes: [.v6]
)
