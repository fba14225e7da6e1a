import ConcurrentBus
import RCU

/// libFuzzer entry point: the input is a program of bus operations, run on a fresh bus and on
/// ``BusModel``; any disagreement traps, which libFuzzer records as a crash with the input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
  guard let data, size > 0 else { return 0 }
  var input = FuzzInput(UnsafeBufferPointer(start: data, count: size))
  // The first byte: bit 0 picks the space; bits 1-3 all set (1 input in 8) limit the bus
  // to 2-8 entries (bits 4-7), so tableFull is reached.
  let setup = input.byte()
  var harness = Harness(
    space: setup & 1 == 0 ? .mmio : .portIO,
    limit: setup & 0x0E == 0x0E ? Int(setup >> 4) % 7 + 2 : .max)
  var steps = 0
  while !input.isEmpty, steps < 256 {
    harness.step(&input)
    steps += 1
  }
  harness.check()
  LeakCheck.add(harness.bus)
  return 0
}

/// Every retired snapshot must be reclaimed once deferred work has run. Waiting for that
/// (an rcu_barrier, about 10 ms: liburcu's callback thread naps between batches) after
/// every input would cap the fuzzer near 100 inputs/s, so buses are checked in groups; a
/// failure names the group, and the inputs are in the crash's libFuzzer log.
enum LeakCheck {
  nonisolated(unsafe) static var pending: [IOBus<MembRCU>] = []

  static func add(_ bus: IOBus<MembRCU>) {
    pending.append(bus)
    if pending.count >= 128 { drain() }
  }

  static func drain() {
    MembRCU.barrier()
    for bus in pending where bus.retiredSnapshots != 0 || !bus.reclamationBacklog.isEmpty {
      mismatch(
        "\(bus.retiredSnapshots) snapshots never reclaimed, backlog \(bus.reclamationBacklog) (in the last \(pending.count) inputs)"
      )
    }
    pending.removeAll()
  }
}

/// Reads fixed-width values from the fuzzer's bytes; past the end everything is zero.
struct FuzzInput {
  let bytes: UnsafeBufferPointer<UInt8>
  var offset = 0

  init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

  var isEmpty: Bool { offset >= bytes.count }

  mutating func byte() -> UInt8 {
    guard offset < bytes.count else { return 0 }
    defer { offset += 1 }
    return bytes[offset]
  }

  mutating func u64() -> UInt64 {
    var value: UInt64 = 0
    for _ in 0..<8 { value = value << 8 | UInt64(byte()) }
    return value
  }

  /// Addresses that collide often: a small window, the top of port space or of the
  /// address space, or raw.
  mutating func address() -> UInt64 {
    let b = byte()
    switch b >> 6 {
    case 0, 1: return UInt64(b & 0x7f)
    case 2: return (b & 0x10 == 0 ? UInt64.max : 0xFFFF) - UInt64(b & 0x0f)
    default: return u64()
    }
  }

  mutating func length() -> UInt64 {
    let b = byte()
    switch b >> 5 {
    case 0: return 0
    case 1...5: return UInt64(b & 0x1f)
    case 6: return UInt64.max - UInt64(b & 0x1f)
    default: return u64()
    }
  }

  /// Any Int, weighted towards the interesting ones.
  mutating func size() -> Int {
    let b = byte()
    let table = [1, 2, 4, 8, 0, 3, 5, 6, 7, 9, 16, -1, -8, Int.max, Int.min]
    return b < 0xf0 ? table[Int(b) % table.count] : Int(truncatingIfNeeded: u64())
  }

  mutating func value() -> UInt64 {
    let b = byte()
    let table: [UInt64] = [
      0, 1, 2, 0xff, 0x100, 0xffff, 0x1_0000, 0xffff_ffff, 0x1_0000_0000, .max,
    ]
    return b < 0xf0 ? table[Int(b) % table.count] : u64()
  }
}

/// A device whose answers the model can predict, and which notes the vCPU index each access
/// reaches it with.
final class FuzzDevice: IODevice {
  let acceptsWrites: Bool
  let readValue: UInt64?
  /// The vCPU index of the latest access to any fuzz device (the fuzzer is one thread).
  nonisolated(unsafe) static var lastVCPU: Int?

  init(_ model: ModelDevice) {
    acceptsWrites = model.acceptsWrites
    readValue = model.readValue
  }

  func read(offset: UInt64, size: Int) -> UInt64? { mismatch("a read without its vCPU") }

  func write(offset: UInt64, size: Int, value: UInt64) -> Bool {
    mismatch("a write without its vCPU")
  }

  func read(offset: UInt64, size: Int, vcpu: Int) -> UInt64? {
    Self.lastVCPU = vcpu
    return readValue
  }

  func write(offset: UInt64, size: Int, value: UInt64, vcpu: Int) -> Bool {
    Self.lastVCPU = vcpu
    return acceptsWrites
  }
}

/// The model's view of a device.
struct ModelDevice: ModelledDevice {
  let acceptsWrites: Bool
  let readValue: UInt64?
  /// Set for ioeventfd registrations: each claimed write must add exactly 1 to it.
  let eventFD: EventFD?
}

func mismatch(_ message: @autoclosure () -> String) -> Never {
  fatalError("bus and model disagree: \(message())")
}

struct Harness {
  let bus: IOBus<MembRCU>
  var model: BusModel<ModelDevice>
  var removed: [Registration] = []
  /// Registrations of another bus, numbered as this bus numbers its own.
  let foreign: [Registration]
  /// The error of the first step of the update under way that failed, if any.
  var stepFailure: IOBusError?

  /// A bus of `space`, with an entry limit that makes `tableFull` reachable.
  init(space: IOAddressSpace, limit: Int = .max) {
    bus = IOBus(space: space, maximumEntries: limit)
    model = BusModel(bus: bus.identity, space: space, maximumEntries: limit)
    let other = IOBus(space: space)
    foreign = (0..<4).map { index in
      try! other.register(
        FuzzDevice(ModelDevice(acceptsWrites: false, readValue: nil, eventFD: nil)),
        base: UInt64(index) * 4, length: 4)
    }
  }

  mutating func step(_ input: inout FuzzInput) {
    let op = input.byte()
    switch op % 10 {
    case 0...5:
      single(&input, op: op)
    case 6:
      batch(&input)
    case 7:
      batchInsideReadSection(&input)
    default:
      dispatch(&input)
    }
  }

  /// Starts an update on the staged model.
  mutating func begin() -> BusModel<ModelDevice> {
    stepFailure = nil
    var staged = model
    staged.beginBatch()
    return staged
  }

  /// Holds the bus's outcome of an update to the model's: a failed step's error, else the
  /// error of the end state (or `otherwise`, the update's own refusal, when the end state is
  /// valid), else published.
  mutating func settle(
    _ thrown: IOBusError?, staged: BusModel<ModelDevice>, otherwise: IOBusError? = nil
  ) {
    let expected = stepFailure ?? staged.endStateError() ?? otherwise
    if thrown != expected {
      mismatch("update threw \(String(describing: thrown)), model \(String(describing: expected))")
    }
    if expected == nil { model = staged } else { model.abandon(batch: staged) }
  }

  /// One operation in its own update, like register/unregister/move do.
  mutating func single(_ input: inout FuzzInput, op: UInt8) {
    var staged = begin()
    var thrown: IOBusError?
    do {
      let deferred = op & 0x80 != 0
      try bus.update(reclaim: deferred ? .deferred({}) : .synchronous) {
        (tx: inout IOBusTransaction) throws(IOBusError) in
        _ = try apply(&input, op: op % 10, tx: &tx, model: &staged)
      }
    } catch {
      thrown = error
    }
    settle(thrown, staged: staged)
  }

  /// Up to eight operations in one batch, judged on the table it ends with (moves onto
  /// places the batch frees later, swaps, chains); with the low bit of the control byte
  /// set, the batch throws at the end on purpose, so nothing of it may reach the bus.
  mutating func batch(_ input: inout FuzzInput) {
    let control = input.byte()
    let count = Int(control >> 1) % 8 + 1
    let failOnPurpose = control & 1 == 1
    var staged = begin()
    var thrown: IOBusError?
    do {
      try bus.update { (tx: inout IOBusTransaction) throws(IOBusError) in
        for _ in 0..<count {
          _ = try apply(&input, op: input.byte(), tx: &tx, model: &staged)
        }
        if failOnPurpose { throw IOBusError.insideUpdate }
      }
    } catch {
      thrown = error
    }
    if failOnPurpose {
      // The body's own error comes first, whatever the end state would have been.
      if thrown != (stepFailure ?? .insideUpdate) {
        mismatch("a batch that threw: \(String(describing: thrown))")
      }
      model.abandon(batch: staged)
    } else {
      settle(thrown, staged: staged)
    }
    check()
  }

  /// Up to four operations in one batch started inside a read-side section, as from a
  /// device callback: everything goes through except a synchronous batch that removes a
  /// device, which must throw `insideReadSection` and change nothing.
  mutating func batchInsideReadSection(_ input: inout FuzzInput) {
    let control = input.byte()
    let count = Int(control >> 1) % 4 + 1
    let deferred = control & 1 == 1
    var staged = begin()
    var removedSomething = false
    let thrown: IOBusError? = MembRCU.withReadSection {
      do throws(IOBusError) {
        try bus.update(reclaim: deferred ? .deferred({}) : .synchronous) {
          (tx: inout IOBusTransaction) throws(IOBusError) in
          for _ in 0..<count {
            removedSomething =
              try apply(&input, op: input.byte(), tx: &tx, model: &staged)
              || removedSomething
          }
        }
        return nil
      } catch {
        return error
      }
    }
    // The end state is judged first; a valid one that removes a device synchronously is
    // refused for the wait it would need.
    settle(
      thrown, staged: staged,
      otherwise: !deferred && removedSomething ? .insideReadSection : nil)
    check()
  }

  /// Applies one operation to the transaction and the staged model; both must agree, and
  /// a failure of either aborts the batch. Returns whether it removed a device.
  mutating func apply(
    _ input: inout FuzzInput, op: UInt8, tx: inout IOBusTransaction,
    model staged: inout BusModel<ModelDevice>
  ) throws(IOBusError) -> Bool {
    let busResult: Result<Registration?, IOBusError>
    let modelResult: Result<Registration?, IOBusError>
    switch op % 6 {
    case 0:
      let base = input.address()
      let length = input.length()
      let flags = input.byte()
      let device = ModelDevice(
        acceptsWrites: flags & 1 == 0, readValue: flags & 2 == 0 ? input.value() : nil, eventFD: nil
      )
      busResult = Result { () throws(IOBusError) in
        try tx.register(FuzzDevice(device), base: base, length: length)
      }
      modelResult = Result { () throws(IOBusError) in
        try staged.register(device, base: base, length: length)
      }
    case 1, 2:
      let address = input.address()
      let size = input.size()
      let match: ValueMatch = input.byte() & 1 == 0 ? .any : .value(input.value())
      if op % 6 == 1 {
        let device = ModelDevice(acceptsWrites: input.byte() & 1 == 0, readValue: nil, eventFD: nil)
        busResult = Result { () throws(IOBusError) in
          try tx.register(FuzzDevice(device), address: address, size: size, match: match)
        }
        modelResult = Result { () throws(IOBusError) in
          try staged.register(device, address: address, size: size, match: match)
        }
      } else {
        guard let eventFD = try? EventFD() else { return false }
        let device = ModelDevice(acceptsWrites: true, readValue: nil, eventFD: eventFD)
        busResult = Result { () throws(IOBusError) in
          try tx.registerEventFD(eventFD, address: address, size: size, match: match)
        }
        modelResult = Result { () throws(IOBusError) in
          try staged.register(device, address: address, size: size, match: match)
        }
      }
    case 3, 4:
      let pick = Int(input.byte())
      let useRemoved = pick & 0x80 != 0 && !removed.isEmpty
      let candidates = useRemoved ? removed : staged.registrations
      guard !candidates.isEmpty else { return false }
      let registration = candidates[pick % candidates.count]
      if op % 6 == 3 {
        busResult = Result { () throws(IOBusError) in
          try tx.unregister(registration)
          return nil
        }
        modelResult = Result { () throws(IOBusError) in
          try staged.unregister(registration)
          return nil
        }
      } else {
        let address = input.address()
        busResult = Result { () throws(IOBusError) in try tx.move(registration, to: address) }
        modelResult = Result { () throws(IOBusError) in
          try staged.move(registration, to: address)
        }
      }
      if case .success = modelResult { removed.append(registration) }
    default:
      let registration = foreign[Int(input.byte()) % foreign.count]
      busResult = Result { () throws(IOBusError) in
        try tx.unregister(registration)
        return nil
      }
      modelResult = Result { () throws(IOBusError) in
        try staged.unregister(registration)
        return nil
      }
    }
    if busResult != modelResult { mismatch("\(busResult) vs model \(modelResult)") }
    if case .failure(let error) = modelResult {
      stepFailure = error
      throw error
    }
    return op % 6 == 3
  }

  /// A guest write and read at any address, size, value and vCPU index (hostile ones too):
  /// each device reached must see the index as passed.
  mutating func dispatch(_ input: inout FuzzInput) {
    let address = input.address()
    let size = input.size()
    let value = input.value() ^ (input.byte() == 0 ? 0 : input.u64())
    let vcpu = input.size()
    let expected = model.write(address: address, size: size, value: value)
    FuzzDevice.lastVCPU = nil
    let written = bus.write(address: address, size: size, value: value, vcpu: vcpu)
    if written != expected {
      mismatch("write(\(address), \(size), \(value)): \(written) vs model \(expected)")
    }
    if let seen = FuzzDevice.lastVCPU, seen != vcpu {
      mismatch("write as vCPU \(vcpu) reached a device as vCPU \(seen)")
    }
    if case .claimed(let id) = written,
      let eventFD = model.device(of: id)?.eventFD,
      eventFD.drain() != 1
    {
      mismatch("ioeventfd \(id) was not signalled exactly once")
    }
    FuzzDevice.lastVCPU = nil
    let read = bus.read(address: address, size: size, vcpu: vcpu)
    if let seen = FuzzDevice.lastVCPU, seen != vcpu {
      mismatch("read as vCPU \(vcpu) reached a device as vCPU \(seen)")
    }
    let expectedRead = model.read(address: address, size: size)
    if read != expectedRead {
      mismatch(
        "read(\(address), \(size)): \(String(describing: read)) vs model \(String(describing: expectedRead))"
      )
    }
  }

  func check() {
    if bus.registrations != model.registrations {
      mismatch("registrations \(bus.registrations) vs model \(model.registrations)")
    }
  }
}
