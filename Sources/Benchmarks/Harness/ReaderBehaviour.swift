/// How reader threads behave between dispatches.
public enum ReaderBehaviour: String, CaseIterable, Codable, Sendable {
  /// Dispatch after dispatch, never leaving the bus for long (under QSBR, a quiescent state
  /// every ``dispatchesPerCheck`` dispatches, never offline).
  case tightLoop = "tight-loop"
  /// Like a vCPU: a burst of ``VCPUTiming/burst`` dispatches (exits), then
  /// ``VCPUTiming/guestNanos`` of "guest time" spent spinning on the CPU outside any
  /// read-side section, as a vCPU inside `KVM_RUN` (under QSBR, offline meanwhile).
  case vcpuLike = "vcpu-like"
}
