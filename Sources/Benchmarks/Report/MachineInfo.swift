import Foundation
import Glibc

/// Where and how the run happened.
public struct MachineInfo: Codable, Sendable, Equatable {
  /// CPUs online.
  public var cores: Int
  /// The running kernel's release.
  public var kernel: String
  /// When the run began, ISO 8601.
  public var date: String
  /// Whether it was the shorter run.
  public var quick: Bool
  /// Seconds per timed read-side run.
  public var secondsPerRun: Double
  /// Rounds per configuration.
  public var rounds: Int
  /// The most rounds a section's targets could take; nil in reports older than the
  /// intervals.
  public var maximumRounds: Int?
  /// The flavors of the per-flavor sections.
  public var flavors: [BenchFlavor]
  /// The 1-minute load average when the run began and when it ended: other work on the
  /// machine skews results.
  public var loadAverageAtStart: Double
  /// See ``loadAverageAtStart``; nil until the run ends.
  public var loadAverageAtEnd: Double?

  /// This machine, now, for a run with `settings`.
  public init(settings: BenchSettings) {
    var uts = utsname()
    uname(&uts)
    cores = settings.cores
    kernel = withUnsafeBytes(of: &uts.release) {
      String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
    }
    date = ISO8601DateFormatter().string(from: Date())
    quick = settings.quick
    secondsPerRun = settings.seconds
    rounds = settings.rounds
    maximumRounds = settings.maximumRounds
    flavors = settings.flavors
    loadAverageAtStart = Self.loadAverage()
  }

  /// The 1-minute load average.
  static func loadAverage() -> Double {
    var load = [0.0, 0.0, 0.0]
    _ = getloadavg(&load, 3)
    return load[0]
  }
}
