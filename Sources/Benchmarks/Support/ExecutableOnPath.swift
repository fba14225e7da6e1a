import Foundation
import Glibc

/// The first executable called `name` on `PATH`, for the tools the probes run (strace,
/// valgrind).
func executableOnPath(_ name: String) -> String? {
  let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
  return path.split(separator: ":").map { "\($0)/\(name)" }.first { access($0, X_OK) == 0 }
}
