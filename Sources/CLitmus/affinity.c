// Thread placement for the litmus engine: CPU_SET and friends are macros Swift cannot call.
#define _GNU_SOURCE
#include "CLitmus.h"

#include <pthread.h>
#include <sched.h>

int litmus_allowed_cpus(int *cpus, int capacity) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) {
    return 0;
  }
  int count = 0;
  for (int cpu = 0; cpu < CPU_SETSIZE && count < capacity; cpu++) {
    if (CPU_ISSET(cpu, &set)) {
      cpus[count++] = cpu;
    }
  }
  return count;
}

int litmus_pin_current_thread(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}
