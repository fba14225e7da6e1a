import SystemPackage

/// A failed system call in the eventfd layer: which operation failed and the `errno` it returned.
///
/// A plain value with no payload that allocates, so throwing it from the vCPU signal path
/// costs no heap traffic (typed throws never box it).
public struct EventFDError: Error, Sendable, Hashable, CustomStringConvertible {
  /// The operation that failed.
  public enum Operation: String, Sendable, Hashable {
    /// `eventfd(2)` creating the counter.
    case create
    /// `write(2)` adding to the counter.
    case signal
    /// `read(2)` taking from the counter.
    case read
    /// `poll(2)` waiting for a blocking-mode signal or read to become possible.
    case poll
    /// `epoll_create1(2)` creating a poller.
    case epollCreate
    /// `epoll_ctl(2)` registering a descriptor.
    case epollAdd
    /// `epoll_ctl(2)` unregistering a descriptor.
    case epollRemove
    /// `epoll_wait(2)` waiting for ready descriptors.
    case epollWait
    /// `pthread_create(3)` starting the thread behind an async signal sequence.
    case threadStart
  }

  /// The operation that failed.
  public let operation: Operation
  /// The error number the operation reported.
  public let errno: Errno

  /// Creates an error for `operation` failing with `errno`.
  public init(_ operation: Operation, _ errno: Errno) {
    self.operation = operation
    self.errno = errno
  }

  /// True when the operation failed only because it would have had to wait
  /// (`EAGAIN`: nothing to read, or the counter has no room) in non-blocking mode.
  public var isWouldBlock: Bool { errno == .wouldBlock }

  /// The operation name followed by the error, e.g. `signal: Resource temporarily unavailable`.
  public var description: String { "\(operation.rawValue): \(errno)" }
}
