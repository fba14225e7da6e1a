import HostSupport
import Testing
import VhostUser

/// Property tests with random input standing in for a fuzzer: whatever a back end sends,
/// decoding a reply ends in a value of the expected shape or a typed error, never a crash.
/// 20,000 random replies per expectation (well under a second).
struct ReplyFuzzTests {
  static let expectations: [(VhostUserRequest, VhostUserReply.Expectation)] = [
    (.getFeatures, .u64), (.getVringBase, .vringState(queue: 1)), (.getConfig, .config(size: 36)),
  ]

  @Test(arguments: 0..<expectations.count)
  func randomRepliesDecodeOrThrowTyped(_ index: Int) {
    let (request, expecting) = Self.expectations[index]
    var random = SplitMix64(seed: 0xF0_0D + UInt64(index))
    var decoded = 0
    var refused = 0
    for _ in 0..<20_000 {
      let message = Self.randomReply(for: request, using: &random)
      let descriptors = random.next() % 8 == 0 ? 1 : 0
      do {
        let value = try VhostUserReply.decode(
          message: message, descriptors: descriptors, for: request, expecting: expecting)
        decoded += 1
        #expect(descriptors == 0)
        switch (value, expecting) {
        case (.u64, .u64): #expect(message.count == 20)
        case (.vringState(let number), .vringState): #expect(number <= UInt32(UInt16.max))
        case (.config(let space), .config(let size)): #expect(space.count == size)
        default: Issue.record("\(value) decoded for \(expecting)")
        }
      } catch {
        guard case .malformedReply(let failed, _) = error, failed == request else {
          Issue.record("unexpected error \(error)")
          continue
        }
        refused += 1
      }
    }
    // Both outcomes happen: the generator reaches the decoder's every branch.
    #expect(decoded > 100)
    #expect(refused > 100)
  }

  /// A reply that is often well formed in its header (to reach the payload checks), with
  /// random sizes, codes, flags and bytes otherwise.
  static func randomReply(for request: VhostUserRequest, using random: inout SplitMix64) -> [UInt8]
  {
    let payloadSizes: [Int] = [0, 7, 8, 9, 12, 47, 48, 49, 600]
    let payload =
      Int(random.next() % 3) == 0
      ? Int(random.next() % 64) : payloadSizes[Int(random.next() % UInt64(payloadSizes.count))]
    var bytes = LittleEndianTestBytes()
    let wellFormed = random.next() % 4 != 0
    bytes.append32(wellFormed ? request.rawValue : UInt32(truncatingIfNeeded: random.next() % 40))
    bytes.append32(wellFormed ? 0x5 : UInt32(truncatingIfNeeded: random.next()))
    let announced =
      random.next() % 8 == 0 ? UInt32(truncatingIfNeeded: random.next()) : UInt32(payload)
    bytes.append32(announced)
    for _ in 0..<payload { bytes.bytes.append(UInt8(truncatingIfNeeded: random.next())) }
    if payload >= 8, random.next() % 2 == 0 {
      // A plausible vring state for queue 1, or a config header announcing 36 bytes.
      bytes.bytes.replaceSubrange(12..<16, with: [1, 0, 0, 0])
      if payload >= 12 { bytes.bytes.replaceSubrange(16..<20, with: [36, 0, 0, 0]) }
      if random.next() % 2 == 0 { bytes.bytes.replaceSubrange(18..<20, with: [0, 0]) }
    }
    if random.next() % 16 == 0 { bytes.bytes = Array(bytes.bytes.prefix(Int(random.next() % 12))) }
    return bytes.bytes
  }
}

/// Little-endian bytes for building test messages.
struct LittleEndianTestBytes {
  var bytes: [UInt8] = []

  mutating func append32(_ value: UInt32) {
    for shift in stride(from: 0, to: 32, by: 8) {
      bytes.append(UInt8(truncatingIfNeeded: value >> shift))
    }
  }
}
