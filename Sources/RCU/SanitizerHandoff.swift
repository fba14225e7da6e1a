import CURCU
import Synchronization

/// Happens-before edges for ThreadSanitizer where it cannot see them itself; compiled away
/// unless the package is built by Scripts/tsan.sh.
///
/// The case that needs it: a contended `Synchronization.Mutex` on Linux is handed to the
/// next owner inside the kernel (FUTEX_LOCK_PI), so TSan sees two threads touch the
/// protected value without ordering. Code that locks a Mutex from several threads calls
/// ``acquire(_:)`` first thing inside the lock and ``release(_:)`` last (with `defer`),
/// naming the object that owns the Mutex.
public enum SanitizerHandoff {
  /// Orders everything after this call after every earlier ``release(_:)`` of `owner`.
  @inlinable @inline(__always)
  public static func acquire(_ owner: AnyObject) {
    curcu_tsan_acquire(UnsafeRawPointer(Unmanaged.passUnretained(owner).toOpaque()))
  }

  /// Orders everything before this call before every later ``acquire(_:)`` of `owner`.
  @inlinable @inline(__always)
  public static func release(_ owner: AnyObject) {
    curcu_tsan_release(UnsafeRawPointer(Unmanaged.passUnretained(owner).toOpaque()))
  }
}

extension Mutex where Value: ~Copyable {
  /// `withLock`, plus the ``SanitizerHandoff`` edges around `body`, named after `owner` (the
  /// object that holds this Mutex): for Mutexes that several threads contend for.
  @inlinable
  public borrowing func withAnnotatedLock<Result: ~Copyable, E: Error>(
    owner: AnyObject,
    _ body: (inout sending Value) throws(E) -> sending Result
  ) throws(E) -> sending Result {
    try withLock { (value: inout sending Value) throws(E) -> sending Result in
      SanitizerHandoff.acquire(owner)
      defer { SanitizerHandoff.release(owner) }
      return try body(&value)
    }
  }
}
