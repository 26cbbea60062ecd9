/*
 * The per-instance supervision state machine.  sup_step() is a pure
 * function of (state, event, now): it changes only the instance and its
 * worker's restart history and says what the caller must do, so every
 * restart, back-off and stop rule is unit-tested without processes.
 */
#ifndef PLBA_MASTER_SUPERVISE_H
#define PLBA_MASTER_SUPERVISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "settings.h"

enum inst_state {
	INST_STOPPED,	/* no process and none scheduled */
	INST_STARTING,	/* process alive, not ready yet */
	INST_RUNNING,	/* process alive and ready */
	INST_STOPPING,	/* asked to exit; killed at the deadline */
	INST_BACKOFF	/* exited; respawned at the deadline */
};

enum sup_event_kind {
	EV_START,	/* the runtime wants this instance up */
	EV_SPAWN_FAILED,/* fork, exec or set-up failed: counts as a crash */
	EV_READY,	/* readiness reported (notify, protocol) */
	EV_HELLO,	/* it speaks the protocol: ready when it says so */
	EV_EXIT,	/* the process was reaped */
	EV_DEADLINE,	/* the instance's deadline passed */
	EV_STOP,	/* stop, graceful or forced */
	EV_RESTART,	/* graceful stop, then start again at once */
	EV_KILL		/* no time left: SIGKILL whatever still runs */
};

struct sup_event {
	enum sup_event_kind kind;
	bool		 clean;		/* EV_EXIT: exit status 0 */
	bool		 force;		/* EV_STOP */
	/* EV_RESTART: for the instance's own fault (over max_memory), so it
	 * counts toward max_restarts, as a crash does. */
	bool		 fault;
};

enum sup_action {
	ACT_NONE,
	ACT_SPAWN,	/* start a process now */
	ACT_TERM,	/* stop {force: false}, SIGTERM the process group */
	ACT_FORCE,	/* stop {force: true}; SIGKILL at the deadline */
	ACT_KILL	/* SIGKILL the process group */
};

struct sup_policy {
	enum restart_policy restart;
	uint64_t	 restart_delay_ms;
	uint64_t	 restart_max_delay_ms;
	unsigned	 max_restarts;		/* 0: unlimited */
	uint64_t	 restart_window_ms;
	uint64_t	 stop_timeout_ms;
	bool		 ready_on_timer;	/* ready: DURATION */
	uint64_t	 ready_delay_ms;
};

/* Restart times of all instances of one worker, for max_restarts. */
struct sup_history {
	uint64_t	*times;		/* ring of max_restarts entries */
	size_t		 cap;
	size_t		 head;
	size_t		 n;
	bool		 failed;	/* crash loop: nothing restarts */
};

struct sup_inst {
	enum inst_state	 state;
	uint64_t	 deadline;	/* 0: none; else absolute ms */
	uint64_t	 started_at;	/* when the current process was spawned */
	unsigned	 streak;	/* consecutive quick crashes, for back-off */
	bool		 restart_after_stop;
	bool		 speaks;	/* said hello: can be told to stop */
	bool		 forced;	/* told stop {force: true} */
	bool		 killed;	/* SIGKILL was needed to stop it */
	bool		 done;		/* exited, and its restart policy
					 * does not start it again */
};

/* Once an instance has stayed up this long, its back-off starts afresh. */
#define SUP_STABLE_MS	10000
/* The shortest wait before any restart of a streak but the first, so that
 * restart_delay: 0 cannot make a crash loop spin. */
#define SUP_BACKOFF_FLOOR_MS	100
/* How long a child told stop {force: true} has to exit before SIGKILL,
 * unless its stop_timeout is shorter: enough to close connections and
 * hand back held tasks, short enough for an operator who said "now". */
#define SUP_FORCE_GRACE_MS	1000

void		 sup_policy_from_def(struct sup_policy *, const struct worker_def *);
int		 sup_history_init(struct sup_history *, unsigned max_restarts);
void		 sup_history_free(struct sup_history *);

/* Applies ev at now; returns what the caller must do. */
enum sup_action	 sup_step(struct sup_inst *, struct sup_history *,
		    const struct sup_policy *, const struct sup_event *,
		    uint64_t now);
/* The back-off before the next restart, given the streak so far. */
uint64_t	 sup_backoff(const struct sup_policy *, unsigned streak);
/* "starting", "idle", "stopping", "stopped", or "failed". */
const char	*sup_state_name(const struct sup_inst *, const struct sup_history *);

#endif
