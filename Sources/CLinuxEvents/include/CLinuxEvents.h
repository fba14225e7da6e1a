// The Linux headers for eventfd(2) and epoll(7), which Swift's Glibc module leaves out.
#ifndef CLINUXEVENTS_H
#define CLINUXEVENTS_H

#include <sys/epoll.h>
#include <sys/eventfd.h>

#endif
