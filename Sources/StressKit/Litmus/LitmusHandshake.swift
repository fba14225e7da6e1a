import CLitmus
import Glibc

/// How a litmus reader and writer start each iteration together, as herdtools7's `litmus7`
/// does: each announces its arrival at iteration `i` on a cache line of its own (a releasing
/// store) and spins on the other's line until it sees `i` too (an acquiring load). The
/// writer leads: with its arrival it hands the reader the iteration's test and the
/// reader's start offset, and its own observation of the previous iteration; with its
/// arrival the reader hands back whether, in its previous iteration, its load came before
/// the writer's store.
///
/// What comes with an arrival is in two frames, by the iteration's parity: a thread may
/// arrive at the next iteration before the other has read what came with this one (it only
/// waits for the other to arrive at this one), so it writes the other frame.
///
/// The offsets make the accesses meet. The thread that arrives last releases the other,
/// which sees that a cache-line transfer later; and each test's window is a few tens of
/// nanoseconds. So every iteration starts one thread a little later than the other, by a
/// skew drawn around a centre, and the centre follows the outcomes (``LitmusSkew``).
struct LitmusHandshake: Sendable {
  private let words = LitmusWords(count: 2 * LitmusWords.line)

  /// The two threads' lines.
  enum Side: Int {
    case writer = 0
    case reader = 16
  }

  /// What a thread hands over with its arrival at an iteration.
  enum Word: Int {
    /// Writer: the iteration's test (an index, or ``LitmusHandshake/stopTest``). Reader: 1
    /// when its load came first in its previous iteration.
    case test = 1
    /// Writer: the reader's start offset, in ``litmus_delay`` loops.
    case offset = 3
    /// Writer: its observation of its previous iteration.
    case observation = 5
  }

  /// The test value that tells the reader to stop.
  static let stopTest: UInt64 = .max

  /// Spins until `side` has announced `iteration`, or `stop` is raised (false then).
  /// `between` runs every 256 spins (a QSBR reader announces a quiescent state there, or a
  /// writer's grace period would wait for a reader that only spins).
  @inline(__always)
  func await(_ side: Side, _ iteration: UInt64, stop: StopFlag, between: () -> Void) -> Bool {
    var spins: UInt32 = 0
    // Acquiring: pairs with the other thread's releasing store in `arrive`, so everything
    // it wrote before arriving (the test, the offset, its observation) is visible here.
    while words.loadAcquiring(side.rawValue) < iteration {
      litmus_pause(1)
      spins &+= 1
      if spins & 255 == 0 {
        between()
        if stop.isSet { return false }
        if spins & 0xFFFF == 0 { sched_yield() }  // the other may be waiting for this CPU
      }
    }
    return true
  }

  /// Announces `iteration` on `side`'s line, after the other stores to it.
  @inline(__always)
  func arrive(_ side: Side, _ iteration: UInt64) {
    // Releasing: pairs with the acquiring load in `await`.
    words.storeReleasing(side.rawValue, iteration)
  }

  /// Stores `word` for `side`'s arrival at `iteration` (before ``arrive(_:_:)``, whose
  /// releasing store publishes it).
  @inline(__always)
  func put(_ side: Side, _ word: Word, _ value: UInt64, for iteration: UInt64) {
    words.storeRelaxed(side.rawValue + word.rawValue + Int(iteration & 1), value)
  }

  /// Reads `word` of `side`'s arrival at `iteration` (after ``await(_:_:stop:between:)``,
  /// whose acquiring load saw it).
  @inline(__always)
  func get(_ side: Side, _ word: Word, for iteration: UInt64) -> UInt64 {
    words.loadRelaxed(side.rawValue + word.rawValue + Int(iteration & 1))
  }

  /// The coarse clock when the reader began its latest iteration (for a stall report).
  var readerStarted: UInt64 {
    get { words.loadRelaxed(Side.reader.rawValue + 7) }
    nonmutating set { words.storeRelaxed(Side.reader.rawValue + 7, newValue) }
  }
}

/// The signed skew between the two threads' starts, per test, steered by the outcomes:
/// when the reader came first the writer starts earlier next time, when the writer came
/// first it starts later. The centre settles where each comes first about half the time,
/// which is where the two threads' accesses overlap; the draws spread around it.
struct LitmusSkew {
  /// The skew's centre, in ``litmus_delay`` loops: positive delays the writer.
  private var centre: Int
  /// How far each draw strays from the centre, either way.
  private let spread: Int
  private let limit: Int

  init(spread: Int, limit: Int) {
    centre = 0
    self.spread = max(spread, 1)
    self.limit = limit
  }

  /// The offsets for one iteration: (reader's, writer's), one of them 0.
  mutating func draw(_ random: UInt64) -> (reader: UInt32, writer: UInt32) {
    let skew = centre + Int(random % UInt64(2 * spread + 1)) - spread
    return skew >= 0 ? (0, UInt32(skew)) : (UInt32(-skew), 0)
  }

  /// Moves the centre after an iteration in which the reader came first, or not.
  mutating func steer(readerCameFirst: Bool) {
    centre = min(max(centre + (readerCameFirst ? -2 : 2), -limit), limit)
  }
}
