import CHostSupport

/// The bus's strong reference to a registered device, together with what it was registered
/// as.
///
/// Table snapshots refer to handles without retaining them (see ``TableEntry``); the
/// writer-side state owns exactly one reference to each handle until a grace period after
/// the registration is removed.
@usableFromInline
final class DeviceHandle: Sendable {
  @usableFromInline let device: any IODevice
  let registration: Registration

  init(device: any IODevice, registration: Registration) {
    self.device = device
    self.registration = registration
  }

  /// The bytes of this handle's own allocation (not the device's), for
  /// ``IOBus/reclamationBacklog``.
  var allocatedBytes: Int {
    // Safe: the bus allocated the handle on the heap (a class instance it made), and it is
    // alive while `self` is.
    chost_heap_block_bytes(Unmanaged.passUnretained(self).toOpaque())
  }
}
