// C shim over liburcu for Swift.
//
// liburcu's read-side primitives are macros or, with _LGPL_SOURCE, static inline functions
// that Swift cannot name. These `static inline` wrappers are imported and inlined by Swift,
// so a read-side section costs a thread-local counter update and compiler barriers, not a
// library call. _LGPL_SOURCE inlines LGPL-2.1 code, which liburcu's README allows for code
// under an LGPL-compatible license (this package is MIT).
//
// This header has the pieces every flavor shares and the memb and bp flavors, inlined.
// curcu_qsbr.h has the qsbr flavor, also inlined (its read side is the hot path of a vCPU
// thread); curcu_table_flavor.h has the flavors reached through function pointers (mb,
// signal, and a library loaded at run time), which are not hot; curcu_tsan.h says whether
// this is a ThreadSanitizer build.
//
// Deferred work is not here: the RCU layer has its own reclaimer per flavor (see
// Sources/RCU/Reclaimer.swift), because liburcu's call_rcu worker naps ~10 ms between
// batches and runs every callback on one thread.
#ifndef CURCU_H
#define CURCU_H

#define _LGPL_SOURCE 1
#include <urcu/urcu-memb.h>
#include <urcu/urcu-bp.h>
#include <urcu/pointer.h>
#include <stdbool.h>
#include <stdint.h>

#include "curcu_tsan.h"

#ifdef CURCU_TSAN
// liburcu 0.13 is not instrumented: the grace period happens inside sys_membarrier and the
// library's own counters, which ThreadSanitizer cannot see. The token below carries the
// happens-before edge TSan needs: every reader releases it as it leaves a read-side section
// and every writer acquires it once a grace period has elapsed, which is exactly the
// ordering the grace period guarantees.
extern char curcu_tsan_token;
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define CURCU_TSAN_READER_EXIT() __tsan_release(&curcu_tsan_token)
#define CURCU_TSAN_GRACE_PERIOD_END() __tsan_acquire(&curcu_tsan_token)
#else
#define CURCU_TSAN_READER_EXIT() ((void)0)
#define CURCU_TSAN_GRACE_PERIOD_END() ((void)0)
#endif

/// Tells ThreadSanitizer that everything this thread did so far happens before whatever a
/// later `curcu_tsan_acquire` of the same address does. For hand-overs TSan cannot see:
/// a loaded RCU library's callback queue, and a contended Swift `Mutex` (passed on in the
/// kernel by FUTEX_LOCK_PI). No-ops unless CURCU_TSAN.
static inline void curcu_tsan_release(const void *address) {
#ifdef CURCU_TSAN
  __tsan_release((void *)address);
#else
  (void)address;
#endif
}

/// The other end of `curcu_tsan_release`.
static inline void curcu_tsan_acquire(const void *address) {
#ifdef CURCU_TSAN
  __tsan_acquire((void *)address);
#else
  (void)address;
#endif
}

/// `CURCU_TSAN_GRACE_PERIOD_END` for Swift (which cannot call macros): the start of a
/// deferred work, after its grace period, acquires what every reader released.
static inline void curcu_tsan_grace_period_end(void) { CURCU_TSAN_GRACE_PERIOD_END(); }

/// Whether the C files were built with TSan annotations (defined in CURCU.c).
bool curcu_tsan_in_library(void);

/// True when the code including this header and the C files disagree about TSan
/// annotations: a sanitizer build that forgot -Xcc -DCURCU_TSAN=1.
static inline bool curcu_tsan_mismatch(void) {
#ifdef CURCU_TSAN
  return !curcu_tsan_in_library();
#else
  return curcu_tsan_in_library();
#endif
}

/// Writes `message` and the calling thread's id to standard error and aborts the process.
/// For RCU protocol violations that would otherwise leave readers silently unprotected or
/// deadlock; release builds too. Cold and out of line.
__attribute__((noreturn, cold)) void curcu_die(const char *message);

/// Names the calling thread (truncated to Linux's 15 bytes), for debuggers and `top -H`.
void curcu_name_thread(const char *name);

// MARK: - Publication (flavor independent)

/// Reads an RCU-protected pointer for use inside a read-side section (acquire/consume order,
/// so the pointee's contents written before publication are visible).
static inline void *curcu_dereference(void *const *slot) {
#ifdef CURCU_TSAN
  // Acquire (TSan builds, which cannot see consume): pairs with curcu_exchange's release.
  return __atomic_load_n(slot, __ATOMIC_ACQUIRE);
#else
  return rcu_dereference(*slot);
#endif
}

/// Publishes `value` (release order: its contents are visible before the pointer) and
/// returns the previous pointer, which the caller must retire after a grace period.
static inline void *curcu_exchange(void **slot, void *value) {
#ifdef CURCU_TSAN
  // Release pairs with curcu_dereference's acquire; acquire orders the old pointer's
  // reclamation after its publication.
  return __atomic_exchange_n(slot, value, __ATOMIC_ACQ_REL);
#else
  return rcu_xchg_pointer(slot, value);
#endif
}

// MARK: - memb flavor

/// Registers the calling thread as a memb reader, and arranges for it to be unregistered
/// when the thread exits. Cold path: see `curcu_memb_read_lock`.
void curcu_memb_register_lazily(void);

/// Whether the calling thread is registered as a memb reader.
static inline bool curcu_memb_is_registered(void) {
  return URCU_TLS(urcu_memb_reader).registered;
}

/// Registers the calling thread explicitly (for long-lived vCPU threads), so its first
/// dispatch does not pay for registration. Idempotent; the thread is still unregistered at
/// exit if nobody does it before.
static inline void curcu_memb_register_thread(void) {
  if (!URCU_TLS(urcu_memb_reader).registered) {
    curcu_memb_register_lazily();
  }
}

/// Unregisters the calling thread; it must not be inside a read-side section. Idempotent.
static inline void curcu_memb_unregister_thread(void) {
  if (URCU_TLS(urcu_memb_reader).registered) {
    urcu_memb_unregister_thread();
  }
}

/// Whether the calling thread is inside a memb read-side section.
static inline bool curcu_memb_read_ongoing(void) {
  return URCU_TLS(urcu_memb_reader).registered && _urcu_memb_read_ongoing();
}

/// Enters a read-side section, registering the thread first if nobody did.
static inline void curcu_memb_read_lock(void) {
  if (__builtin_expect(!URCU_TLS(urcu_memb_reader).registered, 0)) {
    curcu_memb_register_lazily();
  }
#ifdef CURCU_TSAN
  curcu_memb_read_lock_outline();
#else
  _urcu_memb_read_lock();
#endif
}

/// Leaves a read-side section.
static inline void curcu_memb_read_unlock(void) {
  CURCU_TSAN_READER_EXIT();
#ifdef CURCU_TSAN
  curcu_memb_read_unlock_outline();
#else
  _urcu_memb_read_unlock();
#endif
}

/// Waits for every read-side section that began before the call to end.
static inline void curcu_memb_synchronize(void) {
  urcu_memb_synchronize_rcu();
  CURCU_TSAN_GRACE_PERIOD_END();
}

// MARK: - bp flavor

/// Registers the calling thread as a bp reader (optional: bp registers lazily).
static inline void curcu_bp_register_thread(void) { urcu_bp_register_thread(); }

/// Unregisters the calling thread; bp also does this itself at thread exit.
static inline void curcu_bp_unregister_thread(void) { urcu_bp_unregister_thread(); }

/// Whether the calling thread is inside a bp read-side section.
static inline bool curcu_bp_read_ongoing(void) { return _urcu_bp_read_ongoing(); }

/// Enters a bp read-side section (bp registers the thread itself on first use).
static inline void curcu_bp_read_lock(void) {
#ifdef CURCU_TSAN
  curcu_bp_read_lock_outline();
#else
  _urcu_bp_read_lock();
#endif
}

/// Leaves a bp read-side section.
static inline void curcu_bp_read_unlock(void) {
  CURCU_TSAN_READER_EXIT();
#ifdef CURCU_TSAN
  curcu_bp_read_unlock_outline();
#else
  _urcu_bp_read_unlock();
#endif
}

/// Waits for every bp read-side section that began before the call to end.
static inline void curcu_bp_synchronize(void) {
  urcu_bp_synchronize_rcu();
  CURCU_TSAN_GRACE_PERIOD_END();
}

#include "curcu_qsbr.h"
#include "curcu_table_flavor.h"

#endif
