import CURCU

/// Any RCU implementation, loaded at run time from a shared object that exports the small
/// C ABI in `Sources/CRCULibraryABI/include/concurrentbus_rcu.h`: how an RCU implementer puts their own
/// code under the stress tool's checks (`stress torture --rcu-library PATH`).
///
/// Call ``load(path:)`` once, before anything else: every other operation aborts with a
/// message until a load has succeeded. One library per process; its functions are resolved
/// once and never change. `Sources/ExampleRCULibrary` is a complete library over liburcu's
/// memb flavor, built by this package as `libExampleRCULibrary.so`.
///
/// What this flavor adds around the library's functions:
/// - readers register on their first read-side section (the library's `register_thread`)
///   and are unregistered when they exit;
/// - ``RCUFlavor/isInReadSection`` is a nesting depth kept here, not asked of the library;
/// - ``RCUFlavor/synchronize()`` and ``barrier()`` abort inside a read-side section;
/// - ``deferUntilGracePeriod(_:)`` goes through the library's own `concurrentbus_rcu_call`,
///   since that is what an implementer wants tortured; only if the library refuses a
///   callback (returns false) does the work go to this package's reclaimer, which waits with
///   the library's `synchronize`. ``barrier()`` waits for both.
public enum LoadedRCU: TableFlavor {
  /// Loads the library at `path` and resolves its functions. Loading the same path again
  /// does nothing.
  ///
  /// - Throws: ``RCULibraryError`` when the file is missing or cannot be loaded, when a
  ///   required symbol is missing, or when another library is loaded already. Nothing
  ///   changes then.
  public static func load(path: String) throws(RCULibraryError) {
    var detail = [CChar](repeating: 0, count: 1024)
    let status = curcu_loaded_open(path, &detail, detail.count)
    let reason = String(
      decoding: detail.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    switch status {
    case curcu_loaded_ok: return
    case curcu_loaded_file_not_found: throw .fileNotFound(path: path, reason: reason)
    case curcu_loaded_missing_symbol: throw .missingSymbol(path: path, symbol: reason)
    case curcu_loaded_already_loaded:
      throw .anotherLibraryLoaded(loaded: reason, requested: path)
    default: throw .cannotOpen(path: path, reason: reason)
    }
  }

  /// The loaded library's path, or nil before a successful ``load(path:)``.
  public static var path: String? { curcu_loaded_path().map { String(cString: $0) } }

  /// The library's own name (its optional `concurrentbus_rcu_name`), else its path; before
  /// a successful ``load(path:)``, `"loaded"`.
  public static var name: String { curcu_loaded_name().map { String(cString: $0) } ?? "loaded" }

  static var table: OpaquePointer { curcu_loaded_table }

  /// Hands `work` to the library's `concurrentbus_rcu_call`; to this package's reclaimer
  /// only if the library refuses it.
  public static func deferUntilGracePeriod(_ work: @escaping @Sendable () -> Void) {
    let context = DeferredWork(work).retainedContext
    if !curcu_loaded_call(DeferredWork.run, context) {
      DeferredWork.releaseUnused(context)
      reclaimer.enqueue(work)
    }
  }

  /// Waits for the library's callbacks (its `concurrentbus_rcu_barrier`, which aborts
  /// inside a read-side section), then for the works it refused.
  public static func barrier() {
    curcu_loaded_barrier()
    reclaimer.barrier()
  }

  /// For callbacks the library refuses.
  static let reclaimer = Reclaimer(name: "loaded", synchronize: synchronize)
}
