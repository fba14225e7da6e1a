import ConcurrentBus
import RCU
import Testing

/// Every caller mistake is a typed error and leaves the bus exactly as it was.
@Suite("IOBus errors")
struct IOBusErrorTests {
  /// A bus with a little of everything, and a fingerprint of how it answers.
  struct Fixture {
    let bus = IOBus()
    let window: Registration
    let notifier: Registration
    let anySize: Registration

    init() throws {
      window = try bus.register(RecordingDevice("window"), base: 0x1000, length: 0x100)
      notifier = try bus.register(
        RecordingDevice("notifier"), address: 0x1010, size: 2, match: .value(3))
      anySize = try bus.register(RecordingDevice("any"), address: 0x2000, size: 0, match: .any)
    }

    func fingerprint() -> [String] {
      var answers = bus.registrations.map(\.description)
      for address: UInt64 in [0xFFF, 0x1000, 0x1010, 0x10FF, 0x1100, 0x2000, 0x3000] {
        for size in [1, 2, 4, 8] {
          answers.append("\(bus.write(address: address, size: size, value: 3))")
          answers.append("\(String(describing: bus.read(address: address, size: size)))")
        }
      }
      return answers
    }
  }

  typealias Mistake = @Sendable (inout IOBusTransaction, Fixture) throws(IOBusError) -> Void

  static let mistakes: [(String, IOBusError?, Mistake)] = [
    (
      "empty range", .emptyRange,
      { tx, _ throws(IOBusError) in
        _ = try tx.register(RecordingDevice("x"), base: 0x5000, length: 0)
      }
    ),
    (
      "wrapping range", .rangeWrapsAround(base: .max - 1, length: 3),
      { tx, _ throws(IOBusError) in
        _ = try tx.register(RecordingDevice("x"), base: .max - 1, length: 3)
      }
    ),
    (
      "overlap at the start", nil,
      { tx, _ throws(IOBusError) in
        _ = try tx.register(RecordingDevice("x"), base: 0xF00, length: 0x101)
      }
    ),
    (
      "overlap at the end", nil,
      { tx, _ throws(IOBusError) in
        _ = try tx.register(RecordingDevice("x"), base: 0x10FF, length: 1)
      }
    ),
    (
      "overlap inside", nil,
      { tx, _ throws(IOBusError) in
        _ = try tx.register(RecordingDevice("x"), base: 0x1080, length: 4)
      }
    ),
    (
      "bad size 3", .invalidSize(3),
      { tx, _ throws(IOBusError) in
        _ = try tx.register(RecordingDevice("x"), address: 0x10, size: 3, match: .any)
      }
    ),
    (
      "bad size -1", .invalidSize(-1),
      { tx, _ throws(IOBusError) in
        _ = try tx.register(RecordingDevice("x"), address: 0x10, size: -1, match: .any)
      }
    ),
    (
      "value with size 0", .valueMatchNeedsSize,
      { tx, _ throws(IOBusError) in
        _ = try tx.register(RecordingDevice("x"), address: 0x10, size: 0, match: .value(1))
      }
    ),
    (
      "value too wide", .valueTooWide(value: 0x100, size: 1),
      { tx, _ throws(IOBusError) in
        _ = try tx.register(RecordingDevice("x"), address: 0x10, size: 1, match: .value(0x100))
      }
    ),
    (
      "match wraps", .rangeWrapsAround(base: .max, length: 2),
      { tx, _ throws(IOBusError) in
        _ = try tx.register(RecordingDevice("x"), address: .max, size: 2, match: .any)
      }
    ),
    (
      "collision: equal value", nil,
      { tx, _ throws(IOBusError) in
        _ = try tx.register(RecordingDevice("x"), address: 0x1010, size: 2, match: .value(3))
      }
    ),
    (
      "collision: new .any", nil,
      { tx, _ throws(IOBusError) in
        _ = try tx.register(RecordingDevice("x"), address: 0x1010, size: 2, match: .any)
      }
    ),
    (
      "collision: new size 0", nil,
      { tx, _ throws(IOBusError) in
        _ = try tx.register(RecordingDevice("x"), address: 0x1010, size: 0, match: .any)
      }
    ),
    (
      "collision: existing size 0", nil,
      { tx, _ throws(IOBusError) in
        _ = try tx.register(RecordingDevice("x"), address: 0x2000, size: 4, match: .value(1))
      }
    ),
    (
      "unknown registration", nil,
      { tx, _ throws(IOBusError) in
        try tx.unregister(
          Registration(id: RegistrationID(rawValue: 1000), kind: .range(base: 0, length: 1)))
      }
    ),
    (
      "registration with a forged kind", nil,
      { tx, f throws(IOBusError) in
        try tx.unregister(Registration(id: f.window.id, kind: .range(base: 0x1000, length: 0x10)))
      }
    ),
    (
      "double unregister in one batch", nil,
      { tx, f throws(IOBusError) in
        try tx.unregister(f.window)
        try tx.unregister(f.window)
      }
    ),
    (
      "good operations, then a bad one", .emptyRange,
      { tx, f throws(IOBusError) in
        try tx.unregister(f.notifier)
        _ = try tx.register(RecordingDevice("y"), base: 0x8000, length: 8)
        _ = try tx.register(RecordingDevice("z"), base: 0x9000, length: 0)
      }
    ),
  ]

  @Test("each mistake throws its typed error and changes nothing", arguments: 0..<mistakes.count)
  func mistakeChangesNothing(index: Int) throws {
    let (name, expected, mistake) = Self.mistakes[index]
    let fixture = try Fixture()
    let before = fixture.fingerprint()
    var thrown: IOBusError?
    do {
      try fixture.bus.update { (tx: inout IOBusTransaction) throws(IOBusError) in
        try mistake(&tx, fixture)
      }
    } catch {
      thrown = error
    }
    let error = try #require(thrown, "\(name) did not throw")
    if let expected { #expect(error == expected, "\(name)") }
    switch error {
    case .overlapsExisting(let existing):
      #expect(existing == fixture.window, "\(name) names the window")
    case .collidesWith(let existing):
      #expect([fixture.notifier, fixture.anySize].contains(existing), "\(name)")
    default: break
    }
    #expect(fixture.fingerprint() == before, "\(name) changed the bus")
    MembRCU.barrier()
    #expect(fixture.bus.retiredSnapshots == 0)
  }

  @Test("identifiers handed out by a failed batch are never reused")
  func failedBatchIdentifiers() throws {
    let bus = IOBus()
    var abandoned: Registration?
    #expect(throws: IOBusError.emptyRange) {
      try bus.update { (tx: inout IOBusTransaction) throws(IOBusError) in
        abandoned = try tx.register(RecordingDevice("a"), base: 0, length: 8)
        _ = try tx.register(RecordingDevice("b"), base: 8, length: 0)
      }
    }
    let next = try bus.register(RecordingDevice("c"), base: 0, length: 8)
    #expect(next.id != abandoned?.id)
    #expect(throws: IOBusError.unknownRegistration(try #require(abandoned))) {
      try bus.unregister(try #require(abandoned))
    }
  }
}
