#include "CValueRing.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// MARK: - Producer slots

__thread int value_ring_slot_plus_one __attribute__((tls_model("initial-exec")));

// Slots are handed out under this lock, which also orders a slot's successive holders: the
// exiting thread's last lane writes happen before its unlock in release_slot, and the next
// holder's first lane writes after its lock in value_ring_claim_slot. That is what keeps each
// lane single-producer across threads.
static pthread_mutex_t slot_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned char held[VALUE_RING_PRODUCER_SLOTS];  // 1 while a live thread holds the slot
// Slots not held by a live thread (atomic, relaxed): lets a thread that found none skip the
// lock until one comes back.
static int available = VALUE_RING_PRODUCER_SLOTS;
static pthread_key_t slot_key;
static pthread_once_t slot_key_once = PTHREAD_ONCE_INIT;
static int slot_key_failed;

static void release_slot(void *value) {
  int slot = (int)(intptr_t)value - 1;
  pthread_mutex_lock(&slot_lock);
  held[slot] = 0;
  __atomic_fetch_add(&available, 1, __ATOMIC_RELAXED);
  pthread_mutex_unlock(&slot_lock);
  // A ring write from a later destructor of this thread claims a slot afresh.
  value_ring_slot_plus_one = 0;
}

static void make_slot_key(void) { slot_key_failed = pthread_key_create(&slot_key, release_slot); }

__attribute__((noinline, cold)) int value_ring_claim_slot(int64_t vcpu) {
  int current = value_ring_slot_plus_one;
  if (current > 0) return current - 1;
  if (current < 0 && __atomic_load_n(&available, __ATOMIC_RELAXED) == 0) return -1;
  pthread_once(&slot_key_once, make_slot_key);
  if (slot_key_failed) return -1;
  int slot = -1;
  pthread_mutex_lock(&slot_lock);
  // The vCPU's own slot when it is free (the bounds check makes any index safe), else the
  // lowest free one, so slot numbers stay dense and consumers scan few lanes.
  if (vcpu >= 0 && vcpu < VALUE_RING_PRODUCER_SLOTS && !held[vcpu]) {
    slot = (int)vcpu;
  } else {
    for (int candidate = 0; candidate < VALUE_RING_PRODUCER_SLOTS; candidate++) {
      if (!held[candidate]) {
        slot = candidate;
        break;
      }
    }
  }
  if (slot >= 0) {
    held[slot] = 1;
    __atomic_fetch_sub(&available, 1, __ATOMIC_RELAXED);
  }
  pthread_mutex_unlock(&slot_lock);
  if (slot < 0) {
    value_ring_slot_plus_one = -1;
    return -1;
  }
  if (pthread_setspecific(slot_key, (void *)(intptr_t)(slot + 1)) != 0) {
    release_slot((void *)(intptr_t)(slot + 1));
    value_ring_slot_plus_one = -1;
    return -1;
  }
  value_ring_slot_plus_one = slot + 1;
  return slot;
}

// MARK: - Rings

struct value_ring *value_ring_create(uint64_t capacity, int32_t wake_fd) {
  void *memory = 0;
  if (posix_memalign(&memory, 64, sizeof(struct value_ring)) != 0) return 0;
  struct value_ring *ring = memory;
  memset(ring, 0, sizeof *ring);
  ring->mask = capacity - 1;
  ring->wake_fd = wake_fd;
  return ring;
}

void value_ring_destroy(struct value_ring *ring) {
  // Only after the seal (the device is gone): acquire pairs with value_ring_seal, which
  // follows the bus's grace period, so every producer's last lane write comes before the
  // frees below, also for ThreadSanitizer.
  (void)value_ring_is_sealed(ring);
  uint32_t limit = value_ring_lane_limit(ring);
  for (uint32_t slot = 0; slot < limit; slot++) free(value_ring_lane(ring, slot));
  free(ring);
}

__attribute__((noinline, cold)) struct value_ring_lane *value_ring_install_lane(
    struct value_ring *ring, int slot) {
  size_t bytes = sizeof(struct value_ring_lane) + (ring->mask + 1) * sizeof(struct value_ring_entry);
  void *memory = 0;
  if (posix_memalign(&memory, 64, bytes) != 0) {
    __atomic_fetch_add(&ring->declined, 1, __ATOMIC_RELAXED);
    return 0;
  }
  struct value_ring_lane *lane = memory;
  memset(lane, 0, sizeof *lane);
  // Release pairs with the consumer's acquire in value_ring_lane: it sees the zeroed lane.
  __atomic_store_n(&ring->lanes[slot], lane, __ATOMIC_RELEASE);
  // Raise lane_limit to cover the slot. Release pairs with value_ring_lane_limit (the lane
  // pointer above is visible to whoever sees the new limit).
  uint32_t limit = __atomic_load_n(&ring->lane_limit, __ATOMIC_RELAXED);
  while (limit < (uint32_t)slot + 1 &&
         !__atomic_compare_exchange_n(&ring->lane_limit, &limit, (uint32_t)slot + 1, 1,
                                      __ATOMIC_RELEASE, __ATOMIC_RELAXED)) {
  }
  return lane;
}

__attribute__((noinline)) void value_ring_wake(struct value_ring *ring, struct value_ring_lane *lane) {
  uint64_t one = 1;
  ssize_t written;
  do {
    written = write(ring->wake_fd, &one, sizeof one);
  } while (written < 0 && errno == EINTR);
  // Relaxed read-modify-write by the lane's only writer: a plain add that statistics may read.
  uint64_t *counter = written == (ssize_t)sizeof one ? &lane->wakeups : &lane->failed_wakeups;
  __atomic_store_n(counter, __atomic_load_n(counter, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
}

__attribute__((noinline, cold)) void value_ring_overflow(
    struct value_ring *ring, struct value_ring_lane *lane) {
  // Release pairs with value_ring_load_lost: a consumer that sees this loss sees every
  // record pushed before it.
  __atomic_store_n(&lane->lost, __atomic_load_n(&lane->lost, __ATOMIC_RELAXED) + 1, __ATOMIC_RELEASE);
  lane->sequence_offset += 1;
  if (!lane->overflowing) {
    // The consumer may have read `lost` just before this store and gone to sleep; one
    // signal per episode makes sure it comes back to report the loss.
    lane->overflowing = 1;
    value_ring_wake(ring, lane);
  }
}

__attribute__((noinline, cold)) int value_ring_label(
    struct value_ring *ring, struct value_ring_lane *lane, int64_t vcpu) {
  uint64_t tail = __atomic_load_n(&lane->tail, __ATOMIC_RELAXED);  // this thread's own store
  if (tail - lane->cached_head > ring->mask) {
    // Acquire pairs with the consumer's store of head, as in value_ring_record_inline.
    lane->cached_head = __atomic_load_n(&lane->head, __ATOMIC_ACQUIRE);
    if (tail - lane->cached_head > ring->mask) return 0;
  }
  struct value_ring_entry *entry = &lane->entries[tail & ring->mask];
  entry->offset = 0;
  entry->value = (uint64_t)vcpu;
  entry->tag = value_ring_next_sequence(lane, tail) << 4;  // size 0: a label
  // seq_cst: the wake-up protocol of value_ring_record_inline; the tail store and the head
  // load below pair with the consumer's seq_cst head store and tail load in
  // value_ring_publish_head, as a write's do.
  __atomic_store_n(&lane->tail, tail + 1, __ATOMIC_SEQ_CST);
  // Release pairs with the acquire load of labels in value_ring_lane_counts: statistics
  // that see this label see the tail that holds it.
  __atomic_store_n(&lane->labels, __atomic_load_n(&lane->labels, __ATOMIC_RELAXED) + 1, __ATOMIC_RELEASE);
  lane->sequence_offset -= 1;
  lane->vcpu = vcpu;
  lane->overflowing = 0;
  // Pairs with the consumer's seq_cst head store in value_ring_publish_head (see above).
  uint64_t head = __atomic_load_n(&lane->head, __ATOMIC_SEQ_CST);
  lane->cached_head = head;
  if (head == tail) value_ring_wake(ring, lane);
  return 1;
}

void value_ring_seal(struct value_ring *ring) {
  // Release pairs with the acquire in value_ring_is_sealed (see the header).
  __atomic_store_n(&ring->sealed, 1, __ATOMIC_RELEASE);
  uint64_t one = 1;
  while (write(ring->wake_fd, &one, sizeof one) < 0 && errno == EINTR) {
  }
}

#ifdef VALUE_RING_TSAN
int value_ring_record_outline(
    struct value_ring *ring, uint64_t offset, uint64_t size, uint64_t value, int64_t vcpu) {
  return value_ring_record_inline(ring, offset, size, value, vcpu);
}
#endif
