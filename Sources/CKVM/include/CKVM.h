// C shim over <linux/kvm.h>: the ioctl request numbers are function-like macros
// (_IO/_IOR/_IOW) that Swift cannot import, so they are re-exported here as plain
// constants; with them, the few accessors Swift cannot write itself (a pointer into
// kvm_run, the coalesced ring's atomics and flexible array).
#ifndef CKVM_H
#define CKVM_H

#include <stdint.h>
#include <linux/kvm.h>
// Re-exported because Glibc's Swift module omits eventfd(2), which KVM_IOEVENTFD needs.
#include <sys/eventfd.h>

// MARK: ioctl request numbers

static const unsigned long CKVM_GET_API_VERSION = KVM_GET_API_VERSION;
static const unsigned long CKVM_CREATE_VM = KVM_CREATE_VM;
static const unsigned long CKVM_CHECK_EXTENSION = KVM_CHECK_EXTENSION;
static const unsigned long CKVM_GET_VCPU_MMAP_SIZE = KVM_GET_VCPU_MMAP_SIZE;
static const unsigned long CKVM_SET_USER_MEMORY_REGION = KVM_SET_USER_MEMORY_REGION;
static const unsigned long CKVM_CREATE_VCPU = KVM_CREATE_VCPU;
static const unsigned long CKVM_RUN = KVM_RUN;
static const unsigned long CKVM_GET_REGS = KVM_GET_REGS;
static const unsigned long CKVM_SET_REGS = KVM_SET_REGS;
static const unsigned long CKVM_GET_SREGS = KVM_GET_SREGS;
static const unsigned long CKVM_SET_SREGS = KVM_SET_SREGS;
static const unsigned long CKVM_IOEVENTFD = KVM_IOEVENTFD;
static const unsigned long CKVM_REGISTER_COALESCED_MMIO = KVM_REGISTER_COALESCED_MMIO;
static const unsigned long CKVM_UNREGISTER_COALESCED_MMIO = KVM_UNREGISTER_COALESCED_MMIO;

// MARK: capabilities

static const int CKVM_CAP_NR_VCPUS = KVM_CAP_NR_VCPUS;
static const int CKVM_CAP_MAX_VCPUS = KVM_CAP_MAX_VCPUS;
static const int CKVM_CAP_IOEVENTFD = KVM_CAP_IOEVENTFD;
static const int CKVM_CAP_IOEVENTFD_ANY_LENGTH = KVM_CAP_IOEVENTFD_ANY_LENGTH;
static const int CKVM_CAP_USER_MEMORY = KVM_CAP_USER_MEMORY;
/// KVM_CHECK_EXTENSION answers with the ring's page offset in the vCPU mapping (0: absent).
static const int CKVM_CAP_COALESCED_MMIO = KVM_CAP_COALESCED_MMIO;
static const int CKVM_CAP_COALESCED_PIO = KVM_CAP_COALESCED_PIO;

// MARK: ioeventfd flags

static const uint32_t CKVM_IOEVENTFD_FLAG_DATAMATCH = KVM_IOEVENTFD_FLAG_DATAMATCH;
static const uint32_t CKVM_IOEVENTFD_FLAG_PIO = KVM_IOEVENTFD_FLAG_PIO;
static const uint32_t CKVM_IOEVENTFD_FLAG_DEASSIGN = KVM_IOEVENTFD_FLAG_DEASSIGN;

// MARK: exit reasons and I/O directions

static const uint32_t CKVM_EXIT_UNKNOWN = KVM_EXIT_UNKNOWN;
static const uint32_t CKVM_EXIT_IO = KVM_EXIT_IO;
static const uint32_t CKVM_EXIT_HLT = KVM_EXIT_HLT;
static const uint32_t CKVM_EXIT_MMIO = KVM_EXIT_MMIO;
static const uint32_t CKVM_EXIT_SHUTDOWN = KVM_EXIT_SHUTDOWN;
static const uint32_t CKVM_EXIT_FAIL_ENTRY = KVM_EXIT_FAIL_ENTRY;
static const uint32_t CKVM_EXIT_INTERNAL_ERROR = KVM_EXIT_INTERNAL_ERROR;
static const uint8_t CKVM_EXIT_IO_IN = KVM_EXIT_IO_IN;
static const uint8_t CKVM_EXIT_IO_OUT = KVM_EXIT_IO_OUT;

// MARK: ioctl wrappers
// ioctl(2) is variadic, which Swift cannot call; these fix the third argument's type.

/// ioctl with a pointer argument; returns the ioctl result (errno set on -1).
int ckvm_ioctl_ptr(int fd, unsigned long request, void *argument);

/// ioctl with an integer argument; returns the ioctl result (errno set on -1).
int ckvm_ioctl_int(int fd, unsigned long request, unsigned long argument);

// MARK: struct kvm_run
// Swift reads the exit data in kvm_run's anonymous union itself (`run.pointee.io.port`), but
// cannot take the address of a member of it.

/// The 8-byte data buffer of an MMIO exit (read for writes, filled for reads).
static inline uint8_t *ckvm_run_mmio_data(struct kvm_run *run) {
  return run->mmio.data;
}

// MARK: the coalesced MMIO/PIO ring
// One page per VM, mapped from any vCPU descriptor at page KVM_COALESCED_MMIO_PAGE_OFFSET.
// The kernel produces at `last` (under its own spinlock, with a write barrier between the
// entry and the index); userspace consumes at `first`. One slot always stays free, so
// first == last means empty. The kernel reads `first` to decide whether there is room and
// lets the write exit to userspace normally when there is none.

/// Entries the ring of a `page_size`-byte page holds (one of them always stays free).
static inline uint32_t ckvm_coalesced_ring_slots(uint32_t page_size) {
  return (page_size - sizeof(struct kvm_coalesced_mmio_ring)) / sizeof(struct kvm_coalesced_mmio);
}

/// The kernel's producer index. Acquire: pairs with the kernel's smp_wmb between filling an
/// entry and publishing `last`, so every entry before `last` is read complete.
static inline uint32_t ckvm_coalesced_ring_last(const struct kvm_coalesced_mmio_ring *ring) {
  return __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE);
}

/// The consumer index. Acquire: pairs with the release in `ckvm_coalesced_ring_set_first`,
/// so a thread that sees an entry consumed also sees everything its consumer did before.
static inline uint32_t ckvm_coalesced_ring_first(const struct kvm_coalesced_mmio_ring *ring) {
  return __atomic_load_n(&ring->first, __ATOMIC_ACQUIRE);
}

/// Marks every entry before `first` consumed. Release: pairs with the kernel's read of
/// `first` when it looks for room (and with ckvm_coalesced_ring_first): the entry's contents
/// were read (and dispatched) before the kernel may overwrite the slot.
static inline void ckvm_coalesced_ring_set_first(struct kvm_coalesced_mmio_ring *ring,
                                                 uint32_t first) {
  __atomic_store_n(&ring->first, first, __ATOMIC_RELEASE);
}

/// Entry `index` (the flexible array member is invisible to Swift).
static inline const struct kvm_coalesced_mmio *
ckvm_coalesced_ring_entry(const struct kvm_coalesced_mmio_ring *ring, uint32_t index) {
  return &ring->coalesced_mmio[index];
}

/// The `kvm_coalesced_mmio_zone` for KVM_(UN)REGISTER_COALESCED_MMIO.
static inline struct kvm_coalesced_mmio_zone ckvm_coalesced_zone(uint64_t address, uint32_t size,
                                                                 uint32_t pio) {
  struct kvm_coalesced_mmio_zone zone = {0};
  zone.addr = address;
  zone.size = size;
  zone.pio = pio;
  return zone;
}

// MARK: shareable guest memory

/// memfd_create(2) with MFD_CLOEXEC, for guest RAM a vhost-user backend maps too.
int ckvm_memfd_create(const char *name);

#endif
