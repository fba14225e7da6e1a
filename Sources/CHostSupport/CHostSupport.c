#define _GNU_SOURCE
#include "CHostSupport.h"

#include <malloc.h>
#include <sys/syscall.h>
#include <unistd.h>

__thread unsigned chost_thread_shard __attribute__((tls_model("initial-exec")));
static unsigned next_shard;

__attribute__((noinline, cold)) unsigned chost_assign_thread_shard(void) {
  unsigned shard = __atomic_fetch_add(&next_shard, 1, __ATOMIC_RELAXED) % CHOST_SHARD_COUNT + 1;
  chost_thread_shard = shard;
  return shard;
}

size_t chost_heap_block_bytes(const void *block) { return malloc_usable_size((void *)block); }

int32_t chost_thread_id(void) { return (int32_t)syscall(SYS_gettid); }

int chost_thread_try_join(pthread_t thread) { return pthread_tryjoin_np(thread, NULL); }
