import Synchronization

/// What the task measuring async unregisters hands back.
final class AsyncOutcome: Sendable {
  let result = Mutex<Result<[UInt64], any Error>>(.success([]))
}
