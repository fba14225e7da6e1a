// The socket calls of a vhost-user front end that Swift cannot write itself: the CMSG_*
// macros of SCM_RIGHTS ancillary data are not importable, so sending and receiving file
// descriptors beside a message lives here. Every function returns -errno on failure.
#ifndef CVHOSTUSER_H
#define CVHOSTUSER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/// The most descriptors one message carries (QEMU's VHOST_MEMORY_BASELINE_NREGIONS).
#define CVHOST_MAX_FDS 8

/// Connects a close-on-exec stream socket to the Unix socket at `path`: the descriptor, or
/// -errno (-ENAMETOOLONG for a path that does not fit in sun_path).
int cvhost_connect(const char *path);

/// Sends `length` bytes with `count` descriptors (0 to CVHOST_MAX_FDS) as SCM_RIGHTS, with
/// MSG_NOSIGNAL (a dead peer is EPIPE, not SIGPIPE). Returns the bytes sent or -errno.
ssize_t cvhost_send(int socket, const void *bytes, size_t length, const int *fds, int count);

/// Receives up to `length` bytes and any descriptors (close-on-exec) into `fds` (room for
/// CVHOST_MAX_FDS); `*count` is set to the number received. Descriptors beyond the room,
/// or a truncated control message, are closed and reported as -EBADMSG after closing the
/// ones kept too. Returns the bytes received (0: the peer closed) or -errno.
ssize_t cvhost_receive(int socket, void *bytes, size_t length, int *fds, int *count);

/// Waits up to `milliseconds` for `socket` to become readable (or hung up): 1 when it is,
/// 0 on timeout, -errno on failure. EINTR is retried with the time left.
int cvhost_wait_readable(int socket, int milliseconds);

// MARK: - Shared rings

// Guest memory is shared with the guest's vCPUs and the back end's threads, which write it
// at any time (DMA, as far as this process is concerned): every access to a ring goes
// through one of these single-copy-atomic accesses, never a plain load the compiler could
// split, repeat or move.

/// Loads a little-endian u16 (x86: plain load, acquire in the C11 model).
static inline uint16_t cvhost_load16_acquire(const void *address) {
  // Acquire: pairs with the writer's barrier before it published this index (the back
  // end's smp_wmb before a used index, the guest's store order before an available one).
  return __atomic_load_n((const uint16_t *)address, __ATOMIC_ACQUIRE);
}

/// Loads a little-endian u32 (acquire).
static inline uint32_t cvhost_load32_acquire(const void *address) {
  // Acquire: pairs with the writer's barrier before it published the index covering this
  // entry (the back end's smp_wmb before a used index).
  return __atomic_load_n((const uint32_t *)address, __ATOMIC_ACQUIRE);
}

/// Stores a little-endian u32 (release).
static inline void cvhost_store32_release(void *address, uint32_t value) {
  // Release: pairs with the guest's load of this slot, so what was read before it (the used
  // ring it reports) is ordered before the guest sees it.
  __atomic_store_n((uint32_t *)address, value, __ATOMIC_RELEASE);
}

#endif
