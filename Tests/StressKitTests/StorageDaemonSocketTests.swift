import Foundation
import Glibc
import Testing

@testable import StressKit

/// The daemon counts as started only once its socket listens: the socket file exists from
/// bind(2) on, and a connect before listen(2) is refused.
@Suite struct StorageDaemonSocketTests {
  @Test func aBoundSocketListensOnlyAfterListen() throws {
    let path = NSTemporaryDirectory() + "/listen-probe-\(getpid()).sock"
    unlink(path)
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    #expect(fd >= 0)
    defer {
      close(fd)
      unlink(path)
    }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
      for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
    }
    let bound = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
      }
    }
    try #require(bound == 0)
    #expect(access(path, F_OK) == 0)
    #expect(!StorageDaemon.listens(path))
    try #require(listen(fd, 1) == 0)
    #expect(StorageDaemon.listens(path))
  }
}
