import CKVM

/// One KVM_IOEVENTFD binding: guest writes matching it signal an eventfd in the
/// kernel instead of exiting to userspace.
public struct IOEventFDAssignment: Sendable, Hashable {
  /// The eventfd(2) descriptor the kernel signals; the caller owns it.
  public var eventFD: Int32
  /// Port number or guest-physical address.
  public var address: UInt64
  /// Access length to match: 1, 2, 4 or 8, or 0 for any length (no datamatch then).
  public var length: Int
  /// Ports or MMIO.
  public var space: GuestAddressSpace
  /// When set, only writes of exactly this value match.
  public var datamatch: UInt64?

  /// Describes a binding; nothing is registered until `VirtualMachine.assign`.
  public init(
    eventFD: Int32, address: UInt64, length: Int, space: GuestAddressSpace, datamatch: UInt64? = nil
  ) {
    self.eventFD = eventFD
    self.address = address
    self.length = length
    self.space = space
    self.datamatch = datamatch
  }
}

extension VirtualMachine {
  /// Registers `assignment` with KVM_IOEVENTFD.
  ///
  /// Throws `KVMError.invalidArgument` for a length other than 0, 1, 2, 4, 8 and
  /// `KVMError.ioctl` with the kernel's errno (EEXIST for a collision, EINVAL for
  /// length 0 with datamatch).
  public func assign(_ assignment: IOEventFDAssignment) throws(KVMError) {
    try ioeventfd(assignment, deassign: false)
  }

  /// Removes a binding previously registered with identical fields
  /// (the kernel answers ENOENT otherwise).
  public func deassign(_ assignment: IOEventFDAssignment) throws(KVMError) {
    try ioeventfd(assignment, deassign: true)
  }

  private func ioeventfd(_ assignment: IOEventFDAssignment, deassign: Bool) throws(KVMError) {
    guard [0, 1, 2, 4, 8].contains(assignment.length) else {
      throw .invalidArgument("ioeventfd length \(assignment.length) is not 0, 1, 2, 4 or 8")
    }
    var request = kvm_ioeventfd()
    request.addr = assignment.address
    request.len = UInt32(assignment.length)
    request.fd = assignment.eventFD
    var flags: UInt32 = 0
    if assignment.space == .pio { flags |= CKVM_IOEVENTFD_FLAG_PIO }
    if let value = assignment.datamatch {
      flags |= CKVM_IOEVENTFD_FLAG_DATAMATCH
      request.datamatch = value
    }
    if deassign { flags |= CKVM_IOEVENTFD_FLAG_DEASSIGN }
    request.flags = flags
    try checkedIOCtl(
      descriptor, CKVM_IOEVENTFD, named: deassign ? "KVM_IOEVENTFD(deassign)" : "KVM_IOEVENTFD",
      request)
  }
}
