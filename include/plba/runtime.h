#ifndef PLBA_RUNTIME_H
#define PLBA_RUNTIME_H

#include <plba/module.h>
#include <plba/task.h>
#include <plba/worker.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct plba_runtime plba_runtime;

enum plba_runtime_flags {
	PLBA_RUNTIME_NO_HTTP	= 1 << 0	/* no HTTP control plane */
};

/*
 * An application that is its own master (the seed's create_runtime):
 * main() calls this with its module, then plba_runtime_run().  The same
 * binary is re-executed for each instance of the module's workers; there
 * plba_runtime_run() runs that one worker instead.  module may be NULL
 * (only exec workers).  Nothing is read until plba_runtime_run(), which
 * prints configuration errors to stderr and returns 2.  Returns NULL when
 * config_path is NULL or memory runs out.
 */
plba_runtime	*plba_runtime_create(const struct plba_module *module,
		    const char *config_path, int flags);
/* Runs until stopped; returns the exit status for main(): 0 clean,
 * 1 forced or failed, 2 configuration error.  The HTTP control plane
 * follows platform.http unless PLBA_RUNTIME_NO_HTTP was given. */
int		 plba_runtime_run(plba_runtime *);
void		 plba_runtime_free(plba_runtime *);

/*
 * A program that is one worker, without a module: runs the worker
 * protocol on fd 3 (PLBA_FD) for ops, and returns the exit status for
 * main().  For exec workers written in C.
 */
int		 plba_worker_main(const struct plba_worker_ops *ops, void *arg);
/* The same for a queue worker: handler gets the tasks of `consumes:`. */
int		 plba_queue_worker_main(plba_task_handler handler, void *arg);

#ifdef __cplusplus
}
#endif

#endif
