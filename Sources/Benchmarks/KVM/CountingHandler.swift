import KVM

/// The trivial handler of the bare-exit path: counts writes, reads as zero.
///
/// @unchecked Sendable: `count` is written only by the one vCPU thread running it and
/// read after that thread is joined.
final class CountingHandler: GuestIOHandler, @unchecked Sendable {
  var count = 0

  func portWrite(port: UInt16, size: Int, value: UInt64) { count &+= 1 }
  func portRead(port: UInt16, size: Int) -> UInt64 { 0 }
  func mmioWrite(address: UInt64, size: Int, value: UInt64) { count &+= 1 }
  func mmioRead(address: UInt64, size: Int) -> UInt64 { 0 }
}
