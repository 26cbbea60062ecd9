#include "config.h"

#include <string.h>

#include "health.h"

static const char *const health_names[] = { "ok", "degraded", "unhealthy" };
static const char *const status_names[] = { "starting", "idle", "busy",
	"stopping", "stopped", "failed" };

const char *
health_name(enum health h)
{
	return health_names[h];
}

int
health_parse(const char *s, enum health *out)
{
	size_t i;

	for (i = 0; i < sizeof(health_names) / sizeof(health_names[0]); i++)
		if (strcmp(s, health_names[i]) == 0) {
			*out = (enum health)i;
			return 0;
		}
	return -1;
}

const char *
status_name(enum status s)
{
	return status_names[s];
}

int
status_parse(const char *s, enum status *out)
{
	size_t i;

	for (i = 0; i < sizeof(status_names) / sizeof(status_names[0]); i++)
		if (strcmp(s, status_names[i]) == 0) {
			*out = (enum status)i;
			return 0;
		}
	return -1;
}

bool
inst_healthy(const struct inst_view *i)
{
	return (i->status == STATUS_IDLE || i->status == STATUS_BUSY) &&
	    i->health != HEALTH_UNHEALTHY;
}

/* A crash loop is unhealthy whatever the instance last reported. */
static enum health
effective(const struct inst_view *i)
{
	return i->status == STATUS_FAILED ? HEALTH_UNHEALTHY : i->health;
}

enum health
worker_health(const struct worker_view *w)
{
	enum health worst = HEALTH_OK;
	size_t i;

	for (i = 0; i < w->ninst; i++)
		if (effective(&w->inst[i]) > worst)
			worst = effective(&w->inst[i]);
	return worst;
}

enum health
runtime_health(const struct worker_view *ws, size_t n)
{
	enum health h = HEALTH_OK;
	size_t i, j;
	bool any;

	for (i = 0; i < n; i++) {
		any = false;
		for (j = 0; j < ws[i].ninst; j++)
			any = any || inst_healthy(&ws[i].inst[j]);
		if (ws[i].critical && !any)
			return HEALTH_UNHEALTHY;
		if (worker_health(&ws[i]) != HEALTH_OK)
			h = HEALTH_DEGRADED;
	}
	return h;
}

enum status
runtime_activity(const struct worker_view *ws, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < ws[i].ninst; j++)
			if (ws[i].inst[j].status == STATUS_BUSY)
				return STATUS_BUSY;
	return STATUS_IDLE;
}
