import KVM

extension KVMSystem {
  /// Checks that `count` guest programs, one vCPU each, fit this system: at least one, at
  /// most KVM_CAP_NR_VCPUS (`invalidArgument` otherwise).
  func checkProgramCount(_ count: Int) throws(KVMError) {
    let limit = try recommendedVCPUCount()
    guard count > 0, count <= limit else {
      throw .invalidArgument("\(count) programs for 1...\(limit) vCPUs")
    }
  }
}
