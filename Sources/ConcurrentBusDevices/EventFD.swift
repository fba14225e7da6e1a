import CLinuxEvents
import Glibc
import SystemPackage

/// A Linux `eventfd(2)` counter: a 64-bit kernel counter that writers add to and readers take from.
///
/// The bus signals one when a guest write hits an ioeventfd registration; KVM (`KVM_IOEVENTFD`)
/// and `epoll` use the raw ``descriptor``. The descriptor is closed exactly once, in `deinit`,
/// when the last reference goes, so share the object rather than the number.
///
/// The kernel descriptor is always opened `EFD_NONBLOCK`: that is what lets ``trySignal(_:)``
/// and ``drain()`` never block whatever the ``Options-swift.struct``. Without
/// ``Options-swift.struct/nonBlocking``, ``signal(_:)`` and ``read()`` still block like a blocking
/// eventfd by waiting in `poll(2)`. Code that reads or writes ``descriptor`` itself sees a
/// non-blocking descriptor.
///
/// All methods may be called from any thread at the same time.
public final class EventFD: Sendable {
  /// How the counter behaves.
  public struct Options: OptionSet, Sendable, Hashable {
    /// The options' bits: ``nonBlocking`` is bit 0, ``semaphore`` bit 1.
    public let rawValue: UInt8

    /// Creates options from their raw bits.
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// ``EventFD/signal(_:)`` and ``EventFD/read()`` fail with a would-block ``EventFDError``
    /// instead of waiting.
    public static let nonBlocking = Options(rawValue: 1 << 0)
    /// `EFD_SEMAPHORE`: each read takes 1 from the counter instead of all of it.
    public static let semaphore = Options(rawValue: 1 << 1)
  }

  /// What ``EventFD/trySignal(_:)`` did.
  public enum SignalOutcome: Sendable, Hashable {
    /// The value was added to the counter.
    case signalled
    /// The counter had no room for the value (it would pass ``EventFD/maxCounter``); nothing was added.
    case counterFull
    /// The write failed for another reason (for example `EBADF` after someone closed the raw
    /// descriptor); nothing was added.
    case failed(Errno)
  }

  /// The largest value the kernel counter can hold, `0xffff_ffff_ffff_fffe`.
  public static let maxCounter: UInt64 = 0xffff_ffff_ffff_fffe

  /// The raw descriptor, for `epoll`, `KVM_IOEVENTFD` and the like.
  ///
  /// Valid while this object is alive; never close it yourself.
  public let descriptor: Int32

  /// The options the counter was created with.
  public let options: Options

  /// Creates a counter holding `initialValue`.
  ///
  /// - Throws: ``EventFDError`` with operation ``EventFDError/Operation-swift.enum/create``,
  ///   e.g. `EMFILE` when the process is out of descriptors.
  public init(initialValue: UInt32 = 0, options: Options = []) throws(EventFDError) {
    var flags = Int32(EFD_CLOEXEC) | Int32(EFD_NONBLOCK)
    if options.contains(.semaphore) { flags |= Int32(EFD_SEMAPHORE) }
    let fd = eventfd(initialValue, flags)
    guard fd >= 0 else { throw EventFDError(.create, Errno(rawValue: errno)) }
    self.descriptor = fd
    self.options = options
  }

  deinit {
    // Not retried on EINTR: Linux releases the descriptor even then, and a retry could
    // close a number another thread has just been given.
    _ = Glibc.close(descriptor)
  }

  /// Adds `n` to the counter, waking readers and pollers.
  ///
  /// Blocking mode waits while the counter has no room for `n` (until a reader takes from it);
  /// non-blocking mode throws instead. Use ``trySignal(_:)`` on a hot path that must never wait.
  ///
  /// - Parameter n: The amount to add; `0` is allowed, `UInt64.max` is not (`EINVAL`).
  /// - Throws: ``EventFDError`` with operation ``EventFDError/Operation-swift.enum/signal``:
  ///   would-block (``EventFDError/isWouldBlock``) when the counter is full in non-blocking mode,
  ///   `EINVAL` for `n == UInt64.max`.
  public func signal(_ n: UInt64 = 1) throws(EventFDError) {
    while true {
      let failure = writeCounter(n)
      if failure == 0 { return }
      guard failure == EAGAIN, !options.contains(.nonBlocking) else {
        throw EventFDError(.signal, Errno(rawValue: failure))
      }
      try awaitRoom(for: n)
    }
  }

  /// Adds `n` to the counter unless it has no room, never waiting, whatever the options.
  ///
  /// This is the vCPU hot path: one `write(2)` (repeated only on `EINTR`), no locks and no heap
  /// allocation. Checked with `llvm-objdump -d -r` on a release build: the body calls only
  /// `write` and the Glibc `errno` getter (plus `__stack_chk_fail`), never `swift_retain`,
  /// `swift_release` or `swift_allocObject`; ``signal(_:)`` adds only its cold throw and wait paths.
  ///
  /// - Parameter n: The amount to add; must not be `UInt64.max`, which the kernel rejects.
  /// - Returns: ``SignalOutcome/counterFull`` when adding `n` would pass ``maxCounter``, and
  ///   ``SignalOutcome/failed(_:)`` for any other failure: a guest must never be able to crash
  ///   the VMM through a signal.
  public func trySignal(_ n: UInt64 = 1) -> SignalOutcome {
    let failure = writeCounter(n)
    if failure == 0 { return .signalled }
    return failure == EAGAIN ? .counterFull : .failed(Errno(rawValue: failure))
  }

  /// Takes from the counter: all of it, or 1 in ``Options-swift.struct/semaphore`` mode.
  ///
  /// Blocking mode waits until the counter is non-zero; non-blocking mode throws instead.
  ///
  /// - Returns: The amount taken, never 0.
  /// - Throws: ``EventFDError`` with operation ``EventFDError/Operation-swift.enum/read``,
  ///   would-block (``EventFDError/isWouldBlock``) when the counter is 0 in non-blocking mode.
  public func read() throws(EventFDError) -> UInt64 {
    while true {
      switch readCounterOnce() {
      case .taken(let value): return value
      case .failed(let failure): throw EventFDError(.read, Errno(rawValue: failure))
      case .empty: break
      }
      guard !options.contains(.nonBlocking) else { throw EventFDError(.read, .wouldBlock) }
      try awaitEvent(Int16(POLLIN), timeoutMilliseconds: -1)
    }
  }

  /// Takes everything in the counter without waiting.
  ///
  /// In ``Options-swift.struct/semaphore`` mode this takes one unit per `read(2)` until the
  /// counter is empty, so it costs as many system calls as the count it returns.
  ///
  /// - Returns: The amount taken; 0 when nothing was pending (or the descriptor was closed
  ///   behind this object's back).
  public func drain() -> UInt64 {
    var total: UInt64 = 0
    while case .taken(let taken) = readCounterOnce() {
      total += taken
      if !options.contains(.semaphore) { break }
    }
    return total
  }

  /// One `write(2)` of `n`, repeated on `EINTR`.
  ///
  /// - Returns: 0 on success, otherwise the `errno` value.
  @inline(__always)
  private func writeCounter(_ n: UInt64) -> Int32 {
    var value = n
    while true {
      // The pointer to value is valid for the call; the kernel reads exactly 8 bytes from it.
      if Glibc.write(descriptor, &value, MemoryLayout<UInt64>.size) == MemoryLayout<UInt64>.size {
        return 0
      }
      let failure = errno
      if failure != EINTR { return failure }
    }
  }

  /// What one `read(2)` of the counter found.
  private enum ReadOutcome {
    case taken(UInt64)
    case empty
    /// Only a descriptor closed behind this object's back gets here; it is reported, never
    /// a crash.
    case failed(Int32)
  }

  /// One `read(2)` of the counter, repeated on `EINTR`.
  private func readCounterOnce() -> ReadOutcome {
    var value: UInt64 = 0
    while true {
      // The pointer to value is valid for the call; the kernel writes at most 8 bytes to it.
      if Glibc.read(descriptor, &value, MemoryLayout<UInt64>.size) == MemoryLayout<UInt64>.size {
        return .taken(value)
      }
      let failure = errno
      if failure == EINTR { continue }
      return failure == EAGAIN ? .empty : .failed(failure)
    }
  }

  /// Waits until the counter may have room for `n`.
  @inline(never)
  private func awaitRoom(for n: UInt64) throws(EventFDError) {
    if n <= 1 {
      try awaitEvent(Int16(POLLOUT), timeoutMilliseconds: -1)
    } else {
      // poll(2) reports POLLOUT as soon as 1 fits, so it cannot wait for room for n > 1;
      // back off for a millisecond instead of spinning on an immediate POLLOUT.
      try awaitEvent(Int16(POLLOUT), timeoutMilliseconds: 1)
      usleep(1000)
    }
  }

  /// Waits in `poll(2)` until the descriptor reports `events`, or the timeout passes.
  @inline(never)
  private func awaitEvent(_ events: Int16, timeoutMilliseconds: Int32) throws(EventFDError) {
    var request = pollfd(fd: descriptor, events: events, revents: 0)
    // The pointer to request is valid for the call and covers the 1 entry passed.
    while poll(&request, 1, timeoutMilliseconds) < 0 {
      let failure = errno
      if failure != EINTR { throw EventFDError(.poll, Errno(rawValue: failure)) }
    }
  }
}
