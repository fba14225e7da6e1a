/// Addresses shared read-only by every reader of a run: one array per thread.
final class AddressTable: @unchecked Sendable {
  // @unchecked: written once in init, read-only afterwards.
  let pointers: [UnsafeMutableBufferPointer<UInt64>]

  /// `perThread` addresses (a power of two) for each of `threads` readers, over `entries`.
  init(threads: Int, entries: Int, perThread: Int) {
    pointers = (0..<threads).map { thread in
      let addresses = BenchLayout.addresses(
        count: perThread, entries: entries, seed: UInt64(thread + 1) &* 0x1234_5678)
      let buffer = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: perThread)
      _ = buffer.initialize(from: addresses)
      return buffer
    }
  }

  deinit { for pointer in pointers { pointer.deallocate() } }
}
