// sys/eventfd.h and poll.h constants come through swift-system's C shim module.
import CLinuxEvents
import Glibc
import HostSupport
import SystemPackage

extension EventFD {
  /// The counts this eventfd is signalled with, as an async sequence.
  ///
  /// Starts a dedicated thread that sleeps in `poll(2)` until the eventfd fires, drains it and
  /// yields the drained count, so signals that arrive together are summed into one element.
  /// While the sequence exists, that thread is the eventfd's only reader: do not also
  /// ``read()``, ``drain()`` or poll it elsewhere.
  ///
  /// - Throws: ``EventFDError`` when the wake-up eventfd or the thread cannot be created.
  public func signals() throws(EventFDError) -> EventFDSignals {
    try EventFDSignals(self)
  }
}

/// The drained counts of an ``EventFD``, one element each time it fires.
///
/// Single-consumer: iterate it from one task. Iteration ends when that task is cancelled; the
/// thread behind it stops then, or once the sequence and its iterators are all gone. Elements
/// the consumer has not yet taken are buffered, one per wake-up of the thread.
public struct EventFDSignals: AsyncSequence, Sendable {
  /// A drained count, never 0.
  public typealias Element = UInt64
  /// Iteration never throws; it ends instead.
  public typealias Failure = Never

  private let stream: AsyncStream<UInt64>
  private let stopper: Stopper

  init(_ source: EventFD) throws(EventFDError) {
    let wake = try EventFD(options: .nonBlocking)
    let (stream, continuation) = AsyncStream.makeStream(of: UInt64.self)
    // Cancellation of the consuming task lands here; the wake-up gets the thread out of poll(2).
    continuation.onTermination = { _ in _ = wake.trySignal() }
    try SignalPump(source: source, wake: wake, continuation: continuation).start()
    self.stream = stream
    self.stopper = Stopper(wake: wake)
  }

  /// Returns the iterator; call it once, from the consuming task.
  public func makeAsyncIterator() -> Iterator {
    Iterator(base: stream.makeAsyncIterator(), stopper: stopper)
  }

  /// Iterates an ``EventFDSignals``.
  public struct Iterator: AsyncIteratorProtocol {
    private var base: AsyncStream<UInt64>.Iterator
    // Held only so the thread is stopped when the last iterator or sequence goes.
    private let stopper: Stopper

    fileprivate init(base: AsyncStream<UInt64>.Iterator, stopper: Stopper) {
      self.base = base
      self.stopper = stopper
    }

    /// The next drained count, or nil once the consuming task is cancelled.
    public mutating func next() async -> UInt64? {
      await base.next()
    }

    /// The next drained count, or nil once the consuming task is cancelled, staying on `actor`.
    public mutating func next(isolation actor: isolated (any Actor)?) async -> UInt64? {
      await base.next(isolation: actor)
    }
  }
}

/// Wakes the pump thread when the last sequence or iterator holding it goes, so a sequence
/// dropped without being cancelled does not leave its thread behind.
private final class Stopper: Sendable {
  let wake: EventFD

  init(wake: EventFD) { self.wake = wake }

  deinit { _ = wake.trySignal() }
}

/// The thread that moves counts from the eventfd into the stream.
private final class SignalPump: Sendable {
  let source: EventFD
  let wake: EventFD
  let continuation: AsyncStream<UInt64>.Continuation

  init(source: EventFD, wake: EventFD, continuation: AsyncStream<UInt64>.Continuation) {
    self.source = source
    self.wake = wake
    self.continuation = continuation
  }

  /// Starts the detached thread that runs ``run()``; the thread holds the pump until `run()`
  /// returns.
  ///
  /// Nonisolated on purpose: a thread entry closure formed in main-actor code traps when the
  /// thread runs it.
  nonisolated func start() throws(EventFDError) {
    do {
      try HostThread.detach { self.run() }
    } catch {
      continuation.finish()
      throw EventFDError(.threadStart, Errno(rawValue: error.errno))
    }
  }

  private func run() {
    defer { continuation.finish() }
    var descriptors = [
      pollfd(fd: source.descriptor, events: Int16(POLLIN), revents: 0),
      pollfd(fd: wake.descriptor, events: Int16(POLLIN), revents: 0),
    ]
    while true {
      // The array's buffer is valid for the call and holds the count of entries passed.
      guard poll(&descriptors, nfds_t(descriptors.count), -1) >= 0 else {
        if errno == EINTR { continue }
        return
      }
      if descriptors[1].revents != 0 { return }
      if descriptors[0].revents != 0 {
        let count = source.drain()
        if count > 0, case .terminated = continuation.yield(count) { return }
      }
    }
  }
}
