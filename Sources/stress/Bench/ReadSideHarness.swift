import StressKit
import HostSupport
import ConcurrentBus
import Glibc
import RCU
import Synchronization

/// How the registry changes while readers run.
enum Churn: String, CaseIterable, Codable, Sendable {
  /// Nothing changes.
  case none
  /// One update (a register or an unregister) every millisecond.
  case rate1000 = "1000/s"
  /// A writer registering and unregistering as fast as it can.
  case flatOut = "flat-out"
}

/// One timed run of reader threads (and maybe a writer) on one design.
struct ReadRun: Sendable {
  /// Dispatches per second, all threads together.
  var throughput: Double
  /// CPU nanoseconds per dispatch, averaged over threads (descheduled time excluded).
  var nanosPerDispatch: Double
  /// Updates the writer completed per second.
  var updatesPerSecond: Double
  /// Dispatches no device claimed; always 0 unless the benchmark is broken.
  var unclaimed: Int
}

/// Start and stop flags shared by the threads of one run.
private final class RunControl: Sendable {
  let ready = Atomic<Int>(0)
  let started = Atomic<Bool>(false)
  let stopped = Atomic<Bool>(false)
  let updates = Atomic<Int>(0)
}

/// Per-thread results, each slot written by one thread before it is joined.
private final class Slots<Value>: @unchecked Sendable {
  // @unchecked: slot i is written only by thread i, and read only after joining it.
  var values: [Value]
  init(repeating value: Value, count: Int) { values = Array(repeating: value, count: count) }
}

/// A reader's own count.
private struct ReaderSample {
  var operations = 0
  var unclaimed = 0
  var wallNanos: UInt64 = 0
  var cpuNanos: UInt64 = 0
}

/// Addresses shared read-only by every reader of a run: one array per thread.
private final class AddressTable: @unchecked Sendable {
  // @unchecked: written once in init, read-only afterwards.
  let pointers: [UnsafeMutableBufferPointer<UInt64>]

  init(threads: Int, entries: Int, perThread: Int) {
    pointers = (0..<threads).map { thread in
      let addresses = BenchLayout.addresses(
        count: perThread, entries: entries, seed: UInt64(thread + 1) &* 0x1234_5678)
      let buffer = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: perThread)
      _ = buffer.initialize(from: addresses)
      return buffer
    }
  }

  deinit { for pointer in pointers { pointer.deallocate() } }
}

/// Runs `threads` readers on `target` for `seconds`, with a writer when `churn` says so.
func measureReads<Target: ReadTarget>(
  _ target: Target, threads: Int, entries: Int, churn: Churn, seconds: Double
) throws -> ReadRun {
  // A power of two, large enough that the branch predictor cannot learn the sequence.
  let addresses = AddressTable(threads: threads, entries: entries, perThread: 1 << 14)
  let control = RunControl()
  let samples = Slots(repeating: ReaderSample(), count: threads)
  var workers: [HostThread] = []
  do {
    for index in 0..<threads {
      workers.append(
        try HostThread {
          target.prepareThread()
          let sample = readerLoop(target, addresses: addresses.pointers[index], control: control)
          samples.values[index] = sample
        })
    }
    if churn != .none {
      workers.append(
        try HostThread {
          target.prepareThread()
          let updates = writerLoop(target, churn: churn, control: control)
          control.updates.store(updates, ordering: .relaxed)
        })
    }
  } catch {
    control.started.store(true, ordering: .releasing)
    control.stopped.store(true, ordering: .releasing)
    for worker in workers { worker.join() }
    throw SetupFailure(message: "cannot start a benchmark thread: errno \(error.errno)")
  }
  while control.ready.load(ordering: .acquiring) < workers.count { sched_yield() }
  let start = monotonicNanos()
  control.started.store(true, ordering: .releasing)
  sleep(untilNanos: start + UInt64(seconds * 1e9))
  control.stopped.store(true, ordering: .releasing)
  for worker in workers { worker.join() }
  let elapsed = Double(monotonicNanos() - start) / 1e9

  let readers = samples.values
  let throughput = readers.reduce(0.0) {
    $0 + Double($1.operations) / (Double($1.wallNanos) / 1e9)
  }
  let cpu = readers.reduce(0.0) { $0 + Double($1.cpuNanos) }
  let operations = readers.reduce(0) { $0 + $1.operations }
  return ReadRun(
    throughput: throughput,
    nanosPerDispatch: cpu / Double(max(operations, 1)),
    updatesPerSecond: Double(control.updates.load(ordering: .relaxed)) / elapsed,
    unclaimed: readers.reduce(0) { $0 + $1.unclaimed })
}

/// The timed loop: dispatch addresses in order, check the stop flag every 256 dispatches.
/// Generic so that each design gets its own specialized copy, with the dispatch inlined.
@inline(never)
private func readerLoop<Target: ReadTarget>(
  _ target: Target, addresses: UnsafeMutableBufferPointer<UInt64>, control: RunControl
) -> ReaderSample {
  control.ready.add(1, ordering: .acquiringAndReleasing)
  while !control.started.load(ordering: .acquiring) { sched_yield() }
  // Safe: every address table is allocated with 16384 entries, never empty.
  let base = addresses.baseAddress.unsafelyUnwrapped
  let mask = addresses.count &- 1
  var sample = ReaderSample()
  var index = 0
  var operations = 0
  var unclaimed = 0
  let wall = monotonicNanos()
  let cpu = threadCPUNanos()
  repeat {
    for _ in 0..<256 {
      if !target.dispatch(address: base[index & mask]) { unclaimed &+= 1 }
      index &+= 1
    }
    operations &+= 256
  } while !control.stopped.load(ordering: .relaxed)
  sample.cpuNanos = threadCPUNanos() - cpu
  sample.wallNanos = monotonicNanos() - wall
  sample.operations = operations
  sample.unclaimed = unclaimed
  return sample
}

/// The churning writer: alternately registers and unregisters one device. Returns how many
/// updates it made.
private func writerLoop<Target: ReadTarget>(
  _ target: Target, churn: Churn, control: RunControl
) -> Int {
  control.ready.add(1, ordering: .acquiringAndReleasing)
  while !control.started.load(ordering: .acquiring) { sched_yield() }
  var registration: Registration?
  var updates = 0
  var deadline = monotonicNanos()
  while !control.stopped.load(ordering: .relaxed) {
    if churn == .rate1000 {
      deadline += 1_000_000
      sleep(untilNanos: deadline)
      if control.stopped.load(ordering: .relaxed) { break }
    }
    registration = target.churn(registration)
    updates += 1
  }
  // Leave the table as it was, for the next run on the same target.
  if let registration { _ = target.churn(registration) }
  return updates
}
