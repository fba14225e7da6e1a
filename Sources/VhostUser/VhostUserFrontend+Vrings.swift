extension VhostUserFrontend {
  /// `SET_MEM_TABLE`: the regions of guest memory, each with its descriptor (at most 8).
  public func setMemoryTable(_ regions: [VhostUserMemoryRegion]) throws(VhostUserError) {
    guard !regions.isEmpty, regions.count <= 8 else {
      throw .invalidArgument("\(regions.count) memory regions (1 to 8)")
    }
    var bytes = LittleEndianBytes()
    bytes.append32(UInt32(regions.count))
    bytes.append32(0)
    for region in regions {
      bytes.append64(region.guestPhysicalAddress)
      bytes.append64(region.size)
      bytes.append64(region.userspaceAddress)
      bytes.append64(region.mmapOffset)
    }
    try set(.setMemTable, bytes.bytes, descriptors: regions.map(\.fileDescriptor))
  }

  /// `SET_VRING_NUM`: the queue's size (descriptors).
  public func setVringSize(queue: Int, size: Int) throws(VhostUserError) {
    try check(queue: queue)
    guard size >= 1, size <= 32768 else { throw .invalidArgument("queue size \(size)") }
    try set(.setVringNum, state(queue, UInt32(size)))
  }

  /// `SET_VRING_BASE`: the next available-ring index the back end reads.
  public func setVringBase(queue: Int, index: UInt16) throws(VhostUserError) {
    try check(queue: queue)
    try set(.setVringBase, state(queue, UInt32(index)))
  }

  /// `SET_VRING_ADDR`: the descriptor table, used ring and available ring, at addresses in
  /// this process (the back end translates them through the memory table).
  public func setVringAddresses(
    queue: Int, descriptorTable: UInt64, usedRing: UInt64, availableRing: UInt64
  ) throws(VhostUserError) {
    try check(queue: queue)
    var bytes = LittleEndianBytes()
    bytes.append32(UInt32(queue))
    bytes.append32(0)
    bytes.append64(descriptorTable)
    bytes.append64(usedRing)
    bytes.append64(availableRing)
    bytes.append64(0)
    try set(.setVringAddr, bytes.bytes)
  }

  /// `SET_VRING_KICK`: the eventfd the back end polls for "buffers available"; it starts
  /// the ring. The back end stops watching the previous one at once, so a kick still
  /// pending there is the caller's to pass on (``VirtioQueue`` re-notifies).
  public func setVringKick(queue: Int, eventFD: Int32) throws(VhostUserError) {
    try check(queue: queue)
    try set(.setVringKick, fileIndex(queue), descriptors: [eventFD])
  }

  /// `SET_VRING_CALL`: the eventfd the back end signals for "buffers used".
  public func setVringCall(queue: Int, eventFD: Int32) throws(VhostUserError) {
    try check(queue: queue)
    try set(.setVringCall, fileIndex(queue), descriptors: [eventFD])
  }

  /// `SET_VRING_ENABLE`: whether the back end may pass data on the ring.
  public func setVringEnabled(queue: Int, _ enabled: Bool) throws(VhostUserError) {
    try check(queue: queue)
    try set(.setVringEnable, state(queue, enabled ? 1 : 0))
  }

  /// `GET_VRING_BASE`: stops the ring and returns the next available index the back end
  /// would have read, to give back with ``setVringBase(queue:index:)`` when it restarts.
  public func stopVring(queue: Int) throws(VhostUserError) -> UInt16 {
    try check(queue: queue)
    guard
      case .vringState(let index) = try get(
        .getVringBase, state(queue, 0), expecting: .vringState(queue: UInt32(queue)))
    else { throw .malformedReply(.getVringBase, reason: "not a vring state") }
    return UInt16(index)
  }

  private func state(_ queue: Int, _ number: UInt32) -> [UInt8] {
    var bytes = LittleEndianBytes()
    bytes.append32(UInt32(queue))
    bytes.append32(number)
    return bytes.bytes
  }

  private func fileIndex(_ queue: Int) -> [UInt8] {
    var bytes = LittleEndianBytes()
    bytes.append64(UInt64(queue) & 0xFF)
    return bytes.bytes
  }
}
