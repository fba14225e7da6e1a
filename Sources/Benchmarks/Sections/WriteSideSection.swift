import ConcurrentBus
import KVM

/// Write-side costs on one bus holding a VM's worth of devices: registrations and
/// unregisters one by one, ioeventfd registrations against KVM's own, and many registrations
/// in one batch against one by one.
///
/// A row is an ``Operation`` (timed one at a time) or a ``Registrations`` way (timed as a
/// whole), measured in ``measure(_:)``.
public struct WriteSideSection: BenchSection {
  /// The operations timed one at a time; each is a row, and its JSON key.
  public enum Operation: String, CaseIterable, Codable, Sendable {
    /// `register(_:base:length:)`: publishes, never waits for readers.
    case register
    /// A registration followed by a grace-period wait: what a per-registration
    /// `synchronize` (KVM before 2025) would cost.
    case registerSynchronous
    /// `unregister(_:)`: publishes, then waits for a grace period.
    case unregisterSynchronous
    /// `unregister(_:whenReleased:)`: publishes and returns; reclaims later.
    case unregisterDeferred
    /// `registerEventFD` on the bus, the userspace equivalent of a KVM_IOEVENTFD assign.
    case registerEventFD
    /// KVM_IOEVENTFD assign, when `/dev/kvm` could be opened.
    case kvmAssign
    /// KVM_IOEVENTFD deassign, likewise.
    case kvmDeassign

    var label: String {
      switch self {
      case .register: "register (deferred reclaim)"
      case .registerSynchronous: "register + grace period (synchronous)"
      case .unregisterSynchronous: "unregister, synchronous"
      case .unregisterDeferred: "unregister, deferred"
      case .registerEventFD: "registerEventFD"
      case .kvmAssign: "KVM_IOEVENTFD assign"
      case .kvmDeassign: "KVM_IOEVENTFD deassign"
      }
    }

    var caption: String {
      switch self {
      case .register: "register (snapshot reclaimed in the background)"
      case .registerSynchronous: "register + grace-period wait (synchronous)"
      case .unregisterSynchronous: "unregister, synchronous (waits for a grace period)"
      case .unregisterDeferred:
        "unregister, deferred (whenReleased callback; until the call returns)"
      case .registerEventFD: "registerEventFD on the bus"
      case .kvmAssign, .kvmDeassign: label
      }
    }
  }

  /// The ways of making all of the registrations, each timed as a whole (nanoseconds, one
  /// sample per round); the raw value is the JSON key.
  public enum Registrations: String, CaseIterable, Codable, Sendable {
    /// One `update` that registers them all.
    case batch = "batchNanos"
    /// One `register` call each.
    case singles = "singlesNanos"
    /// One `register` call each, each followed by a grace period.
    case singlesSynchronous = "singlesSynchronousNanos"

    var label: String {
      switch self {
      case .batch: "one batch"
      case .singles: "1000 single"
      case .singlesSynchronous: "1000 single synchronous"
      }
    }

    var caption: String {
      switch self {
      case .batch: "one batch (`update`)"
      case .singles: "1000 single `register` calls"
      case .singlesSynchronous: "1000 single registrations, each + grace period"
      }
    }
  }

  /// Operations of each kind (and registrations per way).
  public var count: Int
  /// Registrations on the bus before the measured ones (a VM's devices).
  public var preexisting: Int

  /// The section, timing `count` operations of each kind on a bus holding `preexisting`.
  public init(count: Int = 1000, preexisting: Int = 64) {
    self.count = count
    self.preexisting = preexisting
  }

  /// `write`.
  public var key: String { "write" }

  /// `write side`.
  public var title: String { "write side" }

  /// Measures on the calling thread, which registers as a memb reader (liburcu's `call_rcu`
  /// requires it).
  public func measure(_ settings: BenchSettings) throws -> WriteSideResults {
    MembRCU.registerCurrentThread()
    let device = NullDevice()
    func base(_ index: Int) -> UInt64 { BenchLayout.base(ofEntry: preexisting + 16 + index) }
    func freshBus() throws -> IOBus<MembRCU> {
      try BusTarget<MembRCU>(entries: preexisting).bus
    }
    func register(on bus: IOBus<MembRCU>, _ index: Int) throws -> Registration {
      try bus.register(device, base: base(index), length: BenchLayout.length)
    }

    var results = WriteSideResults(preexisting: preexisting, operations: count)
    let bus = try freshBus()
    // The first pass only warms up (allocator, page faults, liburcu's call_rcu thread), so the
    // operations measured later in the function are not favoured by running second.
    for pass in 0..<2 {
      let registered = try (0..<count).map { index in try timed { try register(on: bus, index) } }
      results.latencies[.register] = SampleSummary(nanos: registered.map(\.nanos))
      results.latencies[.unregisterSynchronous] = SampleSummary(
        nanos: try registered.map { entry in try timed { try bus.unregister(entry.value) }.nanos })
      if pass == 0 { MembRCU.barrier() }
    }
    let registered = try (0..<count).map { index in
      try timed {
        let registration = try register(on: bus, index)
        MembRCU.synchronize()
        return registration
      }
    }
    results.latencies[.registerSynchronous] = SampleSummary(nanos: registered.map(\.nanos))
    results.latencies[.unregisterDeferred] = SampleSummary(
      nanos: try registered.map { entry in try timed { try bus.unregister(entry.value) {} }.nanos })
    MembRCU.barrier()

    // The ways of registering alternate, each on a fresh bus of the same size.
    var totals: [Registrations: [Double]] = [:]
    for _ in 0..<settings.rounds {
      for way in Registrations.allCases {
        let fresh = try freshBus()
        let nanos = try timed {
          if way == .batch {
            try fresh.update { (tx: inout IOBusTransaction) throws(IOBusError) in
              for index in 0..<count {
                _ = try tx.register(device, base: base(index), length: BenchLayout.length)
              }
            }
          } else {
            for index in 0..<count {
              _ = try register(on: fresh, index)
              if way == .singlesSynchronous { MembRCU.synchronize() }
            }
          }
        }.nanos
        totals[way, default: []].append(Double(nanos))
      }
      MembRCU.barrier()
    }
    results.registrations = totals.mapValues(Spread.init)
    try measureEventFDRegistrations(into: &results)
    return results
  }

  /// ioeventfd registrations: the bus and KVM, same eventfds, same addresses, same run.
  private func measureEventFDRegistrations(into results: inout WriteSideResults) throws {
    let eventFDs = try (0..<count).map { _ in try EventFD() }
    func address(_ index: Int) -> UInt64 { 0xE000_0000 + UInt64(index) * 8 }
    let eventBus = IOBus()
    let registered = try eventFDs.enumerated().map { index, eventFD in
      try timed {
        _ = try eventBus.registerEventFD(eventFD, address: address(index), size: 4, match: .any)
      }.nanos
    }
    results.latencies[.registerEventFD] = SampleSummary(nanos: registered)
    do {
      let vm = try KVMSystem().createVirtualMachine()
      let assignments = eventFDs.enumerated().map { index, eventFD in
        IOEventFDAssignment(
          eventFD: eventFD.descriptor, address: address(index), length: 4, space: .mmio)
      }
      let assigned = try assignments.map { assignment in try timed { try vm.assign(assignment) } }
      let deassigned = try assignments.map { assignment in
        try timed { try vm.deassign(assignment) }
      }
      results.latencies[.kvmAssign] = SampleSummary(nanos: assigned.map(\.nanos))
      results.registerOverAssign = chunkRatios(registered, over: assigned.map(\.nanos))
      results.latencies[.kvmDeassign] = SampleSummary(nanos: deassigned.map(\.nanos))
    } catch {
      results.kvmUnavailableReason = "\(error)"
    }
    withExtendedLifetime(eventBus) {}
  }
}

extension WriteSideSection {
  /// A table of the operations, then the ways of registering.
  public func render(_ results: WriteSideResults) -> String {
    var text = ReportText(
      heading: "WRITE SIDE (\(results.operations) operations each, on a bus holding "
        + "\(results.preexisting) entries; us)")
    let columns: [TextColumn] = [.left(44), .right(9), .right(9), .right(9)]
    text.row(columns, "operation", "median", "mean", "p99")
    for operation in Operation.allCases {
      guard let summary = results.latencies[operation] else { continue }
      text.row(
        columns, operation.label, fixed(summary.median / 1000), fixed(summary.mean / 1000),
        fixed(summary.p99 / 1000))
    }
    if let reason = results.kvmUnavailableReason { text.line("KVM not measured: \(reason)") }
    text.line(
      "\(results.operations) registrations: "
        + Registrations.allCases.compactMap { way in
          results.registrations[way].map { "\(way.label) \(fixed($0.median / 1e6, 3)) ms" }
        }.joined(separator: "; "))
    return text.text
  }

  /// A batch beats single synchronous registrations 50 times; a registration costs less than
  /// KVM's.
  public func judge(_ results: WriteSideResults, settings: BenchSettings) -> [TargetVerdict] {
    var verdicts: [TargetVerdict] = []
    if let batch = results.registrations[.batch]?.median,
      let singles = results.registrations[.singles]?.median,
      let synchronous = results.registrations[.singlesSynchronous]?.median
    {
      // Per round: the ways alternate within each.
      let speedups = zip(
        results.registrations[.singlesSynchronous]!.samples, results.registrations[.batch]!.samples
      ).map { $0 / $1 }
      let speedup = Spread(speedups).median
      verdicts.append(
        Target(
          "batch of 1000 registrations >= 50x faster than 1000 single synchronous ones",
          .atLeast(50), margin: 10
        ).judge(
          rounds: speedups,
          figure: "\(fixed(speedup))x (\(fixed(batch / 1e6)) ms vs \(fixed(synchronous / 1e6)) "
            + "ms; vs 1000 plain register calls: \(fixed(singles / batch))x)"))
    }
    if let kvm = results.latencies[.kvmAssign]?.median,
      let bus = results.latencies[.registerEventFD]?.median,
      let ratios = results.registerOverAssign
    {
      verdicts.append(
        Target("one registration costs less than one KVM_IOEVENTFD assign", .below(1)).judge(
          rounds: ratios.samples,
          figure: "\(fixed(bus / 1000)) us vs \(fixed(kvm / 1000)) us (median); per "
            + "\(Self.chunk) registrations, median ratio \(fixed(ratios.median))x"))
    }
    return verdicts
  }

  /// The operations' latencies, and the ways of registering, as tables.
  public func figures(_ results: WriteSideResults, settings: BenchSettings) -> SectionFigures {
    SectionFigures(tables: [
      FigureTable(
        title: "Write side (\(results.operations) operations each; bus already holding "
          + "\(results.preexisting) entries; microseconds)",
        columns: ["operation", "median", "mean", "p99", "max"],
        rows: Operation.allCases.compactMap { operation in
          results.latencies[operation].map { summary in
            [operation.caption]
              + [summary.median, summary.mean, summary.p99, summary.max].map { fixed($0 / 1e3) }
          }
        }),
      FigureTable(
        title: nil, columns: ["\(results.operations) registrations", "median ms (min-max)"],
        rows: Registrations.allCases.compactMap { way in
          results.registrations[way].map { spread in
            [
              way.caption,
              "\(fixed(spread.median / 1e6, 3)) "
                + "(\(fixed(spread.min / 1e6, 3))-\(fixed(spread.max / 1e6, 3)))",
            ]
          }
        }),
    ])
  }
}

extension WriteSideSection {
  /// Registrations per chunk the bus and KVM are compared over.
  static let chunk = 50

  /// For each chunk of ``chunk`` operations (the i-th of `first` with the i-th of `second`:
  /// the same table size), the median of `first`'s over the median of `second`'s.
  func chunkRatios(_ first: [UInt64], over second: [UInt64]) -> Spread {
    Spread(
      stride(from: 0, to: min(first.count, second.count), by: Self.chunk).map { start in
        let end = min(start + Self.chunk, first.count, second.count)
        return SampleSummary(nanos: Array(first[start..<end])).median
          / SampleSummary(nanos: Array(second[start..<end])).median
      })
  }
}
