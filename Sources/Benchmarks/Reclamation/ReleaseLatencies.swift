import ConcurrentBus
import Glibc

/// `operations` unregisters of one kind on a fresh 64-entry bus of one flavor: how long
/// each took to release its device, in nanoseconds.
struct ReleaseLatencies: FlavorGenericWork {
  let wait: ReleaseWait
  let pace: ReleasePace
  let operations: Int

  func run<Flavor: RCUFlavor>(_ flavor: Flavor.Type) throws -> [UInt64] {
    let target = try BusTarget<Flavor>(entries: 64)
    let devices = try PreregisteredDevices(target, count: pace == .inARow ? operations : 0)
    switch wait {
    case .synchronous, .deferred:
      return try (0..<operations).map { index in try timeOne(target, devices.take(index)) }
    case .async:
      // On a Swift concurrency task, as an async caller would; the calling thread blocks
      // until the task is done.
      let done = Completion()
      let outcome = AsyncOutcome()
      Task {
        do {
          var times: [UInt64] = []
          for index in 0..<operations {
            times.append(try await timeOneAsync(target, devices.take(index)))
          }
          outcome.result.withLock { $0 = .success(times) }
        } catch {
          outcome.result.withLock { $0 = .failure(error) }
        }
        done.signal()
      }
      done.wait()
      return try outcome.result.withLock { $0 }.get()
    }
  }

  /// The device to unregister next: registered before the first (in a row), or just now,
  /// its reclamation waited out and the bus left idle (cold).
  private func prepare<Flavor>(_ target: BusTarget<Flavor>, _ registered: Registration?)
    -> Registration
  {
    if let registered { return registered }
    guard let registration = target.churn(nil) else { fatalError("churn registers") }
    Flavor.barrier()
    usleep(ReleasePace.idleMicroseconds)
    return registration
  }

  private func timeOne<Flavor>(_ target: BusTarget<Flavor>, _ registered: Registration?)
    throws -> UInt64
  {
    let registration = prepare(target, registered)
    if wait == .synchronous {
      return try timed { try target.bus.unregister(registration) }.nanos
    }
    let released = ReleaseStamp()
    let start = monotonicNanos()
    try target.bus.unregister(registration) { released.stamp() }
    return released.waitForStamp() - start
  }

  private func timeOneAsync<Flavor>(_ target: BusTarget<Flavor>, _ registered: Registration?)
    async throws -> UInt64
  {
    let registration = prepare(target, registered)
    let start = monotonicNanos()
    try await target.bus.unregisterAndAwaitRelease(registration)
    return monotonicNanos() - start
  }
}
