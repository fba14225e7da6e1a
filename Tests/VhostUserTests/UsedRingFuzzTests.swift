import Glibc
import HostSupport
import Testing
import VhostUser

/// The used-ring reader against rings a hostile back end wrote: random indices and entries
/// in a page fenced by inaccessible pages on both sides, so a read outside guest memory
/// would crash the test. 20,000 random rings (well under a second).
struct UsedRingFuzzTests {
  @Test func randomRingsAreCheckedNeverFollowed() throws {
    let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    let mapping = try #require(
      mmap(nil, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
    defer { munmap(mapping, 3 * page) }
    mprotect(mapping, page, PROT_NONE)
    mprotect(mapping + 2 * page, page, PROT_NONE)
    let memory = GuestMemoryWindow(
      guestPhysicalAddress: 0x10_0000, size: UInt64(page), base: mapping + page)
    var random = SplitMix64(seed: 0x05ED)
    var outcomes: [String: Int] = [:]
    for _ in 0..<20_000 {
      let size = 1 << Int(random.next() % 5)
      let base = 0x10_0000 + (random.next() % UInt64(page / 16)) * 16
      for offset in stride(from: 0, to: page, by: 8) {
        (mapping + page + offset).storeBytes(of: random.next(), as: UInt64.self)
      }
      guard let layout = try? SplitQueueLayout(base: base, size: size) else {
        Issue.record("layout of \(size) at \(base)")
        continue
      }
      let consumed = UInt16(truncatingIfNeeded: random.next())
      if random.next() % 4 != 0, memory.contains(base, length: layout.byteCount) {
        // Mostly plausible: indices near the consumed one, ids near the queue's size.
        func put<T: FixedWidthInteger>(_ value: T, _ address: UInt64) {
          (mapping + page + Int(address - 0x10_0000)).storeBytes(of: value.littleEndian, as: T.self)
        }
        put(consumed &+ UInt16(random.next() % UInt64(size + 1)), layout.availableIndex)
        put(consumed &+ UInt16(random.next() % UInt64(size + 3)), layout.usedIndex)
        for slot in 0..<size {
          put(UInt32(random.next() % UInt64(size + 2)), layout.usedEntry(UInt16(slot)))
        }
      }
      do {
        var reader = try UsedRingReader(layout: layout, memory: memory, consumed: consumed)
        let before = reader.consumed
        let completions = try reader.takeCompletions()
        #expect(completions.allSatisfy { $0.id < UInt32(size) })
        #expect(completions.count == Int(reader.consumed &- before))
        #expect(completions.count <= size)
        outcomes["taken", default: 0] += 1
      } catch {
        outcomes[
          "\(error)".components(separatedBy: ":").first!.components(separatedBy: " ").prefix(3)
            .joined(separator: " "), default: 0] += 1
      }
    }
    // Rings inside and outside memory, index jumps and bad descriptors were all reached.
    #expect(outcomes["taken", default: 0] > 100)
    #expect(outcomes.count >= 4, "\(outcomes)")
  }

  @Test func theWindowRefusesEveryByteOutside() {
    var bytes = [UInt8](repeating: 0xAB, count: 64)
    bytes.withUnsafeMutableBytes { buffer in
      let window = GuestMemoryWindow(
        guestPhysicalAddress: 0x1000, size: 64, base: buffer.baseAddress!)
      #expect(window.load16(0x1000) == 0xABAB)
      #expect(window.load16(0x103E) == 0xABAB)
      #expect(window.load16(0x1040) == nil)
      #expect(window.load32(0x103E) == nil)
      #expect(window.load32(0xFFC) == nil)
      #expect(window.load32(UInt64.max - 1) == nil)
      #expect(window.store32(1, at: 0x1040) == false)
      #expect(window.load16(0x1001) == nil, "unaligned")
    }
  }

  @Test func aDuplicatedCompletionIsRefused() throws {
    var bytes = [UInt8](repeating: 0, count: 4096)
    try bytes.withUnsafeMutableBytes { buffer in
      let window = GuestMemoryWindow(guestPhysicalAddress: 0, size: 4096, base: buffer.baseAddress!)
      let layout = try SplitQueueLayout(base: 0, size: 16)
      var reader = try UsedRingReader(layout: layout, memory: window)
      // One request available; the back end publishes two completions of it.
      (buffer.baseAddress! + Int(layout.availableIndex)).storeBytes(of: UInt16(1), as: UInt16.self)
      (buffer.baseAddress! + Int(layout.usedIndex)).storeBytes(of: UInt16(2), as: UInt16.self)
      #expect(throws: UsedRingError.beyondAvailable(advance: 2, available: 1)) {
        try reader.takeCompletions()
      }
      #expect(reader.consumed == 0)
      (buffer.baseAddress! + Int(layout.usedIndex)).storeBytes(of: UInt16(1), as: UInt16.self)
      (buffer.baseAddress! + Int(layout.usedEntry(0))).storeBytes(of: UInt32(16), as: UInt32.self)
      #expect(throws: UsedRingError.descriptorOutOfRange(id: 16, size: 16)) {
        try reader.takeCompletions()
      }
      (buffer.baseAddress! + Int(layout.usedEntry(0))).storeBytes(of: UInt32(0), as: UInt32.self)
      #expect(try reader.takeCompletions().map(\.id) == [0])
    }
  }
}
