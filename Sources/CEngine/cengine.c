// Everything in CEngine is inline in include/cengine.h; SwiftPM needs one source file per C target.
#include "cengine.h"
