public import KVM
import VhostUser

extension BlockGuestProgram {
  /// Encodes the program for `layout`: its code, and the data it starts from (its notify
  /// address and the notify table; the rest of its area starts zeroed).
  public func assemble(layout: BlockGuestLayout) throws(KVMError) -> AssembledGuest {
    try validate()
    var code = BlockAssembler()
    let operation = UInt32(layout.operation)
    code.store32(0, to: UInt32(layout.latencyCount))
    code.mov(.ebp, UInt32(operationsPerRound))
    let loop = code.makeLabel()
    code.place(loop)

    emitPattern(&code, layout)
    emitSector(&code, layout)
    emitRequest(&code, layout, type: VirtioBlock.requestOut, buffer: layout.writeBuffer)
    emitSector(&code, layout)
    emitRequest(&code, layout, type: VirtioBlock.requestIn, buffer: layout.readBuffer)
    code.mov(.esi, UInt32(layout.writeBuffer))
    code.mov(.edi, UInt32(layout.readBuffer))
    code.mov(.ecx, UInt32(requestBytes / 4))
    code.compareStrings()
    let same = code.makeLabel()
    code.jump(.equal, to: same)
    emitError(&code, layout, .dataMismatch)
    code.place(same)

    code.load(.eax, from: operation)
    code.andEAX(UInt32(flushEvery - 1))
    let noFlush = code.makeLabel()
    code.jump(.notEqual, to: noFlush)
    code.store32(0, to: UInt32(layout.header + 8))
    code.store32(0, to: UInt32(layout.header + 12))
    emitRequest(&code, layout, type: VirtioBlock.requestFlush, buffer: nil)
    code.place(noFlush)

    if churnEvery > 0 { emitChurn(&code, layout) }
    code.increment(at: operation)
    code.decrement(.ebp)
    code.jump(.notEqual, to: loop)
    code.halt()

    guard let bytes = code.finished(), bytes.count <= Int(layout.data - layout.code) else {
      throw .invalidArgument("block guest code does not fit before its data")
    }
    var data = [UInt8](repeating: 0, count: Int(layout.notifyTable - layout.data) + 16)
    func put(_ value: UInt32, at address: UInt64) {
      let offset = Int(address - layout.data)
      for byte in 0..<4 { data[offset + byte] = UInt8(truncatingIfNeeded: value >> (8 * byte)) }
    }
    put(UInt32(notifyAddresses[0]), at: layout.notifyAddress)
    for (index, address) in notifyAddresses.enumerated() {
      put(UInt32(address), at: layout.notifyTable + 4 * UInt64(index))
    }
    return AssembledGuest(
      code: bytes, codeAddress: layout.code, data: data, dataAddress: layout.data,
      resultAddresses: [:], sequenceCounterAddress: nil)
  }

  /// Fills the write buffer with ``pattern(operation:)`` of the current operation.
  private func emitPattern(_ code: inout BlockAssembler, _ layout: BlockGuestLayout) {
    code.load(.eax, from: UInt32(layout.operation))
    code.multiplyEAX(0x9E37_79B1)
    code.xorEAX(vcpuSeed)
    code.mov(.edi, UInt32(layout.writeBuffer))
    code.mov(.ecx, UInt32(requestBytes / 4))
    let fill = code.makeLabel()
    code.place(fill)
    code.storeString()
    code.addEAX(0x0100_0193)
    code.decrement(.ecx)
    code.jump(.notEqual, to: fill)
  }

  /// Writes ``sector(operation:)`` of the current operation into the header.
  private func emitSector(_ code: inout BlockAssembler, _ layout: BlockGuestLayout) {
    code.load(.eax, from: UInt32(layout.operation))
    code.andEAX(UInt32(regionRequests - 1))
    code.shiftLeftEAX(UInt8(sectorsPerRequest.trailingZeroBitCount))
    code.addEAX(UInt32(vcpu * regionRequests * sectorsPerRequest))
    code.store(.eax, to: UInt32(layout.header + 8))
    code.store32(0, to: UInt32(layout.header + 12))
  }

  /// One request: the chain built in descriptors 0 to 2, published, kicked, waited for
  /// (bounded), timed, and its completion checked.
  private func emitRequest(
    _ code: inout BlockAssembler, _ layout: BlockGuestLayout, type: UInt32, buffer: UInt64?
  ) {
    let queueLayout = layout.queue
    code.store32(type, to: UInt32(layout.header))
    code.store32(0, to: UInt32(layout.header + 4))
    code.store8(0xFF, to: UInt32(layout.status))
    var chain: [(address: UInt64, length: UInt32, flags: UInt16)] = [
      (layout.header, 16, VirtioBlock.descriptorNext)
    ]
    if let buffer {
      let writable = type == VirtioBlock.requestIn ? VirtioBlock.descriptorWrite : 0
      chain.append((buffer, UInt32(requestBytes), VirtioBlock.descriptorNext | writable))
    }
    chain.append((layout.status, 1, VirtioBlock.descriptorWrite))
    for (index, link) in chain.enumerated() {
      let descriptor = UInt32(queueLayout.descriptor(index))
      code.store32(UInt32(link.address), to: descriptor)
      code.store32(0, to: descriptor + 4)
      code.store32(link.length, to: descriptor + 8)
      code.store16(link.flags, to: descriptor + 12)
      code.store16(UInt16(index + 1 < chain.count ? index + 1 : 0), to: descriptor + 14)
    }
    let available = UInt32(layout.availableIndex)
    code.load(.eax, from: available)
    code.andEAX(UInt32(queueSize - 1))
    code.store16(0, toIndexedByEAXTimes2: UInt32(queueLayout.availableRing + 4))
    code.load(.eax, from: available)
    code.increment(.eax)
    code.store(.eax, to: available)
    code.storeAX(to: UInt32(queueLayout.availableIndex))

    code.readTimestamp()
    code.store(.eax, to: UInt32(layout.kickTime))
    code.load(.edx, from: UInt32(layout.notifyAddress))
    code.storeThroughEDX(UInt32(queue))

    let wait = code.makeLabel()
    let done = code.makeLabel()
    code.place(wait)
    code.load(.eax, from: UInt32(layout.interruptSlot))
    code.load(.ebx, from: available)
    code.xorEAXWithEBX()
    code.testEAX(0xFFFF)
    code.jump(.equal, to: done)
    code.out(port: idlePort, value: UInt8(queue))
    code.readTimestamp()
    code.subtractFromEAX(UInt32(layout.kickTime))
    code.compareEAX(timeoutUnits)
    code.jump(.below, to: wait)
    code.load(.eax, from: UInt32(layout.operation))
    code.increment(.eax)
    code.store(.eax, to: UInt32(layout.timedOut))
    code.store32(type, to: UInt32(layout.timedOutType))
    code.halt()

    code.place(done)
    code.readTimestamp()
    code.subtractFromEAX(UInt32(layout.kickTime))
    code.load(.ebx, from: UInt32(layout.latencyCount))
    code.storeEAX(toIndexedByEBXTimes4: UInt32(layout.latencies))
    code.increment(.ebx)
    code.store(.ebx, to: UInt32(layout.latencyCount))

    let oneCompletion = code.makeLabel()
    code.loadZeroExtended16(from: UInt32(queueLayout.usedIndex))
    code.load(.ebx, from: available)
    code.xorEAXWithEBX()
    code.testEAX(0xFFFF)
    code.jump(.equal, to: oneCompletion)
    emitError(&code, layout, .extraCompletion)
    code.place(oneCompletion)

    let rightChain = code.makeLabel()
    code.load(.ebx, from: available)
    code.decrement(.ebx)
    code.andEBX(UInt32(queueSize - 1))
    code.loadEAX(fromIndexedByEBXTimes8: UInt32(queueLayout.usedRing + 4))
    code.compareEAX(0)
    code.jump(.equal, to: rightChain)
    emitError(&code, layout, .wrongDescriptor)
    code.place(rightChain)

    let statusOK = code.makeLabel()
    code.loadZeroExtended8(from: UInt32(layout.status))
    code.compareEAX(UInt32(VirtioBlock.statusOK))
    code.jump(.equal, to: statusOK)
    emitError(&code, layout, .badStatus)
    code.place(statusOK)
    code.increment(at: UInt32(layout.completedRequests))
  }

  /// Every ``churnEvery`` operations the queue is stopped and started; half-way between,
  /// its notify address moves to the next of the four.
  private func emitChurn(_ code: inout BlockAssembler, _ layout: BlockGuestLayout) {
    let control = UInt32(windowBase + VirtioMMIO.queueControl + 16 * UInt64(queue))
    let move = UInt32(windowBase + VirtioMMIO.queueNotifyMove + 16 * UInt64(queue))
    let noToggle = code.makeLabel()
    code.load(.eax, from: UInt32(layout.operation))
    code.andEAX(UInt32(churnEvery - 1))
    code.jump(.notEqual, to: noToggle)
    code.store32(0, to: control)
    code.store32(1, to: control)
    code.place(noToggle)

    let noMove = code.makeLabel()
    code.load(.eax, from: UInt32(layout.operation))
    code.andEAX(UInt32(churnEvery - 1))
    code.compareEAX(UInt32(churnEvery / 2))
    code.jump(.notEqual, to: noMove)
    code.load(.eax, from: UInt32(layout.operation))
    code.shiftRightEAX(UInt8(churnEvery.trailingZeroBitCount))
    code.andEAX(3)
    code.loadEAX(fromIndexedByEAXTimes4: UInt32(layout.notifyTable))
    code.store(.eax, to: move)
    code.store(.eax, to: UInt32(layout.notifyAddress))
    code.place(noMove)
  }

  /// Counts an error and records it with the operation number.
  private func emitError(
    _ code: inout BlockAssembler, _ layout: BlockGuestLayout, _ error: BlockGuestError
  ) {
    code.load(.eax, from: UInt32(layout.operation))
    code.andEAX(0xFF_FFFF)
    code.addEAX(error.rawValue << 24)
    code.store(.eax, to: UInt32(layout.lastError))
    code.increment(at: UInt32(layout.errorCount))
  }
}
