import ConcurrentBus

/// The churning writer: alternately registers and unregisters one device, timing each
/// (synchronous) unregister.
func writerLoop<Target: ReadTarget>(
  _ target: Target, churn: Churn, control: RunControl, expected: Int
) -> WriterSample {
  control.checkIn()
  var registration: Registration?
  var sample = WriterSample()
  sample.unregisterNanos.reserveCapacity(expected)
  var deadline = monotonicNanos()
  while !control.isStopped {
    if churn == .rate1000 {
      deadline += 1_000_000
      sleep(untilNanos: deadline)
      if control.isStopped { break }
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
