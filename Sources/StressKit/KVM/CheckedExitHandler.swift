import ConcurrentBus
import HostSupport
import KVM
import RCU

/// One vCPU's exit handler for `stress kvm`: dispatches to the buses through a
/// ``BusExitHandler`` (which tallies unclaimed writes), each exit inside a read-side
/// section of its own that the stale-section check watches (``SectionEpochs``), and
/// sometimes lingers in it (``Linger``), so a grace period that does not wait ends with a
/// vCPU inside. Exits are rare next to churn's dispatches (microseconds apart, and
/// fewer still when KVM_IOEVENTFD absorbs the matching writes), so one in 16 is long.
///
/// @unchecked Sendable: `random` is used only by the one thread running this handler's
/// vCPU (rounds run one after another, and each joins its threads).
final class CheckedExitHandler<Flavor: RCUFlavor>: GuestIOHandler, @unchecked Sendable {
  let buses: BusExitHandler<Flavor>
  private let sections: SectionEpochs
  private let vcpu: Int
  private var random: SplitMix64

  init(buses: BusExitHandler<Flavor>, sections: SectionEpochs, vcpu: Int, seed: UInt64) {
    self.buses = buses
    self.sections = sections
    self.vcpu = vcpu
    random = SplitMix64(seed: seed &+ UInt64(vcpu + 1) &* 0x9E37_79B9_7F4A_7C15)
  }

  @inline(__always)
  private func inSection<Result>(_ body: () -> Result) -> Result {
    sections.enter(vcpu, flavor: Flavor.self)
    let result = body()
    Linger.stay(random.next(), longOneIn: 16)
    sections.leave(vcpu, flavor: Flavor.self)
    return result
  }

  func portWrite(port: UInt16, size: Int, value: UInt64) {
    inSection { buses.portWrite(port: port, size: size, value: value) }
  }

  func portRead(port: UInt16, size: Int) -> UInt64 {
    inSection { buses.portRead(port: port, size: size) }
  }

  func mmioWrite(address: UInt64, size: Int, value: UInt64) {
    inSection { buses.mmioWrite(address: address, size: size, value: value) }
  }

  func mmioRead(address: UInt64, size: Int) -> UInt64 {
    inSection { buses.mmioRead(address: address, size: size) }
  }
}
