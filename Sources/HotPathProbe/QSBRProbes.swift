import ConcurrentBus
import RCU

// The dispatch path on liburcu's qsbr flavor, as a vCPU thread that registered with QSBR
// gets it: the read side is a thread-local online check (with its loud failure out of
// line) and a thread-local nesting count, and must add nothing else.

@inline(never) @_silgen_name("concurrentbus_probe_write_qsbr")
func probeWriteQSBR(_ bus: IOBus<QSBRRCU>, _ address: UInt64, _ size: Int, _ value: UInt64)
  -> DispatchResult
{
  bus.write(address: address, size: size, value: value)
}

@inline(never) @_silgen_name("concurrentbus_probe_read_qsbr")
func probeReadQSBR(_ bus: IOBus<QSBRRCU>, _ address: UInt64, _ size: Int) -> UInt64? {
  bus.read(address: address, size: size)
}

func runQSBRProbes() {
  let bus = probeBus(QSBRRCU.self)
  // A QSBR reader registers (which puts it online) before it dispatches.
  QSBRRCU.registerCurrentThread()
  let claimed = probeWriteQSBR(bus, 0x1010, 4, 7)
  let read = probeReadQSBR(bus, 0x1020, 4)
  QSBRRCU.unregisterCurrentThread()
  print("qsbr write: \(claimed), read: \(String(describing: read))")
}
