import ConcurrentBus
import RCU
import Synchronization

/// What a hotplug thread drives: slots whose registrations come and go.
///
/// `churn` plugs an eventfd and a range device per slot on one bus; `kvm` plugs one
/// eventfd per slot, optionally mirrored into KVM_IOEVENTFD. The engine's ``Hotplug``
/// decides what changes when and how removals wait, and runs the checks every removal
/// owes once its grace period has passed; the target only registers, unregisters and
/// checks what only it knows about its devices.
protocol HotplugTarget: Sendable {
  /// One plugged slot: what its registrations are.
  associatedtype Plug: HotplugPlug

  /// How many slots there are.
  var slotCount: Int { get }
  /// Whether several slots can change in one publish (a batch).
  var supportsBatches: Bool { get }
  /// Whether a removal can return before its grace period, with a release callback.
  var supportsDeferredRemovals: Bool { get }

  /// Registers fresh devices for the `adding` slots and removes the `removing` plugs: in
  /// one publish if `batched`, otherwise one call per registration. A removal waits as
  /// `wait` says. Returns the new plugs.
  ///
  /// Whatever can run out (eventfds: descriptors) is made before the first bus call, so an
  /// update that fails for lack of it changes nothing and can be tried again; after the bus
  /// calls, nothing may fail but the bus itself.
  func update(adding: [Int], removing: [Plug], batched: Bool, wait: RemovalWait) throws
    -> [Plug]

  /// Whether plugged slots can move (``move(_:batched:)``).
  var supportsMoves: Bool { get }

  /// Whether `adding` more slots fit in what the run may hold now (descriptors, memory,
  /// records the checker has not reconciled yet). When not, the hotplug thread leaves them
  /// unplugged this time: back-pressure, never an unbounded queue.
  func admits(adding: Int) -> Bool

  /// Moves each plug's registration elsewhere, keeping its device (one publish, nothing to
  /// wait for): in one batch if `batched`. Returns the moved plugs.
  func move(_ plugs: [Plug], batched: Bool) throws -> [Plug]

  /// The gate the target's changes go through (``ChangeGate``), shared with the run's other
  /// targets that change the same kernel objects; nil: no gate.
  var changeGate: ChangeGate? { get }

  /// Runs once for each removed plug after its grace period (when the synchronous
  /// unregister returned, or in the deferred release): the target's own checks on its
  /// devices, then their retirement. `when` says which, for reports.
  func released(_ plug: Plug, when: String)
}

extension HotplugTarget {
  /// Targets move nothing unless they say so.
  var supportsMoves: Bool { false }

  /// Targets move nothing unless they say so.
  func move(_ plugs: [Plug], batched: Bool) throws -> [Plug] { plugs }

  /// Targets hold nothing back unless they say so.
  func admits(adding: Int) -> Bool { true }

  /// Targets change without a gate unless they say so.
  var changeGate: ChangeGate? { nil }
}

/// How a removal waits for its grace period.
enum RemovalWait: Sendable {
  /// The unregister blocks until the grace period has passed.
  case synchronous
  /// The unregister returns at once; the closure runs (once) after the grace period.
  case deferred(@Sendable () -> Void)
}

extension RemovalWait {
  /// How each of the `calls` unregister calls that together make one removal waits: a
  /// synchronous removal's calls each block; a deferred removal's calls each count down, and
  /// its release runs after the last of them (``ReleaseCountdown``).
  func split(into calls: Int) -> RemovalWait {
    switch self {
    case .synchronous: return .synchronous
    case .deferred(let release):
      let countdown = ReleaseCountdown(calls, release: release)
      return .deferred { countdown.arrive() }
    }
  }
}

extension IOBus {
  /// Unregisters `registration`, blocking for its grace period or, deferred, returning at
  /// once with the release to run after it.
  func unregister(_ registration: Registration, wait: RemovalWait) throws(IOBusError) {
    switch wait {
    case .synchronous: try unregister(registration)
    case .deferred(let release): try unregister(registration, whenReleased: release)
    }
  }
}

extension IOBus.Reclamation {
  /// A batch's reclamation for a removal that waits as `wait` says.
  init(_ wait: RemovalWait) {
    switch wait {
    case .synchronous: self = .synchronous
    case .deferred(let release): self = .deferred(release)
    }
  }
}

/// Runs a closure once a fixed number of deferred releases have run: a removal made of
/// several unregister calls, each with its own release callback, is released by the last.
final class ReleaseCountdown: Sendable {
  private let remaining: Atomic<Int>
  private let release: @Sendable () -> Void

  /// Runs `release` after `count` calls of ``arrive()``.
  init(_ count: Int, release: @escaping @Sendable () -> Void) {
    remaining = Atomic(count)
    self.release = release
  }

  /// One release callback ran.
  func arrive() {
    // Acquiring and releasing: pairs with every other arrival's subtract, so the last
    // arrival sees every earlier callback's effects.
    if remaining.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 { release() }
  }
}

/// One plugged slot of a ``HotplugTarget``: it knows which slot it occupies.
protocol HotplugPlug: Sendable {
  /// The slot it occupies.
  var slot: Int { get }
}

extension HotplugTarget {
  /// The slot `plug` occupies.
  func slot(of plug: Plug) -> Int { plug.slot }
}
