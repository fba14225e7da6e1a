// The example library's public interface is exactly the loadable-RCU ABI.
#ifndef EXAMPLE_RCU_LIBRARY_H
#define EXAMPLE_RCU_LIBRARY_H

#include "concurrentbus_rcu.h"

#endif
