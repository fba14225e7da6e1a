// The shared implementation behind the flavors of include/curcu_table_flavor.h: each is a
// table of functions plus one slot of per-thread state. Private to CURCU.
#ifndef CURCU_TABLE_FLAVOR_PRIVATE_H
#define CURCU_TABLE_FLAVOR_PRIVATE_H

#include <stdbool.h>

/// Which per-thread state slot a table uses.
enum curcu_table_slot {
  curcu_table_slot_mb,
  curcu_table_slot_signal,
  curcu_table_slot_loaded,
  curcu_table_slot_count,
};

/// A flavor reached through function pointers. The pointers are set before the first
/// thread registers (statically for mb, under pthread_once for signal, before a releasing
/// store for a loaded library) and never change afterwards.
struct curcu_table {
  /// The Swift type's name, for messages.
  const char *label;
  enum curcu_table_slot slot;
  /// Called before every registration, on the registering thread (optional): loads the
  /// library, unblocks a signal, or aborts when the flavor cannot be used.
  void (*prepare_thread)(void);
  void (*register_thread)(void);
  void (*unregister_thread)(void);
  void (*read_lock)(void);
  void (*read_unlock)(void);
  void (*synchronize)(void);
};

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

#endif
