// Headers only; SwiftPM needs a source file to build a C target.
#include "CLinuxEvents.h"
