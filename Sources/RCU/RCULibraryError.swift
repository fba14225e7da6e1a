/// Why ``LoadedRCU/load(path:)`` could not load an RCU library. Nothing changes when it
/// throws.
public enum RCULibraryError: Error, Hashable, Sendable, CustomStringConvertible {
  /// Nothing can be read at `path` (`reason`: the system's error message).
  case fileNotFound(path: String, reason: String)
  /// The dynamic loader refused the file (`reason`: `dlerror`'s message): not a shared
  /// object, wrong architecture, or a dependency it cannot find.
  case cannotOpen(path: String, reason: String)
  /// The library does not export `symbol`, one of the ABI's required functions.
  case missingSymbol(path: String, symbol: String)
  /// Another library is loaded already (one per process: threads may be registered with
  /// it, and its callbacks may be pending).
  case anotherLibraryLoaded(loaded: String, requested: String)

  /// What went wrong, with the path and the loader's reason, for a log line.
  public var description: String {
    switch self {
    case .fileNotFound(let path, let reason):
      "no RCU library at \(path): \(reason)"
    case .cannotOpen(let path, let reason):
      "cannot load the RCU library \(path): \(reason)"
    case .missingSymbol(let path, let symbol):
      "the RCU library \(path) does not export \(symbol) (see concurrentbus_rcu.h)"
    case .anotherLibraryLoaded(let loaded, let requested):
      "cannot load \(requested): the RCU library \(loaded) is loaded already (one per process)"
    }
  }
}
