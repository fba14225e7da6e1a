// The out-of-line half of curcu_qsbr.h: the nesting depth, registration, and the aborts.
#include "CURCU.h"

#include <pthread.h>
#include <stdio.h>

__thread unsigned long curcu_qsbr_depth __attribute__((tls_model("initial-exec")));

void curcu_qsbr_die_not_online(void) {
  if (curcu_qsbr_is_registered()) {
    curcu_die(
        "QSBRRCU read-side section on an offline thread: its reads would not be protected; "
        "call QSBRRCU.threadOnline() first");
  }
  curcu_die(
      "QSBRRCU read-side section on a thread that is not registered: its reads would not be "
      "protected. Register every QSBR reader with QSBRRCU.registerCurrentThread() (QSBR "
      "cannot register lazily: an online thread that never announces quiescent states "
      "stalls every grace period); use MembRCU for threads you do not control");
}

void curcu_qsbr_die_inside_section(const char *operation) {
  char message[200];
  snprintf(message, sizeof message,
           "QSBRRCU.%s() inside a read-side section: it would end the protection of what the "
           "section still uses; call it between sections",
           operation);
  curcu_die(message);
}

// A registered thread that exits without unregistering would leave its TLS registry node in
// the registry; the destructor takes it out.
static pthread_key_t exit_key;
static pthread_once_t exit_once = PTHREAD_ONCE_INIT;

static void unregister_at_exit(void *marker) {
  (void)marker;
  if (curcu_qsbr_is_registered()) {
    curcu_qsbr_depth = 0;
    urcu_qsbr_unregister_thread();
  }
}

static void create_exit_key(void) {
  if (pthread_key_create(&exit_key, unregister_at_exit) != 0) {
    curcu_die("cannot create the thread-exit key for QSBR reader unregistration");
  }
}

void curcu_qsbr_register_thread(void) {
  if (curcu_qsbr_is_registered()) {
    curcu_qsbr_thread_online();
    return;
  }
  pthread_once(&exit_once, create_exit_key);
  // liburcu registers the thread online.
  urcu_qsbr_register_thread();
  // Any non-NULL value makes the destructor run at thread exit.
  pthread_setspecific(exit_key, (void *)1);
}

void curcu_qsbr_unregister_thread(void) {
  if (curcu_qsbr_depth != 0) {
    curcu_qsbr_die_inside_section("unregisterCurrentThread");
  }
  if (curcu_qsbr_is_registered()) {
    // liburcu takes an online thread offline first.
    urcu_qsbr_unregister_thread();
  }
}
