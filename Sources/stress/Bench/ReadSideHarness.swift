import ConcurrentBus
import Glibc
import HostSupport
import RCU
import StressKit
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

/// How reader threads behave between dispatches.
enum ReaderBehaviour: String, CaseIterable, Codable, Sendable {
  /// Dispatch after dispatch, never leaving the bus for long (under QSBR, a quiescent state
  /// every ``dispatchesPerCheck`` dispatches, never offline).
  case tightLoop = "tight-loop"
  /// Like a vCPU: a burst of ``VCPUTiming/burst`` dispatches (exits), then
  /// ``VCPUTiming/guestNanos`` of "guest time" spent spinning on the CPU outside any
  /// read-side section, as a vCPU inside `KVM_RUN` (under QSBR, offline meanwhile).
  case vcpuLike = "vcpu-like"
}

/// The shape of a vCPU-like reader: 16 exits dispatched back to back (about 0.3 us of bus
/// work), then 20 us in the guest, on the CPU.
enum VCPUTiming {
  static let burst = 16
  static let guestNanos: UInt64 = 20_000
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
  /// How long each of the writer's synchronous unregisters took, in nanoseconds.
  var unregisterNanos: [UInt64]
}

/// Start and stop flags shared by the threads of one run.
private final class RunControl: Sendable {
  let ready = Atomic<Int>(0)
  let started = Atomic<Bool>(false)
  let stopped = Atomic<Bool>(false)
}

/// Per-thread results, each slot written by one thread before it is joined.
private final class Slots<Value>: @unchecked Sendable {
  // @unchecked: slot i is written only by thread i, and read only after joining it.
  var values: [Value]
  init(repeating value: Value, count: Int) { values = Array(repeating: value, count: count) }
}

/// The writer's own count.
private struct WriterSample {
  var updates = 0
  var unregisterNanos: [UInt64] = []
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
  _ target: Target, threads: Int, entries: Int, churn: Churn, seconds: Double,
  readers behaviour: ReaderBehaviour = .tightLoop
) throws -> ReadRun {
  // A power of two, large enough that the branch predictor cannot learn the sequence.
  let addresses = AddressTable(threads: threads, entries: entries, perThread: 1 << 14)
  let control = RunControl()
  let samples = Slots(repeating: ReaderSample(), count: threads)
  let writer = Slots(repeating: WriterSample(), count: 1)
  var workers: [HostThread] = []
  do {
    for index in 0..<threads {
      workers.append(
        try HostThread {
          target.prepareThread()
          let addresses = addresses.pointers[index]
          samples.values[index] =
            switch behaviour {
            case .tightLoop: readerLoop(target, addresses: addresses, control: control)
            case .vcpuLike: vcpuLoop(target, addresses: addresses, control: control)
            }
        })
    }
    if churn != .none {
      workers.append(
        try HostThread {
          target.prepareWriter()
          writer.values[0] = writerLoop(
            target, churn: churn, control: control, expected: Int(seconds * 1000) + 16)
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
    updatesPerSecond: Double(writer.values[0].updates) / elapsed,
    unclaimed: readers.reduce(0) { $0 + $1.unclaimed },
    unregisterNanos: writer.values[0].unregisterNanos)
}

/// How many dispatches a busy reader makes between two looks at the stop flag, and between
/// two quiescent states under QSBR. 64 dispatches take about 1 us at 64 entries (4 us at
/// 10000): less than liburcu's active wait in a grace period (100 polls, 2-4 us here)
/// before the writer sleeps on a futex, so the writer usually sees the quiescent state while
/// polling and the reader seldom has to wake it (a futex call, an IPI, and often the woken
/// writer preempting the reader on its own CPU). At 256 the QSBR reader lost 1-8% more CPU
/// time per dispatch under 1000 updates/s (measured side by side). Announcing costs a load
/// and a compare while no grace period waits: under 0.02 ns per dispatch.
let dispatchesPerCheck = 64

/// The timed loop: dispatch addresses in order, check the stop flag (and, under QSBR,
/// announce a quiescent state) every ``dispatchesPerCheck`` dispatches.
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
    for _ in 0..<dispatchesPerCheck {
      if !target.dispatch(address: base[index & mask]) { unclaimed &+= 1 }
      index &+= 1
    }
    operations &+= dispatchesPerCheck
    target.quiescentState()
  } while !control.stopped.load(ordering: .relaxed)
  sample.cpuNanos = threadCPUNanos() - cpu
  sample.wallNanos = monotonicNanos() - wall
  sample.operations = operations
  sample.unclaimed = unclaimed
  return sample
}

/// A vCPU-like reader: bursts of dispatches, each followed by guest time spent spinning
/// outside any read-side section (offline under QSBR). Only its throughput is meaningful:
/// its CPU time includes the guest time.
@inline(never)
private func vcpuLoop<Target: ReadTarget>(
  _ target: Target, addresses: UnsafeMutableBufferPointer<UInt64>, control: RunControl
) -> ReaderSample {
  control.ready.add(1, ordering: .acquiringAndReleasing)
  while !control.started.load(ordering: .acquiring) { sched_yield() }
  // Safe: every address table is allocated with 16384 entries, never empty.
  let base = addresses.baseAddress.unsafelyUnwrapped
  let mask = addresses.count &- 1
  var sample = ReaderSample()
  var index = 0
  let wall = monotonicNanos()
  let cpu = threadCPUNanos()
  repeat {
    for _ in 0..<VCPUTiming.burst {
      if !target.dispatch(address: base[index & mask]) { sample.unclaimed &+= 1 }
      index &+= 1
    }
    sample.operations &+= VCPUTiming.burst
    target.enterGuest()
    let resume = monotonicNanos() &+ VCPUTiming.guestNanos
    while monotonicNanos() < resume {}
    target.leaveGuest()
  } while !control.stopped.load(ordering: .relaxed)
  sample.cpuNanos = threadCPUNanos() - cpu
  sample.wallNanos = monotonicNanos() - wall
  return sample
}

/// The churning writer: alternately registers and unregisters one device, timing each
/// (synchronous) unregister.
private func writerLoop<Target: ReadTarget>(
  _ target: Target, churn: Churn, control: RunControl, expected: Int
) -> WriterSample {
  control.ready.add(1, ordering: .acquiringAndReleasing)
  while !control.started.load(ordering: .acquiring) { sched_yield() }
  var registration: Registration?
  var sample = WriterSample()
  sample.unregisterNanos.reserveCapacity(expected)
  var deadline = monotonicNanos()
  while !control.stopped.load(ordering: .relaxed) {
    if churn == .rate1000 {
      deadline += 1_000_000
      sleep(untilNanos: deadline)
      if control.stopped.load(ordering: .relaxed) { break }
    }
    if registration == nil {
      registration = target.churn(nil)
    } else {
      let start = monotonicNanos()
      registration = target.churn(registration)
      sample.unregisterNanos.append(monotonicNanos() - start)
    }
    sample.updates += 1
  }
  // Leave the table as it was, for the next run on the same target.
  if let registration { _ = target.churn(registration) }
  return sample
}
