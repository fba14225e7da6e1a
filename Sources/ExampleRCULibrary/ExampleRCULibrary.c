// An RCU library for LoadedRCU, over liburcu's memb flavor: the example an RCU implementer
// starts from. It implements every function of concurrentbus_rcu.h; build your own the same
// way and point the stress tool at it (`stress torture --rcu-library libyours.so`).
//
// liburcu is reached through its exported functions only (no _LGPL_SOURCE), except for one
// read of its per-thread "registered" flag; see `concurrentbus_rcu_register_thread`.
#include "ExampleRCULibrary.h"

#include <stdbool.h>
#include <stdlib.h>
#include <urcu/urcu-memb.h>
// Only for URCU_TLS(urcu_memb_reader).registered; nothing of it is inlined otherwise.
#include <urcu/static/urcu-memb.h>

// Whether this library registered the calling thread with liburcu (as opposed to finding it
// registered by someone else in the process).
static __thread bool registered_here;

const char *concurrentbus_rcu_name(void) { return "liburcu-memb (ExampleRCULibrary)"; }

// liburcu-memb is one instance per process: a host that links it too (ConcurrentBus's own
// MembRCU does) shares its registry, and each thread's one registration, with this library.
// Either side may unregister the thread (MembRCU does when a thread it registered is done,
// or at thread exit), so this library never trusts a registration it made earlier: it reads
// liburcu's flag before unregistering (unregistering twice aborts in liburcu's assert, which
// a CI run hit when a worker thread exited after the host had unregistered it) and
// registers again, lazily, before a read or a call_rcu on a thread found unregistered.
static void register_if_needed(void) {
  if (!URCU_TLS(urcu_memb_reader).registered) {
    urcu_memb_register_thread();
    registered_here = true;
  }
}

void concurrentbus_rcu_register_thread(void) { register_if_needed(); }

void concurrentbus_rcu_unregister_thread(void) {
  if (registered_here) {
    registered_here = false;
    if (URCU_TLS(urcu_memb_reader).registered) {
      urcu_memb_unregister_thread();
    }
  }
}

void concurrentbus_rcu_read_lock(void) {
  register_if_needed();
  urcu_memb_read_lock();
}

void concurrentbus_rcu_read_unlock(void) { urcu_memb_read_unlock(); }

void concurrentbus_rcu_synchronize(void) { urcu_memb_synchronize_rcu(); }

// liburcu's call_rcu takes a `struct rcu_head` embedded in the caller's object; the ABI
// takes a function and a context instead, so each call carries its own small node.
struct deferred_call {
  struct rcu_head head;
  concurrentbus_rcu_callback callback;
  void *context;
};

static void run_deferred_call(struct rcu_head *head) {
  struct deferred_call *call = caa_container_of(head, struct deferred_call, head);
  // Acquire: pairs with the release in concurrentbus_rcu_call, so the context (and what the
  // caller wrote before queueing) is visible here even to ThreadSanitizer, which cannot see
  // liburcu's own queue.
  concurrentbus_rcu_callback callback = __atomic_load_n(&call->callback, __ATOMIC_ACQUIRE);
  callback(call->context);
  free(call);
}

bool concurrentbus_rcu_call(concurrentbus_rcu_callback callback, void *context) {
  struct deferred_call *call = malloc(sizeof *call);
  if (call == NULL) {
    return false;
  }
  call->context = context;
  // Release: pairs with the acquire in run_deferred_call.
  __atomic_store_n(&call->callback, callback, __ATOMIC_RELEASE);
  register_if_needed();  // call_rcu enters a read-side section of its own.
  urcu_memb_call_rcu(&call->head, run_deferred_call);
  return true;
}

void concurrentbus_rcu_barrier(void) { urcu_memb_barrier(); }
