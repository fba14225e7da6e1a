// sys/epoll.h is not in the Glibc module; swift-system's C shim module exports it.
import CLinuxEvents
import Glibc
import RCU
import Synchronization
import SystemPackage

/// An `epoll(7)` set of ``EventFD``s that one consumer thread waits on.
///
/// Threading: ``wait(timeout:maxEvents:)`` is meant for one consumer thread;
/// ``add(_:)-(EventFD)`` and ``remove(_:)-(EventFD)`` may be called from any thread at any
/// time, including while that consumer is blocked in ``wait(timeout:maxEvents:)`` (an added
/// eventfd wakes it when signalled). Concurrent waits are safe too, but then each signal is
/// drained by whichever waiter gets it first.
public final class EventPoller: Sendable {
  /// Which eventfds are registered, under the token each epoll registration carries.
  ///
  /// Events carry a token rather than the descriptor number so that an event for an eventfd
  /// removed (and perhaps closed and its number reused) during a wait can never be attributed
  /// to another eventfd: its token is simply gone.
  private struct Registrations {
    var byToken: [UInt64: EventFD] = [:]
    var tokenByEventFD: [EventFD: UInt64] = [:]
    var nextToken: UInt64 = 0
  }

  private let epollDescriptor: Int32
  private let registrations = Mutex(Registrations())

  /// Creates an empty poller.
  ///
  /// - Throws: ``EventFDError`` with operation ``EventFDError/Operation-swift.enum/epollCreate``.
  public init() throws(EventFDError) {
    let fd = epoll_create1(Int32(EPOLL_CLOEXEC))
    guard fd >= 0 else { throw EventFDError(.epollCreate, Errno(rawValue: errno)) }
    epollDescriptor = fd
  }

  deinit {
    // Not retried on EINTR: Linux releases the descriptor even then.
    _ = Glibc.close(epollDescriptor)
  }

  /// Starts reporting `eventFD`, keeping it alive until it is removed or the poller goes.
  ///
  /// - Throws: ``EventFDError`` with operation ``EventFDError/Operation-swift.enum/epollAdd``:
  ///   `EEXIST` when it is already registered, or what `epoll_ctl(2)` reports.
  public func add(_ eventFD: EventFD) throws(EventFDError) {
    try registrations.withLock { (state) throws(EventFDError) in
      SanitizerHandoff.acquire(self)
      defer { SanitizerHandoff.release(self) }
      guard state.tokenByEventFD[eventFD] == nil else { throw EventFDError(.epollAdd, .fileExists) }
      let token = state.nextToken
      var event = epoll_event()
      event.events = EPOLLIN.rawValue
      event.data.u64 = token
      guard epoll_ctl(epollDescriptor, EPOLL_CTL_ADD, eventFD.descriptor, &event) == 0 else {
        throw EventFDError(.epollAdd, Errno(rawValue: errno))
      }
      state.nextToken += 1
      state.byToken[token] = eventFD
      state.tokenByEventFD[eventFD] = token
    }
  }

  /// Stops reporting `eventFD` and lets go of it.
  ///
  /// A wait already under way will not report it either.
  ///
  /// - Throws: ``EventFDError`` with operation ``EventFDError/Operation-swift.enum/epollRemove``:
  ///   `ENOENT` when it is not registered, or what `epoll_ctl(2)` reports.
  public func remove(_ eventFD: EventFD) throws(EventFDError) {
    try registrations.withLock { (state) throws(EventFDError) in
      SanitizerHandoff.acquire(self)
      defer { SanitizerHandoff.release(self) }
      guard let token = state.tokenByEventFD[eventFD] else {
        throw EventFDError(.epollRemove, .noSuchFileOrDirectory)
      }
      // Unregister while still holding a reference, so the descriptor cannot be closed
      // (and its number reused) before epoll forgets it.
      guard epoll_ctl(epollDescriptor, EPOLL_CTL_DEL, eventFD.descriptor, nil) == 0 else {
        throw EventFDError(.epollRemove, Errno(rawValue: errno))
      }
      state.byToken[token] = nil
      state.tokenByEventFD[eventFD] = nil
    }
  }

  /// Waits until registered eventfds are signalled, then drains each ready one to zero.
  ///
  /// Allocates its event buffer and result per call: this is the consumer side, not the vCPU path.
  ///
  /// Draining never blocks (eventfd descriptors are non-blocking), so a spurious readiness
  /// costs one failed `read(2)`. An eventfd found empty when drained (another waiter took its
  /// count) is left out.
  ///
  /// - Parameters:
  ///   - timeout: How long to wait: nil blocks until something is ready, `.zero` only polls.
  ///     Rounded up to whole milliseconds; a wait interrupted by a signal resumes with the
  ///     time remaining.
  ///   - maxEvents: The most eventfds one call reports; the rest are reported by the next call.
  /// - Returns: Each ready eventfd with the count drained from it; empty on timeout.
  /// - Throws: ``EventFDError`` with operation ``EventFDError/Operation-swift.enum/epollWait``.
  public func wait(
    timeout: Duration?,
    maxEvents: Int = 64
  ) throws(EventFDError) -> [(eventFD: EventFD, count: UInt64)] {
    precondition(maxEvents > 0 && maxEvents <= Int(Int32.max), "maxEvents out of range")
    var events = [epoll_event](repeating: epoll_event(), count: maxEvents)
    let clock = ContinuousClock()
    let deadline = timeout.map { clock.now + $0 }
    var readyCount: Int32
    repeat {
      let milliseconds = deadline.map { Self.milliseconds(until: $0, on: clock) } ?? -1
      // The buffer is valid for the call and epoll_wait fills at most its count of entries.
      readyCount = events.withUnsafeMutableBufferPointer {
        epoll_wait(epollDescriptor, $0.baseAddress, Int32($0.count), milliseconds)
      }
      if readyCount < 0 && errno != EINTR {
        throw EventFDError(.epollWait, Errno(rawValue: errno))
      }
    } while readyCount < 0
    // Look up under the lock, drain outside it: the references taken here keep each eventfd
    // open even if another thread removes it meanwhile, and adds and removes never wait on reads.
    let ready = registrations.withLock { state in
      SanitizerHandoff.acquire(self)
      defer { SanitizerHandoff.release(self) }
      return events.prefix(Int(readyCount)).compactMap { state.byToken[$0.data.u64] }
    }
    return ready.compactMap { eventFD in
      let count = eventFD.drain()
      return count == 0 ? nil : (eventFD, count)
    }
  }

  /// The `epoll_wait(2)` timeout for `deadline`, rounded up so a short wait never becomes a busy poll.
  private static func milliseconds(
    until deadline: ContinuousClock.Instant,
    on clock: ContinuousClock
  ) -> Int32 {
    let remaining = clock.now.duration(to: deadline)
    guard remaining > .zero else { return 0 }
    let (seconds, attoseconds) = remaining.components
    let attosecondsPerMillisecond: Int64 = 1_000_000_000_000_000
    let (wholeMilliseconds, overflow) = seconds.multipliedReportingOverflow(by: 1000)
    guard !overflow else { return Int32.max }
    let total =
      wholeMilliseconds
      + (attoseconds + attosecondsPerMillisecond - 1) / attosecondsPerMillisecond
    return Int32(clamping: total)
  }
}
