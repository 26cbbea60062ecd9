#include "config.h"

#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "queue.h"
#include "runtime.h"
#include "status.h"
#include "worker.h"

/* The health rules need plain views of every instance. */
static struct worker_view *
views(struct runtime *rt, struct inst_view **store)
{
	struct worker_view *wv;
	struct inst_view *iv;
	size_t i, n = 0, k = 0;
	unsigned j;
	const char *detail;

	for (i = 0; i < rt->nworkers; i++)
		n += worker_nshown(rt->workers[i]);
	wv = calloc(rt->nworkers + 1, sizeof(*wv));
	iv = calloc(n + 1, sizeof(*iv));
	if (wv == NULL || iv == NULL) {
		free(wv);
		free(iv);
		return NULL;
	}
	for (i = 0; i < rt->nworkers; i++) {
		struct worker *w = rt->workers[i];

		/* One whose instances all ended by their policy is over,
		 * not down: nothing of it should run. */
		wv[i].critical = w->def != NULL && w->def->critical &&
		    w->wanted && !worker_done(w);
		wv[i].inst = &iv[k];
		wv[i].ninst = worker_nshown(w);
		for (j = 0; j < wv[i].ninst; j++, k++) {
			iv[k].health = instance_health(worker_shown(w, j), &detail);
			iv[k].status = instance_status(worker_shown(w, j));
		}
	}
	*store = iv;
	return wv;
}

enum health
runtime_health_now(struct runtime *rt)
{
	struct inst_view *iv;
	struct worker_view *wv;
	enum health h;

	if ((wv = views(rt, &iv)) == NULL)
		return HEALTH_UNHEALTHY;
	h = runtime_health(wv, rt->nworkers);
	free(wv);
	free(iv);
	return h;
}

const char *
runtime_state_name(struct runtime *rt)
{
	struct inst_view *iv;
	struct worker_view *wv;
	enum status s;

	switch (rt->state) {
	case RT_STARTING:
		return "starting";
	case RT_STOPPING:
		return "stopping";
	case RT_IDLE:
	case RT_STOPPED:
		return "stopped";
	case RT_RUNNING:
		break;
	}
	if ((wv = views(rt, &iv)) == NULL)
		return "idle";
	s = runtime_activity(wv, rt->nworkers);
	free(wv);
	free(iv);
	return status_name(s);
}

bool
runtime_ready(struct runtime *rt)
{
	size_t i;
	unsigned j;
	bool any;

	if (rt->state != RT_STARTING && rt->state != RT_RUNNING)
		return false;
	for (i = 0; i < rt->nworkers; i++) {
		struct worker *w = rt->workers[i];

		if (w->def == NULL || !w->def->critical || !w->wanted ||
		    worker_done(w))
			continue;
		any = false;
		for (j = 0; j < w->ninst; j++)
			any = any || w->inst[j]->sup.state == INST_RUNNING;
		if (!any)
			return false;
	}
	return true;
}

static void
add_time(cJSON *o, const char *key, uint64_t ms)
{
	char buf[40];
	struct tm tm;
	time_t t = (time_t)(ms / 1000);

	if (ms == 0) {
		cJSON_AddNullToObject(o, key);
		return;
	}
	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	cJSON_AddStringToObject(o, key, buf);
}

static cJSON *
last_exit(int st)
{
	cJSON *o;

	if (st == -1)
		return cJSON_CreateNull();
	o = cJSON_CreateObject();
	if (WIFEXITED(st))
		cJSON_AddNumberToObject(o, "code", WEXITSTATUS(st));
	else if (WIFSIGNALED(st)) {
		cJSON_AddNumberToObject(o, "signal", WTERMSIG(st));
		cJSON_AddStringToObject(o, "signal_name", strsignal(WTERMSIG(st)));
	}
	return o;
}

static cJSON *
instance_json(struct instance *in)
{
	cJSON *o = cJSON_CreateObject();
	const char *detail;
	enum health h = instance_health(in, &detail);

	cJSON_AddStringToObject(o, "name", in->worker->name);
	cJSON_AddNumberToObject(o, "instance", in->index);
	if (in->pid > 0)
		cJSON_AddNumberToObject(o, "pid", in->pid);
	else
		cJSON_AddNullToObject(o, "pid");
	cJSON_AddStringToObject(o, "status", status_name(instance_status(in)));
	cJSON_AddStringToObject(o, "health", health_name(h));
	cJSON_AddStringToObject(o, "detail", detail != NULL ? detail : "");
	cJSON_AddNumberToObject(o, "restarts", in->restarts);
	add_time(o, "started_at", in->pid > 0 ? in->started_wall : 0);
	cJSON_AddItemToObject(o, "last_exit", last_exit(in->last_exit));
	cJSON_AddBoolToObject(o, "protocol", in->ch.hello);
	return o;
}

static cJSON *
queue_json(struct rqueue *rq)
{
	struct queue_stats st;
	cJSON *o = cJSON_CreateObject();

	queue_stats(rq->q, &st);
	cJSON_AddStringToObject(o, "name", queue_name(rq->q));
	cJSON_AddNumberToObject(o, "depth", (double)st.depth);
	cJSON_AddNumberToObject(o, "in_flight", (double)st.in_flight);
	cJSON_AddNumberToObject(o, "dead", (double)st.dead);
	cJSON_AddNumberToObject(o, "published", (double)st.published);
	cJSON_AddNumberToObject(o, "acked", (double)st.acked);
	cJSON_AddNumberToObject(o, "nacked", (double)st.nacked);
	cJSON_AddNumberToObject(o, "redelivered", (double)st.redelivered);
	cJSON_AddNumberToObject(o, "waiting_publishers", (double)rq->nparked);
	cJSON_AddNumberToObject(o, "capacity", (double)st.capacity);
	cJSON_AddNumberToObject(o, "bytes", (double)st.bytes);
	cJSON_AddNumberToObject(o, "max_bytes", (double)st.max_bytes);
	cJSON_AddNumberToObject(o, "dead_max", (double)st.dead_max);
	cJSON_AddNumberToObject(o, "dead_bytes", (double)st.dead_bytes);
	cJSON_AddNumberToObject(o, "dead_max_bytes", (double)st.dead_max_bytes);
	cJSON_AddNumberToObject(o, "dead_dropped", (double)st.dead_dropped);
	if (rq->removed)
		cJSON_AddTrueToObject(o, "removed");
	if (rq->loading)
		cJSON_AddTrueToObject(o, "loading");
	return o;
}

/*
 * {name, pid, state, health, uptime, workers: {NAME: {health, detail,
 * status, critical, concurrency, instances: [...]}}, instances: [...],
 * queues: {NAME: {...}}}
 */
/*
 * Where spans go: platform.trace as applied (a reload that could not
 * build its exporter left the settings as they were), so that an
 * operator sees a SIGHUP take effect.
 */
static void
trace_json(cJSON *root, const struct settings *s)
{
	static const char *const names[] = { "none", "file", "otlp" };
	cJSON *t = cJSON_AddObjectToObject(root, "trace");

	cJSON_AddStringToObject(t, "transport", names[s->trace.transport]);
	if (s->trace.transport == TRACE_FILE)
		cJSON_AddStringToObject(t, "file", s->trace.file);
	else if (s->trace.transport == TRACE_OTLP)
		cJSON_AddStringToObject(t, "endpoint", s->trace.endpoint);
	if (s->trace.transport != TRACE_NONE)
		cJSON_AddNumberToObject(t, "sample", s->trace.sample);
}

/*
 * A version that a reload removed and that no later version stands in
 * for (worker_shown()): shown on its own, "removed", until its processes
 * are down, so that a worker still stopping does not vanish from view.
 */
bool
status_removed_stopping(struct runtime *rt, const struct worker *w)
{
	return w->def == NULL && !worker_down(w) &&
	    runtime_find_worker(rt, w->name) == NULL;
}

static cJSON *
status_json(struct runtime *rt, enum health h)
{
	cJSON *root = cJSON_CreateObject(), *workers, *insts, *queues, *wo, *wi;
	struct inst_view *iv;
	struct worker_view *wv;
	size_t i;
	unsigned j;

	cJSON_AddStringToObject(root, "name", rt->settings->name);
	cJSON_AddNumberToObject(root, "pid", getpid());
	cJSON_AddStringToObject(root, "state", runtime_state_name(rt));
	cJSON_AddStringToObject(root, "health", health_name(h));
	cJSON_AddNumberToObject(root, "uptime", (double)(mono_ms() -
	    rt->started_ms) / 1000.0);
	cJSON_AddStringToObject(root, "version", PACKAGE_VERSION);
	trace_json(root, rt->settings);
	workers = cJSON_AddObjectToObject(root, "workers");
	insts = cJSON_AddArrayToObject(root, "instances");
	wv = views(rt, &iv);
	for (i = 0; i < rt->nworkers; i++) {
		struct worker *w = rt->workers[i];
		const char *detail = "";
		enum health worst = HEALTH_OK, ih;

		/* A replaced version shows through the one replacing it. */
		if (w->def == NULL && !status_removed_stopping(rt, w))
			continue;
		wo = cJSON_AddObjectToObject(workers, w->name);
		cJSON_AddStringToObject(wo, "name", w->name);
		if (wv != NULL)
			cJSON_AddStringToObject(wo, "health",
			    health_name(worker_health(&wv[i])));
		/* The detail that explains the worker's health: that of
		 * its first instance as bad as the worker. */
		for (j = 0; j < worker_nshown(w); j++) {
			const char *d;

			ih = instance_health(worker_shown(w, j), &d);
			if (ih > worst && d != NULL && *d != '\0') {
				worst = ih;
				detail = d;
			}
		}
		if (w->def == NULL && *detail == '\0')
			detail = "removed from the configuration; stopping";
		cJSON_AddStringToObject(wo, "detail", detail);
		cJSON_AddBoolToObject(wo, "critical", w->def != NULL &&
		    w->def->critical);
		cJSON_AddBoolToObject(wo, "failed", w->hist.failed);
		cJSON_AddNumberToObject(wo, "concurrency", w->def != NULL ?
		    w->nwanted : 0);
		if (w->def != NULL && w->def->consumes != NULL)
			cJSON_AddStringToObject(wo, "consumes", w->def->consumes);
		if (w->def == NULL)
			cJSON_AddTrueToObject(wo, "removed");
		wi = cJSON_AddArrayToObject(wo, "instances");
		for (j = 0; j < worker_nshown(w); j++) {
			cJSON_AddItemToArray(wi, instance_json(worker_shown(w, j)));
			cJSON_AddItemToArray(insts,
			    instance_json(worker_shown(w, j)));
		}
	}
	free(wv);
	free(iv);
	queues = cJSON_AddObjectToObject(root, "queues");
	for (i = 0; i < rt->nqueues; i++)
		cJSON_AddItemToObject(queues, queue_name(rt->queues[i].q),
		    queue_json(&rt->queues[i]));
	return root;
}

static char *
health_text(cJSON *status, enum health h)
{
	cJSON *o = cJSON_CreateObject(), *ws, *w, *e;
	char *s;

	cJSON_AddStringToObject(o, "health", health_name(h));
	ws = cJSON_AddObjectToObject(o, "workers");
	cJSON_ArrayForEach(w, cJSON_GetObjectItem(status, "workers")) {
		e = cJSON_AddObjectToObject(ws, w->string);
		cJSON_AddItemToObject(e, "health", cJSON_Duplicate(
		    cJSON_GetObjectItem(w, "health"), 1));
		cJSON_AddItemToObject(e, "detail", cJSON_Duplicate(
		    cJSON_GetObjectItem(w, "detail"), 1));
	}
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

struct snapshot *
snapshot_build(struct runtime *rt)
{
	struct snapshot *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->refs = 1;
	s->built_ms = mono_ms();
	s->health = runtime_health_now(rt);
	s->ready = runtime_ready(rt);
	if ((s->status = status_json(rt, s->health)) == NULL ||
	    (s->status_text = cJSON_PrintUnformatted(s->status)) == NULL ||
	    (s->health_text = health_text(s->status, s->health)) == NULL ||
	    (s->queues_text = cJSON_PrintUnformatted(
	    cJSON_GetObjectItem(s->status, "queues"))) == NULL) {
		snapshot_unref(s);
		return NULL;
	}
	return s;
}

struct snapshot *
snapshot_ref(struct snapshot *s)
{
	if (s != NULL)
		__atomic_add_fetch(&s->refs, 1, __ATOMIC_ACQ_REL);
	return s;
}

void
snapshot_unref(struct snapshot *s)
{
	if (s == NULL || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	cJSON_Delete(s->status);
	free(s->status_text);
	free(s->health_text);
	free(s->queues_text);
	free(s->metrics_text);
	free(s);
}
