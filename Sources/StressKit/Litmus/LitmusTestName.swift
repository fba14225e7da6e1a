/// The litmus tests of `stress litmus`: RCU's guarantee written as small two-thread tests, a
/// reader and a writer whose every iteration starts together (``LitmusHandshake``), each
/// with the outcome RCU forbids. Written from the RCU litmus tests of Linux's memory model
/// (`tools/memory-model`) and herdtools7's way of running them.
///
/// RCU's fundamental law: a read-side section either ends before a grace period ends, or
/// begins after it began. Each test below is a consequence of it, and its forbidden outcome
/// is what a flavor that broke the law (or a writer that broke publication) can show.
public enum LitmusTestName: String, CaseIterable, Codable, Sendable {
  /// Reader: enter; load the published slot; wait a little; read the slot; leave. Writer:
  /// publish a fresh slot; `synchronize()`; poison the old one. Forbidden: the reader reads
  /// the poison (its section began before the grace period, which then ended before it).
  case deferredFree = "deferred-free"
  /// Writer: initialize a fresh slot, then publish it (release); a grace period every 32
  /// publishes before slots are reused. Reader: enter; load the published slot (acquire);
  /// read its field; leave. Forbidden: the new slot with its field not yet initialized.
  case messagePassing = "message-passing"
  /// Reader: enter; store x; load y; leave. Writer: store y; `synchronize()`; load x.
  /// Forbidden: both loads see the old values (the store-buffering outcome: the reader's
  /// entry and the grace period's scan missed each other).
  case storeBuffering = "store-buffering"
  /// As deferred-free, but the reader loads the slot inside an inner section and reads it
  /// after the inner unlock, still inside the outer one. Forbidden: the poison (an inner
  /// unlock ended the protection).
  case nestedSections = "nested-sections"
  /// As deferred-free, but the writer poisons the old slot in a deferred callback
  /// (`deferUntilGracePeriod`) instead of after `synchronize()`. Forbidden: the poison.
  case callback = "callback"

  /// The outcomes a test counts, by index, as its report names them; the last is the
  /// forbidden one.
  var outcomes: [String] {
    switch self {
    case .deferredFree, .nestedSections, .callback:
      ["old slot, live", "new slot, live", "POISON"]
    case .messagePassing:
      ["old slot", "new slot, initialized", "new slot, NOT INITIALIZED"]
    case .storeBuffering:
      ["r0=1 r1=1", "r0=1 r1=0", "r0=0 r1=1", "r0=0 r1=0"]
    }
  }

  /// The forbidden outcome, in words, for the report and `--help`.
  public var forbidden: String {
    switch self {
    case .deferredFree: "the reader reads a slot poisoned after a grace period"
    case .messagePassing: "the reader sees the new slot uninitialized"
    case .storeBuffering: "r0=0 r1=0: the reader's load and the writer's load both miss"
    case .nestedSections: "the reader reads the poison after an inner unlock"
    case .callback: "the reader reads a slot poisoned by a deferred callback"
    }
  }

  /// The violation a forbidden outcome is reported as.
  var violation: ViolationKind { ViolationKind("litmus-\(rawValue)") }
}

extension ViolationKind {
  /// A forbidden outcome of the deferred-free litmus test.
  public static let litmusDeferredFree = LitmusTestName.deferredFree.violation
  /// A forbidden outcome of the message-passing litmus test.
  public static let litmusMessagePassing = LitmusTestName.messagePassing.violation
  /// A forbidden outcome of the store-buffering litmus test.
  public static let litmusStoreBuffering = LitmusTestName.storeBuffering.violation
  /// A forbidden outcome of the nested-sections litmus test.
  public static let litmusNestedSections = LitmusTestName.nestedSections.violation
  /// A forbidden outcome of the callback litmus test.
  public static let litmusCallback = LitmusTestName.callback.violation
}
