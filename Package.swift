// swift-tools-version: 6.1
import PackageDescription

// Layers, each a target, each depending only on the layers below it:
//
//   CURCU -> RCU -> ConcurrentBusCore -> ConcurrentBusDevices -> KVM -> StressKit -> stress
//
// CHostSupport/HostSupport (threads, sharded counters, a seeded generator) sit beside them
// and are not RCU. `ConcurrentBus` is the product a VMM imports: it re-exports the bus, its
// devices and the RCU flavors. Test support (deliberately broken flavors, the bus model)
// lives in targets of its own that no product ships.
let package = Package(
  name: "ConcurrentBus",
  platforms: [.macOS(.v15)],
  products: [
    .library(name: "ConcurrentBus", targets: ["ConcurrentBus"]),
    .library(name: "RCU", targets: ["RCU"]),
    .library(name: "KVM", targets: ["KVM"]),
    // An RCU library for LoadedRCU (the ABI in Sources/CURCU/abi/concurrentbus_rcu.h),
    // built from liburcu memb: the example for implementers, and what the tests load.
    .library(name: "ExampleRCULibrary", type: .dynamic, targets: ["ExampleRCULibrary"]),
    .executable(name: "stress", targets: ["stress"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
    .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    // Documentation only (Scripts/docs.sh): the `generate-documentation` command plugin.
    .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
  ],
  targets: [
    // Host support: per-thread shards, relaxed counters, an optimizer barrier; then threads,
    // sharded counters and a seeded generator in Swift.
    .target(name: "CHostSupport"),
    .target(name: "HostSupport", dependencies: ["CHostSupport"]),

    // Layer 0: the C shim over liburcu. liburcu-signal is not linked: its constructor takes
    // SIGUSR1 in every process that links it, so SignalRCU loads it on first use.
    .target(
      name: "CURCU",
      linkerSettings: [
        .linkedLibrary("urcu-memb"),
        .linkedLibrary("urcu-bp"),
        .linkedLibrary("urcu-qsbr"),
        .linkedLibrary("urcu-mb"),
        .linkedLibrary("urcu-common"),
      ]
    ),
    // Loaded at run time only (dlopen), never a dependency of another target.
    .target(
      name: "ExampleRCULibrary",
      linkerSettings: [.linkedLibrary("urcu-memb"), .linkedLibrary("urcu-common")]
    ),
    // Layer 1: the Swift RCU layer.
    .target(name: "RCU", dependencies: ["CURCU", "HostSupport"]),
    // The Linux eventfd and epoll headers, missing from Swift's Glibc module.
    .target(name: "CLinuxEvents"),
    // Layer 2: the bus itself.
    .target(name: "ConcurrentBusCore", dependencies: ["RCU", "HostSupport", "CHostSupport"]),
    // Layer 3: devices built on the bus's public surface (eventfds, ioeventfd, epoll).
    .target(
      name: "ConcurrentBusDevices",
      dependencies: [
        "ConcurrentBusCore", "RCU", "HostSupport", "CHostSupport", "CLinuxEvents",
        .product(name: "SystemPackage", package: "swift-system"),
      ]
    ),
    // What a VMM imports: the bus, its devices and the RCU flavors, in one module.
    .target(name: "ConcurrentBus", dependencies: ["ConcurrentBusCore", "ConcurrentBusDevices", "RCU"]),
    // Layer 4: the KVM harness.
    .target(name: "CKVM"),
    .target(name: "KVM", dependencies: ["CKVM", "ConcurrentBus", "HostSupport"]),
    // Layer 5: the checker engine shared by every stress command and the tests.
    .target(
      name: "StressKit",
      dependencies: [
        "ConcurrentBus", "KVM", "HostSupport", "RCUTestSupport",
        .product(name: "Histogram", package: "hdrhistogram-swift"),
      ]
    ),
    // Layer 6: the stress CLI.
    .executableTarget(
      name: "stress",
      dependencies: [
        "StressKit", "ConcurrentBus", "ConcurrentBusCore", "KVM", "HostSupport", "RCUTestSupport",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Histogram", package: "hdrhistogram-swift"),
      ]
    ),
    // Not a product: the dispatch path in a binary of its own, for Scripts/check-hot-path.sh.
    .executableTarget(name: "HotPathProbe", dependencies: ["ConcurrentBus"]),
    // Not a product: README.md's "Using the bus" example, verbatim (Scripts/check-readme-example.sh).
    .executableTarget(
      name: "ReadmeExample", dependencies: ["ConcurrentBus"], path: "Examples/ReadmeExample"),

    // Test support: never shipped, never linked into the library products.
    .target(name: "RCUTestSupport", dependencies: ["RCU", "HostSupport"]),
    .target(name: "BusTestSupport", dependencies: ["ConcurrentBus"]),

    .testTarget(name: "RCUTests", dependencies: ["RCU", "HostSupport", "RCUTestSupport"]),
    .testTarget(
      name: "ConcurrentBusTests",
      dependencies: [
        "ConcurrentBus", "ConcurrentBusCore", "HostSupport", "CLinuxEvents", "BusTestSupport",
        "RCUTestSupport",
      ]),
    // Imports ConcurrentBus alone: proves the umbrella module is enough.
    .testTarget(name: "UmbrellaImportTests", dependencies: ["ConcurrentBus"]),
    // Every code listing of the DocC articles (Sources/*/*.docc), run and checked;
    // Scripts/docs.sh checks that the articles show exactly this code. The listings use
    // ConcurrentBus alone; HostSupport only starts the threads around them.
    .testTarget(name: "DocumentationTests", dependencies: ["ConcurrentBus", "HostSupport"]),
    .testTarget(
      name: "KVMTests",
      dependencies: ["KVM", "CKVM", "ConcurrentBus", "HostSupport", "StressKit", "RCUTestSupport"]),
    .testTarget(
      name: "StressKitTests", dependencies: ["StressKit", "ConcurrentBus", "RCUTestSupport"]),
  ],
  swiftLanguageModes: [.v6]
)
