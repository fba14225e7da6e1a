import Glibc
import RCU
import Synchronization

/// MembRCU, plus the bookkeeping of a quiescent-state flavor: which threads are registered
/// and which of those are online. Every read-side section entered by a thread that is not
/// registered and online is counted, so a test sees a vCPU thread that would read
/// unprotected under QSBR; and a test can look at a thread's state while it is in the guest.
enum OnlineCheckedRCU: RCUFlavor {
  enum ThreadState: Equatable, Sendable {
    case online
    case offline
  }

  struct Book: Sendable {
    var threads: [pthread_t: ThreadState] = [:]
    var unprotectedReads = 0
    var reads = 0
    var wentOffline = 0
  }

  static let book = Mutex(Book())
  /// Names `book` for ``SanitizerHandoff``: contended, it is handed over inside the kernel.
  private static let bookOwner = BookOwner()
  private final class BookOwner: Sendable {}

  /// `book`, locked, with the sanitizer's happens-before edges.
  static func withBook<Result>(_ body: (inout Book) -> Result) -> Result {
    book.withAnnotatedLock(owner: bookOwner) { body(&$0) }
  }

  static var name: String { "online-checked" }

  static func registerCurrentThread() {
    MembRCU.registerCurrentThread()
    withBook { book in
      if book.threads[pthread_self()] == nil { book.threads[pthread_self()] = .online }
    }
  }

  static func unregisterCurrentThread() {
    MembRCU.unregisterCurrentThread()
    withBook { $0.threads[pthread_self()] = nil }
  }

  static func readLock() {
    withBook { book in
      book.reads += 1
      if book.threads[pthread_self()] != .online { book.unprotectedReads += 1 }
    }
    MembRCU.readLock()
  }

  static func readUnlock() { MembRCU.readUnlock() }

  static var isInReadSection: Bool { MembRCU.isInReadSection }

  static func synchronize() { MembRCU.synchronize() }

  static func deferUntilGracePeriod(_ work: @escaping @Sendable () -> Void) {
    MembRCU.deferUntilGracePeriod(work)
  }

  static func barrier() { MembRCU.barrier() }

  static func threadOffline() {
    withBook { book in
      if book.threads[pthread_self()] != nil {
        book.threads[pthread_self()] = .offline
        book.wentOffline += 1
      }
    }
  }

  static func threadOnline() {
    withBook { book in
      if book.threads[pthread_self()] != nil { book.threads[pthread_self()] = .online }
    }
  }

  /// Management reads (a bus's `device(of:)`) from any thread: attached for the read, as
  /// ``QSBRRCU`` does, so they are not counted as unprotected.
  static func withReadSectionFromAnyThread<Result>(_ body: () -> Result) -> Result {
    let me = pthread_self()
    let previous = withBook { book in
      defer { book.threads[me] = .online }
      return book.threads[me]
    }
    defer { withBook { $0.threads[me] = previous } }
    return withReadSection(body)
  }

  /// The state of `thread`: nil when it is not registered.
  static func state(of thread: pthread_t) -> ThreadState? {
    withBook { $0.threads[thread] }
  }
}
