import Foundation
import HostSupport
import RCU
import Testing

/// Loading an RCU library through the ABI of Sources/CRCULibraryABI/include/concurrentbus_rcu.h.
/// (Publish, read, synchronize, defer and barrier through it are in the flavor-wide tests.)
@Suite("LoadedRCU")
struct LoadedRCUTests {
  @Test("the example library loads, once, under its own name")
  func loadsExampleLibrary() throws {
    _ = try ExampleLibrary.load()
    #expect(LoadedRCU.name == "liburcu-memb (ExampleRCULibrary)")
    #expect(LoadedRCU.path == ExampleLibrary.path)
    // Again: nothing changes.
    try LoadedRCU.load(path: ExampleLibrary.path)
    #expect(LoadedRCU.path == ExampleLibrary.path)
  }

  @Test("a second, different library is refused while one is loaded")
  func secondLibraryRefused() throws {
    _ = try ExampleLibrary.load()
    let other = try #require(loadedLibraryPath(containing: "liburcu-memb.so"))
    #expect(
      throws: RCULibraryError.anotherLibraryLoaded(loaded: ExampleLibrary.path, requested: other)
    ) {
      try LoadedRCU.load(path: other)
    }
    #expect(LoadedRCU.path == ExampleLibrary.path)
  }

  @Test("loading errors are typed, and change nothing", arguments: LoadFailure.allCases)
  func loadingErrors(failure: LoadFailure) async {
    // In a child process: nothing may be loaded there yet.
    await #expect(processExitsWith: .success) { [failure] in
      let path = try failure.path()
      do throws(RCULibraryError) {
        try LoadedRCU.load(path: path)
      } catch {
        exit(failure.matches(error) && LoadedRCU.path == nil ? EXIT_SUCCESS : EXIT_FAILURE)
      }
      exit(EXIT_FAILURE)
    }
  }

  @Test("the host and the example library may each unregister the thread they share")
  func sharedRegistrationIsUnregisteredOnce() async {
    // liburcu-memb has one registry per process: MembRCU and the example library register
    // the same node. Unregistering it twice aborts in liburcu's assert (a CI run died of it
    // when a worker thread the library had registered exited after MembRCU unregistered it).
    await #expect(processExitsWith: .success) {
      _ = try ExampleLibrary.load()
      let thread = try HostThread {
        LoadedRCU.registerCurrentThread()  // the library registers the thread
        MembRCU.unregisterCurrentThread()  // the host takes it out of the same registry
        LoadedRCU.withReadSection {}  // the library registers it again, lazily
        MembRCU.unregisterCurrentThread()
        LoadedRCU.unregisterCurrentThread()  // must find it gone and leave it
      }
      thread.join()
    }
  }

  @Test("using LoadedRCU before a load aborts with a message")
  func useBeforeLoadAborts() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      LoadedRCU.synchronize()
    }
    #expect(result.map { errorText($0).contains("before LoadedRCU.load") } == true)
  }
}

/// The ways a load can fail, each with a file that makes it fail.
enum LoadFailure: String, Codable, CaseIterable, Sendable {
  case missingFile, notASharedObject, missingSymbol

  func path() throws -> String {
    switch self {
    case .missingFile:
      return "/nonexistent/librcu-\(getpid()).so"
    case .notASharedObject:
      let path = NSTemporaryDirectory() + "not-a-library-\(getpid()).so"
      try Data("not an ELF file\n".utf8).write(to: URL(fileURLWithPath: path))
      return path
    case .missingSymbol:
      // A real shared object that exports none of the ABI.
      guard let path = loadedLibraryPath(containing: "liburcu-memb.so") else {
        throw CocoaError(.fileNoSuchFile)
      }
      return path
    }
  }

  func matches(_ error: RCULibraryError) -> Bool {
    switch (self, error) {
    case (.missingFile, .fileNotFound), (.notASharedObject, .cannotOpen): true
    case (.missingSymbol, .missingSymbol(_, let symbol)):
      symbol == "concurrentbus_rcu_register_thread"
    default: false
    }
  }
}

/// The path of a shared object this process has loaded whose file name contains `name`.
func loadedLibraryPath(containing name: String) -> String? {
  // Read to the end: /proc files report a size of 0.
  guard let file = FileHandle(forReadingAtPath: "/proc/self/maps") else { return nil }
  let maps = String(decoding: file.readDataToEndOfFile(), as: UTF8.self)
  return maps.split(separator: "\n").lazy
    .compactMap { line in line.split(separator: " ", omittingEmptySubsequences: true).last }
    .map(String.init)
    .first { $0.hasPrefix("/") && $0.contains(name) }
}
