/// The virtio-mmio register window of ``VirtioBlockDevice`` (virtio 1.2, 4.2.2), as far as
/// this device implements it, plus a vendor block per queue.
///
/// The guest programs of this package do not negotiate features or program the queue
/// registers: the VMM sets the queues up for the layout the program was built with (see
/// `docs/vhost.md`). What the guest drives through the window is the data path's control:
/// a queue stopped and started, and its notify address moved.
public enum VirtioMMIO {
  /// `MagicValue`: "virt".
  public static let magicValue: UInt64 = 0x000
  /// `Version`: 2 (virtio 1.x).
  public static let version: UInt64 = 0x004
  /// `DeviceID`: 2, block.
  public static let deviceID: UInt64 = 0x008
  /// `VendorID`.
  public static let vendorID: UInt64 = 0x00C
  /// `QueueNotify`: the guest writes a queue's index here to kick it; each queue's kick is
  /// a value-matched notifier at this address (or where the guest moved it).
  public static let queueNotify: UInt64 = 0x050
  /// The device's configuration space (virtio-blk: capacity, ..., `num_queues`).
  public static let configuration: UInt64 = 0x100
  /// Vendor block of queue `q` at `queueControl + 16 q`: a 4-byte write of 0 stops the
  /// queue, 1 starts it.
  public static let queueControl: UInt64 = 0x200
  /// Vendor block of queue `q`, `+4`: a 4-byte write moves the queue's notify address to
  /// the value written (one the VMM allows).
  public static let queueNotifyMove: UInt64 = 0x204
  /// Bytes of the window: room for 64 queue blocks.
  public static let windowSize: UInt64 = 0x600

  /// The magic value's content.
  public static let magic: UInt64 = 0x7472_6976
  /// virtio's device id for a block device.
  public static let blockDeviceID: UInt64 = 2
}

/// virtio-blk request types and status values (virtio 1.2, 5.2.6).
public enum VirtioBlock {
  /// Read sectors into the data buffers.
  public static let requestIn: UInt32 = 0
  /// Write the data buffers to sectors.
  public static let requestOut: UInt32 = 1
  /// Make every completed write durable.
  public static let requestFlush: UInt32 = 4
  /// The status byte's success value.
  public static let statusOK: UInt8 = 0
  /// Bytes per sector (virtio-blk's unit for `sector`).
  public static let sectorSize = 512
  /// Descriptor flag: the chain continues at `next`.
  public static let descriptorNext: UInt16 = 1
  /// Descriptor flag: the device writes this buffer.
  public static let descriptorWrite: UInt16 = 2
}
