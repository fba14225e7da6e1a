import ConcurrentBus
import RCU
import Testing

/// Every caller mistake is a typed error and leaves the bus exactly as it was.
@Suite("IOBus errors")
struct IOBusErrorTests {
  /// A bus with a little of everything, and a fingerprint of how it answers; beside it
  /// another bus whose registrations share the fixture's numbers and kinds.
  struct Fixture: Sendable {
    let bus: IOBus<MembRCU>
    let other: IOBus<MembRCU>
    let window: Registration
    let notifier: Registration
    /// A size-0 match on MMIO; a size-1 `.any` match on port I/O (which refuses size 0).
    let anySize: Registration
    /// `other`'s registration with the window's number and kind.
    let otherWindow: Registration

    init(space: IOAddressSpace) throws {
      bus = IOBus(space: space)
      other = IOBus(space: space)
      window = try bus.register(RecordingDevice("window"), base: 0x1000, length: 0x100)
      otherWindow = try other.register(RecordingDevice("window"), base: 0x1000, length: 0x100)
      notifier = try bus.register(
        RecordingDevice("notifier"), address: 0x1010, size: 2, match: .value(3))
      anySize = try bus.register(
        RecordingDevice("any"), address: 0x2000, size: space == .mmio ? 0 : 1, match: .any)
    }

    func fingerprint() -> [String] {
      var answers = (bus.registrations + other.registrations).map(\.description)
      for address: UInt64 in [0xFFF, 0x1000, 0x1010, 0x10FF, 0x1100, 0x2000, 0x3000, 0x8000] {
        for size in 1...8 {
          answers.append("\(bus.write(address: address, size: size, value: 3))")
          answers.append("\(String(describing: bus.read(address: address, size: size)))")
        }
      }
      return answers
    }
  }

  typealias Mistake = @Sendable (inout IOBusTransaction, Fixture) throws -> Void

  /// Where a mistake is made: a plain batch on an MMIO or port-I/O bus, or a batch started
  /// from inside a read-side section (a device callback).
  enum Context: Sendable {
    case mmio, portIO, readSection
  }

  static let mistakes: [(String, Context, IOBusError?, Mistake)] = [
    (
      "empty range", .mmio, .emptyRange,
      { tx, _ in
        _ = try tx.register(RecordingDevice("x"), base: 0x5000, length: 0)
      }
    ),
    (
      "wrapping range", .mmio, .rangeWrapsAround(base: .max - 1, length: 3),
      { tx, _ in
        _ = try tx.register(RecordingDevice("x"), base: .max - 1, length: 3)
      }
    ),
    (
      "overlap at the start", .mmio, nil,
      { tx, _ in
        _ = try tx.register(RecordingDevice("x"), base: 0xF00, length: 0x101)
      }
    ),
    (
      "overlap at the end", .mmio, nil,
      { tx, _ in
        _ = try tx.register(RecordingDevice("x"), base: 0x10FF, length: 1)
      }
    ),
    (
      "overlap inside", .mmio, nil,
      { tx, _ in
        _ = try tx.register(RecordingDevice("x"), base: 0x1080, length: 4)
      }
    ),
    (
      "bad size 3", .mmio, .invalidSize(3),
      { tx, _ in
        _ = try tx.register(RecordingDevice("x"), address: 0x10, size: 3, match: .any)
      }
    ),
    (
      "bad size -1", .mmio, .invalidSize(-1),
      { tx, _ in
        _ = try tx.register(RecordingDevice("x"), address: 0x10, size: -1, match: .any)
      }
    ),
    (
      "value with size 0", .mmio, .valueMatchNeedsSize,
      { tx, _ in
        _ = try tx.register(RecordingDevice("x"), address: 0x10, size: 0, match: .value(1))
      }
    ),
    (
      "value too wide", .mmio, .valueTooWide(value: 0x100, size: 1),
      { tx, _ in
        _ = try tx.register(RecordingDevice("x"), address: 0x10, size: 1, match: .value(0x100))
      }
    ),
    (
      "match wraps", .mmio, .rangeWrapsAround(base: .max, length: 2),
      { tx, _ in
        _ = try tx.register(RecordingDevice("x"), address: .max, size: 2, match: .any)
      }
    ),
    (
      "collision: equal value", .mmio, nil,
      { tx, _ in
        _ = try tx.register(RecordingDevice("x"), address: 0x1010, size: 2, match: .value(3))
      }
    ),
    (
      "collision: new .any", .mmio, nil,
      { tx, _ in
        _ = try tx.register(RecordingDevice("x"), address: 0x1010, size: 2, match: .any)
      }
    ),
    (
      "collision: new size 0", .mmio, nil,
      { tx, _ in
        _ = try tx.register(RecordingDevice("x"), address: 0x1010, size: 0, match: .any)
      }
    ),
    (
      "collision: existing size 0", .mmio, nil,
      { tx, _ in
        _ = try tx.register(RecordingDevice("x"), address: 0x2000, size: 4, match: .value(1))
      }
    ),
    (
      "unknown registration", .mmio, nil,
      { tx, f in
        try tx.unregister(
          Registration(
            id: RegistrationID(rawValue: 1000), kind: .range(base: 0, length: 1),
            bus: f.bus.identity))
      }
    ),
    (
      "registration with a forged kind", .mmio, nil,
      { tx, f in
        try tx.unregister(
          Registration(
            id: f.window.id, kind: .range(base: 0x1000, length: 0x10), bus: f.bus.identity))
      }
    ),
    (
      "double unregister in one batch", .mmio, nil,
      { tx, f in
        try tx.unregister(f.window)
        try tx.unregister(f.window)
      }
    ),
    (
      "good operations, then a bad one", .mmio, .emptyRange,
      { tx, f in
        try tx.unregister(f.notifier)
        _ = try tx.register(RecordingDevice("y"), base: 0x8000, length: 8)
        _ = try tx.register(RecordingDevice("z"), base: 0x9000, length: 0)
      }
    ),
    (
      "value match ending exactly at 2^64", .mmio,
      .rangeWrapsAround(base: 0xFFFF_FFFF_FFFF_FFF8, length: 8),
      { tx, _ in
        _ = try tx.register(
          RecordingDevice("x"), address: 0xFFFF_FFFF_FFFF_FFF8, size: 8, match: .value(1))
      }
    ),
    (
      "port range past 0xFFFF", .portIO, .outsideAddressSpace(base: 0xFFF0, length: 0x11),
      { tx, _ in _ = try tx.register(RecordingDevice("x"), base: 0xFFF0, length: 0x11) }
    ),
    (
      "port match past 0xFFFF", .portIO, .outsideAddressSpace(base: 0xFFFF, length: 2),
      { tx, _ in _ = try tx.register(RecordingDevice("x"), address: 0xFFFF, size: 2, match: .any) }
    ),
    (
      "any-size match on port I/O", .portIO, .anySizeOnPortIO,
      { tx, _ in _ = try tx.register(RecordingDevice("x"), address: 0x80, size: 0, match: .any) }
    ),
    (
      "another bus's registration (same number and kind)", .mmio, nil,
      { tx, f in try tx.unregister(f.otherWindow) }
    ),
    (
      "moving another bus's registration", .portIO, nil,
      { tx, f in _ = try tx.move(f.otherWindow, to: 0x4000) }
    ),
    (
      "moving onto an overlapping range", .mmio, nil,
      { tx, f in
        _ = try tx.register(RecordingDevice("x"), base: 0x4000, length: 0x10)
        _ = try tx.move(f.window, to: 0x3FF8)
      }
    ),
    (
      "moving onto a colliding match", .mmio, nil,
      { tx, f in _ = try tx.move(f.notifier, to: 0x2000) }
    ),
    (
      "moving a range past 2^64", .mmio, .rangeWrapsAround(base: .max, length: 0x100),
      { tx, f in _ = try tx.move(f.window, to: .max) }
    ),
    (
      "moving a port range past 0xFFFF", .portIO, .outsideAddressSpace(base: 0xFF80, length: 0x100),
      { tx, f in _ = try tx.move(f.window, to: 0xFF80) }
    ),
    (
      "moving a registration already moved", .mmio, nil,
      { tx, f in
        _ = try tx.move(f.window, to: 0x4000)
        _ = try tx.move(f.window, to: 0x5000)
      }
    ),
    (
      "good moves, then a bad operation", .portIO, .emptyRange,
      { tx, f in
        _ = try tx.move(f.window, to: 0x4000)
        _ = try tx.move(f.notifier, to: 0x4010)
        _ = try tx.register(RecordingDevice("z"), base: 0x9000, length: 0)
      }
    ),
    (
      "the body's own error", .mmio, nil,
      { tx, f in
        try tx.unregister(f.window)
        throw CancellationError()
      }
    ),
    (
      "synchronous unregister inside a read-side section", .readSection, .insideReadSection,
      { tx, f in try tx.unregister(f.notifier) }
    ),
    (
      "synchronous batch that moves and removes inside a read-side section", .readSection,
      .insideReadSection,
      { tx, f in
        _ = try tx.move(f.window, to: 0x4000)
        _ = try tx.register(RecordingDevice("y"), base: 0x8000, length: 8)
        try tx.unregister(f.anySize)
      }
    ),
    (
      "calling the same bus from its update body", .mmio, .insideUpdate,
      { tx, f in
        try tx.unregister(f.notifier)
        _ = try f.bus.register(RecordingDevice("y"), base: 0x8000, length: 8)
      }
    ),
    (
      "calling another bus from an update body", .portIO, .insideUpdate,
      { tx, f in
        try tx.unregister(f.notifier)
        try f.other.unregister(f.otherWindow) {}
      }
    ),
  ]

  @Test("each mistake throws its typed error and changes nothing", arguments: 0..<mistakes.count)
  func mistakeChangesNothing(index: Int) throws {
    let (name, context, expected, mistake) = Self.mistakes[index]
    let fixture = try Fixture(space: context == .portIO ? .portIO : .mmio)
    let before = fixture.fingerprint()
    let batch = { () -> (any Error)? in
      do {
        try fixture.bus.update { tx in try mistake(&tx, fixture) }
        return nil
      } catch {
        return error
      }
    }
    let thrown = context == .readSection ? MembRCU.withReadSection(batch) : batch()
    let failure = try #require(thrown, "\(name) did not throw")
    if failure is CancellationError {
      #expect(name == "the body's own error")
    } else {
      let error = try #require(failure as? IOBusError, "\(name): \(failure)")
      if let expected { #expect(error == expected, "\(name)") }
      checkNamedRegistration(error, name: name, fixture: fixture)
    }
    #expect(fixture.fingerprint() == before, "\(name) changed the bus")
    MembRCU.barrier()
    #expect(fixture.bus.retiredSnapshots == 0)
  }

  /// Errors that name a registration name the right one; a conflict names only what the
  /// caller knows (registrations on the bus before the batch, or what the batch asked for),
  /// and involves something the batch did.
  func checkNamedRegistration(_ error: IOBusError, name: String, fixture: Fixture) {
    let known = [fixture.window, fixture.notifier, fixture.anySize]
    switch error {
    case .rangesOverlap(let first, let second), .matchesCollide(let first, let second):
      for entry in [first, second] {
        switch entry {
        case .registered(let registration), .moved(let registration, _):
          #expect(known.contains(registration), "\(name): \(entry)")
        case .new: break
        }
      }
      let bothRegistered: Bool
      if case .registered = first, case .registered = second {
        bothRegistered = true
      } else {
        bothRegistered = false
      }
      #expect(!bothRegistered, "\(name): two untouched registrations cannot conflict")
    case .registrationFromAnotherBus(let registration):
      #expect(registration == fixture.otherWindow, "\(name)")
    case .unknownRegistration(let registration):
      #expect(registration.bus == fixture.bus.identity, "\(name)")
    default: break
    }
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
