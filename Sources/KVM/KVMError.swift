import CKVM
import Glibc

/// Errors raised by the KVM harness; each carries enough context to tell which
/// kernel call failed and why.
public enum KVMError: Error, Equatable, CustomStringConvertible {
  /// A device node (normally `/dev/kvm`) could not be opened.
  case cannotOpen(path: String, errno: Int32)
  /// The kernel speaks a KVM API version other than the stable version 12.
  case unsupportedAPIVersion(Int32)
  /// An ioctl failed; `name` is the request (for example `"KVM_RUN"`).
  case ioctl(name: String, errno: Int32)
  /// mmap(2) failed while mapping `what`.
  case mmap(what: String, errno: Int32)
  /// KVM_RUN returned with an exit reason the run loop does not handle.
  /// `detail` is the hardware entry failure reason or internal suberror when known.
  case unexpectedExit(reason: UInt32, detail: UInt64)
  /// The guest made an access the harness does not model (for example an odd size).
  case unsupportedAccess(String)
  /// A caller-supplied parameter is out of range.
  case invalidArgument(String)
  /// pthread_create failed with the given error number.
  case threadCreation(errno: Int32)
  /// `VCPU.run` was entered while another thread was already running that vCPU.
  case vcpuBusy

  /// A one-line explanation including the strerror text where there is an errno.
  public var description: String {
    switch self {
    case .cannotOpen(let path, let errno):
      return "cannot open \(path): \(errnoText(errno))"
    case .unsupportedAPIVersion(let version):
      return "KVM API version \(version) is not the supported version 12"
    case .ioctl(let name, let errno):
      return "\(name) failed: \(errnoText(errno))"
    case .mmap(let what, let errno):
      return "mmap of \(what) failed: \(errnoText(errno))"
    case .unexpectedExit(let reason, let detail):
      return "unexpected KVM exit reason \(reason) (detail 0x\(String(detail, radix: 16)))"
    case .unsupportedAccess(let what):
      return "unsupported guest access: \(what)"
    case .invalidArgument(let what):
      return "invalid argument: \(what)"
    case .threadCreation(let errno):
      return "pthread_create failed: \(errnoText(errno))"
    case .vcpuBusy:
      return "the vCPU is already running on another thread"
    }
  }
}

private func errnoText(_ code: Int32) -> String {
  "\(String(cString: strerror(code))) (errno \(code))"
}

/// Runs the ioctl `request` (named `name` in errors) on `descriptor` with a pointer to a copy
/// of `argument`, a C structure, and returns the copy as the kernel left it; throws
/// ``KVMError/ioctl(name:errno:)`` with the kernel's errno when the call fails.
@discardableResult
func checkedIOCtl<Argument>(
  _ descriptor: Int32, _ request: UInt, named name: String, _ argument: Argument
) throws(KVMError) -> Argument {
  var argument = argument
  // Valid for the call; the kernel touches only the structure's bytes (no references in it).
  let result = withUnsafeMutableBytes(of: &argument) {
    ckvm_ioctl_ptr(descriptor, request, $0.baseAddress)
  }
  guard result == 0 else { throw .ioctl(name: name, errno: errno) }
  return argument
}
