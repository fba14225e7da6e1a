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
}
