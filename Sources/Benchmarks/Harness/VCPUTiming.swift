/// The shape of a vCPU-like reader: 16 exits dispatched back to back (about 0.3 us of bus
/// work), then 20 us in the guest, on the CPU.
enum VCPUTiming {
  static let burst = 16
  static let guestNanos: UInt64 = 20_000
}
