// Value rings: per-thread single-producer rings that vCPU threads append guest writes to, and
// one consumer drains. The producer side is here, in C, so that every memory order is spelled
// out and Swift inlines it into the bus's dispatch path; the consumer loop is in Swift
// (ConcurrentBusDevices/ValueRing+Draining.swift) on top of the accessors below. Swift sees
// rings and lanes only as opaque pointers (it cannot import the over-aligned structs).
//
// Layout: a ring has one lane per producer slot that ever wrote to it. A producer slot is a
// small number the calling thread holds from its first ring write until it exits (then the
// slot is free again and a later thread reuses it, lane and all). A thread whose first write
// is made as vCPU v takes slot v when no live thread holds it, so a VMM's vCPU threads write
// to the lanes of their own indices; otherwise (slot v taken, or v outside the slots) it
// takes the lowest free slot. Each lane is a single-producer, single-consumer ring of fixed
// capacity: the producer writes only its own lane's cache lines, the consumer only the
// lane's head line, so vCPUs never write a shared cache line.
//
// Every record carries the vCPU index it was written as, without widening the records: a
// lane remembers the index of its latest record, and a write as another index first pushes
// a label record (size 0, the new index as its value), which the consumer reads in order
// and which takes no sequence number. A thread writing as one vCPU, as a vCPU thread does,
// pushes at most one label per ring in its life.
#ifndef CVALUERING_H
#define CVALUERING_H

#include <stdint.h>

/// How many producer slots exist in the process: threads writing to rings at the same time
/// beyond this many have their writes declined (the bus then tries the next entry).
#define VALUE_RING_PRODUCER_SLOTS 1024

// MARK: - Producer slots

/// The calling thread's producer slot plus one; 0 before its first ring write, -1 after a
/// claim found every slot taken.
extern __thread int value_ring_slot_plus_one __attribute__((tls_model("initial-exec")));

/// Claims a producer slot for the calling thread (cold: once per thread): slot `vcpu` when
/// it is one (0 <= vcpu < VALUE_RING_PRODUCER_SLOTS) and no live thread holds it, else the
/// lowest free slot. Returns the slot, or -1 when all VALUE_RING_PRODUCER_SLOTS are held by
/// live threads. The slot is given back when the thread exits, by a pthread key destructor.
int value_ring_claim_slot(int64_t vcpu);

/// The calling thread's producer slot, claiming one on first use (preferring slot `vcpu`);
/// -1 when none is free. Any `vcpu` is safe: it only ever selects a slot after a bounds
/// check.
static inline int value_ring_producer_slot(int64_t vcpu) {
  int slot = value_ring_slot_plus_one;
  if (__builtin_expect(slot > 0, 1)) return slot - 1;
  return value_ring_claim_slot(vcpu);
}

// MARK: - Rings and lanes

/// One captured write. `tag` is the producer's sequence number shifted left by 4, or'ed
/// with the access size (1...8). Size 0 marks a label record: `value` is the vCPU index
/// (as a two's-complement int64) of the records that follow it in the lane.
struct value_ring_entry {
  uint64_t offset;
  uint64_t value;
  uint64_t tag;
};

/// One producer slot's ring.
struct value_ring_lane {
  // The producer's cache line: written only by the thread holding this lane's slot.
  /// Records ever pushed (atomic: the consumer reads it).
  uint64_t tail;
  /// Writes ever lost to a full lane (atomic: the consumer reads it).
  uint64_t lost;
  /// The producer's last view of `head` (producer only).
  uint64_t cached_head;
  /// eventfd signals sent and signals that failed (atomic, relaxed: statistics).
  uint64_t wakeups;
  uint64_t failed_wakeups;
  /// Label records pushed (atomic, relaxed: statistics take them out of `tail`).
  uint64_t labels;
  /// `lost - labels` (producer only, wrapping): the next write's sequence number is
  /// `tail + sequence_offset`, one load on the write path.
  uint64_t sequence_offset;
  /// The vCPU index of the lane's latest record (producer only): 0 until a label says
  /// otherwise.
  int64_t vcpu;
  /// 1 from a loss until the next recorded write: one wakeup per overflow episode.
  uint32_t overflowing;

  // The consumer's cache line.
  /// Records consumed (atomic: the producer reads it).
  _Alignas(64) uint64_t head;
  /// The next sequence number the consumer will report (consumer only).
  uint64_t expected;
  /// The vCPU index of the records the consumer reads next, and the label records it has
  /// read (consumer only).
  int64_t reader_vcpu;
  uint64_t labels_read;

  _Alignas(64) struct value_ring_entry entries[];
};

/// A ring: its lanes and the eventfd that wakes its consumer.
struct value_ring {
  // Set at creation, read-only afterwards.
  uint64_t mask;
  int32_t wake_fd;

  // Written on cold paths only.
  /// 1 + the highest slot that has a lane (atomic).
  _Alignas(64) uint32_t lane_limit;
  /// 1 once the bus has let go of the ring's device (atomic).
  uint32_t sealed;
  /// Writes declined for want of a producer slot or of memory for a lane (atomic, relaxed).
  uint64_t declined;

  /// The lanes by producer slot (atomic pointers; NULL until that slot first writes).
  _Alignas(64) struct value_ring_lane *lanes[VALUE_RING_PRODUCER_SLOTS];
};

/// A ring of `capacity` (a power of two) records per lane, waking `wake_fd`; NULL when out
/// of memory.
struct value_ring *value_ring_create(uint64_t capacity, int32_t wake_fd);

/// Frees the ring and its lanes; no producer or consumer may use it any more.
void value_ring_destroy(struct value_ring *ring);

/// Cold: allocates and publishes the lane of `slot`, run by the thread holding that slot on
/// its first write to this ring. NULL when out of memory.
struct value_ring_lane *value_ring_install_lane(struct value_ring *ring, int slot);

/// Wakes the consumer: one eventfd write(2) of 1, counted in the lane's statistics.
void value_ring_wake(struct value_ring *ring, struct value_ring_lane *lane);

/// Counts one write lost to a full lane; the first loss of an episode wakes the consumer.
void value_ring_overflow(struct value_ring *ring, struct value_ring_lane *lane);

/// Cold: pushes a label record saying the lane's next records are made as `vcpu` (the
/// producer's path when it writes as another vCPU than its lane's latest record). Returns
/// 0, changing nothing, when the lane is full.
int value_ring_label(struct value_ring *ring, struct value_ring_lane *lane, int64_t vcpu);

/// The sequence number of the lane's next write: records pushed, less labels, plus writes
/// lost (producer only).
static inline uint64_t value_ring_next_sequence(const struct value_ring_lane *lane, uint64_t tail) {
  return tail + lane->sequence_offset;
}

/// Records one guest write made as vCPU `vcpu` in the calling thread's lane: the vCPU's
/// whole path.
///
/// Returns 1 when the write is claimed (recorded, or lost to a full lane and counted), 0
/// when declined (no producer slot or no memory for a lane; counted in `declined`).
///
/// Wake-up protocol (closes the race between a consumer going to sleep and a producer
/// appending): the producer's seq_cst store of `tail` followed by its seq_cst load of `head`
/// pairs with the consumer's seq_cst store of `head` followed by its seq_cst load of `tail`
/// (value_ring_publish_head). In the single total order of seq_cst operations one of the two
/// stores comes first, so either the consumer's load sees the new record (and it keeps
/// draining) or the producer's load sees the consumer caught up with the old tail (and it
/// signals). Only that empty-to-non-empty step signals, so a burst costs one wakeup.
static inline int value_ring_record_inline(
    struct value_ring *ring, uint64_t offset, uint64_t size, uint64_t value, int64_t vcpu) {
  int slot = value_ring_producer_slot(vcpu);
  if (__builtin_expect(slot < 0, 0)) {
    __atomic_fetch_add(&ring->declined, 1, __ATOMIC_RELAXED);
    return 0;
  }
  // Relaxed: this thread, or an earlier holder of its slot (ordered before it by the slot
  // lock), is the only writer of this pointer.
  struct value_ring_lane *lane = __atomic_load_n(&ring->lanes[slot], __ATOMIC_RELAXED);
  if (__builtin_expect(lane == 0, 0)) {
    lane = value_ring_install_lane(ring, slot);
    if (lane == 0) return 0;
  }
  if (__builtin_expect(lane->vcpu != vcpu, 0) && !value_ring_label(ring, lane, vcpu)) {
    value_ring_overflow(ring, lane);  // no room for the label: the write is lost
    return 1;
  }
  uint64_t tail = __atomic_load_n(&lane->tail, __ATOMIC_RELAXED);  // this thread's own store
  if (__builtin_expect(tail - lane->cached_head > ring->mask, 0)) {
    // Acquire pairs with the consumer's store of head: its reads of the entries we are
    // about to overwrite are done.
    lane->cached_head = __atomic_load_n(&lane->head, __ATOMIC_ACQUIRE);
    if (tail - lane->cached_head > ring->mask) {
      value_ring_overflow(ring, lane);
      return 1;
    }
  }
  struct value_ring_entry *entry = &lane->entries[tail & ring->mask];
  entry->offset = offset;
  entry->value = value;
  entry->tag = (value_ring_next_sequence(lane, tail) << 4) | size;
  // seq_cst (a release too: the entry is visible before the new tail): see the protocol
  // above. The tail store and the head load below pair with the consumer's seq_cst head
  // store and tail load in value_ring_publish_head: of two threads that each store then
  // load, at least one sees the other's store, so an empty-to-non-empty step is never
  // missed by both sides.
  __atomic_store_n(&lane->tail, tail + 1, __ATOMIC_SEQ_CST);
  lane->overflowing = 0;
  uint64_t head = __atomic_load_n(&lane->head, __ATOMIC_SEQ_CST);
  lane->cached_head = head;
  if (head == tail) value_ring_wake(ring, lane);
  return 1;
}

// ThreadSanitizer builds (Scripts/tsan.sh) call the producer path out of line, from
// CValueRing.c, which clang compiles with -fsanitize=thread: Swift's clang importer inlines
// this header without instrumenting its plain loads and stores (only its atomics), so the
// entries written above would be invisible to TSan.
#if !defined(VALUE_RING_TSAN) && defined(CURCU_TSAN)
#define VALUE_RING_TSAN 1
#endif
#if !defined(VALUE_RING_TSAN) && defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define VALUE_RING_TSAN 1
#endif
#endif

#ifdef VALUE_RING_TSAN
int value_ring_record_outline(
    struct value_ring *ring, uint64_t offset, uint64_t size, uint64_t value, int64_t vcpu);
#endif

/// Records one guest write made as vCPU `vcpu` in the calling thread's lane (see
/// value_ring_record_inline).
static inline int value_ring_record(
    struct value_ring *ring, uint64_t offset, uint64_t size, uint64_t value, int64_t vcpu) {
#ifdef VALUE_RING_TSAN
  return value_ring_record_outline(ring, offset, size, value, vcpu);
#else
  return value_ring_record_inline(ring, offset, size, value, vcpu);
#endif
}

// MARK: - Consumer side (one consumer at a time)

/// 1 + the highest slot with a lane. Acquire pairs with the release in install_lane, so
/// every lane below it that is non-NULL is fully initialized.
static inline uint32_t value_ring_lane_limit(const struct value_ring *ring) {
  return __atomic_load_n(&ring->lane_limit, __ATOMIC_ACQUIRE);
}

/// The lane of `slot`, or NULL. Acquire pairs with the release that published it.
static inline struct value_ring_lane *value_ring_lane(struct value_ring *ring, uint32_t slot) {
  return __atomic_load_n(&ring->lanes[slot], __ATOMIC_ACQUIRE);
}

/// The lane's tail. Acquire pairs with the producer's seq_cst store of tail: the entries
/// below it are written.
static inline uint64_t value_ring_load_tail(const struct value_ring_lane *lane) {
  return __atomic_load_n(&lane->tail, __ATOMIC_ACQUIRE);
}

/// Writes lost so far. Acquire pairs with the producer's release in value_ring_overflow.
static inline uint64_t value_ring_load_lost(const struct value_ring_lane *lane) {
  return __atomic_load_n(&lane->lost, __ATOMIC_ACQUIRE);
}

/// The lane's head, as the consumer (its only writer) last stored it.
static inline uint64_t value_ring_load_head(const struct value_ring_lane *lane) {
  return __atomic_load_n(&lane->head, __ATOMIC_RELAXED);
}

/// Frees the entries below `head` and returns the tail seen afterwards: the consumer's half
/// of the wake-up protocol (see value_ring_record). When the result equals the tail the
/// consumer drained to, the lane is empty and the next record will signal.
static inline uint64_t value_ring_publish_head(struct value_ring_lane *lane, uint64_t head) {
  // Both seq_cst: pair with the producer's seq_cst tail store and head load in
  // value_ring_record_inline (the store-buffering pattern, see there).
  __atomic_store_n(&lane->head, head, __ATOMIC_SEQ_CST);
  return __atomic_load_n(&lane->tail, __ATOMIC_SEQ_CST);
}

/// The entry at `position` (below the tail, at or above the head).
static inline const struct value_ring_entry *value_ring_entry_at(
    const struct value_ring *ring, const struct value_ring_lane *lane, uint64_t position) {
  return &lane->entries[position & ring->mask];
}

/// Marks the ring sealed (its device is gone: no producer can reach it any more) and wakes
/// the consumer. Release pairs with value_ring_is_sealed: every record made before the
/// bus's grace period is visible to a consumer that sees the seal.
void value_ring_seal(struct value_ring *ring);

/// Whether the ring is sealed. Acquire: pairs with the release store in value_ring_seal.
static inline int value_ring_is_sealed(const struct value_ring *ring) {
  return __atomic_load_n(&ring->sealed, __ATOMIC_ACQUIRE) != 0;
}

/// The next sequence number the consumer will report for this lane.
static inline uint64_t value_ring_expected(const struct value_ring_lane *lane) {
  return lane->expected;
}

/// Sets the next sequence number the consumer will report for this lane.
static inline void value_ring_set_expected(struct value_ring_lane *lane, uint64_t expected) {
  lane->expected = expected;
}

/// The vCPU index of the records the consumer reads next in this lane.
static inline int64_t value_ring_reader_vcpu(const struct value_ring_lane *lane) {
  return lane->reader_vcpu;
}

/// The consumer read a label record: the lane's next records are made as `vcpu`.
static inline void value_ring_read_label(struct value_ring_lane *lane, int64_t vcpu) {
  lane->reader_vcpu = vcpu;
  lane->labels_read += 1;
}

/// The records the consumer has read that were writes (not labels), given the lane's
/// position `head`: the sequence number the next record would have without losses.
static inline uint64_t value_ring_writes_below(const struct value_ring_lane *lane, uint64_t head) {
  return head - lane->labels_read;
}

// MARK: - Statistics (any thread; relaxed reads of counters the producers keep)

/// One lane's counters.
struct value_ring_lane_counts {
  uint64_t recorded;
  uint64_t lost;
  uint64_t wakeups;
  uint64_t failed_wakeups;
};

static inline struct value_ring_lane_counts value_ring_lane_counts(
    const struct value_ring_lane *lane) {
  // Labels first: every label counted is in the tail read after it (both only grow), so
  // the difference never goes below zero.
  uint64_t labels = __atomic_load_n(&lane->labels, __ATOMIC_ACQUIRE);  // pairs with value_ring_label's release
  struct value_ring_lane_counts counts = {
      __atomic_load_n(&lane->tail, __ATOMIC_RELAXED) - labels,
      __atomic_load_n(&lane->lost, __ATOMIC_RELAXED),
      __atomic_load_n(&lane->wakeups, __ATOMIC_RELAXED),
      __atomic_load_n(&lane->failed_wakeups, __ATOMIC_RELAXED),
  };
  return counts;
}

/// Writes the ring declined.
static inline uint64_t value_ring_declined(const struct value_ring *ring) {
  return __atomic_load_n(&ring->declined, __ATOMIC_RELAXED);
}

#endif
