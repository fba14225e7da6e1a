import Foundation
import RCU
import Testing

/// Every flavor the package ships, as a test argument: the registry's names.
typealias TestedFlavor = RCUFlavorName

/// What the tests need to know of each flavor, beside its type.
extension TestedFlavor {
  /// The flavor's type; for `loaded`, after loading the example library.
  func flavorType() throws -> any RCUFlavor.Type {
    if self == .loaded { _ = try ExampleLibrary.load() }
    return flavor
  }

  /// The signal flavor runs in a child process of its own: it needs `SIGUSR1`, which
  /// other tests in this process may handle themselves (KVMTests interrupts `KVM_RUN` with
  /// it), and then its grace periods abort.
  var needsOwnProcess: Bool { self == .signal }

  /// Whether threads may read without registering (every flavor but QSBR).
  var registersLazily: Bool { self != .qsbr }

  /// Whether deferred work goes through this package's reclaimer (LoadedRCU uses the
  /// library's own `call_rcu`).
  var usesOwnReclaimer: Bool { self != .loaded }
}

/// The example RCU library (Sources/ExampleRCULibrary), as built next to the test binary.
enum ExampleLibrary {
  static let fileName = "libExampleRCULibrary.so"

  /// The build folder's copy: the folder of the running test binary.
  static var path: String {
    let executable =
      (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
      ?? CommandLine.arguments[0]
    return URL(fileURLWithPath: executable).deletingLastPathComponent()
      .appendingPathComponent(fileName).path
  }

  /// Loads the example library into ``LoadedRCU`` (once per process).
  static func load() throws -> LoadedRCU.Type {
    do {
      try LoadedRCU.load(path: path)
    } catch {
      Issue.record("\(error): build it with `swift build --product ExampleRCULibrary`")
      throw error
    }
    return LoadedRCU.self
  }
}

/// Runs `check` on `flavor` and expects it to pass; in a child process for flavors that
/// need one (the child's standard error carries the failure).
func expectPasses(
  _ check: FlavorCheck, on flavor: TestedFlavor,
  sourceLocation: SourceLocation = #_sourceLocation
) async throws {
  guard flavor.needsOwnProcess else {
    let failure = try check.failure(on: flavor.flavorType())
    #expect(failure == nil, sourceLocation: sourceLocation)
    return
  }
  let result = await #expect(
    processExitsWith: .success, observing: [\.standardErrorContent],
    sourceLocation: sourceLocation
  ) { [check, flavor] in
    if let failure = try check.failure(on: flavor.flavorType()) {
      FileHandle.standardError.write(Data("check failed: \(failure)\n".utf8))
      exit(1)
    }
  }
  if let result, result.exitStatus != .exitCode(EXIT_SUCCESS) {
    Issue.record(
      "child process: \(String(decoding: result.standardErrorContent, as: UTF8.self))",
      sourceLocation: sourceLocation)
  }
}
