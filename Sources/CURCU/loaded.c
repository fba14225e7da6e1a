// An RCU implementation loaded at run time through the ABI in concurrentbus_rcu.h
// (the CRCULibraryABI target).
#include "CURCU.h"
#include "concurrentbus_rcu.h"
#include "table_flavor.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static void require_loaded(void);

// Filled by curcu_loaded_open under load_lock, then published by the releasing store to
// `loaded`; constant afterwards.
static struct curcu_table loaded_table = {
    .label = "LoadedRCU",
    .slot = curcu_table_slot_loaded,
    .prepare_thread = require_loaded,
    .prepare_synchronize = require_loaded,
};
static __typeof__(&concurrentbus_rcu_call) library_call;
static __typeof__(&concurrentbus_rcu_barrier) library_barrier;
static const char *library_name;
static const char *library_path;
static bool loaded;
static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;

// Pairs with the releasing store in curcu_loaded_open: a thread that sees `loaded` sees the
// table too.
static bool is_loaded(void) { return __atomic_load_n(&loaded, __ATOMIC_ACQUIRE); }

static void require_loaded(void) {
  if (!is_loaded()) {
    curcu_die("LoadedRCU used before LoadedRCU.load(path:) succeeded");
  }
}

// The symbols every library must export, in the order they are stored.
static const char *const required_symbols[] = {
    "concurrentbus_rcu_register_thread", "concurrentbus_rcu_unregister_thread",
    "concurrentbus_rcu_read_lock",       "concurrentbus_rcu_read_unlock",
    "concurrentbus_rcu_synchronize",     "concurrentbus_rcu_call",
    "concurrentbus_rcu_barrier",
};
#define REQUIRED_SYMBOL_COUNT (sizeof required_symbols / sizeof required_symbols[0])

// Copies `text` into the caller's buffer (truncated, always terminated): nothing is
// allocated for a message, so a failed load leaves nothing behind.
static void set_detail(char *detail, size_t capacity, const char *text) {
  if (detail != NULL && capacity > 0) {
    snprintf(detail, capacity, "%s", text != NULL ? text : "");
  }
}

// Resolves every required symbol, or names the first one missing.
static const char *resolve_all(void *library, void *addresses[REQUIRED_SYMBOL_COUNT]) {
  for (size_t index = 0; index < REQUIRED_SYMBOL_COUNT; index++) {
    addresses[index] = dlsym(library, required_symbols[index]);
    if (addresses[index] == NULL) {
      return required_symbols[index];
    }
  }
  return NULL;
}

static void install(void *library, void *addresses[REQUIRED_SYMBOL_COUNT], const char *path) {
  loaded_table.register_thread = (__typeof__(&concurrentbus_rcu_register_thread))addresses[0];
  loaded_table.unregister_thread = (__typeof__(&concurrentbus_rcu_unregister_thread))addresses[1];
  loaded_table.read_lock = (__typeof__(&concurrentbus_rcu_read_lock))addresses[2];
  loaded_table.read_unlock = (__typeof__(&concurrentbus_rcu_read_unlock))addresses[3];
  loaded_table.synchronize = (__typeof__(&concurrentbus_rcu_synchronize))addresses[4];
  library_call = (__typeof__(&concurrentbus_rcu_call))addresses[5];
  library_barrier = (__typeof__(&concurrentbus_rcu_barrier))addresses[6];
  __typeof__(&concurrentbus_rcu_name) name = dlsym(library, "concurrentbus_rcu_name");
  const char *reported = name != NULL ? name() : NULL;
  library_path = strdup(path);
  library_name = strdup(reported != NULL ? reported : path);
  // Publishes everything above: pairs with is_loaded's acquiring load.
  __atomic_store_n(&loaded, true, __ATOMIC_RELEASE);
}

static curcu_loaded_status open_locked(const char *path, char *detail, size_t capacity) {
  if (loaded) {
    set_detail(detail, capacity, library_path);
    return strcmp(path, library_path) == 0 ? curcu_loaded_ok : curcu_loaded_already_loaded;
  }
  struct stat status;
  if (stat(path, &status) != 0) {
    set_detail(detail, capacity, strerror(errno));
    return curcu_loaded_file_not_found;
  }
  void *library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (library == NULL) {
    set_detail(detail, capacity, dlerror());
    return curcu_loaded_cannot_open;
  }
  void *addresses[REQUIRED_SYMBOL_COUNT];
  const char *missing = resolve_all(library, addresses);
  if (missing != NULL) {
    dlclose(library);
    set_detail(detail, capacity, missing);
    return curcu_loaded_missing_symbol;
  }
  install(library, addresses, path);
  set_detail(detail, capacity, library_name);
  return curcu_loaded_ok;
}

curcu_loaded_status curcu_loaded_open(const char *path, char *detail, size_t capacity) {
  pthread_mutex_lock(&load_lock);
  curcu_loaded_status status = open_locked(path, detail, capacity);
  pthread_mutex_unlock(&load_lock);
  return status;
}

const char *curcu_loaded_name(void) { return is_loaded() ? library_name : NULL; }
const char *curcu_loaded_path(void) { return is_loaded() ? library_path : NULL; }

const struct curcu_table *const curcu_loaded_table = &loaded_table;

bool curcu_loaded_call(curcu_callback callback, void *context) {
  // The ABI promises a registered caller.
  curcu_table_register(&loaded_table);
  // The library's queue is not instrumented: the callback acquires `context` first thing.
  curcu_tsan_release(context);
  return library_call(callback, context);
}

void curcu_loaded_barrier(void) {
  require_loaded();
  curcu_table_require_outside_section(&loaded_table, "barrier");
  curcu_table_register(&loaded_table);
  library_barrier();
}
