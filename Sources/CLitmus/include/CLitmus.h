// What the litmus engine needs that Swift cannot say: a pause instruction for spin-waits
// (it keeps the core's pipeline free for a hyperthread sibling), an empty loop of a given
// length for the start offsets and delays that make two threads' accesses overlap (as
// herdtools7's litmus7 staggers its threads), and pinning the calling thread to one CPU.
#ifndef CLITMUS_H
#define CLITMUS_H

#include <stdint.h>

/// Spins for `count` pause instructions (about 10 to 150 cycles each, by processor).
static inline void litmus_pause(uint32_t count) {
  for (uint32_t index = 0; index < count; index++) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#else
    __asm__ __volatile__("" ::: "memory");
#endif
  }
}

/// Spins for `count` iterations of an empty loop the compiler keeps (about one cycle
/// each): the fine-grained start offsets and in-section delays of a litmus iteration.
static inline void litmus_delay(uint32_t count) {
  for (uint32_t index = 0; index < count; index++) {
    __asm__ __volatile__("" ::: "memory");
  }
}

/// Fills `cpus` with up to `capacity` CPU numbers this thread may run on, lowest first;
/// returns how many (0 if the affinity mask cannot be read).
int litmus_allowed_cpus(int *cpus, int capacity);

/// Pins the calling thread to CPU `cpu`; returns 0 or an errno.
int litmus_pin_current_thread(int cpu);

#endif
