/// One workload whose cost per operation is counted under valgrind: a bus dispatch of a
/// design at a table size, an eventfd signal through the bus, a ring write, or the bus's
/// part of a KVM exit.
///
/// Written as text (`floor/64`, `eventfd`, `ring`, `exit/qsbr`) on the probe's command line,
/// in the baseline file and in reports.
public enum CountedWork: Hashable, Sendable {
  /// A 4-byte guest write dispatched by `design` over a table of `entries` ranges, addresses
  /// drawn as the read-side benchmark draws them; under qsbr a quiescent state every 64.
  case dispatch(CountedDesign, entries: Int)
  /// A guest write dispatched by the bus (memb) to one of 64 ioeventfd registrations, which
  /// writes its eventfd: the userspace part of the signal (the `write(2)` call, not the
  /// kernel's work).
  case eventFDSignal
  /// A guest write dispatched by the bus (memb) to a value ring registration: the
  /// producer's side (the ring never fills and never empties, so no wakeup).
  case ringWrite
  /// The bus's part of a KVM exit on `flavor`, as `BusExitHandler` runs it: the thread hooks
  /// around KVM_RUN (offline, online) and the port write's dispatch, behind 16 other
  /// eventfd registrations at the port, as `stress kvm --compare` sets it up.
  case exitBusPart(BenchFlavor)

  /// The table sizes the dispatch is counted at.
  public static let sizes = [16, 64, 1024, 10000]

  /// Every workload: each design at each size, then the eventfd signal, the ring write and
  /// the exit's bus part on each flavor.
  public static var all: [CountedWork] {
    CountedDesign.allCases.flatMap { design in sizes.map { .dispatch(design, entries: $0) } }
      + [.eventFDSignal, .ringWrite] + BenchFlavor.allCases.map { .exitBusPart($0) }
  }

  /// The set CI counts (17 of the 39): every design at 64 entries (each design's own read
  /// side), the floor, memb and qsbr at 16 and 10000 as well (the search, which every design
  /// shares, at both ends), the eventfd signal, the ring write, and the exit's bus part on
  /// qsbr.
  public static var continuousIntegration: [CountedWork] {
    CountedDesign.allCases.map { CountedWork.dispatch($0, entries: 64) }
      + [CountedDesign.floor, .memb, .qsbr].flatMap { design in
        [16, 10000].map { CountedWork.dispatch(design, entries: $0) }
      } + [.eventFDSignal, .ringWrite, .exitBusPart(.qsbr)]
  }

  /// What one operation of the workload is, for report headings.
  public var unit: String {
    switch self {
    case .dispatch: "dispatch"
    case .eventFDSignal: "signal"
    case .ringWrite: "write"
    case .exitBusPart: "exit"
    }
  }
}

extension CountedWork: LosslessStringConvertible {
  /// The workload's name: `DESIGN/ENTRIES`, `eventfd`, `ring` or `exit/FLAVOR`.
  public var description: String {
    switch self {
    case .dispatch(let design, let entries): "\(design.rawValue)/\(entries)"
    case .eventFDSignal: "eventfd"
    case .ringWrite: "ring"
    case .exitBusPart(let flavor): "exit/\(flavor.rawValue)"
    }
  }

  /// The workload named `description`, if it names one.
  public init?(_ description: String) {
    let parts = description.split(separator: "/", omittingEmptySubsequences: false)
    switch (parts.first.map(String.init), parts.count) {
    case ("eventfd", 1): self = .eventFDSignal
    case ("ring", 1): self = .ringWrite
    case ("exit", 2):
      guard let flavor = BenchFlavor(rawValue: String(parts[1])) else { return nil }
      self = .exitBusPart(flavor)
    case (let name?, 2):
      guard let design = CountedDesign(rawValue: name), let entries = Int(parts[1]),
        (1...100_000).contains(entries)
      else { return nil }
      self = .dispatch(design, entries: entries)
    default: return nil
    }
  }
}

extension CountedWork: Codable {
  /// Reads the workload's name.
  public init(from decoder: any Decoder) throws {
    let text = try decoder.singleValueContainer().decode(String.self)
    guard let work = CountedWork(text) else {
      throw DecodingError.dataCorrupted(
        .init(codingPath: decoder.codingPath, debugDescription: "no counted workload \(text)"))
    }
    self = work
  }

  /// Writes the workload's name.
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(description)
  }
}
