import ConcurrentBus
import Glibc
import HostSupport
import Synchronization

/// Why the tool itself ran short during a run: something a verdict must not blame on the
/// bus or the RCU. A run with a shortfall and no violation is `inconclusive`, naming it.
public enum ShortfallKind: String, Codable, Sendable, CaseIterable, Comparable {
  /// The process ran out of file descriptors (EMFILE, ENFILE): an eventfd, a poller or a
  /// consumer could not be made.
  case descriptors
  /// Memory or another kernel resource ran out (ENOMEM, ENOSPC from epoll).
  case memory
  /// A thread could not be started (EAGAIN), or the tool's threads were starved.
  case threads
  /// A checker fell behind what it checks: a consumer that had not drained a sealed ring
  /// by the end, records left unreconciled when the time ran out.
  case checker
  /// The run's time budget ran out before winding down finished: a thread still busy (a
  /// grace period, a guest round) when the run had to end.
  case time

  public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// One kind of shortfall in a report: how often, and the first few, described.
public struct Shortfall: Codable, Sendable, Equatable {
  /// What ran short.
  public let kind: ShortfallKind
  /// How many times it happened.
  public let count: Int
  /// The first few, described.
  public let examples: [String]

  /// `count` shortfalls of `kind`, with `examples`.
  public init(kind: ShortfallKind, count: Int, examples: [String]) {
    self.kind = kind
    self.count = count
    self.examples = examples
  }

  /// "descriptors: cannot create an eventfd: EMFILE (3 times)".
  var text: String {
    "\(kind.rawValue): " + (examples.first ?? "") + (count > 1 ? " (\(count) times)" : "")
  }
}

/// Collects shortfalls from any thread. Recording takes a lock: shortfalls are rare.
final class Shortfalls: Sendable {
  private struct Tally {
    var counts: [ShortfallKind: Int] = [:]
    var examples: [ShortfallKind: [String]] = [:]
  }

  private let tally = Mutex(Tally())

  /// Records one shortfall of `kind`, described.
  func record(_ kind: ShortfallKind, _ example: @autoclosure () -> String) {
    tally.withAnnotatedLock(owner: self) { tally in
      tally.counts[kind, default: 0] += 1
      if tally.examples[kind, default: []].count < Violations.examplesKept {
        tally.examples[kind, default: []].append(example())
      }
    }
  }

  /// Whether anything has been recorded.
  var any: Bool { tally.withAnnotatedLock(owner: self) { !$0.counts.isEmpty } }

  /// Counts and examples by kind, for reports.
  var summary: [Shortfall] {
    tally.withAnnotatedLock(owner: self) { tally in
      tally.counts.keys.sorted().map { kind in
        Shortfall(kind: kind, count: tally.counts[kind]!, examples: tally.examples[kind] ?? [])
      }
    }
  }
}

extension Shortfalls {
  /// Records `error` as a shortfall if it is one (the host ran out of descriptors, memory or
  /// threads) and returns true; false for any other error, which the caller reports itself.
  func recordIfExhaustion(_ error: any Error, doing what: String) -> Bool {
    guard let kind = ShortfallKind(exhaustion: error) else { return false }
    record(kind, "\(what): \(error)")
    return true
  }
}

extension ShortfallKind {
  /// The shortfall an error is, when it says the host ran out of something: descriptors
  /// (EMFILE, ENFILE), memory (ENOMEM, ENOSPC) or threads (a thread that would not start);
  /// nil for any other error.
  init?(exhaustion error: any Error) {
    switch error {
    case let error as EventFDError:
      if error.operation == .threadStart {
        self = .threads
        return
      }
      switch error.errno.rawValue {
      case EMFILE, ENFILE: self = .descriptors
      case ENOMEM, ENOSPC: self = .memory
      default: return nil
      }
    case is ThreadStartError:
      self = .threads
    default:
      return nil
    }
  }
}
