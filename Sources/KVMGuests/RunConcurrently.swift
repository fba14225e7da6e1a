import HostSupport
public import KVM
import Synchronization

/// Starts `vcpus[i]` in flat protected mode at `entries[i]` and runs all of them at once,
/// each on its own `HostThread` delivering its exits to `handlers[i]`; returns when all
/// have halted (``GuestRun`` and ``BlockGuestRun`` share it).
///
/// Throws `KVMError.invalidArgument` unless there is one entry and one handler per vCPU, and
/// the first error of any vCPU (by vCPU order) after all threads have ended. Inlinable so
/// the vCPU loops are specialized for the caller's handler type.
@inlinable
public func runConcurrently<Handler: GuestIOHandler>(
  _ vcpus: [VCPU], entries: [UInt64], handlers: [Handler]
) throws(KVMError) -> [RunStatistics] {
  guard handlers.count == vcpus.count, entries.count == vcpus.count else {
    throw .invalidArgument(
      "\(handlers.count) handlers and \(entries.count) entries for \(vcpus.count) vCPUs")
  }
  for (vcpu, entry) in zip(vcpus, entries) {
    try vcpu.configureFlatProtectedMode(entry: entry)
  }
  let results = Mutex<[Result<RunStatistics, KVMError>?]>(
    Array(repeating: nil, count: vcpus.count))
  var threads: [HostThread] = []
  var startError: KVMError?
  for (index, vcpu) in vcpus.enumerated() {
    let handler = handlers[index]
    do {
      threads.append(
        try HostThread {
          let result = Result { () throws(KVMError) in try vcpu.run(handler: handler) }
          results.withLock { $0[index] = result }
        })
    } catch {
      startError = .threadCreation(errno: error.errno)
      break
    }
  }
  for thread in threads { thread.join() }
  if let startError { throw startError }
  var statistics: [RunStatistics] = []
  for result in results.withLock({ $0 }) {
    statistics.append(try result!.get())
  }
  return statistics
}
