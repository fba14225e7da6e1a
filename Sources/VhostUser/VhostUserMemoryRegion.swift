/// One region of guest memory handed to the back end with `SET_MEM_TABLE`: where the guest
/// sees it, where the front end maps it, and the file descriptor (a memfd) that lets the
/// back end map the same pages.
public struct VhostUserMemoryRegion: Sendable, Hashable {
  /// Guest-physical address of the first byte.
  public var guestPhysicalAddress: UInt64
  /// Size in bytes.
  public var size: UInt64
  /// The front end's (this process's) address of the first byte: vring addresses are given
  /// in this address space.
  public var userspaceAddress: UInt64
  /// Offset of the first byte in `fileDescriptor`.
  public var mmapOffset: UInt64
  /// A descriptor the back end can mmap (MAP_SHARED); the caller keeps it open.
  public var fileDescriptor: Int32

  /// A region; see the properties.
  public init(
    guestPhysicalAddress: UInt64, size: UInt64, userspaceAddress: UInt64, mmapOffset: UInt64 = 0,
    fileDescriptor: Int32
  ) {
    self.guestPhysicalAddress = guestPhysicalAddress
    self.size = size
    self.userspaceAddress = userspaceAddress
    self.mmapOffset = mmapOffset
    self.fileDescriptor = fileDescriptor
  }
}
