// The ABI header on its own: this file compiles it with nothing else included, so the header
// stays self-contained for the RCU libraries that are built against it outside this package.
#include "concurrentbus_rcu.h"
