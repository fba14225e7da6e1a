import CValueRing

// The consumer's loop over a ring's lanes. Runs under the ring's consumer lock, so the
// lanes' consumer fields (head, expected) have one writer at a time.

extension ValueRingStorage {
  /// Appends every lane's entries, each lane in its producer's order, and leaves every lane
  /// in the state where its next record signals the eventfd.
  func drainLanes(into entries: inout [RingEntry]) {
    for (slot, lane) in lanes {
      drain(lane, producer: RingProducer(slot: slot), into: &entries)
    }
  }

  /// Drains one lane until the consumer's half of the wake-up protocol finds it empty, then
  /// reports writes lost after the last record.
  private func drain(
    _ lane: OpaquePointer, producer: RingProducer,
    into entries: inout [RingEntry]
  ) {
    var head = value_ring_load_head(lane)
    while true {
      let tail = value_ring_load_tail(lane)
      while head != tail {
        append(value_ring_entry_at(ring, lane, head).pointee, of: lane, producer, &entries)
        head &+= 1
      }
      // Publishing the head frees the entries; the tail read after it (seq_cst on both, see
      // value_ring_record) either shows records that arrived meanwhile, or guarantees that
      // the producer of the next one sees the lane empty and signals.
      guard value_ring_publish_head(lane, head) == tail else { continue }
      // Losses after the last record: count them only if no record followed them, i.e. the
      // tail read after `lost` is still this one (acquire on lost orders the two reads).
      let lost = value_ring_load_lost(lane)
      guard value_ring_load_tail(lane) == tail else { continue }
      report(
        lossesBefore: value_ring_writes_below(lane, tail) &+ lost, of: lane, producer, &entries)
      return
    }
  }

  /// Appends one record, preceded by the losses its sequence number skips; a label record
  /// (size 0) only sets the vCPU index of the records after it.
  @inline(__always)
  private func append(
    _ entry: value_ring_entry, of lane: OpaquePointer,
    _ producer: RingProducer, _ entries: inout [RingEntry]
  ) {
    let size = Int(entry.tag & 0xF)
    guard size != 0 else {
      value_ring_read_label(lane, Int64(bitPattern: entry.value))
      return
    }
    let sequence = entry.tag >> 4
    report(lossesBefore: sequence, of: lane, producer, &entries)
    entries.append(
      .write(
        RingWrite(
          producer: producer, sequence: sequence, offset: entry.offset, size: size,
          value: entry.value, vcpu: Int(truncatingIfNeeded: value_ring_reader_vcpu(lane)))))
    value_ring_set_expected(lane, sequence &+ 1)
  }

  /// Appends a loss for the sequence numbers between the last one reported and `sequence`.
  @inline(__always)
  private func report(
    lossesBefore sequence: UInt64, of lane: OpaquePointer,
    _ producer: RingProducer, _ entries: inout [RingEntry]
  ) {
    let expected = value_ring_expected(lane)
    guard sequence > expected else { return }
    entries.append(.lost(RingLoss(producer: producer, sequences: expected..<sequence)))
    value_ring_set_expected(lane, sequence)
  }
}
