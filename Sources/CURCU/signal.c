// liburcu's signal flavor, loaded with dlopen on first use.
//
// liburcu-signal installs its SIGUSR1 handler (SIGRCU) from a library constructor. Linked
// into this package, it would take SIGUSR1 in every process that imports the bus, used or
// not; loaded here, only processes that use SignalRCU give it up.
#include "CURCU.h"
#include "table_flavor.h"

#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>

/// The shared object's name as Debian's liburcu8 (0.13) installs it.
#define CURCU_SIGNAL_LIBRARY "liburcu-signal.so.8"

static void prepare_signal_thread(void);
static void prepare_signal_synchronize(void);

// Filled by load_library under pthread_once; constant afterwards.
static struct curcu_table signal_table = {
    .label = "SignalRCU",
    .slot = curcu_table_slot_signal,
    .prepare_thread = prepare_signal_thread,
    .prepare_synchronize = prepare_signal_synchronize,
};

// SIGUSR1's handler right after liburcu-signal installed it; constant afterwards.
static struct sigaction liburcu_handler;
static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static void *resolve(void *library, const char *name) {
  void *address = dlsym(library, name);
  if (address == NULL) {
    char message[200];
    snprintf(message, sizeof message, "SignalRCU: %s has no symbol %s", CURCU_SIGNAL_LIBRARY,
             name);
    curcu_die(message);
  }
  return address;
}

static void load_library(void) {
  void *library = dlopen(CURCU_SIGNAL_LIBRARY, RTLD_NOW | RTLD_LOCAL);
  if (library == NULL) {
    char message[400];
    snprintf(message, sizeof message, "SignalRCU: cannot load %s (%s); install liburcu8",
             CURCU_SIGNAL_LIBRARY, dlerror());
    curcu_die(message);
  }
  signal_table.register_thread = resolve(library, "urcu_signal_register_thread");
  signal_table.unregister_thread = resolve(library, "urcu_signal_unregister_thread");
  signal_table.read_lock = resolve(library, "urcu_signal_read_lock");
  signal_table.read_unlock = resolve(library, "urcu_signal_read_unlock");
  signal_table.synchronize = resolve(library, "urcu_signal_synchronize_rcu");
  sigaction(SIGUSR1, NULL, &liburcu_handler);
}

// pthread_once orders the table's initialization before every caller's use of it.
static void load_once_per_process(void) { pthread_once(&load_once, load_library); }

// A reader must receive SIGUSR1, or the writer's signal-driven barrier never completes.
// Swift's test workers and threads they create block it, so unblock it here.
static void prepare_signal_thread(void) {
  load_once_per_process();
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

// liburcu-signal's grace period re-sends SIGUSR1 until every reader's handler answered: if
// something replaced the handler, it would spin forever. Fail loudly instead.
static void require_liburcu_handler(void) {
  struct sigaction current;
  sigaction(SIGUSR1, NULL, &current);
  if (current.sa_sigaction != liburcu_handler.sa_sigaction) {
    curcu_die(
        "SignalRCU: SIGUSR1's handler is no longer liburcu-signal's (something in this "
        "process replaced it), so grace periods could never end; the signal flavor needs "
        "SIGUSR1 to itself");
  }
}

static void prepare_signal_synchronize(void) {
  load_once_per_process();
  require_liburcu_handler();
}

const struct curcu_table *const curcu_signal_table = &signal_table;
