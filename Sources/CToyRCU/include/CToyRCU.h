// A minimal RCU whose memory-ordering choices are switches, for the litmus fault catalogue:
// each faulty variant is its correct variant with one barrier taken out, so that `stress
// litmus` is seen to catch a missing store-load fence on the read-side entry (the mb
// variant without its fence) and a grace period without its membarrier (the memb variant
// with a writer-local fence instead). Verification only: never shipped.
//
// How it works. A global grace-period count starts at 1. A reader's outermost lock stores
// the count it reads into its own slot (nonzero: inside a section); its outermost unlock
// stores 0. A grace period takes the next count and waits, slot by slot, until every slot
// shows 0 or a count at least that new one (a section that began after the grace period
// did). The barrier pairs that make it correct:
// - mb: a full fence after the reader's slot store (and before its clearing store), a full
//   fence before and after the writer's scan;
// - memb: compiler barriers only on the reader's side; the writer's sys_membarrier before
//   and after its scan runs a full barrier on every CPU that runs a thread of the process.
// Without one of them, the reader's slot store can still sit in its store buffer while it
// loads the pointer the writer just replaced, and the writer's scan sees the slot empty.
#ifndef CTOYRCU_H
#define CTOYRCU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if !defined(TOYRCU_TSAN) && (defined(CURCU_TSAN) || defined(__SANITIZE_THREAD__))
#define TOYRCU_TSAN 1
#endif
#if !defined(TOYRCU_TSAN) && defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TOYRCU_TSAN 1
#endif
#endif

#ifdef TOYRCU_TSAN
// ThreadSanitizer cannot see fences and sys_membarrier: readers release this token as they
// leave a section and a grace period acquires it at its end, the ordering it guarantees.
extern char toyrcu_tsan_token;
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#endif

/// The most reader threads registered at once.
#define TOYRCU_MAX_READERS 1024

/// One reader's slot, alone on its cache lines (each reader stores to its own on every
/// section).
struct toyrcu_reader {
  /// The grace-period count read at the outermost lock; 0 outside a section.
  uint64_t snapshot;
  char padding[120];
} __attribute__((aligned(128)));

/// The calling thread's slot (NULL until it registers) and its nesting depth.
struct toyrcu_thread {
  struct toyrcu_reader *reader;
  unsigned nesting;
};

extern __thread struct toyrcu_thread toyrcu_self __attribute__((tls_model("initial-exec")));

/// The grace-period count readers snapshot; starts at 1, only grace periods raise it.
extern uint64_t toyrcu_grace_periods;

/// Registers the calling thread (idempotent) and returns its slot. Cold: once per thread;
/// the thread is unregistered when it exits.
struct toyrcu_reader *toyrcu_register_thread(void);

/// Unregisters the calling thread, which must be outside any section. Idempotent.
void toyrcu_unregister_thread(void);

/// Enters a read-side section (sections nest). `entry_fence`: a full fence after the slot
/// store (mb); otherwise a compiler barrier only (memb, whose grace periods use
/// sys_membarrier, or the faulty mb).
static inline void toyrcu_read_lock(bool entry_fence) {
  struct toyrcu_thread *self = &toyrcu_self;
  if (self->nesting++ != 0) {
    return;
  }
  struct toyrcu_reader *reader = self->reader;
  if (__builtin_expect(reader == NULL, 0)) {
    reader = toyrcu_register_thread();
  }
  __atomic_store_n(
      &reader->snapshot, __atomic_load_n(&toyrcu_grace_periods, __ATOMIC_RELAXED),
      __ATOMIC_RELAXED);
  if (entry_fence) {
    // Orders the slot store before the section's loads; pairs with the fence a grace
    // period makes after publishing and before scanning the slots.
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
  } else {
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
  }
}

/// Leaves a read-side section. `exit_fence`: a full fence before the clearing store (mb).
static inline void toyrcu_read_unlock(bool exit_fence) {
  struct toyrcu_thread *self = &toyrcu_self;
  if (--self->nesting != 0) {
    return;
  }
  if (exit_fence) {
    // Orders the section's accesses before the clearing store; pairs with the fence a grace
    // period makes after its scan.
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
  } else {
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
  }
#ifdef TOYRCU_TSAN
  __tsan_release(&toyrcu_tsan_token);
#endif
  // Releasing: the section's accesses stay before the clear; pairs with the acquiring load
  // of the slot in the grace period's scan.
  __atomic_store_n(&self->reader->snapshot, 0, __ATOMIC_RELEASE);
}

/// Whether the calling thread is inside a read-side section.
static inline bool toyrcu_read_ongoing(void) { return toyrcu_self.nesting != 0; }

/// Waits until every section that began before the call has ended. `membarrier`: the
/// writer's barriers are sys_membarrier (memb); otherwise full fences on the writer only.
/// Aborts with a message inside a read-side section (it would wait for itself).
void toyrcu_synchronize(bool membarrier);

/// Whether sys_membarrier's private expedited command works here (registered on first
/// use); the memb variants need it.
bool toyrcu_membarrier_available(void);

#endif
