import Synchronization

/// What one litmus test counted: iterations, each outcome, and which thread's access came
/// first. The reader thread alone writes it (a load and a store per count, no
/// read-modify-write: nothing on the reader's way is a fence it did not ask for); anyone
/// may read it for progress and the report.
final class LitmusTally: Sendable {
  let test: LitmusTestName
  private let counts: [LitmusCount]
  private let readerFirst = LitmusCount()
  private let writerFirst = LitmusCount()
  /// Nanoseconds of the run spent on this test (written by the writer thread alone).
  private let time = LitmusCount()

  init(_ test: LitmusTestName) {
    self.test = test
    counts = test.outcomes.map { _ in LitmusCount() }
  }

  /// Counts one iteration that ended in outcome `outcome`, with the reader first or not.
  @inline(__always)
  func count(outcome: Int, readerCameFirst: Bool) {
    counts[outcome].increment()
    (readerCameFirst ? readerFirst : writerFirst).increment()
  }

  /// Adds `nanoseconds` to the time spent on the test.
  func addTime(_ nanoseconds: UInt64) { time.add(nanoseconds) }

  /// Iterations counted.
  var iterations: UInt64 { counts.reduce(0) { $0 + $1.value } }

  /// Iterations with the forbidden outcome (the last).
  var forbidden: UInt64 { counts.last!.value }

  /// Each outcome's count, in the order of ``LitmusTestName/outcomes``.
  var outcomes: [UInt64] { counts.map(\.value) }

  var readerFirstCount: UInt64 { readerFirst.value }
  var writerFirstCount: UInt64 { writerFirst.value }

  /// Whether the test has run `minimum`'s iterations, in each order often enough.
  func reached(_ minimum: LitmusMinimum) -> Bool {
    iterations >= minimum.iterations
      && min(readerFirstCount, writerFirstCount) >= minimum.eachOrder
  }
  var seconds: Double { Double(time.value) / 1e9 }
}

/// A count one thread writes and others read.
private final class LitmusCount: Sendable {
  private let count = Atomic<UInt64>(0)

  @inline(__always)
  func increment() { add(1) }

  @inline(__always)
  func add(_ amount: UInt64) {
    count.store(count.load(ordering: .relaxed) &+ amount, ordering: .relaxed)
  }

  var value: UInt64 { count.load(ordering: .relaxed) }
}
