import Glibc
import HostSupport
import StressKit

/// Runs `threads` readers on `target` for `seconds`, with a writer when `churn` says so.
func measureReads<Target: ReadTarget>(
  _ target: Target, threads: Int, entries: Int, churn: Churn, seconds: Double,
  readers behaviour: ReaderBehaviour = .tightLoop
) throws -> ReadRun {
  // A power of two, large enough that the branch predictor cannot learn the sequence.
  let addresses = AddressTable(threads: threads, entries: entries, perThread: 1 << 14)
  let control = RunControl()
  let samples = ThreadSlots(repeating: ReaderSample(), count: threads)
  let writer = ThreadSlots(repeating: WriterSample(), count: 1)
  var workers: [HostThread] = []
  do {
    for index in 0..<threads {
      workers.append(
        try HostThread {
          target.prepareThread()
          samples[index] = readerLoop(
            target, addresses: addresses.pointers[index], control: control, behaviour: behaviour)
        })
    }
    if churn != .none {
      workers.append(
        try HostThread {
          target.prepareWriter()
          writer[0] = writerLoop(
            target, churn: churn, control: control, expected: Int(seconds * 1000) + 16)
        })
    }
  } catch {
    control.start()
    control.stop()
    for worker in workers { worker.join() }
    throw SetupFailure(message: "cannot start a benchmark thread: errno \(error.errno)")
  }
  control.awaitReady(workers.count)
  let start = monotonicNanos()
  control.start()
  sleep(untilNanos: start + UInt64(seconds * 1e9))
  control.stop()
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
    updatesPerSecond: Double(writer[0].updates) / elapsed,
    unclaimed: readers.reduce(0) { $0 + $1.unclaimed },
    unregisterNanos: writer[0].unregisterNanos)
}
