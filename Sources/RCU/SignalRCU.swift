import CURCU

/// liburcu's "signal" flavor: readers pay only compiler barriers, and a grace period sends
/// `SIGUSR1` (liburcu's `SIGRCU`) to every registered reader thread, whose handler issues
/// the memory barrier the reader skipped.
///
/// Mainly for checking, and for kernels without `sys_membarrier`. It takes `SIGUSR1` for
/// the whole process:
/// - liburcu-signal installs its `SIGUSR1` handler when it is loaded, which this package
///   does on the flavor's first use (never merely by being linked), so a process that never
///   uses `SignalRCU` keeps `SIGUSR1`;
/// - from then on nothing else in the process may handle `SIGUSR1` (a VMM that kicks vCPU
///   threads out of `KVM_RUN` with it must use another signal): if the handler is replaced,
///   ``RCUFlavor/synchronize()`` aborts with a message instead of waiting forever;
/// - reader threads must not block `SIGUSR1`; registration (explicit, or lazy on the first
///   read) unblocks it in the registering thread.
///
/// Readers register themselves on their first read-side section and are unregistered when
/// they exit. Every call is a library call (not inlined). If liburcu-signal
/// (`liburcu-signal.so.8`, Debian's liburcu8) cannot be loaded, the first use aborts.
public enum SignalRCU: TableFlavor {
  public static var name: String { "signal" }

  static var table: OpaquePointer { curcu_signal_table }

  static let reclaimer = Reclaimer(name: name, synchronize: synchronize)
}
