import Glibc

/// Where a thread is in the kernel, read from `/proc/self/task/<tid>/syscall` and `wchan`:
/// the system call it is in and the kernel function it sleeps in.
///
/// A stall report names it (a grace period asleep in `futex` is the RCU's; one in `ioctl`
/// is KVM's), and the stall watchdog does not blame the RCU under test for a wait spent
/// inside ioctl(2) (``isInIoctl``).
struct KernelWait: Equatable, Sendable {
  /// The system call number; nil when the thread runs or is in none.
  let syscall: UInt64?
  /// The kernel function the thread sleeps in; empty when it runs or it is not known.
  let function: String

  /// Where thread `tid` of this process is now; nil when that cannot be read (the thread
  /// ended).
  static func of(thread tid: Int32) -> KernelWait? {
    let directory = "/proc/self/task/\(tid)/"
    // "running", "-1 <sp> <pc>" (blocked outside a system call) or "<nr> <args...>".
    guard let fields = procFirstLineNumbers(directory + "syscall"), !fields.isEmpty else {
      return nil
    }
    let function = procFirstLine(directory + "wchan") ?? ""
    return KernelWait(syscall: fields[0], function: function == "0" ? "" : function)
  }

  /// Whether the thread waits inside ioctl(2). In this tool that is always a KVM ioctl: a
  /// coalesced zone's (un)register waits for KVM's own SRCU grace period and for the VM's
  /// slots lock (seconds, measured, when KVM's SRCU readers are slow), work the RCU under
  /// test takes no part in.
  var isInIoctl: Bool { syscall.flatMap { Self.names[$0] } == "ioctl" }

  /// The number of the system call named `name` here, if this type knows it.
  static func number(of name: String) -> UInt64? { names.first { $0.value == name }?.key }

  /// "in ioctl(2), asleep in __synchronize_srcu", "running".
  var text: String {
    guard let syscall else { return function.isEmpty ? "running" : "asleep in \(function)" }
    let name = Self.names[syscall].map { "\($0)(2)" } ?? "system call \(syscall)"
    return "in \(name)" + (function.isEmpty ? "" : ", asleep in \(function)")
  }

  /// The system calls a waiting thread of this tool is found in, by number (Glibc's
  /// `SYS_*` macros do not reach Swift).
  #if arch(x86_64)
    private static let names: [UInt64: String] = [
      0: "read", 1: "write", 7: "poll", 16: "ioctl", 24: "sched_yield", 35: "nanosleep",
      202: "futex", 230: "clock_nanosleep", 232: "epoll_wait", 271: "ppoll",
      281: "epoll_pwait", 324: "membarrier",
    ]
  #elseif arch(arm64)
    private static let names: [UInt64: String] = [
      22: "epoll_pwait", 29: "ioctl", 63: "read", 64: "write", 73: "ppoll", 98: "futex",
      101: "nanosleep", 115: "clock_nanosleep", 124: "sched_yield", 283: "membarrier",
    ]
  #else
    private static let names: [UInt64: String] = [:]
  #endif
}
