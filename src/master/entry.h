/*
 * Entry points of the programs shipped with libplba.  Exported (with the
 * private plba__ prefix) so plba-master and plba-worker are thin programs
 * over the one shared library that modules link against too: a module
 * loaded into either process then finds the same libplba, not a copy.
 */
#ifndef PLBA_MASTER_ENTRY_H
#define PLBA_MASTER_ENTRY_H

#include "plba/module.h"

int	plba__master_main(int argc, char *argv[]);
int	plba__host_main(void);

#endif
