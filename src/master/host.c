#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "child.h"
#include "entry.h"
#include "registry.h"

/* Runs the module worker named by the environment the master set:
 * PLBA_MODULE_PATH (the shared object) and PLBA_MODULE_WORKER. */
int
plba__host_main(void)
{
	const char *path = getenv("PLBA_MODULE_PATH");
	const char *name = getenv("PLBA_MODULE_WORKER");
	const struct reg_worker *rw;
	struct plba_registry *reg;
	char err[512];
	int status;

	if (path == NULL || name == NULL) {
		fprintf(stderr, "plba-worker: run by plba-master for module "
		    "workers; PLBA_MODULE_PATH and PLBA_MODULE_WORKER unset\n");
		return 2;
	}
	if ((reg = registry_load(path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "plba-worker: %s\n", err);
		return 1;
	}
	if ((rw = registry_worker(reg, name)) == NULL) {
		fprintf(stderr, "plba-worker: %s registers no worker %s\n",
		    path, name);
		return 1;
	}
	status = child_run(rw, reg);
	/* The module's code may still run in the channel thread until the
	 * process exits: leave it loaded. */
	fflush(NULL);
	_exit(status);
}
