// liburcu's qsbr flavor, inlined for Swift (included by CURCU.h, after _LGPL_SOURCE).
//
// In QSBR a read-side section costs nothing in liburcu: a registered thread is "online"
// and holds whatever it read until it announces a quiescent state or goes offline, and a
// grace period waits for every online thread to do one of those. Two things are added on
// top, both thread-local and cheap:
// - a loud failure: a read on a thread that is not registered and online would be
//   unprotected (a grace period does not wait for it), so it aborts with a message instead;
//   lazy registration cannot fix it, since an online thread that never announces quiescent
//   states stalls every grace period;
// - a nesting depth, so that `curcu_qsbr_read_ongoing` is true exactly inside a section
//   (liburcu's own `_urcu_qsbr_read_ongoing` is true whenever the thread is online). The bus
//   relies on it to refuse a synchronous unregister from a device callback: liburcu's
//   synchronize_rcu would take an online caller offline and let the grace period end while
//   the caller still holds the table.
#ifndef CURCU_QSBR_H
#define CURCU_QSBR_H

#include <urcu/urcu-qsbr.h>
#include <stdbool.h>

/// The calling thread's QSBR read-side nesting depth (defined in qsbr.c). Initial-exec:
/// one instruction to reach from the executable that links this package.
extern __thread unsigned long curcu_qsbr_depth __attribute__((tls_model("initial-exec")));

/// The loud failures, out of line and cold (qsbr.c).
__attribute__((noreturn, cold)) void curcu_qsbr_die_not_online(void);
__attribute__((noreturn, cold)) void curcu_qsbr_die_inside_section(const char *operation);

/// A full memory barrier for ordinary memory, for the vCPU's offline/online around every
/// `KVM_RUN`. liburcu's `cmm_smp_mb()` is `mfence` on x86-64, which also waits for
/// non-temporal and write-combining stores this protocol never makes; a locked add of 0 to
/// the top of the stack orders every ordinary load and store just the same (Linux's
/// `smp_mb()` on x86-64 is one) and costs a fraction of it (`stress kvm --compare` prints the
/// hooks' cost per exit). Elsewhere, liburcu's own barrier.
static inline void curcu_smp_mb(void) {
#if defined(__x86_64__)
  __asm__ __volatile__("lock; addl $0,0(%%rsp)" ::: "memory", "cc");
#else
  cmm_smp_mb();
#endif
}

/// liburcu's `_urcu_qsbr_thread_offline()`, step for step, with ``curcu_smp_mb``.
static inline void curcu_qsbr_go_offline(void) {
  // Everything the thread read happens before the store that takes it offline: pairs with
  // the barrier a writer makes after it has read this thread's counter (wait_for_readers).
  curcu_smp_mb();
  CMM_STORE_SHARED(URCU_TLS(urcu_qsbr_reader).ctr, 0);
  // The store before the load of `waiting` in urcu_qsbr_wake_up_gp: pairs with the writer's
  // barrier between setting `waiting` and reading the counter again, so that either the
  // writer sees the thread offline or the thread sees the writer waiting and wakes it.
  curcu_smp_mb();
  urcu_qsbr_wake_up_gp();
  cmm_barrier();
}

/// liburcu's `_urcu_qsbr_thread_online()`, step for step, with ``curcu_smp_mb``.
static inline void curcu_qsbr_go_online(void) {
  cmm_barrier();
  _CMM_STORE_SHARED(URCU_TLS(urcu_qsbr_reader).ctr, CMM_LOAD_SHARED(urcu_qsbr_gp.ctr));
  // The counter is visible before any read the thread makes online: pairs with the barrier
  // a writer makes before it reads the readers' counters.
  curcu_smp_mb();
}

/// Whether the calling thread is online: registered, and not offline. liburcu keeps its
/// reader counter at 0 exactly when the thread is offline or unregistered (this package
/// never brings an unregistered thread online, see `curcu_qsbr_thread_online`).
static inline bool curcu_qsbr_is_online(void) {
  return URCU_TLS(urcu_qsbr_reader).ctr != 0;
}

/// Whether the calling thread is registered as a QSBR reader (online or offline).
static inline bool curcu_qsbr_is_registered(void) {
  return URCU_TLS(urcu_qsbr_reader).registered;
}

/// Enters a read-side section. The thread must be registered and online; otherwise the
/// process aborts with a message (release builds too): a read the grace period does not
/// wait for must never go unnoticed. Costs a thread-local load, a predicted branch and a
/// thread-local increment.
static inline void curcu_qsbr_read_lock(void) {
  if (__builtin_expect(!curcu_qsbr_is_online(), 0)) {
    curcu_qsbr_die_not_online();
  }
  curcu_qsbr_depth++;
}

/// Leaves a read-side section: a thread-local decrement. In QSBR the thread keeps what it
/// read protected until its next quiescent state; the section only bounds what the caller
/// may use.
static inline void curcu_qsbr_read_unlock(void) {
  CURCU_TSAN_READER_EXIT();
  curcu_qsbr_depth--;
}

/// Whether the calling thread is inside a read-side section (not merely online).
static inline bool curcu_qsbr_read_ongoing(void) { return curcu_qsbr_depth != 0; }

/// Registers the calling thread (which puts it online) and arranges for it to be
/// unregistered when it exits. If it is registered already, only brings it online.
void curcu_qsbr_register_thread(void);

/// Unregisters the calling thread (taking it offline first). Aborts inside a section.
/// Idempotent.
void curcu_qsbr_unregister_thread(void);

/// Announces a quiescent state: the thread holds nothing it read. Aborts inside a section
/// (that would end the protection of what the section is still using); does nothing on a
/// thread that is offline or unregistered, which is quiescent already. Cheap when no grace
/// period is waiting: a load of the global counter and a compare.
static inline void curcu_qsbr_quiescent_state(void) {
  if (__builtin_expect(curcu_qsbr_depth != 0, 0)) {
    curcu_qsbr_die_inside_section("quiescentState");
  }
  if (curcu_qsbr_is_online()) {
#ifdef CURCU_TSAN
    curcu_qsbr_quiescent_state_outline();
#else
    _urcu_qsbr_quiescent_state();
#endif
  }
}

/// Takes the calling thread offline (before it blocks or enters the guest): grace periods
/// stop waiting for it. Aborts inside a section. Idempotent; nothing on an unregistered
/// thread.
static inline void curcu_qsbr_thread_offline(void) {
  if (__builtin_expect(curcu_qsbr_depth != 0, 0)) {
    curcu_qsbr_die_inside_section("threadOffline");
  }
  if (curcu_qsbr_is_online()) {
#ifdef CURCU_TSAN
    curcu_qsbr_thread_offline_outline();
#else
    curcu_qsbr_go_offline();
#endif
  }
}

/// Brings a registered thread back online. Aborts on an unregistered thread: liburcu would
/// mark it online without adding it to the registry, and its reads would go unprotected.
/// Idempotent.
static inline void curcu_qsbr_thread_online(void) {
  if (__builtin_expect(!curcu_qsbr_is_registered(), 0)) {
    curcu_die(
        "QSBRRCU.threadOnline() on a thread that is not registered: call "
        "QSBRRCU.registerCurrentThread() first");
  }
  if (!curcu_qsbr_is_online()) {
#ifdef CURCU_TSAN
    curcu_qsbr_thread_online_outline();
#else
    curcu_qsbr_go_online();
#endif
  }
}

/// Waits for a grace period. Aborts inside a section; from an online thread outside one,
/// liburcu takes the caller offline for the wait and brings it back online.
static inline void curcu_qsbr_synchronize(void) {
  if (__builtin_expect(curcu_qsbr_depth != 0, 0)) {
    curcu_qsbr_die_inside_section("synchronize");
  }
  urcu_qsbr_synchronize_rcu();
  CURCU_TSAN_GRACE_PERIOD_END();
}

#endif
