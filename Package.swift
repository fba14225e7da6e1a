// swift-tools-version: 6.1
import PackageDescription

// Layers, each a target, each depending only on the layers below it (ARCHITECTURE.md):
//
//   CURCU -> RCU -> ConcurrentBusCore -> ConcurrentBusDevices -> KVM
//     -> verification (RCUFaultFlavors, BusModel, KVMGuests, StressKit, Benchmarks) -> stress
//
// CHostSupport/HostSupport (threads, sharded counters, a seeded generator) sit beside them
// and are not RCU. `ConcurrentBus` is the product a VMM imports: it re-exports the bus, its
// devices and the RCU flavors. What ships never depends on what checks it:
// Scripts/check-layers.sh fails CI if a library product reaches a verification target.
let package = Package(
  name: "ConcurrentBus",
  platforms: [.macOS(.v15)],
  products: [
    .library(name: "ConcurrentBus", targets: ["ConcurrentBus"]),
    .library(name: "RCU", targets: ["RCU"]),
    .library(name: "KVM", targets: ["KVM"]),
    // An RCU library for LoadedRCU (the ABI in Sources/CRCULibraryABI),
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

    // The C ABI an RCU library implements to be loaded by LoadedRCU: one header.
    .target(name: "CRCULibraryABI"),
    // Layer 0: the C shim over liburcu. liburcu-signal is not linked: its constructor takes
    // SIGUSR1 in every process that links it, so SignalRCU loads it on first use.
    .target(
      name: "CURCU",
      dependencies: ["CRCULibraryABI"],
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
      dependencies: ["CRCULibraryABI"],
      linkerSettings: [.linkedLibrary("urcu-memb"), .linkedLibrary("urcu-common")]
    ),
    // Layer 1: the Swift RCU layer.
    .target(name: "RCU", dependencies: ["CURCU", "HostSupport"]),
    // Layer 2: the bus itself.
    .target(name: "ConcurrentBusCore", dependencies: ["RCU", "HostSupport", "CHostSupport"]),
    // Layer 3: devices built on the bus's public surface (eventfds, ioeventfd, epoll, value
    // rings), with their C parts: the Linux event headers Swift's Glibc lacks, and the value
    // ring's producer engine.
    .target(name: "CLinuxEvents"),
    .target(name: "CValueRing"),
    .target(
      name: "ConcurrentBusDevices",
      dependencies: [
        "ConcurrentBusCore", "RCU", "HostSupport", "CLinuxEvents", "CValueRing",
        .product(name: "SystemPackage", package: "swift-system"),
      ]
    ),
    // What a VMM imports: the bus, its devices and the RCU flavors, in one module.
    .target(
      name: "ConcurrentBus", dependencies: ["ConcurrentBusCore", "ConcurrentBusDevices", "RCU"]),
    // Layer 4: the KVM harness: VMs, vCPUs, exits, the kernel mirrors.
    .target(name: "CKVM"),
    .target(name: "KVM", dependencies: ["CKVM", "ConcurrentBus", "HostSupport"]),
    // Layer 4, beside KVM: a vhost-user front end (the socket, SCM_RIGHTS, the memory table,
    // vrings) and virtio-blk over virtio-mmio whose queue kicks are bus notifiers.
    .target(name: "CVhostUser"),
    .target(name: "VhostUser", dependencies: ["CVhostUser", "ConcurrentBus", "HostSupport"]),

    // Layer 5, verification: never shipped, never a dependency of a library product.
    // A minimal RCU whose barriers are switches: the litmus catalogue's ordering faults.
    .target(name: "CToyRCU"),
    // Fault-injecting and deliberately broken RCU flavors, and the toy RCU's variants.
    .target(name: "RCUFaultFlavors", dependencies: ["RCU", "HostSupport", "CToyRCU"]),
    // The litmus engine's pause loop and thread pinning.
    .target(name: "CLitmus"),
    // The bus model the fuzzer and property tests compare with, and the ring delivery log.
    .target(name: "BusModel", dependencies: ["ConcurrentBus"]),
    // Generated x86 guests, the VM that runs them, and the checks of their sequenced writes.
    .target(
      name: "KVMGuests", dependencies: ["KVM", "ConcurrentBus", "HostSupport", "VhostUser"]),
    // The checker engine shared by every stress command and the tests. Its reports name
    // the commit and liburcu version it was built from (Plugins/BuildInfo).
    .target(
      name: "StressKit",
      dependencies: [
        "ConcurrentBus", "KVM", "KVMGuests", "HostSupport", "RCUFaultFlavors", "BusModel",
        "CLitmus", "VhostUser", .product(name: "Histogram", package: "hdrhistogram-swift"),
      ],
      plugins: ["BuildInfo"]
    ),
    // A build tool: writes the git commit and the liburcu version into StressKit.
    .plugin(name: "BuildInfo", capability: .buildTool()),
    // The measurements of `stress bench` and `stress kvm --compare`, section by section.
    // ConcurrentBusCore for its package-access snapshot, the swapped-reference baseline.
    .target(
      name: "Benchmarks",
      dependencies: [
        "ConcurrentBus", "ConcurrentBusCore", "KVM", "KVMGuests", "StressKit", "HostSupport",
      ]
    ),
    // Layer 6: the stress CLI.
    .executableTarget(
      name: "stress",
      dependencies: [
        "StressKit", "Benchmarks", "ConcurrentBus", "ConcurrentBusCore", "KVM", "KVMGuests",
        "HostSupport", "RCUFaultFlavors",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Histogram", package: "hdrhistogram-swift"),
      ]
    ),
    // Not a product: the dispatch path in a binary of its own, for Scripts/check-hot-path.sh.
    .executableTarget(name: "HotPathProbe", dependencies: ["ConcurrentBus"]),
    // Not a product: the counting probe of Scripts/count.sh, a workload per run for valgrind
    // and the driver that runs it, differences the counts and judges the counted gates.
    .executableTarget(
      name: "CountProbe",
      dependencies: [
        "Benchmarks", .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),
    // Not a product: README.md's "Using the bus" example, verbatim (Scripts/check-readme-example.sh).
    .executableTarget(
      name: "ReadmeExample", dependencies: ["ConcurrentBus"], path: "Examples/ReadmeExample"),

    .testTarget(name: "RCUTests", dependencies: ["RCU", "HostSupport", "RCUFaultFlavors"]),
    .testTarget(
      name: "ConcurrentBusTests",
      dependencies: [
        "ConcurrentBus", "ConcurrentBusCore", "HostSupport", "CLinuxEvents", "BusModel",
        "RCUFaultFlavors",
      ]),
    // Imports ConcurrentBus alone: proves the umbrella module is enough.
    .testTarget(name: "UmbrellaImportTests", dependencies: ["ConcurrentBus"]),
    // Every code listing of the DocC articles (Sources/*/*.docc), run and checked;
    // Scripts/docs.sh checks that the articles show exactly this code. The listings use
    // ConcurrentBus alone; HostSupport only starts the threads around them.
    .testTarget(name: "DocumentationTests", dependencies: ["ConcurrentBus", "HostSupport"]),
    .testTarget(
      name: "KVMTests",
      dependencies: [
        "KVM", "KVMGuests", "CKVM", "ConcurrentBus", "HostSupport", "StressKit", "RCUFaultFlavors",
      ]),
    // Each benchmark section run briefly: counts and structure, never speed.
    .testTarget(name: "BenchmarksTests", dependencies: ["Benchmarks", "ConcurrentBus", "KVM"]),
    // The vhost-user front end against a real qemu-storage-daemon (skipped where it is not
    // installed), the queue logic, and random back-end replies and used rings.
    .testTarget(
      name: "VhostUserTests",
      dependencies: [
        "VhostUser", "CVhostUser", "StressKit", "KVM", "KVMGuests", "ConcurrentBus", "HostSupport",
      ]),
    .testTarget(
      name: "StressKitTests",
      dependencies: ["StressKit", "KVMGuests", "ConcurrentBus", "RCUFaultFlavors", "BusModel"]),
  ],
  swiftLanguageModes: [.v6]
)
