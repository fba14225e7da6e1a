/// How an unregister waits for its release.
enum ReleaseWait: CaseIterable {
  /// `unregister(_:)`: until it returns (publish, grace period, release).
  case synchronous
  /// `unregister(_:whenReleased:)`: from the call until the closure runs.
  case deferred
  /// `unregisterAndAwaitRelease(_:)`: from the call until the awaiting task resumes.
  case async
}
