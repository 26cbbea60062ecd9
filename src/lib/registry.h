/*
 * What a module declares (workers, queues, health contributors), as
 * collected by its init function.  Used by the master to learn a
 * module's workers and by the worker host to run one of them.
 */
#ifndef PLBA_REGISTRY_H
#define PLBA_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "plba/module.h"

struct reg_worker {
	char				*name;
	const struct plba_worker_ops	*ops;		/* NULL for a queue worker */
	void				*arg;
	plba_task_handler		 handler;
	void				*handler_arg;
	plba_check_fn			 check;		/* or NULL */
};

struct reg_queue {
	char		*name;
	uint64_t	 capacity;
	unsigned	 max_attempts;
};

struct reg_health {
	char		*name;
	plba_health_fn	 fn;
	void		*arg;
};

struct plba_registry {
	const struct plba_module *module;
	char		 *path;		/* the shared object, or NULL when built in */
	void		 *dl;
	struct reg_worker *workers;
	size_t		  nworkers;
	struct reg_queue *queues;
	size_t		  nqueues;
	struct reg_health *healths;
	size_t		  nhealths;
	int		  failed;	/* a registration ran out of memory */
};

/* Loads a module's shared object and runs its init.  Returns NULL with
 * the reason in err ("...: built for ABI 2, this is ABI 1"). */
struct plba_registry *registry_load(const char *path, char *err, size_t errlen);
/* The same for a module compiled into the program. */
struct plba_registry *registry_from(const struct plba_module *, char *err,
		    size_t errlen);
void		 registry_free(struct plba_registry *);
const struct reg_worker *registry_worker(const struct plba_registry *,
		    const char *name);

#endif
