// Package access, not API: the surface `stress bench` needs to compare this bus with other designs on the
// very same table and dispatch code. Nothing here is used by the bus itself.

/// A bus's table frozen into an ordinary reference-counted object: the design where readers
/// load a shared class reference and retain it for each lookup (Rust's `ArcSwap::load_full`).
///
/// It keeps every device it can dispatch to alive itself, so it stays valid after the bus
/// it was taken from has changed, for as long as anyone holds a reference to it.
package final class BusSnapshot: @unchecked Sendable {
  // @unchecked: the table is immutable after init and its devices are Sendable.
  @usableFromInline let table: DeviceTable
  // The strong references the table's unretained entries rely on.
  private let handles: [DeviceHandle]

  init(table: consuming DeviceTable, handles: [DeviceHandle]) {
    self.table = table
    self.handles = handles
  }

  /// How many entries the table holds.
  package var count: Int { table.count }

  /// Dispatches a guest write exactly as ``IOBus/write(address:size:value:)`` does, minus the
  /// read-side section and the unclaimed counter.
  @inlinable
  package func write(address: UInt64, size: Int, value: UInt64) -> DispatchResult {
    guard let access = GuestAccess(address: address, size: size) else { return .unclaimed }
    return table.write(access, value: access.truncate(value), vcpu: 0)
  }
}

extension IOBus {
  /// Builds a snapshot of the bus's current registrations, under the writer lock.
  package func makeSnapshot() -> BusSnapshot {
    writer.withLock { state in
      BusSnapshot(table: state.makeTable(), handles: Array(state.handles.values))
    }
  }
}
