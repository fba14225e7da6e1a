// C shim over <linux/kvm.h>: the ioctl request numbers are function-like macros
// (_IO/_IOR/_IOW) that Swift cannot import, and struct kvm_run keeps its exit data
// in an anonymous union, so both are re-exported here as plain constants and
// accessor functions.
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

// MARK: capabilities

static const int CKVM_CAP_NR_VCPUS = KVM_CAP_NR_VCPUS;
static const int CKVM_CAP_MAX_VCPUS = KVM_CAP_MAX_VCPUS;
static const int CKVM_CAP_IOEVENTFD = KVM_CAP_IOEVENTFD;
static const int CKVM_CAP_IOEVENTFD_ANY_LENGTH = KVM_CAP_IOEVENTFD_ANY_LENGTH;
static const int CKVM_CAP_USER_MEMORY = KVM_CAP_USER_MEMORY;

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

// MARK: struct kvm_run accessors

static inline uint32_t ckvm_run_exit_reason(const struct kvm_run *run) {
  return run->exit_reason;
}

static inline uint8_t ckvm_run_io_direction(const struct kvm_run *run) {
  return run->io.direction;
}

static inline uint8_t ckvm_run_io_size(const struct kvm_run *run) {
  return run->io.size;
}

static inline uint16_t ckvm_run_io_port(const struct kvm_run *run) {
  return run->io.port;
}

static inline uint32_t ckvm_run_io_count(const struct kvm_run *run) {
  return run->io.count;
}

static inline uint64_t ckvm_run_io_data_offset(const struct kvm_run *run) {
  return run->io.data_offset;
}

static inline uint64_t ckvm_run_mmio_phys_addr(const struct kvm_run *run) {
  return run->mmio.phys_addr;
}

/// The 8-byte data buffer of an MMIO exit (read for writes, filled for reads).
static inline uint8_t *ckvm_run_mmio_data(struct kvm_run *run) {
  return run->mmio.data;
}

static inline uint32_t ckvm_run_mmio_len(const struct kvm_run *run) {
  return run->mmio.len;
}

static inline uint8_t ckvm_run_mmio_is_write(const struct kvm_run *run) {
  return run->mmio.is_write;
}

static inline uint64_t ckvm_run_fail_entry_reason(const struct kvm_run *run) {
  return run->fail_entry.hardware_entry_failure_reason;
}

static inline uint32_t ckvm_run_internal_suberror(const struct kvm_run *run) {
  return run->internal.suberror;
}

#endif
