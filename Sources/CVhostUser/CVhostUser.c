#define _GNU_SOURCE
#include "CVhostUser.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

int cvhost_connect(const char *path) {
  struct sockaddr_un address;
  memset(&address, 0, sizeof address);
  address.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof address.sun_path) return -ENAMETOOLONG;
  strcpy(address.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  if (connect(fd, (struct sockaddr *)&address, sizeof address) != 0) {
    int code = errno;
    close(fd);
    return -code;
  }
  return fd;
}

ssize_t cvhost_send(int socket, const void *bytes, size_t length, const int *fds, int count) {
  if (count < 0 || count > CVHOST_MAX_FDS) return -EINVAL;
  char control[CMSG_SPACE(sizeof(int) * CVHOST_MAX_FDS)];
  memset(control, 0, sizeof control);
  struct iovec vector = {.iov_base = (void *)bytes, .iov_len = length};
  struct msghdr message = {.msg_iov = &vector, .msg_iovlen = 1};
  if (count > 0) {
    message.msg_control = control;
    message.msg_controllen = CMSG_SPACE(sizeof(int) * count);
    struct cmsghdr *header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int) * count);
    memcpy(CMSG_DATA(header), fds, sizeof(int) * count);
  }
  ssize_t sent;
  do {
    sent = sendmsg(socket, &message, MSG_NOSIGNAL);
  } while (sent < 0 && errno == EINTR);
  return sent < 0 ? -errno : sent;
}

ssize_t cvhost_receive(int socket, void *bytes, size_t length, int *fds, int *count) {
  char control[CMSG_SPACE(sizeof(int) * CVHOST_MAX_FDS)];
  struct iovec vector = {.iov_base = bytes, .iov_len = length};
  struct msghdr message = {
      .msg_iov = &vector, .msg_iovlen = 1, .msg_control = control,
      .msg_controllen = sizeof control};
  *count = 0;
  ssize_t received;
  do {
    received = recvmsg(socket, &message, MSG_CMSG_CLOEXEC);
  } while (received < 0 && errno == EINTR);
  if (received < 0) return -errno;
  int malformed = (message.msg_flags & MSG_CTRUNC) != 0;
  for (struct cmsghdr *header = CMSG_FIRSTHDR(&message); header != NULL;
       header = CMSG_NXTHDR(&message, header)) {
    if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) continue;
    size_t carried = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    int *incoming = (int *)CMSG_DATA(header);
    for (size_t index = 0; index < carried; index++) {
      int fd;
      memcpy(&fd, incoming + index, sizeof fd);
      if (*count < CVHOST_MAX_FDS) {
        fds[(*count)++] = fd;
      } else {
        close(fd);
        malformed = 1;
      }
    }
  }
  if (malformed) {
    for (int index = 0; index < *count; index++) close(fds[index]);
    *count = 0;
    return -EBADMSG;
  }
  return received;
}

int cvhost_wait_readable(int socket, int milliseconds) {
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  int left = milliseconds;
  for (;;) {
    struct pollfd entry = {.fd = socket, .events = POLLIN};
    int ready = poll(&entry, 1, left);
    if (ready > 0) return 1;
    if (ready == 0) return 0;
    if (errno != EINTR) return -errno;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long elapsed = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
    left = milliseconds - (int)elapsed;
    if (left <= 0) return 0;
  }
}
