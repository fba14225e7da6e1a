extension ViolationKind {
  /// A `synchronize()` started after a reader entered its section and returned before the
  /// reader left (the reader-batch check, ``GracePeriodTickets``).
  public static let gracePeriodOverlap = ViolationKind("grace-period-overlap")
  /// A reader held an element the writer had replaced and then waited a grace period for,
  /// or read a snapshot that had been freed and reused (the pipeline check).
  public static let gracePeriodAge = ViolationKind("grace-period-age")
  /// A reader saw a published element whose pre-publication field was not set.
  public static let publishOrdering = ViolationKind("publish-ordering")
  /// A deferred callback queued after a reader entered its section ran before the reader
  /// left (``CallbackTickets``).
  public static let callbackEarly = ViolationKind("callback-early")
  /// A deferred callback ran twice.
  public static let callbackDuplicate = ViolationKind("callback-duplicate")
  /// A deferred callback had not run after a `barrier()` that followed it.
  public static let callbackLost = ViolationKind("callback-lost")
}
