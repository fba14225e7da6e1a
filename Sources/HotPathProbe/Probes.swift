import ConcurrentBus
import RCU

// The dispatch path, specialized for liburcu's memb flavor exactly as a VMM's vCPU loop gets
// it, in functions with fixed symbol names so Scripts/check-hot-path.sh can disassemble them.

@inline(never) @_silgen_name("concurrentbus_probe_write")
func probeWrite(_ bus: IOBus<MembRCU>, _ address: UInt64, _ size: Int, _ value: UInt64)
  -> DispatchResult
{
  bus.write(address: address, size: size, value: value)
}

@inline(never) @_silgen_name("concurrentbus_probe_read")
func probeRead(_ bus: IOBus<MembRCU>, _ address: UInt64, _ size: Int) -> UInt64? {
  bus.read(address: address, size: size)
}

/// The checker's own control: the same lookup through a strong class reference, which
/// Swift retains and releases. The script must flag it, or it is not checking anything.
@inline(never) @_silgen_name("concurrentbus_probe_control_retains")
func probeControlRetains(_ holder: DeviceHolder, _ address: UInt64, _ value: UInt64) -> Bool {
  holder.current.write(offset: address, size: 4, value: value)
}

/// Publishes a device through an ordinary mutable class reference.
final class DeviceHolder: @unchecked Sendable {
  // @unchecked: the probe binary only touches it from one thread.
  var current: any IODevice

  init(_ device: any IODevice) {
    current = device
  }
}
