// Whether this translation unit is a ThreadSanitizer build (CURCU_TSAN), and the
// out-of-line read-side functions such a build calls in place of liburcu's inline fast
// paths (tsan_outline.c). Included by CURCU.h, and by tsan_outline.c, which must not see
// CURCU.h's _LGPL_SOURCE.
//
// Swift's clang importer compiles CURCU.h's static inline functions without telling clang
// about `swift build --sanitize=thread` (__has_feature(thread_sanitizer) is false there,
// checked with Swift 6.3), so a TSan build must also pass -Xcc -DCURCU_TSAN=1 (see
// Scripts/tsan.sh): otherwise Swift code inlines the unannotated paths while the C files
// use the annotated ones. curcu_tsan_mismatch() in CURCU.h lets Swift detect that.
#ifndef CURCU_TSAN_H
#define CURCU_TSAN_H

#if !defined(CURCU_TSAN) && defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CURCU_TSAN 1
#endif
#endif

#ifdef CURCU_TSAN
// The library's out-of-line read-side functions: inlined liburcu code would let TSan see
// half of liburcu's own protocol and report it.
void curcu_memb_read_lock_outline(void);
void curcu_memb_read_unlock_outline(void);
void curcu_bp_read_lock_outline(void);
void curcu_bp_read_unlock_outline(void);
void curcu_qsbr_quiescent_state_outline(void);
void curcu_qsbr_thread_offline_outline(void);
void curcu_qsbr_thread_online_outline(void);
#endif

#endif
