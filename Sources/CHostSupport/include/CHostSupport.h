// Small pieces of host support that Swift cannot express directly: a thread-local shard
// number read with one instruction, relaxed counters on shared memory, and a value hidden
// from the optimizer. Nothing here is RCU.
#ifndef CHOSTSUPPORT_H
#define CHOSTSUPPORT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

// MARK: - Per-thread counter shards

/// How many counter shards a block has; threads beyond this many share shards.
#define CHOST_SHARD_COUNT 64

/// The calling thread's shard number plus one; 0 until the thread first asks for it.
extern __thread unsigned chost_thread_shard __attribute__((tls_model("initial-exec")));

/// Gives the calling thread the next shard number. Cold: once per thread.
unsigned chost_assign_thread_shard(void);

/// The calling thread's shard, in [0, CHOST_SHARD_COUNT). Threads get consecutive shards,
/// so up to CHOST_SHARD_COUNT live threads never write the same cache line.
static inline unsigned chost_thread_shard_index(void) {
  unsigned shard = chost_thread_shard;
  if (__builtin_expect(shard == 0, 0)) {
    shard = chost_assign_thread_shard();
  }
  return shard - 1;
}

/// Adds to a counter that other threads may share (relaxed: only the sum is ever read).
static inline void chost_counter_add(uint64_t *counter, uint64_t amount) {
  __atomic_fetch_add(counter, amount, __ATOMIC_RELAXED);
}

/// Reads a counter that other threads may be adding to.
static inline uint64_t chost_counter_load(const uint64_t *counter) {
  return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

// MARK: - Branch-free selection

/// Returns `value` unchanged, but hides where it came from from the optimizer.
///
/// The bus's binary search adds `half & mask` with `mask` all ones or zero. Left visible,
/// LLVM rewrites that into a select and its x86 cmov converter then turns the select back
/// into a branch, which guest-chosen addresses mispredict about half the time (measured by
/// `stress bench`: roughly twice the cost per lookup). The empty asm emits no instruction.
static inline intptr_t chost_opaque_word(intptr_t value) {
  __asm__("" : "+r"(value));
  return value;
}

// MARK: - Heap blocks

/// The usable size of a heap block `malloc` (or an aligned variant) returned: what the block
/// really holds, for accounting. `block` must be a live heap allocation.
size_t chost_heap_block_bytes(const void *block);

// MARK: - Thread id

/// The calling thread's kernel id (gettid(2)), which names it under /proc/self/task;
/// glibc's wrapper needs _GNU_SOURCE, which Swift's importer does not define.
int32_t chost_thread_id(void);

/// Joins `thread` if it has ended (pthread_tryjoin_np): 0 then, EBUSY while it runs. A GNU
/// extension, which Swift's importer does not see.
int chost_thread_try_join(pthread_t thread);

// MARK: - Time-stamp counter

/// The x86 time-stamp counter (RDTSC), which generated KVM guests read too: the host
/// measures its rate so guest-measured intervals convert to time. 0 on other architectures.
static inline uint64_t chost_timestamp_counter(void) {
#if defined(__x86_64__) || defined(__i386__)
  return __builtin_ia32_rdtsc();
#else
  return 0;
#endif
}

#endif
