// liburcu's mb flavor through the shared table implementation. No _LGPL_SOURCE: every call
// goes to the library's exported functions (this flavor is for checking, not speed).
#include "table_flavor.h"

#include <urcu/urcu-mb.h>

static const struct curcu_table mb_table = {
    .label = "MemoryBarrierRCU",
    .slot = curcu_table_slot_mb,
    .prepare_thread = NULL,
    .prepare_synchronize = NULL,
    .register_thread = urcu_mb_register_thread,
    .unregister_thread = urcu_mb_unregister_thread,
    .read_lock = urcu_mb_read_lock,
    .read_unlock = urcu_mb_read_unlock,
    .synchronize = urcu_mb_synchronize_rcu,
};

const struct curcu_table *const curcu_mb_table = &mb_table;
