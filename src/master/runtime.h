/*
 * The master's runtime (the seed's RuntimeManager and WorkerSupervisor):
 * owns the settings, the loop and every worker, starts them in dependency
 * order, stops them in reverse, reloads on SIGHUP and decides the exit
 * status.  Everything here runs on the loop's one thread.
 */
#ifndef PLBA_MASTER_RUNTIME_H
#define PLBA_MASTER_RUNTIME_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>

#include "conf.h"
#include "loop.h"
#include "metrics.h"
#include "settings.h"

struct worker;
struct instance;
struct channel;
struct parked;
struct plba_module;
struct plba_registry;
struct http;
struct traces;
struct trace_history;
struct store;
struct held_confirm;

/* A queue and the publishes waiting for room in it. */
struct rqueue {
	struct queue	*q;
	struct parked	*head;
	struct parked	*tail;
	size_t		 nparked;
	struct histogram hist;		/* dispatch to ack */
	bool		 durable;	/* journaled in rt->store */
	/* Gone from the configuration: takes no publishes, and is freed
	 * once empty (runtime_sweep_queues). */
	bool		 removed;
	/* Durable, declared by a reload, and its rows not read yet: takes
	 * no publishes until they are (store_load()). */
	bool		 loading;
	uint64_t	 dead_dropped_logged;
};

enum rt_state { RT_IDLE, RT_STARTING, RT_RUNNING, RT_STOPPING, RT_STOPPED };

struct runtime {
	struct settings	 *settings;
	char		**paths;		/* configuration files, for reload */
	size_t		  npaths;
	struct loop	 *loop;
	struct worker	**workers;
	size_t		  nworkers;

	int		  sigfd;
	struct io	  sig_io;
	int		  notify_fd;
	struct io	  notify_io;
	struct io	  log_room_io;	/* log_room_fd(), not ours to close */
	struct io	  store_io;	/* store_fd(): a batch is through */
	int		  devnull;
	int		  fd_limit;		/* RLIMIT_NOFILE once raised */
	uint64_t	  spawns;		/* spawn ids handed out */
	struct rlimit	  child_nofile;		/* as the master was started */
	bool		  nofile_raised;

	enum rt_state	  state;
	bool		  done;			/* leave the loop */
	bool		  exit_when_stopped;
	bool		  forced;		/* something had to be killed */
	bool		  force_asked;		/* this stop is a forced one */
	bool		  failed_exit;		/* exit_on_failure tripped */
	bool		  dirty;		/* reconcile before sleeping */
	bool		  snap_dirty;		/* the HTTP snapshot is out of date */
	struct timer	  stop_timer;		/* platform.stop_timeout */
	struct timer	  reload_timer;		/* a reload asked over HTTP */
	uint64_t	  started_ms;
	char		**base_env;		/* environ minus our own variables */

	struct rqueue	 *queues;
	size_t		  nqueues;
	uint64_t	  queued_peak;		/* bytes, since memory was trimmed */
	struct channel	**flush;		/* channels with output queued */
	size_t		  nflush;
	size_t		  capflush;
	struct timer	  scan_timer;		/* heartbeats, hello, task_timeout */
	uint64_t	  scan_due;		/* mono ms it is armed for */
	struct store	 *store;		/* durable queues; NULL if none */
	struct held_confirm *held;		/* publishes awaiting the commit */
	size_t		  nheld;
	size_t		  capheld;

	struct plba_registry **modules;		/* loaded once, at start */
	size_t		  nmodules;
	struct plba_registry **builtins;	/* type: workers, loaded when named */
	size_t		  nbuiltins;
	char		 *workers_dir;		/* where built-in workers are */
	char		 *config_env;		/* PLBA_CONFIG=paths, for children */
	char		 *host_path;		/* plba-worker, for .so module workers */
	char		 *self_path;		/* our binary, for built-in module workers */
	struct http	 *http;			/* NULL when not serving */
	/* HTTP answers by status code, kept here so that a restart of the
	 * server on a changed platform.http does not reset the counters;
	 * civetweb's threads add to them atomically. */
	uint64_t	  http_answers[600];
	struct traces	 *traces;		/* NULL when tracing is off */
	struct trace_history *trace_history;	/* traces.c's, across reloads */
	bool		  no_http;		/* PLBA_RUNTIME_NO_HTTP */
};

/* module: one compiled into the program (plba_runtime_create), or NULL. */
struct runtime	*runtime_new(const char *const *paths, size_t npaths,
		    const struct plba_module *module, struct conf_errors *errs);
/*
 * Checks what settings say about modules against what the modules
 * register: every `module:` worker exists, every consumed queue is
 * declared by the configuration or a module.  rt may be NULL (--check:
 * the modules are loaded just for the check).  module_queues, unless
 * NULL, is increased by the queues only modules declare.
 */
int		 runtime_check_modules(const struct settings *, struct runtime *rt,
		    struct conf_errors *errs, size_t *module_queues);
/* The module that registers a worker name, or NULL. */
struct plba_registry *runtime_module_for(struct runtime *, const char *worker);
void		 runtime_free(struct runtime *);
/* Runs until stopped; returns the exit status of SPEC section 11. */
int		 runtime_run(struct runtime *);

/* Something changed: re-evaluate starts, stops and the runtime state. */
static inline void
runtime_touch(struct runtime *rt)
{
	rt->dirty = true;
	rt->snap_dirty = true;
}
/* Starts the workers (autostart, or the start action). */
void		 runtime_start(struct runtime *);
/* Stops every worker and stays up (the stop action); timeout_ms 0 means
 * platform.stop_timeout. */
void		 runtime_stop_for(struct runtime *, bool force, uint64_t timeout_ms);
enum reload_change {
	RELOAD_WORKER_ADDED, RELOAD_WORKER_CHANGED, RELOAD_WORKER_SCALED,
	RELOAD_WORKER_REMOVED,
	RELOAD_QUEUE_ADDED, RELOAD_QUEUE_REMOVED
};
typedef void	(*reload_note_fn)(void *arg, enum reload_change,
		    const char *name);

/*
 * A reload asked for over HTTP, in two steps: the files are read and
 * checked at once, with what is wrong in errs (-1), or each worker and
 * queue the reload will add, restart or remove told to note (0); once
 * the client has its answer, runtime_reload_soon() has the loop's next
 * turn reload them as on SIGHUP.
 */
int		 runtime_reload_check(struct runtime *, struct conf_errors *errs,
		    reload_note_fn note, void *arg);
void		 runtime_reload_soon(struct runtime *);
/* Settles starts and stops now rather than before the next sleep. */
void		 reconcile_now(struct runtime *);
struct instance	*runtime_find_pid(struct runtime *, pid_t);
/* The instance whose current process has this spawn id, or NULL. */
struct instance	*runtime_find_spawn(struct runtime *, uint64_t spawn_id);
/*
 * The module of the built-in worker `type`, loaded from the workers
 * directory the first time it is named; NULL with a reason in err.
 */
struct plba_registry *runtime_builtin(struct runtime *, const char *type,
		    char *err, size_t errlen);
struct worker	*runtime_find_worker(struct runtime *, const char *name);
struct rqueue	*runtime_find_queue(struct runtime *, const char *name);
/* Frees the queues removed from the configuration that are empty now. */
void		 runtime_sweep_queues(struct runtime *);

/*
 * Whether a worker consumes queue and has not failed: one that can make
 * room in it.  A publish waiting for room in a queue that none drains is
 * refused once its publisher is asked to stop, or it would hold the stop
 * up to stop_timeout; one that some worker drains waits, as a pipeline
 * stage's publish must.
 */
bool		 runtime_queue_drains(struct runtime *, const char *queue);

#endif
