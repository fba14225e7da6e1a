import Foundation
import Glibc
import Testing

@testable import StressKit

/// The daemon counts as started only once its socket listens: the socket file exists from
/// bind(2) on, and a connect before listen(2) is refused (a CI run failed so).
struct StorageDaemonSocketTests {
  @Test func aBoundSocketListensOnlyAfterListen() throws {
    let path = NSTemporaryDirectory() + "/listen-probe-\(getpid()).sock"
    unlink(path)
    let descriptor = try boundUnixSocket(at: path)
    defer {
      close(descriptor)
      unlink(path)
    }
    #expect(access(path, F_OK) == 0)
    #expect(!StorageDaemon.listens(path))
    try #require(listen(descriptor, 1) == 0)
    #expect(StorageDaemon.listens(path))
  }
}
