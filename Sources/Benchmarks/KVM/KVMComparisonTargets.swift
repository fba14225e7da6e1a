extension ExitPathComparison {
  /// The exit path's targets, judged per repeat (the paths alternate within each): the bus
  /// adds at most 1% to a write's time through an exit, and the kernel ioeventfd through
  /// the mirror keeps 95% of the raw rate.
  public var targets: [TargetVerdict] {
    [
      Target(
        "KVM exit loop on \(flavor) (`stress kvm --compare`): time per write b/a <= 1.01",
        .atMost(1.01)
      ).judge(
        rounds: busCostOverBare.samples,
        figure: String(
          format: "%.3f median of %d repeats; bus dispatch %.1f ns + hooks %.1f ns per exit",
          busCostOverBare.median, busCostOverBare.samples.count, busDispatchNanoseconds,
          threadHookNanoseconds)),
      Target("KVM: kernel ioeventfd through the mirror >= 0.95x raw KVM_IOEVENTFD", .atLeast(0.95))
        .judge(
          rounds: kernelOverRaw.samples,
          figure: String(
            format: "%.3f median of %d repeats", kernelOverRaw.median,
            kernelOverRaw.samples.count)),
    ]
  }
}

extension CoalescedWriteComparison {
  /// Per address space, coalesced writes keep 90% of the rate of writes a kernel ioeventfd
  /// absorbs, judged per repeat.
  public var targets: [TargetVerdict] {
    rates.map { row in
      Target(
        "coalesced \(row.space == "pio" ? "ports" : "MMIO"): >= 0.9x the rate of writes "
          + "absorbed by a kernel ioeventfd", .atLeast(0.9)
      ).judge(
        rounds: row.coalescedOverIOEventFD.samples,
        figure: String(
          format: "%.3f median of %d repeats (%.0f vs %.0f writes/s)",
          row.coalescedOverIOEventFD.median, row.coalescedOverIOEventFD.samples.count,
          row.coalesced.median, row.kernelIOEventFD.median))
    }
  }
}
