#ifndef PLBA_WORKER_H
#define PLBA_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <plba/config.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One running worker instance, inside its own child process.  Owned by
 * libplba; valid from the call of start() until the instance exits. */
typedef struct plba_worker plba_worker;

enum plba_health { PLBA_HEALTH_OK, PLBA_HEALTH_DEGRADED, PLBA_HEALTH_UNHEALTHY };
enum plba_status { PLBA_STATUS_IDLE, PLBA_STATUS_BUSY };

/*
 * The seed's worker contract.  start() runs the worker and returns once it
 * has stopped: on its own, or after stop() was called.  It runs on the
 * process's main thread; stop() and health() are called from libplba's
 * channel thread and must only ask, never wait.
 */
struct plba_worker_ops {
	/* Required.  Return 0 for a clean end; anything else is a failure
	 * (the instance exits 1 and is restarted by its policy). */
	int		(*start)(plba_worker *w, void *arg);
	/* Optional: asked to stop; force means drop in-flight work now.
	 * Whether or not it is set, plba_worker_stopping() turns true. */
	void		(*stop)(plba_worker *w, bool force, void *arg);
	/* Optional: the worker's health, asked every heartbeat interval.
	 * Write a short reason to detail (len bytes) when not ok.  Without
	 * it, what plba_worker_set_health() set is reported. */
	enum plba_health (*health)(plba_worker *w, char *detail, size_t len,
			    void *arg);
};

/* The worker's name and instance number (0 to concurrency - 1). */
const char	*plba_worker_name(const plba_worker *);
unsigned	 plba_worker_instance(const plba_worker *);
/* The worker's own `config:` section, or NULL when it has none.  Lives
 * as long as the worker. */
const plba_node	*plba_worker_config(const plba_worker *);
/* A top-level section of the configuration: the application's own
 * (e.g. "mail_order_bot"), or NULL. */
const plba_node	*plba_worker_section(const plba_worker *, const char *name);

/* True once a stop was asked for (protocol stop, SIGTERM or SIGINT). */
bool		 plba_worker_stopping(const plba_worker *);
/* Sleeps up to ms milliseconds; returns early, true, when a stop is
 * asked for. The idiom for polling loops. */
bool		 plba_worker_sleep(plba_worker *, uint64_t ms);

/* Reports health (with a short detail, may be NULL) and status.  Thread
 * safe; sent to the master at once when changed.  A value outside its
 * enum is PLBA_EINVAL and sends nothing. */
int		 plba_worker_set_health(plba_worker *, enum plba_health,
		    const char *detail);
int		 plba_worker_set_status(plba_worker *, enum plba_status);

/*
 * Publishes a task {name, payload, metadata} to a queue and waits until
 * the master has it: while the queue is full this blocks (back-pressure).
 * payload_json is JSON text (NULL means null).  When id is not NULL the
 * task's id is copied there (idlen bytes).  Returns PLBA_OK, PLBA_ENOENT
 * for an unknown queue, PLBA_EINVAL for a payload that is not JSON,
 * PLBA_ECLOSED when the master is gone, or PLBA_ESTATE after a forced
 * stop.  Thread safe.
 */
int		 plba_publish(plba_worker *, const char *queue, const char *name,
		    const char *payload_json, char *id, size_t idlen);
/*
 * The same without waiting for the confirmation: up to a window of
 * unconfirmed publishes is kept in flight, and only a full window
 * blocks.  plba_publish_flush() waits for every confirmation and returns
 * the first error of any of them.
 */
int		 plba_publish_async(plba_worker *, const char *queue,
		    const char *name, const char *payload_json);
int		 plba_publish_flush(plba_worker *);

/*
 * What became of a tracked task: acked by its consumer, or moved to the
 * dead-letter list with the last error.  A publisher that must act only
 * once a task is done (an IMAP poller marks a mail seen) tracks it.
 */
struct plba_done {
	char		 id[32];	/* as plba_publish_tracked() returned it */
	char		 queue[128];
	bool		 acked;		/* false: dead-lettered */
	char		 error[256];	/* why, when dead-lettered */
};

/*
 * plba_publish() that also asks the master for a done notice once the task
 * is acked or dead-lettered.  Notices go to this very instance; one that
 * restarts in between gets none for what it published before, so it must
 * be able to find unfinished work again (at-least-once, as always).
 */
int		 plba_publish_tracked(plba_worker *, const char *queue,
		    const char *name, const char *payload_json, char *id,
		    size_t idlen);
/*
 * Takes the next done notice, waiting up to ms milliseconds for one.
 * Returns 1 with *out filled, 0 when none came in time or a stop was
 * asked, PLBA_ECLOSED when the master is gone.  Thread safe.
 */
int		 plba_worker_next_done(plba_worker *, uint64_t ms,
		    struct plba_done *out);

/* The last error's text for this worker, for logs.  Never NULL. */
const char	*plba_worker_error(const plba_worker *);

#ifdef __cplusplus
}
#endif

#endif
