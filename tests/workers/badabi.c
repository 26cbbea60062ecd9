/* A module built for another ABI version: the master must refuse it. */
#include "config.h"

#include <plba/module.h>

PLBA_EXPORT const struct plba_module plba_module = { PLBA_ABI_VERSION + 1,
    "badabi", NULL };
