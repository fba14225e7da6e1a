#define _GNU_SOURCE 1  // pthread_setname_np
#include "CURCU.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

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

void curcu_die(const char *message) {
  fprintf(stderr, "CURCU: %s (thread %ld)\n", message, (long)syscall(SYS_gettid));
  abort();
}

void curcu_name_thread(const char *name) {
  char truncated[16];  // Linux thread names: at most 15 bytes and a NUL.
  snprintf(truncated, sizeof truncated, "%s", name);
  pthread_setname_np(pthread_self(), truncated);
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
