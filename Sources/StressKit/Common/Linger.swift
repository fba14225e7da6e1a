/// How long a reader stays inside a device or a read-side section: mostly a moment,
/// sometimes long enough for a grace period that does not wait to end while it is inside.
///
/// A check that needs a reader inside a window only sees faults that leave a reader there;
/// short readers close every window in nanoseconds. So some stays are long: 10 us to
/// 1 ms, log-uniform (as many stays near 10 us as near 1 ms); the rest burn under 512
/// multiply-adds (well under a microsecond).
enum Linger {
  /// One stay, chosen by `random` (any 64 random bits, used for nothing else after): long
  /// once in `longOneIn` (a power of two, at most 256).
  @inline(__always)
  static func stay(_ random: UInt64, longOneIn: UInt64 = 256) {
    if random & (longOneIn - 1) == 0 {
      // Bits 8... pick the exponent: 10 us * 100^(fraction), fraction in [0, 1).
      let fraction = Double((random >> 8) & 0xFFFF) / 65536
      spin(nanoseconds: UInt64(10_000 * pow100(fraction)))
    } else {
      linger(Int((random >> 8) & 0x1FF), seed: random)
    }
  }

  /// 100^x for x in [0, 1): exp(x ln 100) by its series, to well under a percent, which
  /// is plenty for a random stay length.
  private static func pow100(_ x: Double) -> Double {
    let y = x * 4.605_170_185_988_091
    var term = 1.0
    var sum = 1.0
    for n in 1...12 {
      term *= y / Double(n)
      sum += term
    }
    return sum
  }

  /// Spins (without yielding: a reader that yields is a different test) for `nanoseconds`.
  private static func spin(nanoseconds: UInt64) {
    let until = monotonicNanoseconds() &+ nanoseconds
    var round: UInt64 = 0
    while monotonicNanoseconds() < until {
      linger(64, seed: round)
      round &+= 1
    }
  }
}

/// Burns roughly `iterations` dependent multiply-adds.
@inline(__always)
func linger(_ iterations: Int, seed: UInt64) {
  var value = seed | 1
  for _ in 0..<iterations { value = value &* 6_364_136_223_846_793_005 &+ 1 }
  keep(value)
}

/// Keeps the optimizer from deleting a computation whose result nobody reads.
@_optimize(none)
func keep(_ value: UInt64) {}
