// The layout of the tables behind include/curcu_table_flavor.h: each flavor is a table of
// functions plus one slot of per-thread state. Private to CURCU; the operations on a table
// are declared in the public header.
#ifndef CURCU_TABLE_FLAVOR_PRIVATE_H
#define CURCU_TABLE_FLAVOR_PRIVATE_H

#include "curcu_table_flavor.h"

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
  /// Called before every grace period (optional): loads the library, or aborts when the
  /// flavor cannot be used or its grace period could never end.
  void (*prepare_synchronize)(void);
  void (*register_thread)(void);
  void (*unregister_thread)(void);
  void (*read_lock)(void);
  void (*read_unlock)(void);
  void (*synchronize)(void);
};

#endif
