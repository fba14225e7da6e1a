#include "CURCU.h"

#include <pthread.h>
#include <stdlib.h>

#ifdef CURCU_TSAN
char curcu_tsan_token;
#endif

bool curcu_tsan_in_library(void) {
#ifdef CURCU_TSAN
  return true;
#else
  return false;
#endif
}

// MARK: - Lazy memb registration

// A thread that reads without registering (a Dispatch or Swift concurrency worker) is
// registered on its first read-side section. The key's destructor unregisters it when the
// thread exits, because liburcu's registry node lives in that thread's TLS.
static pthread_key_t lazy_key;
static pthread_once_t lazy_once = PTHREAD_ONCE_INIT;

static void lazy_unregister(void *marker) {
  (void)marker;
  if (URCU_TLS(urcu_memb_reader).registered) {
    urcu_memb_unregister_thread();
  }
}

static void lazy_key_create(void) {
  if (pthread_key_create(&lazy_key, lazy_unregister) != 0) {
    abort();
  }
}

__attribute__((noinline, cold)) void curcu_memb_register_lazily(void) {
  pthread_once(&lazy_once, lazy_key_create);
  urcu_memb_register_thread();
  // Any non-NULL value makes the destructor run at thread exit.
  pthread_setspecific(lazy_key, (void *)1);
}

// MARK: - Deferred reclamation

// Swift objects cannot embed `struct rcu_head`, so each deferral carries one in a small
// C node that remembers the Swift callback and its context.
struct curcu_deferred {
  struct rcu_head head;
  curcu_callback callback;
  void *context;
};

static void run_deferred(struct rcu_head *head) {
  struct curcu_deferred *node = caa_container_of(head, struct curcu_deferred, head);
  // The enqueue in curcu_*_defer happens before this (liburcu's queue is not instrumented).
  curcu_tsan_acquire(node);
  CURCU_TSAN_GRACE_PERIOD_END();
  node->callback(node->context);
  free(node);
}

static struct curcu_deferred *make_node(curcu_callback callback, void *context) {
  struct curcu_deferred *node = malloc(sizeof *node);
  if (node != NULL) {
    node->callback = callback;
    node->context = context;
  }
  return node;
}

bool curcu_memb_defer(curcu_callback callback, void *context) {
  struct curcu_deferred *node = make_node(callback, context);
  if (node == NULL) {
    return false;
  }
  // call_rcu takes a read-side section internally, so the caller must be registered.
  if (!URCU_TLS(urcu_memb_reader).registered) {
    curcu_memb_register_lazily();
  }
  curcu_tsan_release(node);
  urcu_memb_call_rcu(&node->head, run_deferred);
  return true;
}

bool curcu_bp_defer(curcu_callback callback, void *context) {
  struct curcu_deferred *node = make_node(callback, context);
  if (node == NULL) {
    return false;
  }
  curcu_tsan_release(node);
  urcu_bp_call_rcu(&node->head, run_deferred);
  return true;
}
