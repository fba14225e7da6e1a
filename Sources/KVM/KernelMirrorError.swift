public import ConcurrentBus

/// Why a registration mirrored into the kernel (``KernelIOEventFDMirror``,
/// ``KernelCoalescedMirror``) could not be added or removed. Whenever one is thrown, both the
/// bus and the kernel are as they were before the call.
public enum KernelMirrorError: Error, Equatable, CustomStringConvertible {
  /// The bus refused the registration or unregistration (collision, bad size, unknown).
  case bus(IOBusError)
  /// KVM refused the change (KVM_IOEVENTFD, KVM_(UN)REGISTER_COALESCED_MMIO), or the
  /// request cannot be expressed to it.
  case kernel(KVMError)
  /// A step failed and undoing the step before it failed too: the two sides disagree.
  /// Not expected in practice (undo repeats a call that has just succeeded).
  case undoFailed(step: String, undo: String)

  /// One line naming the side that failed.
  public var description: String {
    switch self {
    case .bus(let error): return "bus: \(error)"
    case .kernel(let error): return "kernel: \(error)"
    case .undoFailed(let step, let undo): return "\(step), and undoing it failed: \(undo)"
    }
  }
}
