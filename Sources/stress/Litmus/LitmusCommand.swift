import ArgumentParser
import Foundation
import StressKit

extension LitmusTestName: ExpressibleByArgument {}

/// `stress litmus`: RCU's guarantee as small two-thread litmus tests, millions of aligned
/// iterations.
struct LitmusCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "litmus",
    abstract: "RCU litmus tests: a reader and a writer racing in aligned iterations.",
    discussion: """
      A reader and a writer thread, pinned to two CPUs, start every iteration together from \
      a spin handshake (release/acquire), one of them offset by a skew that settles where \
      their accesses overlap; the tests take turns in slices. Each forbids one outcome: \
      \(LitmusTestName.allCases.map { "\($0.rawValue) (\($0.forbidden))" }.joined(separator: "; ")). \
      A forbidden outcome is a violation (litmus-TEST, exit 1). A run is clean only after \
      every test ran its minimum of iterations with the reader first and the writer first \
      often enough; otherwise inconclusive (exit 2).
      """
  )

  @OptionGroup var common: CommonOptions
  @OptionGroup var stall: StallOptions

  @Option(
    help: """
      Comma-separated tests to run (\(LitmusTestName.allCases.map(\.rawValue).joined(separator: ","))); \
      all by default.
      """)
  var tests: String?

  @Option(
    help: """
      A deliberate bug to inject: \(TortureFault.allCases.map(\.rawValue).joined(separator: "|")) \
      (flavor faults around the flavor; publish-before-init in the message-passing writer).
      """)
  var fault: TortureFault = .none

  @Option(parsing: .unconditional, help: "The fault fires once in N opportunities (default 100).")
  var faultEvery: Int?

  @Option(parsing: .unconditional, help: "Seconds each test runs before the next takes its turn.")
  var slice: Double = 0.1

  var litmus: LitmusConfiguration {
    var configuration = LitmusConfiguration(
      tests: tests.map {
        $0.split(separator: ",").compactMap { LitmusTestName(rawValue: String($0)) }
      }
        ?? LitmusTestName.allCases,
      duration: common.duration, flavor: common.flavor, fault: fault, faultEvery: faultEvery,
      seed: common.seed, stallTimeout: stall.timeout, sliceSeconds: slice)
    configuration.minimumWorkWithin = common.minimumWorkWithin
    return configuration
  }

  func validate() throws {
    if let tests,
      let bad = tests.split(separator: ",").first(where: {
        LitmusTestName(rawValue: String($0)) == nil
      })
    {
      throw ValidationError("--tests: no litmus test named \(bad)")
    }
    try validated { () throws(OptionError) in try litmus.validate() }
    if fault == .none && faultEvery != nil {
      throw ValidationError("--fault-every needs a --fault")
    }
  }

  func run() throws {
    try common.runCheck("litmus", replay: litmus.replayArguments) { try Litmus.run(litmus) }
  }
}
