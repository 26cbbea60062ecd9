/*
 * plba-worker: the host that plba-master executes for each instance of a
 * module worker.  A fresh exec, so no child inherits the master's threads.
 */
#include "config.h"

#include "entry.h"

int
main(void)
{
	return plba__host_main();
}
