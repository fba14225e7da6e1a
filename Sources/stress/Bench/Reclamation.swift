import ConcurrentBus
import Glibc
import RCU
import Synchronization

/// How long an unregister takes to release its device on an idle bus (no reader running),
/// three ways, on one flavor.
struct ReclamationCell: Codable, Sendable {
  var flavor: BenchFlavor
  var pace: ReleasePace
  /// `unregister(_:)`: until it returns (publish, grace period, release).
  var synchronous: SampleSummary
  /// `unregister(_:whenReleased:)`: from the call until the closure runs.
  var deferred: SampleSummary
  /// `unregisterAndAwaitRelease(_:)`: from the call until the awaiting task resumes.
  var async: SampleSummary
}

/// How an unregister waits for its release.
enum ReleaseWait: CaseIterable {
  case synchronous, deferred, async
}

/// When the unregisters come.
enum ReleasePace: String, CaseIterable, Codable, Sendable {
  /// 50 in a row, each waited for before the next (the case: a VMM tearing down
  /// devices one by one); every device registered before the first.
  case inARow = "in-a-row"
  /// Each after ``reclamationIdleMicroseconds`` of nothing (every reclaimer thread asleep
  /// again), as a hot-unplug on a quiet VMM; its device registered just before the pause.
  case cold
}

/// The idle time before each cold unregister.
let reclamationIdleMicroseconds: UInt32 = 200

/// Unregisters per chunk: kinds alternate chunk by chunk.
private let chunk = 50

/// Measures `count` unregisters of each kind, at each pace, on every flavor, in chunks of
/// 50 that alternate between kinds.
func measureReclamation(flavors: [BenchFlavor], count: Int) throws -> [ReclamationCell] {
  try ReleasePace.allCases.flatMap { pace in
    try flavors.map { flavor in
      var times: [ReleaseWait: [UInt64]] = [:]
      for round in 0..<(count + chunk - 1) / chunk {
        for offset in 0..<ReleaseWait.allCases.count {
          let wait = ReleaseWait.allCases[(round + offset) % ReleaseWait.allCases.count]
          let operations = min(chunk, count - round * chunk)
          times[wait, default: []] += try flavor.run(
            ReleaseLatencies(wait: wait, pace: pace, operations: operations))
        }
      }
      flavor.barrier()
      return ReclamationCell(
        flavor: flavor, pace: pace, synchronous: SampleSummary(nanos: times[.synchronous]!),
        deferred: SampleSummary(nanos: times[.deferred]!),
        async: SampleSummary(nanos: times[.async]!))
    }
  }
}

/// `operations` unregisters of one kind on a fresh 64-entry bus of one flavor.
private struct ReleaseLatencies: FlavorWork {
  let wait: ReleaseWait
  let pace: ReleasePace
  let operations: Int

  func run<Flavor: RCUFlavor>(_ flavor: Flavor.Type) throws -> [UInt64] {
    let target = try BusTarget(bus: IOBus(flavor: flavor), entries: 64)
    let devices = try Devices(target, count: pace == .inARow ? operations : 0)
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
    usleep(reclamationIdleMicroseconds)
    return registration
  }

  private func timeOne<Flavor>(_ target: BusTarget<Flavor>, _ registered: Registration?)
    throws -> UInt64
  {
    let registration = prepare(target, registered)
    if wait == .synchronous {
      let start = monotonicNanos()
      try target.bus.unregister(registration)
      return monotonicNanos() - start
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

/// Devices registered ahead of a run of unregisters in a row, in one batch, their
/// reclamation waited out.
private struct Devices: Sendable {
  let registrations: [Registration]

  init<Flavor>(_ target: BusTarget<Flavor>, count: Int) throws {
    registrations = try target.bus.update { (tx: inout IOBusTransaction) throws(IOBusError) in
      try (0..<count).map { index throws(IOBusError) in
        try tx.register(
          target.device, base: BenchLayout.churnBase + UInt64(index) * BenchLayout.stride,
          length: BenchLayout.length)
      }
    }
    Flavor.barrier()
  }

  /// The device for the `index`th unregister, or nil when each is registered as it comes.
  func take(_ index: Int) -> Registration? {
    registrations.isEmpty ? nil : registrations[index]
  }
}

/// What the task measuring async unregisters hands back.
private final class AsyncOutcome: Sendable {
  let result = Mutex<Result<[UInt64], any Error>>(.success([]))
}

/// When a `whenReleased` closure ran. The caller waits for it by polling, yielding the CPU,
/// as `unregisterAndAwaitRelease` does: a caller asleep on a semaphore would be woken by the
/// closure, and its wake-up (5-10 us here) would decide whether its next unregister finds the
/// reclaimer still polling.
private final class ReleaseStamp: Sendable {
  private let nanos = Atomic<UInt64>(0)

  /// Called by the closure.
  func stamp() {
    // Releasing: pairs with the acquiring load in `waitForStamp`.
    nanos.store(monotonicNanos(), ordering: .releasing)
  }

  /// Waits for the stamp and returns it.
  func waitForStamp() -> UInt64 {
    while true {
      let yieldAt = monotonicNanos() + 1000
      repeat {
        let stamped = nanos.load(ordering: .acquiring)
        if stamped != 0 { return stamped }
      } while monotonicNanos() < yieldAt
      sched_yield()
    }
  }
}

/// A one-shot signal between threads: a POSIX semaphore in allocated memory.
private final class Completion: @unchecked Sendable {
  // @unchecked: the semaphore never moves, and sem_post/sem_wait are thread-safe.
  private let semaphore = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)

  init() { sem_init(semaphore, 0, 0) }

  deinit {
    sem_destroy(semaphore)
    semaphore.deallocate()
  }

  /// Wakes the waiter; the post orders everything before it before the wait's return.
  func signal() { sem_post(semaphore) }

  func wait() { while sem_wait(semaphore) != 0 {} }
}
