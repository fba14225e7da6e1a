/// Every deliberate fault the stress tool can inject, with the command it runs on, its
/// rate, and the detector (violation kind) that must catch it. `stress faults` runs the
/// whole table; the README prints it from a real run.
///
/// Each command's faults live in a file of their own (`FaultCatalogue+Torture.swift`,
/// `FaultCatalogue+Churn.swift`, churn's ring faults in `FaultCatalogue+Ring.swift`,
/// `FaultCatalogue+Litmus.swift`); a new command adds its file and one term to ``all``.
public enum FaultCatalogue {
  /// The whole catalogue, in the order `stress faults` runs it.
  public static var all: [CatalogueFault] { torture + litmus + churn + ring + kvm + vhost }

  /// The entry for `command` and `name`, if there is one.
  public static func entry(command: String, name: String) -> CatalogueFault? {
    all.first { $0.command == command && $0.name == name }
  }
}

/// One fault of the catalogue.
public struct CatalogueFault: Codable, Sendable, Equatable {
  /// The `stress` subcommand it runs on (`torture`, `churn`).
  public let command: String
  /// Its name: the value of `--fault`, `broken-flavor` for `--flavor broken`, or the
  /// flavor's name for a flavor that is the fault (`toy-mb-unfenced-entry`).
  public let name: String
  /// What goes wrong, in a sentence.
  public let summary: String
  /// Where the bug is made (a wrapper flavor, the writer, the engine, a flavor).
  public let injectedBy: String
  /// The rate `stress faults` runs it at, in words ("1 in 100 synchronize calls").
  public let rate: String
  /// The arguments after the subcommand that inject it at that rate.
  public let arguments: [String]
  /// The flavor it needs, if any (`broken`); otherwise it runs on the chosen one.
  public let flavor: FlavorChoice?
  /// Flavors its command refuses (none at present: churn drives QSBR).
  public var unsupportedFlavors: [FlavorChoice] = []
  /// The violation kinds that catch it: the fault counts as caught when one of them is
  /// reported. Exact checks name one; a bus-level bug that shows as whichever symptom the
  /// timing produces names each symptom.
  public let detectors: [ViolationKind]
  /// Other kinds the same bug may also (not must) trip.
  public let mayAlsoFire: [ViolationKind]
  /// How long its run lasts when shorter than the campaign's duration: a fault whose
  /// detector looks at the end of a run (a backlog left after the final barrier) is caught
  /// when its run ends, so the run is kept short enough to end within the target.
  public var runSeconds: Double?

  /// Whether a run that reported the kinds named `kinds` caught the fault.
  public func isCaught(by kinds: [String]) -> Bool {
    detectors.contains { kinds.contains($0.rawValue) }
  }

  /// The command line after `stress` for one run of the fault at `rate` (or at `every`
  /// when given, for faults with a rate option) on `flavor`.
  public func commandLine(
    flavor chosen: FlavorChoice, duration: Double, seed: UInt64, every: Int? = nil
  ) -> [String] {
    var line = [command] + arguments
    if let every, let option = line.firstIndex(of: "--fault-every") {
      line[option + 1] = String(every)
    }
    return line + [
      "--flavor", (flavor ?? chosen).rawValue, "--duration",
      String(min(duration, runSeconds ?? duration)), "--seed",
      String(seed),
    ]
  }

  /// Whether the fault has a `--fault-every` rate that can be changed.
  public var hasEvery: Bool { arguments.contains("--fault-every") }
}

extension FaultCatalogue {
  /// The catalogue as a table, for `stress faults --list` and the README.
  public static var text: String { text(of: all) }

  /// The entries `faults` as `stress faults --list` prints them (with `--only`, the
  /// entries it selects).
  public static func text(of faults: [CatalogueFault]) -> String {
    faults.map { fault in
      "\(fault.id): \(fault.summary)\n    injected by \(fault.injectedBy), at \(fault.rate); "
        + "caught by \(fault.detectors.map(\.rawValue).joined(separator: " or "))"
        + (fault.mayAlsoFire.isEmpty
          ? "" : " (may also fire: \(fault.mayAlsoFire.map(\.rawValue).joined(separator: ", ")))")
        + "\n    stress \((fault.arguments.isEmpty ? [fault.command] : [fault.command] + fault.arguments).joined(separator: " "))"
        + (fault.flavor.map { " --flavor \($0.rawValue)" } ?? "")
    }.joined(separator: "\n")
  }
}
