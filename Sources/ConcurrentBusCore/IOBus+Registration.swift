// Single-operation conveniences over `update`: each is a batch of one, with one publish.

extension IOBus {
  /// Registers `device` for every access of 1 to 8 bytes that lies inside
  /// `[base, base + length)`.
  ///
  /// Never waits for a grace period (the replaced snapshot is reclaimed in the background),
  /// so it may be called from a device callback, on this bus or another.
  public func register(
    _ device: any IODevice, base: UInt64, length: UInt64
  ) throws(IOBusError) -> Registration {
    try update { (tx: inout IOBusTransaction) throws(IOBusError) in
      try tx.register(device, base: base, length: length)
    }
  }

  /// Registers `device` for writes at exactly `address` that match `size` and `match`, with
  /// KVM's ioeventfd rules (see ``IOBusTransaction/register(_:address:size:match:)``).
  ///
  /// Never waits for a grace period; allowed from a device callback.
  public func register(
    _ device: any IODevice, address: UInt64, size: Int, match: ValueMatch
  ) throws(IOBusError) -> Registration {
    try update { (tx: inout IOBusTransaction) throws(IOBusError) in
      try tx.register(device, address: address, size: size, match: match)
    }
  }

  /// Moves a registration to `address` in one publish and returns its replacement (see
  /// ``IOBusTransaction/move(_:to:)``): every access finds the device at the old place or
  /// the new one. Never waits; allowed from a device callback (a PCI BAR write).
  public func move(_ registration: Registration, to address: UInt64) throws(IOBusError)
    -> Registration
  {
    try update { (tx: inout IOBusTransaction) throws(IOBusError) in
      try tx.move(registration, to: address)
    }
  }

  /// Removes a registration and waits for a grace period. When it returns, no thread is
  /// inside the device or can enter it, and the bus holds no reference to it.
  ///
  /// - Throws: ``IOBusError/insideReadSection`` from a device callback (the wait could never
  ///   end there): use ``unregister(_:whenReleased:)`` instead.
  public func unregister(_ registration: Registration) throws(IOBusError) {
    try update { (tx: inout IOBusTransaction) throws(IOBusError) in
      try tx.unregister(registration)
    }
  }

  /// Removes a registration without blocking; `whenReleased` runs (on a thread of the
  /// flavor's deferred work) once a grace period has passed and the bus has let go of the
  /// device.
  ///
  /// Allowed from a device callback, on this bus or another. Errors are thrown right away
  /// and `whenReleased` is then never called. Closures of different unregisters may run
  /// concurrently and in any order; one must never call the flavor's `barrier()`.
  public func unregister(
    _ registration: Registration, whenReleased: @escaping @Sendable () -> Void
  ) throws(IOBusError) {
    try update(reclaim: .deferred(whenReleased)) {
      (tx: inout IOBusTransaction) throws(IOBusError) in
      try tx.unregister(registration)
    }
  }

  /// Removes a registration and suspends, without blocking a thread, until a grace period
  /// has passed and the bus has let go of the device.
  ///
  /// Before suspending it polls for the release for up to 20 us, yielding the CPU between
  /// polls: on an idle bus the release usually comes sooner than a suspension and a
  /// resumption on another thread would take.
  ///
  /// Named apart from the blocking ``unregister(_:)`` so that one line never means "block"
  /// in one context and "suspend" in another.
  public func unregisterAndAwaitRelease(_ registration: Registration) async throws(IOBusError) {
    let signal = ReleaseSignal()
    try unregister(registration) { signal.release() }
    await signal.wait()
  }
}
