#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plba/runtime.h"
#include "child.h"
#include "entry.h"
#include "registry.h"
#include "runtime.h"

struct plba_runtime {
	const struct plba_module *module;
	char			 *config_path;
	int			  flags;
};

plba_runtime *
plba_runtime_create(const struct plba_module *module, const char *config_path,
    int flags)
{
	plba_runtime *r;

	if (config_path == NULL || (r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	if ((r->config_path = strdup(config_path)) == NULL) {
		free(r);
		return NULL;
	}
	r->module = module;
	r->flags = flags;
	return r;
}

void
plba_runtime_free(plba_runtime *r)
{
	if (r == NULL)
		return;
	free(r->config_path);
	free(r);
}

/* In a child the master started for one of our module's workers, the
 * same binary runs that worker instead of a master. */
static int
run_worker(plba_runtime *r, const char *name)
{
	const struct reg_worker *rw;
	struct plba_registry *reg;
	char err[512];

	/* A worker of a shared-object module: what plba-worker does. */
	if (getenv("PLBA_MODULE_PATH") != NULL)
		return plba__host_main();
	if (r->module == NULL ||
	    (reg = registry_from(r->module, err, sizeof(err))) == NULL) {
		fprintf(stderr, "plba: %s\n", r->module ? err : "no module");
		return 1;
	}
	if ((rw = registry_worker(reg, name)) == NULL) {
		fprintf(stderr, "plba: module %s registers no worker %s\n",
		    r->module->name, name);
		return 1;
	}
	return child_run(rw, reg);
}

int
plba_runtime_run(plba_runtime *r)
{
	const char *worker = getenv("PLBA_MODULE_WORKER");
	const char *paths[1] = { r->config_path };
	struct conf_errors errs = { 0 };
	struct runtime *rt;
	size_t i;
	int status;

	/* Never a master inside a worker: a child that became one would
	 * start workers of its own, and so on down. */
	if (worker != NULL)
		return run_worker(r, worker);
	if ((rt = runtime_new(paths, 1, r->module, &errs)) == NULL) {
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "plba: %s\n", errs.msgs[i]);
		conf_errors_clear(&errs);
		return 2;
	}
	rt->no_http = (r->flags & PLBA_RUNTIME_NO_HTTP) != 0;
	status = runtime_run(rt);
	runtime_free(rt);
	return status;
}
