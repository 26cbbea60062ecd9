/*
 * What the runtime shows of itself: instance, worker and runtime health
 * and status (SPEC section 7), built by the loop into an immutable
 * snapshot that the HTTP threads read without touching supervisor state.
 */
#ifndef PLBA_MASTER_STATUS_H
#define PLBA_MASTER_STATUS_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "health.h"

struct runtime;

struct snapshot {
	int		 refs;		/* atomic */
	cJSON		*status;	/* GET /status, read only once built */
	char		*status_text;
	char		*health_text;	/* GET /health */
	enum health	 health;
	bool		 ready;		/* GET /readyz */
	char		*queues_text;	/* GET /queues */
	char		*metrics_text;	/* GET /metrics, less the HTTP part */
	uint64_t	 built_ms;	/* mono_ms() when built */
};

/* Builds a snapshot of the runtime now; NULL when out of memory. */
struct snapshot	*snapshot_build(struct runtime *);
struct snapshot	*snapshot_ref(struct snapshot *);
void		 snapshot_unref(struct snapshot *);

enum health	 runtime_health_now(struct runtime *);
/* "starting", "idle", "busy", "stopping" or "stopped". */
const char	*runtime_state_name(struct runtime *);
/* Every critical worker has a ready instance, and the runtime is not
 * stopping: what /readyz answers. */
bool		 runtime_ready(struct runtime *);
struct worker;
/* A worker a reload removed, still stopping, with no new version of that
 * name: shown in /status, /workers and /metrics until it is down. */
bool		 status_removed_stopping(struct runtime *, const struct worker *);

#endif
