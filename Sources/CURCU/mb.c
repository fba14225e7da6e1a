// liburcu's mb flavor through the shared table implementation. No _LGPL_SOURCE: every call
// goes to the library's exported functions (this flavor is for checking, not speed).
#include "table_flavor.h"

#include <urcu/urcu-mb.h>

static const struct curcu_table mb_table = {
    .label = "MemoryBarrierRCU",
    .slot = curcu_table_slot_mb,
    .prepare_thread = NULL,
    .register_thread = urcu_mb_register_thread,
    .unregister_thread = urcu_mb_unregister_thread,
    .read_lock = urcu_mb_read_lock,
    .read_unlock = urcu_mb_read_unlock,
    .synchronize = urcu_mb_synchronize_rcu,
};

void curcu_mb_register_thread(void) { curcu_table_register(&mb_table); }
void curcu_mb_unregister_thread(void) { curcu_table_unregister(&mb_table); }
void curcu_mb_read_lock(void) { curcu_table_read_lock(&mb_table); }
void curcu_mb_read_unlock(void) { curcu_table_read_unlock(&mb_table); }
bool curcu_mb_read_ongoing(void) { return curcu_table_read_ongoing(&mb_table); }
void curcu_mb_synchronize(void) { curcu_table_synchronize(&mb_table); }
