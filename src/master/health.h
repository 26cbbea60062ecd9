/*
 * Health and status rules of SPEC section 7, as pure functions over plain
 * values so the aggregation is tested as a table.
 */
#ifndef PLBA_MASTER_HEALTH_H
#define PLBA_MASTER_HEALTH_H

#include <stdbool.h>
#include <stddef.h>

enum health { HEALTH_OK, HEALTH_DEGRADED, HEALTH_UNHEALTHY };
enum status { STATUS_STARTING, STATUS_IDLE, STATUS_BUSY, STATUS_STOPPING,
	STATUS_STOPPED, STATUS_FAILED };

struct inst_view {
	enum health	health;
	enum status	status;
};

struct worker_view {
	bool			 critical;
	const struct inst_view	*inst;
	size_t			 ninst;
};

const char	*health_name(enum health);
int		 health_parse(const char *, enum health *);
const char	*status_name(enum status);
int		 status_parse(const char *, enum status *);

/* An instance that can do its work: running, and ok or degraded. */
bool		 inst_healthy(const struct inst_view *);
/* Worst health of a worker's instances, a failed one counting as
 * unhealthy; ok for a worker with no instances. */
enum health	 worker_health(const struct worker_view *);
/*
 * The runtime's health: unhealthy if any critical worker has no healthy
 * instance; degraded if any instance is degraded or unhealthy; else ok.
 */
enum health	 runtime_health(const struct worker_view *, size_t nworkers);
/* busy if any instance is busy, else idle (for a running runtime). */
enum status	 runtime_activity(const struct worker_view *, size_t nworkers);

#endif
