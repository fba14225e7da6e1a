import ArgumentParser
import StressKit

/// The stall watchdog's option, shared by every checking command.
struct StallOptions: ParsableArguments {
  @Option(
    name: .customLong("stall-timeout"), parsing: .unconditional,
    help: """
      Seconds a grace period, barrier, synchronous removal or the deferred callbacks may \
      make no progress before the run ends with a `stall` violation (exit 1), naming what \
      waited and the readers inside a section (rcutorture's stall warning).
      """)
  var timeout: Double = StallWatchdog.defaultTimeout

  func validate() throws {
    try validated { () throws(OptionError) in try StallWatchdog.checkTimeout(timeout) }
  }
}
