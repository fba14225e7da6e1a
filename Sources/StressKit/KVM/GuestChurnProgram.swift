import ConcurrentBus
import KVM
import KVMGuests

extension GuestChurn {
  /// The first port the program writes; each write access gets its own port or address.
  public static let portBase: UInt64 = 0x1000
  /// The first MMIO address the program writes.
  public static let mmioBase: UInt64 = 0xD000_0000
  /// Values per write access.
  static let valuesPerAccess = 8

  /// The program every vCPU runs: write accesses cycling PIO sizes 1/2/4 and MMIO sizes
  /// 1/2/4/8, eight values each, enough for `registeredKeys` registrations plus at least
  /// eight never-registered pairs; and one unclaimed port read and MMIO read.
  public static func program(iterations: Int, registeredKeys: Int) -> GuestProgram {
    let shapes: [(GuestAddressSpace, Int)] = [
      (.pio, 1), (.pio, 2), (.pio, 4), (.mmio, 1), (.mmio, 2), (.mmio, 4), (.mmio, 8),
    ]
    let needed = (registeredKeys + valuesPerAccess) / valuesPerAccess + 1
    let count = max(shapes.count, needed)
    var accesses: [GuestProgram.Access] = []
    for index in 0..<count {
      let (space, size) = shapes[index % shapes.count]
      let mask: UInt64 = size == 8 ? .max : (1 << (8 * UInt64(size))) - 1
      let values = (0..<valuesPerAccess).map {
        (UInt64($0 + 1) &* 0x0101_0101_0101_0101 &+ UInt64(index) << 4) & mask
      }
      switch space {
      case .pio:
        accesses.append(
          .portWrite(port: UInt16(portBase) + UInt16(index * 8), size: size, values: values))
      case .mmio:
        accesses.append(
          .mmioWrite(address: mmioBase + UInt64(index) * 0x100, size: size, values: values))
      }
    }
    accesses.append(.portRead(port: 0x2000, size: 4))
    accesses.append(.mmioRead(address: 0xD800_0000, size: 8))
    return GuestProgram(iterations: iterations, accesses: accesses)
  }

  /// Picks iterations so one round of every vCPU takes about 0.2 s (a tenth of a shorter
  /// run), timing a short all-exits run of the same program on one vCPU (with
  /// `sequencedWrites`, exiting too: no zone is registered), through the same exit handler
  /// (lingering included), then scaling by the share of the cores each vCPU gets.
  ///
  /// The probe starts with 10 iterations and takes 200 only when those took under 20 ms:
  /// beside two CPU hogs a vCPU thread (nice 10) ran 200 iterations in 6 s, the whole
  /// budget of a 2 s run.
  static func calibrate(
    system: KVMSystem, configuration: GuestChurnConfiguration, registeredKeys: Int,
    sequencedWrites: [GuestProgram.SequencedWrite] = []
  ) throws -> Int {
    var probeIterations = 10
    var elapsed = try probe(
      system: system, configuration: configuration, iterations: probeIterations,
      registeredKeys: registeredKeys, sequencedWrites: sequencedWrites)
    if elapsed < .milliseconds(20) {
      probeIterations = 200
      elapsed = try probe(
        system: system, configuration: configuration, iterations: probeIterations,
        registeredKeys: registeredKeys, sequencedWrites: sequencedWrites)
    }
    // A round of every vCPU takes about `target` when they share the cores: more vCPUs than
    // cores run their rounds in turn, so each gets a share of them. Short rounds keep the
    // last one from overrunning the run's end.
    let share = Double(RunLimits.cores) / Double(max(configuration.vcpus, RunLimits.cores))
    let target = min(Duration.milliseconds(200), configuration.duration / 10) * share
    let perIteration = max(elapsed / probeIterations, .nanoseconds(100))
    return max(1, Int((target / perIteration).rounded(.down)))
  }

  /// How long one vCPU takes to run `iterations` of the program, all exits.
  private static func probe(
    system: KVMSystem, configuration: GuestChurnConfiguration, iterations: Int,
    registeredKeys: Int, sequencedWrites: [GuestProgram.SequencedWrite]
  ) throws -> Duration {
    var probeProgram = program(iterations: iterations, registeredKeys: registeredKeys)
    probeProgram.sequencedWrites = sequencedWrites
    let probe = try GuestRun(system: system, programs: [probeProgram])
    let handler = CheckedExitHandler(
      buses: BusExitHandler(portBus: IOBus(space: .portIO), mmioBus: IOBus()),
      sections: SectionEpochs(vcpus: 1), vcpu: 0, seed: configuration.seed)
    return try probe.run(handlers: [handler])[0].elapsed
  }

  /// Unclaimed reads must reach the guest as all ones, truncated to the access size.
  static func checkReads(guest: GuestRun, program: GuestProgram, violations: Violations) {
    guard program.iterations > 0 else { return }
    for vcpu in guest.vcpus.indices {
      for (index, access) in program.accesses.enumerated() {
        let size: Int
        switch access {
        case .portRead(_, let s), .mmioRead(_, let s): size = s
        case .portWrite, .mmioWrite: continue
        }
        let expected: UInt64 = size == 8 ? .max : (1 << (8 * UInt64(size))) - 1
        let stored = (try? guest.readResult(vcpu: vcpu, access: index)) ?? 0
        if stored != expected {
          violations.record(
            .unclaimedReadValue,
            "vCPU \(vcpu) access \(index) read 0x\(String(stored, radix: 16)), expected 0x\(String(expected, radix: 16))"
          )
        }
      }
    }
  }
}
