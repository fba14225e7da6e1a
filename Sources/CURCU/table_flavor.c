#include "CURCU.h"
#include "table_flavor.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

// What one thread knows about itself, per table. Only that thread touches it.
struct curcu_table_thread {
  bool registered;
  unsigned long depth;
};

static __thread struct curcu_table_thread thread_state[curcu_table_slot_count];

// The table behind each slot, for the thread-exit destructor. Written with a release store
// before the first registration in that slot, read after the registration it pairs with.
static const struct curcu_table *slot_tables[curcu_table_slot_count];

static pthread_key_t exit_key;
static pthread_once_t exit_once = PTHREAD_ONCE_INIT;

// Thread exit: a registry node living in the exiting thread's TLS must leave the registry,
// or the next grace period would read (or signal) a dead thread.
static void unregister_at_exit(void *marker) {
  (void)marker;
  for (int slot = 0; slot < curcu_table_slot_count; slot++) {
    if (thread_state[slot].registered) {
      // Acquire: pairs with the release store in curcu_table_register (the table
      // written there by this very thread, or by a thread before it on the slot).
      const struct curcu_table *table = __atomic_load_n(&slot_tables[slot], __ATOMIC_ACQUIRE);
      thread_state[slot].registered = false;
      thread_state[slot].depth = 0;
      table->unregister_thread();
    }
  }
}

static void create_exit_key(void) {
  if (pthread_key_create(&exit_key, unregister_at_exit) != 0) {
    curcu_die("cannot create the thread-exit key for reader unregistration");
  }
}

static struct curcu_table_thread *state_of(const struct curcu_table *table) {
  return &thread_state[table->slot];
}

static void die_inside_section(const struct curcu_table *table, const char *operation) {
  char message[200];
  snprintf(message, sizeof message,
           "%s.%s() inside a read-side section: it would deadlock or end the section's "
           "protection; call it outside every section",
           table->label, operation);
  curcu_die(message);
}

void curcu_table_register(const struct curcu_table *table) {
  struct curcu_table_thread *state = state_of(table);
  if (state->registered) {
    return;
  }
  if (table->prepare_thread != NULL) {
    table->prepare_thread();
  }
  pthread_once(&exit_once, create_exit_key);
  // Release: pairs with the acquire load in unregister_at_exit.
  __atomic_store_n(&slot_tables[table->slot], table, __ATOMIC_RELEASE);
  table->register_thread();
  state->registered = true;
  // Any non-NULL value makes the destructor run at thread exit.
  pthread_setspecific(exit_key, (void *)1);
}

void curcu_table_unregister(const struct curcu_table *table) {
  struct curcu_table_thread *state = state_of(table);
  if (!state->registered) {
    return;
  }
  if (state->depth != 0) {
    die_inside_section(table, "unregisterCurrentThread");
  }
  state->registered = false;
  table->unregister_thread();
}

void curcu_table_read_lock(const struct curcu_table *table) {
  struct curcu_table_thread *state = state_of(table);
  if (__builtin_expect(!state->registered, 0)) {
    curcu_table_register(table);
  }
  table->read_lock();
  state->depth++;
}

void curcu_table_read_unlock(const struct curcu_table *table) {
  struct curcu_table_thread *state = state_of(table);
  state->depth--;
  CURCU_TSAN_READER_EXIT();
  table->read_unlock();
}

bool curcu_table_read_ongoing(const struct curcu_table *table) {
  return state_of(table)->depth != 0;
}

bool curcu_table_is_registered(const struct curcu_table *table) {
  return state_of(table)->registered;
}

void curcu_table_require_outside_section(const struct curcu_table *table,
                                         const char *operation) {
  if (state_of(table)->depth != 0) {
    die_inside_section(table, operation);
  }
}

void curcu_table_synchronize(const struct curcu_table *table) {
  if (table->prepare_synchronize != NULL) {
    table->prepare_synchronize();
  }
  curcu_table_require_outside_section(table, "synchronize");
  table->synchronize();
  CURCU_TSAN_GRACE_PERIOD_END();
}
