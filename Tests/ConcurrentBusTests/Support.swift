import BusModel
import ConcurrentBus
import Foundation
import HostSupport
import RCU
import Synchronization

/// A small, seedable generator (SplitMix64) so that every random test can be replayed.
struct SeededGenerator: RandomNumberGenerator {
  private var state: UInt64

  init(seed: UInt64) { state = seed }

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

/// A device that records what reaches it and accepts or declines as configured.
final class RecordingDevice: IODevice {
  let name: String
  let acceptsWrites: Bool
  let readValue: UInt64?
  private let writes = Atomic<Int>(0)
  private let reads = Atomic<Int>(0)
  private let lastWrite = Mutex<(offset: UInt64, size: Int, value: UInt64)?>(nil)

  init(_ name: String, acceptsWrites: Bool = true, readValue: UInt64? = 0xAB) {
    self.name = name
    self.acceptsWrites = acceptsWrites
    self.readValue = readValue
  }

  var writeCount: Int { writes.load(ordering: .relaxed) }
  var readCount: Int { reads.load(ordering: .relaxed) }
  var lastWriteSeen: (offset: UInt64, size: Int, value: UInt64)? {
    lastWrite.withLock {
      SanitizerHandoff.acquire(self)
      defer { SanitizerHandoff.release(self) }
      return $0
    }
  }

  func read(offset: UInt64, size: Int) -> UInt64? {
    reads.add(1, ordering: .relaxed)
    return readValue
  }

  func write(offset: UInt64, size: Int, value: UInt64) -> Bool {
    writes.add(1, ordering: .relaxed)
    lastWrite.withLock {
      SanitizerHandoff.acquire(self)
      defer { SanitizerHandoff.release(self) }
      $0 = (offset, size, value)
    }
    return acceptsWrites
  }
}

extension RecordingDevice: ModelledDevice {}

/// Runs `body` on `count` real threads at once and waits for all of them.
func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
  let group = DispatchGroup()
  for index in 0..<count {
    group.enter()
    Thread {
      body(index)
      group.leave()
    }.start()
  }
  group.wait()
}

/// A Mutex-protected value that escaping closures (device callbacks, threads) can share.
final class Locked<Value: Sendable>: Sendable {
  private let mutex: Mutex<Value>

  init(_ value: Value) { mutex = Mutex(value) }

  func withLock<Result>(_ body: (inout Value) -> Result) -> Result {
    mutex.withLock { value in
      SanitizerHandoff.acquire(self)
      defer { SanitizerHandoff.release(self) }
      return body(&value)
    }
  }

  var value: Value { withLock { $0 } }
}
