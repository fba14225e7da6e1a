// Flavors reached through function pointers (included by CURCU.h): liburcu's mb flavor
// (linked), liburcu's signal flavor (loaded on first use, see signal.c) and an RCU
// library loaded at run time through the ABI in concurrentbus_rcu.h (CRCULibraryABI; loaded.c).
//
// None of them is a hot path, so every call is out of line, which also keeps liburcu's
// static headers of several flavors out of one translation unit. Each is a table of
// functions, named below, and they share one implementation of every operation
// (table_flavor.c): lazy registration of reader threads (unregistered at thread exit), a
// nesting depth for `read_ongoing`, aborts on calls that would deadlock inside a section,
// and the ThreadSanitizer edges of CURCU.h.
#ifndef CURCU_TABLE_FLAVOR_H
#define CURCU_TABLE_FLAVOR_H

#include <stdbool.h>
#include <stddef.h>

/// A flavor reached through function pointers (its layout is private: table_flavor.h).
struct curcu_table;

// MARK: - The flavors

/// liburcu's mb flavor: a full memory barrier in every read_lock and read_unlock.
extern const struct curcu_table *const curcu_mb_table;

/// liburcu's signal flavor: readers pay compiler barriers; writers signal every reader
/// (SIGUSR1).
///
/// liburcu-signal installs its SIGUSR1 handler when it is loaded, so this package loads it
/// only when the signal flavor is first used (dlopen), never merely by being linked.
/// Registration unblocks SIGUSR1 in the registering thread. Every operation aborts with a
/// message if liburcu-signal cannot be loaded; a grace period aborts if something replaced
/// liburcu's SIGUSR1 handler (it would otherwise never end).
extern const struct curcu_table *const curcu_signal_table;

/// A library loaded at run time (LoadedRCU), once `curcu_loaded_open` has succeeded: every
/// operation aborts with a message before.
extern const struct curcu_table *const curcu_loaded_table;

// MARK: - Every table's operations

/// Registers the calling thread once (unregistered at thread exit if nobody does it).
void curcu_table_register(const struct curcu_table *table);

/// Unregisters the calling thread if registered; aborts inside a section.
void curcu_table_unregister(const struct curcu_table *table);

/// Enters a section, registering the thread first if nobody did.
void curcu_table_read_lock(const struct curcu_table *table);

/// Leaves a section, releasing the ThreadSanitizer token first.
void curcu_table_read_unlock(const struct curcu_table *table);

/// Whether the calling thread is inside a section of this table.
bool curcu_table_read_ongoing(const struct curcu_table *table);

/// Whether the calling thread is registered with this table.
bool curcu_table_is_registered(const struct curcu_table *table);

/// Aborts when the calling thread is inside a section: `operation` would deadlock there.
void curcu_table_require_outside_section(const struct curcu_table *table, const char *operation);

/// Waits for a grace period (aborts inside a section), then acquires the TSan token.
void curcu_table_synchronize(const struct curcu_table *table);

// MARK: - What only a loaded library has

/// A deferred callback handed to C: runs once, after a grace period, with its context.
typedef void (*curcu_callback)(void *context);

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

/// Hands `callback(context)` to the library's `concurrentbus_rcu_call`, after registering
/// the calling thread if needed. Returns the library's answer (false: not queued).
bool curcu_loaded_call(curcu_callback callback, void *context);

/// The library's `concurrentbus_rcu_barrier`. Aborts inside a section.
void curcu_loaded_barrier(void);

#endif
