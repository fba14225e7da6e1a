// Out-of-line read-side entry points for ThreadSanitizer builds (declared in curcu_tsan.h).
// This file deliberately does not define _LGPL_SOURCE (nor include CURCU.h, which does), so
// the names below resolve to liburcu's exported functions rather than to its inline fast
// paths.
#include "curcu_tsan.h"

#ifdef CURCU_TSAN
#include <urcu/urcu-memb.h>
#include <urcu/urcu-bp.h>
#include <urcu/urcu-qsbr.h>

void curcu_memb_read_lock_outline(void) { urcu_memb_read_lock(); }
void curcu_memb_read_unlock_outline(void) { urcu_memb_read_unlock(); }
void curcu_bp_read_lock_outline(void) { urcu_bp_read_lock(); }
void curcu_bp_read_unlock_outline(void) { urcu_bp_read_unlock(); }
void curcu_qsbr_quiescent_state_outline(void) { urcu_qsbr_quiescent_state(); }
void curcu_qsbr_thread_offline_outline(void) { urcu_qsbr_thread_offline(); }
void curcu_qsbr_thread_online_outline(void) { urcu_qsbr_thread_online(); }
#endif
