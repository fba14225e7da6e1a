// The toy RCU's registry and grace periods (CToyRCU.h says how it works).
#include "CToyRCU.h"

#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef TOYRCU_TSAN
char toyrcu_tsan_token;
#endif

__thread struct toyrcu_thread toyrcu_self __attribute__((tls_model("initial-exec")));
uint64_t toyrcu_grace_periods = 1;

static struct toyrcu_reader readers[TOYRCU_MAX_READERS];
static bool slot_taken[TOYRCU_MAX_READERS];
/// Slots ever handed out: a grace period scans [0, used). Raised under registry_lock.
static unsigned used;
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t grace_period_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_key_t exit_key;
static pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;

__attribute__((noreturn, cold)) static void die(const char *message) {
  fprintf(stderr, "ToyRCU: %s\n", message);
  abort();
}

static void unregister_at_exit(void *unused) {
  (void)unused;
  toyrcu_unregister_thread();
}

static void make_exit_key(void) {
  if (pthread_key_create(&exit_key, unregister_at_exit) != 0) {
    die("out of pthread keys");
  }
}

struct toyrcu_reader *toyrcu_register_thread(void) {
  if (toyrcu_self.reader != NULL) {
    return toyrcu_self.reader;
  }
  pthread_once(&exit_key_once, make_exit_key);
  pthread_mutex_lock(&registry_lock);
  unsigned slot = 0;
  while (slot < TOYRCU_MAX_READERS && slot_taken[slot]) {
    slot++;
  }
  if (slot == TOYRCU_MAX_READERS) {
    die("more than TOYRCU_MAX_READERS reader threads at once");
  }
  slot_taken[slot] = true;
  if (slot >= used) {
    // Releasing: pairs with the acquiring load of `used` in a grace period's scan. The
    // thread's first section then either is seen by a grace period that scans the slot, or
    // began after that grace period's barrier (see CToyRCU.h: the same pair of barriers).
    __atomic_store_n(&used, slot + 1, __ATOMIC_RELEASE);
  }
  pthread_mutex_unlock(&registry_lock);
  toyrcu_self.reader = &readers[slot];
  pthread_setspecific(exit_key, &readers[slot]);
  return toyrcu_self.reader;
}

void toyrcu_unregister_thread(void) {
  struct toyrcu_reader *reader = toyrcu_self.reader;
  if (reader == NULL) {
    return;
  }
  if (toyrcu_self.nesting != 0) {
    die("a thread unregistered inside a read-side section");
  }
  toyrcu_self.reader = NULL;
  pthread_setspecific(exit_key, NULL);
  pthread_mutex_lock(&registry_lock);
  slot_taken[reader - readers] = false;
  pthread_mutex_unlock(&registry_lock);
}

static bool membarrier_registered(void) {
  static int state;  // 0: not tried, 1: works, -1: unavailable
  int seen = __atomic_load_n(&state, __ATOMIC_ACQUIRE);  // pairs with the release below
  if (seen == 0) {
    long registered = syscall(__NR_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0);
    seen = registered == 0 ? 1 : -1;
    // Releasing: pairs with the acquiring load above (a racing first call registers twice,
    // which the kernel allows).
    __atomic_store_n(&state, seen, __ATOMIC_RELEASE);
  }
  return seen == 1;
}

bool toyrcu_membarrier_available(void) { return membarrier_registered(); }

/// The writer's barrier around its scan: a full barrier on every CPU running a thread of
/// the process (memb), or on the writer's own CPU only.
static void writer_barrier(bool membarrier) {
  if (membarrier) {
    if (!membarrier_registered() ||
        syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0) {
      die("sys_membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) is not available");
    }
  } else {
    // Pairs with the reader's entry and exit fences (the mb variant).
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
  }
}

/// Waits until `reader` is outside any section that began before grace period `target`.
static void wait_for_reader(struct toyrcu_reader *reader, uint64_t target) {
  unsigned spins = 0;
  while (true) {
    // Acquiring: pairs with the releasing clear in toyrcu_read_unlock.
    uint64_t snapshot = __atomic_load_n(&reader->snapshot, __ATOMIC_ACQUIRE);
    if (snapshot == 0 || snapshot >= target) {
      return;
    }
    if (++spins < 1000) {
      __builtin_ia32_pause();
    } else {
      sched_yield();  // the reader may be waiting for this CPU
    }
  }
}

void toyrcu_synchronize(bool membarrier) {
  if (toyrcu_self.nesting != 0) {
    die("synchronize inside a read-side section would wait for itself");
  }
  pthread_mutex_lock(&grace_period_lock);
  writer_barrier(membarrier);
  // Sequentially consistent: the new count is taken after the barrier above; a reader that
  // reads it began after this grace period began. Pairs with the relaxed load of the count
  // in toyrcu_read_lock, ordered there by the entry fence (or the membarrier).
  uint64_t target = __atomic_add_fetch(&toyrcu_grace_periods, 1, __ATOMIC_SEQ_CST);
  // Acquiring: pairs with the releasing store of `used` in toyrcu_register_thread.
  unsigned scanned = __atomic_load_n(&used, __ATOMIC_ACQUIRE);
  for (unsigned slot = 0; slot < scanned; slot++) {
    wait_for_reader(&readers[slot], target);
  }
  writer_barrier(membarrier);
  pthread_mutex_unlock(&grace_period_lock);
#ifdef TOYRCU_TSAN
  __tsan_acquire(&toyrcu_tsan_token);
#endif
}
