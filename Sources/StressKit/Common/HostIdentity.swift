import Foundation
import Glibc

/// The machine a report comes from: what a figure or a verdict depends on.
public struct HostIdentity: Encodable, Sendable {
  /// Cores this process may run on.
  public let cores: Int
  /// `uname -sr`: the kernel and its release.
  public let kernel: String
  /// `uname -m`.
  public let architecture: String
  /// The liburcu library files this process has mapped (`liburcu-memb.so.8.0.0`), from
  /// `/proc/self/maps`: the versions actually run, beside the one built against.
  public let liburcuLibraries: [String]
  /// The 1-minute load average when the report was made: how busy the machine was.
  public let loadAverage: Double

  /// This machine, now.
  public static var current: HostIdentity {
    var names = utsname()
    uname(&names)
    let field = { (value: Any) -> String in
      withUnsafeBytes(of: value) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
    var load = [Double](repeating: 0, count: 3)
    _ = getloadavg(&load, 3)
    return HostIdentity(
      cores: ProcessInfo.processInfo.activeProcessorCount,
      kernel: field(names.sysname) + " " + field(names.release),
      architecture: field(names.machine), liburcuLibraries: mappedLiburcu(),
      loadAverage: load[0])
  }

  /// "2 cores, Linux 6.18.4, x86_64, load 3.10; liburcu-memb.so.8.0.0".
  var text: String {
    "\(cores) cores, \(kernel), \(architecture), load "
      + String(format: "%.2f", loadAverage)
      + (liburcuLibraries.isEmpty ? "" : "; " + liburcuLibraries.joined(separator: ", "))
  }

  /// The file names of the liburcu libraries mapped into this process.
  private static func mappedLiburcu() -> [String] {
    guard let bytes = fileContents(at: URL(fileURLWithPath: "/proc/self/maps")) else {
      return []
    }
    let maps = String(decoding: bytes, as: UTF8.self)
    let names = maps.split(separator: "\n").compactMap { line -> String? in
      guard let path = line.split(separator: " ", omittingEmptySubsequences: true).last,
        path.hasPrefix("/"), path.contains("liburcu")
      else { return nil }
      return URL(fileURLWithPath: String(path)).lastPathComponent
    }
    return Array(Set(names)).sorted()
  }
}
