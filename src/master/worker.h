/*
 * A worker as the master runs it: its definition, its instances and their
 * processes, and the plumbing of each process (output pipes, exec status
 * pipe, channel).  The decisions are supervise.c's; this file carries them
 * out and turns what the kernel says back into supervision events.
 */
#ifndef PLBA_MASTER_WORKER_H
#define PLBA_MASTER_WORKER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "channel.h"
#include "loop.h"
#include "output.h"
#include "settings.h"
#include "supervise.h"

struct runtime;
struct worker;

struct instance {
	struct worker	*worker;
	unsigned	 index;
	struct sup_inst	 sup;
	struct timer	 timer;		/* fires at sup.deadline */
	pid_t		 pid;		/* 0 when no process */
	uint64_t	 spawn_id;	/* its latest process's, unique while the
					 * master runs; pids are reused */
	struct io	 out_io;
	struct io	 err_io;
	struct channel	 ch;		/* master's end of the socketpair */
	struct output	 out;
	struct output	 err;
	uint64_t	 started_wall;	/* ms since the epoch, for status */
	int		 last_exit;	/* wait status; -1 before any exit */
	unsigned	 restarts;
	bool		 tried;		/* a spawn was tried, even one that failed */
	bool		 operator_start;	/* the spawn under way is not a restart */
	char		 notify_status[256];
};

struct worker {
	struct runtime	 *rt;
	char		 *name;
	/* NULL once the worker is being removed: it never spawns again. */
	const struct worker_def *def;
	struct sup_policy policy;
	struct sup_history hist;
	/* Instances are allocated one by one: the loop's timers and fds
	 * point into them, so a reload that scales the worker may not move
	 * them.  Those from nwanted up are leaving (scaled down) and go once
	 * they are down; ninst counts them, capacity is the array's. */
	struct instance	**inst;
	unsigned	  ninst;
	unsigned	  nwanted;
	unsigned	  capacity;
	char		 *path;		/* argv[0] resolved through PATH */
	char		 *config_json;	/* its config: section, for welcome */
	char		 *module_env[3];/* PLBA_MODULE_WORKER=, PLBA_MODULE_PATH= */
	char		 *host_argv[2];	/* module workers run the host */
	bool		  wanted;	/* the runtime wants it up */
	bool		  started;	/* instances were sent EV_START */
	bool		  failed_logged;
	bool		  told_blocked;	/* that a dependency of it failed */
	struct worker	 *replaces;	/* an old version still stopping */
	unsigned	  rolling;	/* instance being restarted, or UINT_MAX */
	pid_t		  rolling_pid;	/* its process before the restart */
	struct timer	  mem_timer;
};

struct worker	*worker_new(struct runtime *, const struct worker_def *);
void		 worker_free(struct worker *);

/* Gives the worker n instances: new ones are started if the worker is,
 * those past n are stopped.  -1 when out of memory. */
int		 worker_scale(struct worker *, unsigned n);
/* Frees the instances a scale-down stopped, once they are down. */
void		 worker_prune(struct worker *);
/* Feeds an event to every instance (or one), carrying out the actions. */
void		 worker_event(struct worker *, const struct sup_event *);
void		 instance_event(struct instance *, const struct sup_event *);

/* The process was reaped with this wait status. */
void		 instance_exited(struct instance *, int wstatus);
void		 instance_ready(struct instance *);
/* It said hello: readiness now comes from the protocol, not a timer. */
void		 instance_hello(struct instance *);
/* SIGKILL to its group; the exit is then handled like any other. */
void		 instance_kill(struct instance *);
/* Health and status as SPEC section 7 defines them. */
enum health	 instance_health(const struct instance *, const char **detail);
enum status	 instance_status(const struct instance *);

/* The instances status shows, in place of w->inst[0 .. ninst - 1]. */
unsigned	 worker_nshown(const struct worker *);
struct instance	*worker_shown(const struct worker *, unsigned);

bool		 worker_ready(const struct worker *);	/* every instance ready */
bool		 worker_down(const struct worker *);	/* no process left */
/* Every instance ready, or down and not to be restarted but by an
 * operator; worker_done(): every one exited and by its policy for good. */
bool		 worker_settled(const struct worker *);
bool		 worker_done(const struct worker *);
bool		 instance_alive(const struct instance *);

/* Restarts the instances gracefully one at a time, each after the
 * previous one is ready again; worker_rolling_step() moves it on. */
void		 worker_rolling_restart(struct worker *);
void		 worker_rolling_step(struct worker *);

/* Points an unchanged worker at the definition of a reloaded file. */
void		 worker_rebind(struct worker *, const struct worker_def *);

/* "exited with status 3", "killed by signal 9 (Killed)". */
void		 describe_wait(int wstatus, char *buf, size_t len);
/* Reads the instances' output again, once the log has room for it. */
void		 worker_resume_output(struct worker *);

#endif
