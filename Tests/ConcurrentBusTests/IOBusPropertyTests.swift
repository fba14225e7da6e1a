import BusModel
import ConcurrentBus
import RCU
import Testing

/// Random operation sequences, replayable by seed: after every operation the bus must hold
/// the same registrations as ``BusModel`` and answer every probe the same way.
@Suite("IOBus against its model")
struct IOBusPropertyTests {
  enum Operation {
    case range(base: UInt64, length: UInt64, accepts: Bool)
    case valueMatch(address: UInt64, size: Int, match: ValueMatch, accepts: Bool)
    case unregister(pick: Int, stale: Bool)
    case move(pick: Int, to: UInt64, stale: Bool)
    /// Unregisters a registration another bus issued (with numbers this bus uses too).
    case foreign(pick: Int)
  }

  /// Small windows (near 0, the end of port space and the end of 2^64), so that overlaps,
  /// collisions, fall-through and the edges of both address spaces are common.
  static func randomAddress(_ rng: inout SeededGenerator) -> UInt64 {
    switch Int.random(in: 0..<4, using: &rng) {
    case 0, 1: .random(in: 0..<96, using: &rng)
    case 2: 0xFFFF - .random(in: 0..<16, using: &rng)
    default: .max - .random(in: 0..<16, using: &rng)
    }
  }

  static func randomOperation(_ rng: inout SeededGenerator) -> Operation {
    let accepts = Int.random(in: 0..<5, using: &rng) != 0
    switch Int.random(in: 0..<12, using: &rng) {
    case 0..<3:
      let length: UInt64 = [0, 1, 2, 4, 8, 16, 24, .max].randomElement(using: &rng)!
      return .range(base: randomAddress(&rng), length: length, accepts: accepts)
    case 3..<7:
      let size = [0, 1, 2, 4, 8, 3].randomElement(using: &rng)!
      let match: ValueMatch =
        Bool.random(using: &rng)
        ? .any : .value([0, 1, 2, 0xFF, 0x1_0000, .max].randomElement(using: &rng)!)
      return .valueMatch(address: randomAddress(&rng), size: size, match: match, accepts: accepts)
    case 7, 8:
      return .move(
        pick: .random(in: 0..<1000, using: &rng), to: randomAddress(&rng),
        stale: Int.random(in: 0..<6, using: &rng) == 0)
    case 9:
      return .foreign(pick: .random(in: 0..<1000, using: &rng))
    default:
      return .unregister(
        pick: .random(in: 0..<1000, using: &rng), stale: Int.random(in: 0..<6, using: &rng) == 0)
    }
  }

  struct Harness {
    let bus: IOBus<MembRCU>
    var model: BusModel<RecordingDevice>
    var stale: [Registration] = []
    /// Registrations of another bus of the same space, numbered from 1 as this one's are.
    let foreign: [Registration]

    init(space: IOAddressSpace, maximumEntries: Int = .max) throws {
      bus = IOBus(space: space, maximumEntries: maximumEntries)
      model = BusModel(bus: bus.identity, space: space, maximumEntries: maximumEntries)
      let other = IOBus(space: space)
      foreign = try (0..<4).map { index in
        try other.register(RecordingDevice("other"), base: UInt64(index) * 8, length: 8)
      }
    }

    mutating func apply(
      _ operation: IOBusPropertyTests.Operation, in tx: inout IOBusTransaction,
      model: inout BusModel<RecordingDevice>
    ) -> (Result<Registration?, IOBusError>, Result<Registration?, IOBusError>) {
      switch operation {
      case .range(let base, let length, let accepts):
        let device = RecordingDevice(
          "range", acceptsWrites: accepts, readValue: base &* 31 &+ length)
        return (
          Result { () throws(IOBusError) in try tx.register(device, base: base, length: length) },
          Result { () throws(IOBusError) in try model.register(device, base: base, length: length) }
        )
      case .valueMatch(let address, let size, let match, let accepts):
        let device = RecordingDevice("match", acceptsWrites: accepts)
        return (
          Result { () throws(IOBusError) in
            try tx.register(device, address: address, size: size, match: match)
          },
          Result { () throws(IOBusError) in
            try model.register(device, address: address, size: size, match: match)
          }
        )
      case .unregister(let pick, let useStale):
        let candidates = useStale ? stale : model.registrations
        guard !candidates.isEmpty else { return (.success(nil), .success(nil)) }
        let registration = candidates[pick % candidates.count]
        let busResult = Result { () throws(IOBusError) -> Registration? in
          try tx.unregister(registration)
          return nil
        }
        let modelResult = Result { () throws(IOBusError) -> Registration? in
          try model.unregister(registration)
          return nil
        }
        if case .success = modelResult { stale.append(registration) }
        return (busResult, modelResult)
      case .move(let pick, let address, let useStale):
        let candidates = useStale ? stale : model.registrations
        guard !candidates.isEmpty else { return (.success(nil), .success(nil)) }
        let registration = candidates[pick % candidates.count]
        let busResult = Result { () throws(IOBusError) -> Registration? in
          try tx.move(registration, to: address)
        }
        let modelResult = Result { () throws(IOBusError) -> Registration? in
          try model.move(registration, to: address)
        }
        if case .success = modelResult { stale.append(registration) }
        return (busResult, modelResult)
      case .foreign(let pick):
        let registration = foreign[pick % foreign.count]
        return (
          Result { () throws(IOBusError) -> Registration? in
            try tx.unregister(registration)
            return nil
          },
          Result { () throws(IOBusError) -> Registration? in
            try model.unregister(registration)
            return nil
          }
        )
      }
    }

    /// Applies a batch to the bus and the model; the first failing step aborts both, and
    /// otherwise the bus must throw what the model says of the end state (or publish it).
    /// Returns what the bus threw.
    @discardableResult
    mutating func batch(_ operations: [IOBusPropertyTests.Operation]) -> IOBusError? {
      var staged = model
      staged.beginBatch()
      var firstFailure: IOBusError?
      var mismatch: String?
      do {
        try bus.update { (tx: inout IOBusTransaction) throws(IOBusError) in
          for operation in operations {
            let (busResult, modelResult) = apply(operation, in: &tx, model: &staged)
            if "\(busResult)" != "\(modelResult)" {
              mismatch = "\(operation): bus \(busResult), model \(modelResult)"
            }
            if case .failure(let error) = modelResult {
              firstFailure = error
              throw error
            }
          }
        }
        #expect(staged.endStateError() == nil, "the bus published an end state the model refuses")
        model = staged
        #expect(mismatch == nil)
        return nil
      } catch {
        #expect(error == firstFailure ?? staged.endStateError(), "\(operations)")
        model.abandon(batch: staged)
        #expect(mismatch == nil)
        return error
      }
    }

    func check(_ rng: inout SeededGenerator, step: Int, seed: UInt64) {
      #expect(bus.registrations == model.registrations, "seed \(seed) step \(step)")
      for _ in 0..<64 {
        let address =
          Int.random(in: 0..<8, using: &rng) == 0
          ? 0x1_0000 + .random(in: 0..<8, using: &rng) : IOBusPropertyTests.randomAddress(&rng)
        let size = [1, 2, 3, 4, 5, 6, 7, 8, 0, 9, -1].randomElement(using: &rng)!
        let value: UInt64 = [0, 1, 2, 0xFF, 0x1FF, 0x1_0000, .max].randomElement(using: &rng)!
        let written = bus.write(address: address, size: size, value: value)
        let expected = model.write(address: address, size: size, value: value)
        #expect(
          written == expected,
          "seed \(seed) step \(step): write(0x\(String(address, radix: 16)), \(size), \(value))")
        #expect(
          bus.read(address: address, size: size) == model.read(address: address, size: size),
          "seed \(seed) step \(step): read")
      }
    }
  }

  @Test(
    "random single operations and batches agree with the model (odd seeds MMIO, even port I/O)",
    arguments: 1...24)
  func agreesWithModel(seed: UInt64) throws {
    var rng = SeededGenerator(seed: seed)
    var harness = try Harness(space: seed % 2 == 1 ? .mmio : .portIO)
    for step in 0..<120 {
      let batchSize =
        Int.random(in: 0..<8, using: &rng) == 0 ? Int.random(in: 2...5, using: &rng) : 1
      harness.batch((0..<batchSize).map { _ in Self.randomOperation(&rng) })
      harness.check(&rng, step: step, seed: seed)
    }
    MembRCU.barrier()
    #expect(harness.bus.retiredSnapshots == 0)
  }
}
