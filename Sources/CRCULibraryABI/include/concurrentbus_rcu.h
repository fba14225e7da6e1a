/*
 * concurrentbus_rcu.h: the C ABI of an RCU implementation that ConcurrentBus loads at run
 * time (`LoadedRCU.load(path:)` in Swift, `stress ... --rcu-library PATH`).
 *
 * Build your RCU as a shared object that exports the functions below with C linkage, and
 * the stress tool tortures it: readers on many threads, grace periods from several threads
 * at once, deferred callbacks checked against the grace period they waited for.
 * Sources/ExampleRCULibrary is a complete implementation over liburcu's memb flavor.
 *
 * This header is self-contained (C99 or C++, no other dependency); copy it into your
 * project. It is MIT licensed, like the rest of ConcurrentBus.
 *
 * The contract
 * ------------
 * Threads. A thread calls concurrentbus_rcu_register_thread() before its first
 * read_lock, and concurrentbus_rcu_unregister_thread() before it exits, outside any
 * read-side section. ConcurrentBus registers threads lazily (on their first read, call or
 * barrier) and unregisters them from a thread-exit destructor, so a thread is registered at
 * most once at a time, but may register again after unregistering. Registration is what
 * lets a grace period see a reader: once register_thread returns, every read-side section
 * of that thread must be waited for.
 *
 * Read-side sections. read_lock and read_unlock are only called by registered threads.
 * Sections nest: only the outermost unlock ends the section, and a grace period must wait
 * for the whole outermost section. They must not block, and should be cheap: they are the
 * hot path being tortured.
 *
 * Grace periods. concurrentbus_rcu_synchronize() returns only after every read-side
 * section that began before it was called has ended. It is called outside read-side
 * sections, from registered threads and from threads that never registered, and from
 * several threads at the same time. Everything a reader did inside its section must be
 * visible to the caller after synchronize returns (a full memory barrier's worth of
 * ordering), and everything the caller did before the call must be visible to readers that
 * begin after it returns.
 *
 * Deferred callbacks. concurrentbus_rcu_call(callback, context) queues callback(context) to
 * run exactly once, on any thread, after a grace period that began after the call; it
 * returns true if queued and false if it could not (then the callback must never run; the
 * caller falls back on its own reclaimer). It is called by registered threads, possibly
 * inside a read-side section and from inside another callback, and must not wait for a
 * grace period. Callbacks may run in any order and concurrently with each other; a
 * callback may call concurrentbus_rcu_call again, never synchronize or barrier.
 *
 * Barrier. concurrentbus_rcu_barrier() returns after every callback queued before the call
 * has run. Called by registered threads outside read-side sections and outside callbacks,
 * possibly from several threads at once.
 *
 * Thread safety. Every function may be called from any number of threads at once, within
 * the rules above. ConcurrentBus never calls read_lock, read_unlock or unregister_thread
 * for a thread other than the calling one.
 *
 * Name. concurrentbus_rcu_name() is optional: a short, static, NUL-terminated name for
 * reports (for example "my-rcu 1.2"). Without it, reports use the library's path.
 */
#ifndef CONCURRENTBUS_RCU_H
#define CONCURRENTBUS_RCU_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A deferred callback: runs once, after a grace period, with the context it was queued with. */
typedef void (*concurrentbus_rcu_callback)(void *context);

/** Makes the calling thread a reader whose sections grace periods wait for. */
void concurrentbus_rcu_register_thread(void);

/** Ends the calling thread's registration; it is outside any read-side section. */
void concurrentbus_rcu_unregister_thread(void);

/** Enters a read-side section (nests). */
void concurrentbus_rcu_read_lock(void);

/** Leaves a read-side section. */
void concurrentbus_rcu_read_unlock(void);

/** Waits for every read-side section that began before the call to end. */
void concurrentbus_rcu_synchronize(void);

/** Queues callback(context) to run after a grace period; false if it could not. */
bool concurrentbus_rcu_call(concurrentbus_rcu_callback callback, void *context);

/** Waits until every callback queued before the call has run. */
void concurrentbus_rcu_barrier(void);

/** Optional: a short name for reports. */
const char *concurrentbus_rcu_name(void);

#ifdef __cplusplus
}
#endif

#endif
