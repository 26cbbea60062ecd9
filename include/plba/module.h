#ifndef PLBA_MODULE_H
#define PLBA_MODULE_H

#include <stdint.h>

#include <plba/task.h>
#include <plba/version.h>
#include <plba/worker.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Collects what a module declares.  Owned by libplba; valid during the
 * module's init call only. */
typedef struct plba_registry plba_registry;

/* A health contributor: a part of the application whose health is not a
 * worker's own (a database, an upstream).  Asked in every instance of
 * the module's workers; the worst result counts, with its name. */
typedef enum plba_health (*plba_health_fn)(char *detail, size_t len, void *arg);

/*
 * The seed's ApplicationModule.  A shared object exports one of these
 * under the name "plba_module" (PLBA_MODULE() does it); an application
 * that is its own master passes it to plba_runtime_create().  init
 * declares workers, queues and health contributors; it must not start
 * anything, because it runs in the master and again in every worker
 * instance.
 */
struct plba_module {
	unsigned	 abi_version;		/* PLBA_ABI_VERSION */
	const char	*name;
	int		(*init)(plba_registry *reg);
};

#if defined(__GNUC__)
#define PLBA_EXPORT	__attribute__((visibility("default")))
#else
#define PLBA_EXPORT
#endif

/*
 * Defines the module a shared object exports.  In C++ a const object at
 * namespace scope has internal linkage and a mangled name: extern "C"
 * gives it the name and the linkage the master looks for.
 */
#ifdef __cplusplus
#define PLBA_MODULE(name_, init_) \
	extern "C" PLBA_EXPORT const struct plba_module plba_module = \
	    { PLBA_ABI_VERSION, (name_), (init_) }
#else
#define PLBA_MODULE(name_, init_) \
	PLBA_EXPORT const struct plba_module plba_module = \
	    { PLBA_ABI_VERSION, (name_), (init_) }
#endif

/* A worker with its own loop. ops and arg must outlive the process. */
int	plba_register_worker(plba_registry *, const char *name,
	    const struct plba_worker_ops *ops, void *arg);
/* A queue worker (the seed's QueueWorker): libplba takes tasks from the
 * queue named by the worker's `consumes:` and calls handler for each. */
int	plba_register_queue_worker(plba_registry *, const char *name,
	    plba_task_handler handler, void *arg);
/* A queue with its defaults; a `queues:` entry in the configuration wins.
 * The name follows the rule of a `queues:` key, once per module. */
int	plba_register_queue(plba_registry *, const char *name,
	    uint64_t capacity, unsigned max_attempts);
int	plba_register_health(plba_registry *, const char *name,
	    plba_health_fn fn, void *arg);
/*
 * A check of a registered worker's configuration, run in each instance
 * before it is reported ready, with the arg the worker was registered
 * with.  Anything but 0 ends the instance with status 2, never ready, so
 * nothing that depends on it starts.
 */
typedef int (*plba_check_fn)(plba_worker *w, void *arg);
int	plba_register_check(plba_registry *, const char *worker,
	    plba_check_fn fn);

#ifdef __cplusplus
}
#endif

#endif
