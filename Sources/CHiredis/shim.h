// Debian's libhiredis-dev (0.14): only the reply reader and the command formatter are used; the I/O is SwiftNIO's.
#ifndef AGGREGATOR_CHIREDIS_SHIM_H
#define AGGREGATOR_CHIREDIS_SHIM_H
#include <hiredis/hiredis.h>
#endif
