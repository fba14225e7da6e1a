import Glibc
import Synchronization

/// Start and stop flags shared by the threads of one run.
final class RunControl: Sendable {
  let ready = Atomic<Int>(0)
  let started = Atomic<Bool>(false)
  let stopped = Atomic<Bool>(false)

  /// A worker's side of the start: counts itself ready, then waits for the start.
  @inline(__always)
  func checkIn() {
    // Acquiring and releasing. The release pairs with the acquiring load in `awaitReady`,
    // so the coordinator sees this thread's preparation (its RCU registration) done before
    // it starts the clock; the acquire pairs with the adds of the workers that checked in
    // before (nothing is read through it).
    ready.add(1, ordering: .acquiringAndReleasing)
    // Acquiring: pairs with the releasing store in `start`, so the worker sees everything
    // the coordinator set up before it.
    while !started.load(ordering: .acquiring) { sched_yield() }
  }

  /// The coordinator's side: waits until `workers` threads have checked in.
  func awaitReady(_ workers: Int) {
    // Acquiring: pairs with the releasing add in `checkIn`.
    while ready.load(ordering: .acquiring) < workers { sched_yield() }
  }

  /// Lets every worker go.
  func start() {
    // Releasing: pairs with the acquiring load in `checkIn`.
    started.store(true, ordering: .releasing)
  }

  /// Tells every worker to stop; they look at the flag relaxed, and joining them is what
  /// orders their results before the coordinator reads them.
  func stop() {
    // Releasing: pairs with no load (the workers poll it relaxed; the join synchronizes).
    stopped.store(true, ordering: .releasing)
  }

  /// Whether the run is over: relaxed, a worker only needs to see it eventually.
  @inline(__always)
  var isStopped: Bool { stopped.load(ordering: .relaxed) }
}
