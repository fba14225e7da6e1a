// Flavors reached through function pointers (included by CURCU.h): liburcu's mb flavor
// (linked), liburcu's signal flavor (loaded on first use, see signal.c) and an RCU
// library loaded at run time through the ABI in concurrentbus_rcu.h (CRCULibraryABI; loaded.c).
//
// None of them is a hot path, so every call is out of line, which also keeps liburcu's
// static headers of several flavors out of one translation unit. They share one
// implementation (table_flavor.c): lazy registration of reader threads (unregistered at
// thread exit), a nesting depth for `read_ongoing`, aborts on calls that would deadlock
// inside a section, and the ThreadSanitizer edges of CURCU.h.
#ifndef CURCU_TABLE_FLAVOR_H
#define CURCU_TABLE_FLAVOR_H

#include <stdbool.h>
#include <stddef.h>

// MARK: - mb: a full memory barrier in every read_lock and read_unlock

void curcu_mb_register_thread(void);
void curcu_mb_unregister_thread(void);
void curcu_mb_read_lock(void);
void curcu_mb_read_unlock(void);
bool curcu_mb_read_ongoing(void);
void curcu_mb_synchronize(void);

// MARK: - signal: readers pay compiler barriers; writers signal every reader (SIGUSR1)

// liburcu-signal installs its SIGUSR1 handler when it is loaded, so this package loads it
// only when the signal flavor is first used (dlopen), never merely by being linked.
// Registration unblocks SIGUSR1 in the registering thread. Every call aborts with a message
// if liburcu-signal cannot be loaded; `curcu_signal_synchronize` aborts if something
// replaced liburcu's SIGUSR1 handler (the grace period would otherwise never end).

void curcu_signal_register_thread(void);
void curcu_signal_unregister_thread(void);
void curcu_signal_read_lock(void);
void curcu_signal_read_unlock(void);
bool curcu_signal_read_ongoing(void);
void curcu_signal_synchronize(void);

// MARK: - A library loaded at run time (LoadedRCU)

/// How `curcu_loaded_open` ended.
typedef enum {
  curcu_loaded_ok = 0,
  /// No file at the path (stat failed).
  curcu_loaded_file_not_found,
  /// dlopen refused the file; `detail` has dlerror's message.
  curcu_loaded_cannot_open,
  /// A required symbol is missing; `detail` has its name.
  curcu_loaded_missing_symbol,
  /// Another library is loaded already; `detail` has its path.
  curcu_loaded_already_loaded,
} curcu_loaded_status;

/// Loads the library at `path` once per process and resolves its symbols. Loading the same
/// path again succeeds and changes nothing. On failure nothing changes. `detail` (when not
/// NULL) receives a message of at most `capacity` bytes, terminated: the loaded library's
/// name, the missing symbol, the library already loaded, or why the file could not be opened.
curcu_loaded_status curcu_loaded_open(const char *path, char *detail, size_t capacity);

/// The library's name (its `concurrentbus_rcu_name`, else its path), or NULL before a load.
const char *curcu_loaded_name(void);

/// The loaded library's path, or NULL before a load.
const char *curcu_loaded_path(void);

void curcu_loaded_register_thread(void);
void curcu_loaded_unregister_thread(void);
void curcu_loaded_read_lock(void);
void curcu_loaded_read_unlock(void);
bool curcu_loaded_read_ongoing(void);
void curcu_loaded_synchronize(void);

/// Hands `callback(context)` to the library's `concurrentbus_rcu_call`, after registering
/// the calling thread if needed. Returns the library's answer (false: not queued).
bool curcu_loaded_call(curcu_callback callback, void *context);

/// The library's `concurrentbus_rcu_barrier`. Aborts inside a section.
void curcu_loaded_barrier(void);

#endif
