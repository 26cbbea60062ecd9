#include "config.h"

#include <linux/close_range.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <inttypes.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "channel.h"
#include "http.h"
#include "traces.h"
#include "notify.h"
#include "queue.h"
#include "registry.h"
#include "runtime.h"
#include "store.h"
#include "worker.h"

extern char **environ;

static void	runtime_stop(struct runtime *, bool force, bool exit_after,
		    uint64_t timeout_ms);
static void	runtime_reload(struct runtime *);

/* Variables that belong to the master's own supervisor, or that PLBA sets
 * per instance, are never passed down as they were. */
static bool
private_env(const char *e)
{
	return strncmp(e, "NOTIFY_SOCKET=", 14) == 0 ||
	    strncmp(e, "LISTEN_FDS=", 11) == 0 ||
	    strncmp(e, "LISTEN_PID=", 11) == 0 ||
	    strncmp(e, "LISTEN_FDNAMES=", 15) == 0 ||
	    strncmp(e, "PLBA_", 5) == 0;
}

static char **
copy_environ(void)
{
	char **env, **p;
	size_t n = 0, m = 0;

	for (p = environ; *p != NULL; p++)
		n++;
	if ((env = calloc(n + 1, sizeof(*env))) == NULL)
		return NULL;
	for (p = environ; *p != NULL; p++) {
		if (private_env(*p))
			continue;
		if ((env[m++] = strdup(*p)) == NULL) {
			while (m-- > 0)
				free(env[m]);
			free(env);
			return NULL;
		}
	}
	return env;
}

static int
apply_log(const struct settings *s)
{
	return log_configure(s->log.level, s->log.json, s->log.output);
}

/*
 * A file of ours beside our own binary (a build tree, where libtool keeps
 * the real binaries in .libs), else where it is installed; the variable
 * env overrides both.
 */
static char *
find_beside(const char *env, const char *rel, const char *installed)
{
	char self[4096], *slash, path[4200];
	ssize_t n;

	if (getenv(env) != NULL)
		return strdup(getenv(env));
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0)
		return strdup(installed);
	self[n] = '\0';
	if ((slash = strrchr(self, '/')) != NULL)
		*slash = '\0';
	snprintf(path, sizeof(path), "%s/%s", self, rel);
	if (access(path, F_OK) == 0)
		return strdup(path);
	if ((slash = strrchr(self, '/')) != NULL &&
	    strcmp(slash, "/.libs") == 0) {
		*slash = '\0';
		snprintf(path, sizeof(path), "%s/%s", self, rel);
		if (access(path, F_OK) == 0)
			return strdup(path);
	}
	return strdup(installed);
}

static int
load_modules(struct runtime *rt, const struct settings *s,
    const struct plba_module *builtin, struct conf_errors *errs)
{
	const struct conf_node *where = conf_map_get(s->platform, "modules");
	struct plba_registry *r, **rs;
	char err[512];
	size_t i, n = 0;

	for (i = 0; s->modules != NULL && s->modules[i] != NULL; i++)
		n++;
	if ((rt->modules = calloc(n + 1, sizeof(*rs))) == NULL) {
		conf_error(errs, NULL, NULL, "out of memory");
		return -1;
	}
	if (builtin != NULL) {
		if ((r = registry_from(builtin, err, sizeof(err))) == NULL) {
			conf_error(errs, NULL, NULL, "%s", err);
			return -1;
		}
		rt->modules[rt->nmodules++] = r;
	}
	for (i = 0; i < n; i++) {
		if ((r = registry_load(s->modules[i], err, sizeof(err))) == NULL) {
			conf_error(errs, where, "platform.modules", "%s", err);
			return -1;
		}
		rt->modules[rt->nmodules++] = r;
	}
	return 0;
}

static struct plba_registry *
module_for(struct plba_registry **ms, size_t n, const char *worker)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (registry_worker(ms[i], worker) != NULL)
			return ms[i];
	return NULL;
}

struct plba_registry *
runtime_module_for(struct runtime *rt, const char *worker)
{
	return module_for(rt->modules, rt->nmodules, worker);
}

static bool
module_queue(struct plba_registry **ms, size_t n, const char *queue)
{
	size_t i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < ms[i]->nqueues; j++)
			if (strcmp(ms[i]->queues[j].name, queue) == 0)
				return true;
	return false;
}

static bool
builtin_name_ok(const char *type)
{
	size_t n = strspn(type, "abcdefghijklmnopqrstuvwxyz0123456789-_");

	return n > 0 && n < 64 && type[n] == '\0';
}

struct plba_registry *
runtime_builtin(struct runtime *rt, const char *type, char *err, size_t errlen)
{
	struct plba_registry *r, **rs;
	char path[4200], why[512];
	size_t i;

	for (i = 0; i < rt->nbuiltins; i++)
		if (registry_worker(rt->builtins[i], type) != NULL)
			return rt->builtins[i];
	/* The name becomes a file name: nothing that could leave the dir. */
	if (!builtin_name_ok(type)) {
		snprintf(err, errlen, "\"%s\" is not a built-in worker name", type);
		return NULL;
	}
	if (rt->workers_dir == NULL && (rt->workers_dir = find_beside(
	    "PLBA_WORKERS_DIR", "workers/.libs", PLBA_WORKERSDIR)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(path, sizeof(path), "%s/%s.so", rt->workers_dir, type);
	if (access(path, R_OK) == -1) {
		snprintf(err, errlen, "no built-in worker \"%s\" (%s: %s)", type,
		    path, strerror(errno));
		return NULL;
	}
	if ((r = registry_load(path, why, sizeof(why))) == NULL) {
		snprintf(err, errlen, "built-in worker \"%s\": %s", type, why);
		return NULL;
	}
	if (registry_worker(r, type) == NULL) {
		snprintf(err, errlen, "%s registers no worker named \"%s\"",
		    path, type);
		registry_free(r);
		return NULL;
	}
	if ((rs = realloc(rt->builtins, (rt->nbuiltins + 1) *
	    sizeof(*rs))) == NULL) {
		snprintf(err, errlen, "out of memory");
		registry_free(r);
		return NULL;
	}
	rt->builtins = rs;
	rt->builtins[rt->nbuiltins++] = r;
	return r;
}

static void
free_registries(struct plba_registry **rs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		registry_free(rs[i]);
	free(rs);
}

int
runtime_check_modules(const struct settings *s, struct runtime *rt,
    struct conf_errors *errs, size_t *module_queues)
{
	struct runtime tmp = { .nmodules = 0 };
	size_t i, j, before = errs->n;
	char path[160], err[4600];

	if (rt == NULL) {
		rt = &tmp;
		if (load_modules(rt, s, NULL, errs) == -1)
			goto out;
	}
	/* What the configuration may say but this build cannot do. */
	if (s->http.tls_cert != NULL)
		conf_error(errs, conf_path(conf_doc_root(s->doc),
		    "platform.http.tls_cert"), "platform.http.tls_cert",
		    "HTTPS is not available in this build; put a "
		    "TLS-terminating reverse proxy in front of a loopback "
		    "listener (plba-http(7))");
	for (i = 0; s->http.listen != NULL && s->http.listen[i] != NULL; i++)
		if (s->http.listen[i][0] == '[')
			conf_error(errs, conf_path(conf_doc_root(s->doc),
			    "platform.http.listen"), "platform.http.listen",
			    "%s: IPv6 is not available in this build's HTTP "
			    "server", s->http.listen[i]);
	for (i = 0; i < s->nworkers; i++) {
		const struct worker_def *w = &s->workers[i];

		if (w->kind == WORKER_MODULE &&
		    module_for(rt->modules, rt->nmodules, w->module) == NULL) {
			snprintf(path, sizeof(path), "workers.%s.module", w->name);
			conf_error(errs, conf_map_get(w->section, "module"), path,
			    "no module in platform.modules registers a worker "
			    "named \"%s\"", w->module);
		}
		if (w->kind == WORKER_BUILTIN &&
		    runtime_builtin(rt, w->type, err, sizeof(err)) == NULL) {
			snprintf(path, sizeof(path), "workers.%s.type", w->name);
			conf_error(errs, conf_map_get(w->section, "type"), path,
			    "%s", err);
		}
		if (w->consumes != NULL && settings_queue(s, w->consumes) == NULL &&
		    !module_queue(rt->modules, rt->nmodules, w->consumes)) {
			snprintf(path, sizeof(path), "workers.%s.consumes", w->name);
			conf_error(errs, conf_map_get(w->section, "consumes"), path,
			    "queue \"%s\" is declared neither in queues nor by "
			    "a module", w->consumes);
		}
	}
	/* Queues only a module declares, each once. */
	for (i = 0; module_queues != NULL && i < rt->nmodules; i++)
		for (j = 0; j < rt->modules[i]->nqueues; j++) {
			const char *name = rt->modules[i]->queues[j].name;

			if (settings_queue(s, name) == NULL &&
			    !module_queue(rt->modules, i, name))
				(*module_queues)++;
		}
out:
	if (rt == &tmp) {
		free_registries(tmp.modules, tmp.nmodules);
		free_registries(tmp.builtins, tmp.nbuiltins);
		free(tmp.workers_dir);
	}
	return errs->n > before ? -1 : 0;
}

/* Children load the same files for their typed accessors. */
static char *
config_env(char *const *paths, size_t n)
{
	size_t i, len = sizeof("PLBA_CONFIG=");
	char *s, abs[4096];

	for (i = 0; i < n; i++)
		len += strlen(paths[i]) + sizeof(abs) + 1;
	if ((s = malloc(len)) == NULL)
		return NULL;
	strcpy(s, "PLBA_CONFIG=");
	for (i = 0; i < n; i++) {
		if (i > 0)
			strcat(s, "\n");
		strcat(s, realpath(paths[i], abs) != NULL ? abs : paths[i]);
	}
	return s;
}

struct runtime *
runtime_new(const char *const *paths, size_t npaths,
    const struct plba_module *module, struct conf_errors *errs)
{
	struct runtime *rt;

	if ((rt = calloc(1, sizeof(*rt))) == NULL) {
		conf_error(errs, NULL, NULL, "out of memory");
		return NULL;
	}
	rt->sigfd = rt->notify_fd = rt->devnull = -1;
	rt->log_room_io.fd = -1;
	rt->store_io.fd = -1;
	if ((rt->settings = settings_load(paths, npaths, errs)) == NULL)
		goto fail;
	if ((rt->paths = calloc(npaths, sizeof(*rt->paths))) == NULL)
		goto nomem;
	for (rt->npaths = 0; rt->npaths < npaths; rt->npaths++)
		if ((rt->paths[rt->npaths] = strdup(paths[rt->npaths])) == NULL)
			goto nomem;
	if (load_modules(rt, rt->settings, module, errs) == -1 ||
	    runtime_check_modules(rt->settings, rt, errs, NULL) == -1)
		goto fail;
	if ((rt->config_env = config_env(rt->paths, rt->npaths)) == NULL ||
	    (rt->host_path = find_beside("PLBA_WORKER_HOST", "plba-worker",
	    PLBA_LIBEXECDIR "/plba-worker")) == NULL)
		goto nomem;
	if (module != NULL && (rt->self_path = realpath("/proc/self/exe",
	    NULL)) == NULL)
		goto nomem;
	if (apply_log(rt->settings) == -1) {
		conf_error(errs, rt->settings->log_section, "log.output",
		    "%s: %s", rt->settings->log.output, strerror(errno));
		goto fail;
	}
	return rt;
nomem:
	conf_error(errs, NULL, NULL, "out of memory");
fail:
	runtime_free(rt);
	return NULL;
}

void
runtime_free(struct runtime *rt)
{
	size_t i;

	if (rt == NULL)
		return;
	/* civetweb's threads read the snapshot: they go first. */
	http_stop(rt);
	for (i = 0; i < rt->nworkers; i++)
		worker_free(rt->workers[i]);
	traces_close(rt);
	free(rt->workers);
	/* Its last transaction (losses at the very end) goes in first. */
	if (rt->store_io.fd != -1)
		io_del(rt->loop, &rt->store_io);
	store_close(rt->store);
	for (i = 0; i < rt->nheld; i++)
		free(rt->held[i].ref);
	free(rt->held);
	for (i = 0; i < rt->nqueues; i++)
		queue_free(rt->queues[i].q);
	free(rt->queues);
	free(rt->flush);
	if (rt->loop != NULL) {
		if (rt->sigfd != -1)
			io_del(rt->loop, &rt->sig_io);
		if (rt->notify_fd != -1)
			io_del(rt->loop, &rt->notify_io);
		if (rt->log_room_io.fd != -1)
			io_del(rt->loop, &rt->log_room_io);
		timer_cancel(rt->loop, &rt->stop_timer);
		timer_cancel(rt->loop, &rt->scan_timer);
		timer_cancel(rt->loop, &rt->reload_timer);
	}
	if (rt->sigfd != -1)
		close(rt->sigfd);
	if (rt->notify_fd != -1)
		close(rt->notify_fd);
	if (rt->devnull != -1)
		close(rt->devnull);
	loop_free(rt->loop);
	for (i = 0; i < rt->npaths; i++)
		free(rt->paths[i]);
	free(rt->paths);
	if (rt->base_env != NULL) {
		for (i = 0; rt->base_env[i] != NULL; i++)
			free(rt->base_env[i]);
		free(rt->base_env);
	}
	free_registries(rt->modules, rt->nmodules);
	free_registries(rt->builtins, rt->nbuiltins);
	free(rt->workers_dir);
	free(rt->config_env);
	free(rt->host_path);
	free(rt->self_path);
	settings_free(rt->settings);
	free(rt);
	/* Its last lines, "stopped" among them, go out before it does. */
	log_close();
}

struct worker *
runtime_find_worker(struct runtime *rt, const char *name)
{
	size_t i;

	for (i = 0; i < rt->nworkers; i++)
		if (rt->workers[i]->def != NULL &&
		    strcmp(rt->workers[i]->name, name) == 0)
			return rt->workers[i];
	return NULL;
}

struct rqueue *
runtime_find_queue(struct runtime *rt, const char *name)
{
	size_t i;

	for (i = 0; i < rt->nqueues; i++)
		if (strcmp(queue_name(rt->queues[i].q), name) == 0)
			return &rt->queues[i];
	return NULL;
}

/* The writer is through with a batch of the durable queues' changes. */
static void
on_store(struct loop *l, struct io *io, uint32_t events)
{
	struct runtime *rt = io->arg;

	(void)l;
	(void)events;
	store_reap(rt->store);
}

/*
 * What a batch's commit means for those who wait on it: publishers'
 * confirmations, HTTP answers, and publishes parked while the store was
 * behind.
 */
static void
on_stored(void *arg, uint64_t batch, bool stored)
{
	struct runtime *rt = arg;
	size_t i;

	channel_stored(rt, batch, stored);
	http_stored(rt, batch, stored);
	for (i = 0; i < rt->nqueues; i++)
		if (rt->queues[i].durable && rt->queues[i].head != NULL)
			channel_pump(rt, rt->queues[i].q);
}

static store_loaded_fn on_loaded;

/* A task in flight when the master died, its deliveries spent. */
static void
on_lost(void *arg, struct queue *q, const struct qtask *t)
{
	channel_dead_lettered(arg, q, t, t->last_error);
}

static int
open_store(struct runtime *rt, const struct settings *s, char *err,
    size_t errlen)
{
	if ((rt->store = store_open(s->state_dir, err, errlen)) == NULL)
		return -1;
	store_on_stored(rt->store, on_stored, rt);
	store_on_loaded(rt->store, on_loaded, rt);
	store_on_lost(rt->store, on_lost, rt);
	if (io_add(rt->loop, &rt->store_io, store_fd(rt->store), EPOLLIN,
	    on_store, rt) == -1) {
		snprintf(err, errlen, "epoll: %s", strerror(errno));
		store_close(rt->store);
		rt->store = NULL;
		return -1;
	}
	return 0;
}

/*
 * Gives a new durable queue its journal and the tasks it held when the
 * master last stopped.  The database opens with the first durable queue,
 * under the state_dir of the configuration that declares it.  At start
 * the rows are read before anything runs; on a reload the writer reads
 * them while the master goes on, and the queue takes publishes once
 * on_loaded() has them.
 */
static int
make_durable(struct runtime *rt, const struct settings *s, struct rqueue *rq,
    bool reload)
{
	char err[512];

	if (rt->store == NULL && open_store(rt, s, err, sizeof(err)) == -1)
		goto fail;
	if (reload) {
		if (store_load(rt->store, rq->q) == -1) {
			snprintf(err, sizeof(err), "out of memory");
			goto fail;
		}
		rq->loading = true;
	} else if (store_attach(rt->store, rq->q, mono_ms(), err,
	    sizeof(err)) == -1)
		goto fail;
	rq->durable = true;
	return 0;
fail:
	log_error("queues.%s.durable: %s", queue_name(rq->q), err);
	return -1;
}

/* A queue that a reload declared durable has its rows, or never will. */
static void
on_loaded(void *arg, struct queue *q, const char *err)
{
	struct runtime *rt = arg;
	const struct queue_def *d;
	struct rqueue *rq;

	if ((rq = runtime_find_queue(rt, queue_name(q))) == NULL || rq->q != q)
		return;
	rq->loading = false;
	runtime_touch(rt);
	if (err != NULL) {
		/* In memory only, it would break its promise. */
		log_error("queues.%s.durable: %s: %s; the queue is not created",
		    queue_name(q), store_path(rt->store), err);
		rq->removed = true;
		channel_refuse_parked(rq, "no such queue: its database could "
		    "not load it");
		runtime_sweep_queues(rt);
		return;
	}
	/* The store's dead letters are back: the surplus goes from the
	 * store too. */
	if ((d = settings_queue(rt->settings, queue_name(q))) != NULL) {
		queue_set_dead_max(q, d->dead_max);
		queue_set_dead_max_bytes(q, d->dead_max_bytes);
	}
	channel_pump(rt, q);
}

static void	mark_removed(struct runtime *, const struct settings *);

/*
 * Creates the queues a configuration declares; existing ones keep their
 * tasks and take the new limits.  Returns -1 when out of memory, -2 when
 * a durable queue cannot be stored (logged; that queue is not created,
 * for a queue in memory only would break its promise).
 */
static int
sync_queues(struct runtime *rt, const struct settings *s, bool reload)
{
	struct rqueue *rq, *qs;
	size_t i;
	int rc = 0;

	if (rt->store != NULL && strcmp(s->state_dir, rt->settings->state_dir) != 0)
		log_warn("platform.state_dir: changes take effect at the next "
		    "start of plba-master");
	for (i = 0; i < s->nqueues; i++) {
		const struct queue_def *d = &s->queues[i];

		if ((rq = runtime_find_queue(rt, d->name)) != NULL) {
			if (rq->removed) {
				rq->removed = false;
				log_info("queue %s: declared again before it "
				    "was empty; it keeps its tasks", d->name);
			}
			queue_set_limits(rq->q, d->capacity, d->max_attempts);
			queue_set_dead_max(rq->q, d->dead_max);
			queue_set_dead_max_bytes(rq->q, d->dead_max_bytes);
			queue_set_max_bytes(rq->q, d->max_bytes);
			/* Raised limits let waiting publishers in now, not at
			 * the next ack. */
			if (rq->nparked > 0)
				channel_pump(rt, rq->q);
			if (rq->durable != d->durable)
				log_warn("queues.%s.durable: changes take effect "
				    "at the next start of plba-master", d->name);
			continue;
		}
		qs = realloc(rt->queues, (rt->nqueues + 1) * sizeof(*qs));
		if (qs == NULL)
			return -1;
		rt->queues = qs;
		rq = &rt->queues[rt->nqueues];
		memset(rq, 0, sizeof(*rq));
		if ((rq->q = queue_new(d->name, d->capacity, d->max_attempts)) == NULL)
			return -1;
		queue_on_done(rq->q, channel_task_done, rt);
		if (d->durable && make_durable(rt, s, rq, reload) == -1) {
			queue_free(rq->q);
			rc = -2;
			continue;
		}
		/* After the store's dead letters are back: the surplus goes
		 * from the store too. */
		queue_set_dead_max(rq->q, d->dead_max);
		queue_set_dead_max_bytes(rq->q, d->dead_max_bytes);
		queue_set_max_bytes(rq->q, d->max_bytes);
		rt->nqueues++;
	}
	/* Queues only a module declares, with the module's limits. */
	for (i = 0; i < rt->nmodules; i++) {
		size_t j;

		for (j = 0; j < rt->modules[i]->nqueues; j++) {
			const struct reg_queue *d = &rt->modules[i]->queues[j];

			if (runtime_find_queue(rt, d->name) != NULL)
				continue;
			qs = realloc(rt->queues, (rt->nqueues + 1) * sizeof(*qs));
			if (qs == NULL)
				return -1;
			rt->queues = qs;
			rq = &rt->queues[rt->nqueues];
			memset(rq, 0, sizeof(*rq));
			if ((rq->q = queue_new(d->name, d->capacity,
			    d->max_attempts)) == NULL)
				return -1;
			queue_on_done(rq->q, channel_task_done, rt);
			rt->nqueues++;
		}
	}
	mark_removed(rt, s);
	runtime_sweep_queues(rt);
	return rc;
}

/*
 * Marks the queues that neither the configuration nor a module declares
 * any more.  Nothing is lost by it: one that still holds tasks or dead
 * letters, or whose consumers are still stopping, stays until it is
 * empty, for an operator to look at, purge, or declare again.
 */
/* Whether rq, not yet marked removed, is declared neither by settings s
 * nor by a module: what a reload to s removes, and what its plan says. */
static bool
newly_undeclared(struct runtime *rt, const struct settings *s,
    const struct rqueue *rq)
{
	return !rq->removed && settings_queue(s, queue_name(rq->q)) == NULL &&
	    !module_queue(rt->modules, rt->nmodules, queue_name(rq->q));
}

static void
mark_removed(struct runtime *rt, const struct settings *s)
{
	struct queue_stats st;
	struct rqueue *rq;
	size_t i;

	for (i = 0; i < rt->nqueues; i++) {
		rq = &rt->queues[i];
		if (!newly_undeclared(rt, s, rq))
			continue;
		rq->removed = true;
		channel_refuse_parked(rq, "no such queue: it was removed from "
		    "the configuration");
		queue_stats(rq->q, &st);
		if (st.depth + st.in_flight + st.dead > 0)
			log_warn("queue %s: removed from the configuration; it "
			    "takes no more tasks and goes once its %" PRIu64
			    " queued, %" PRIu64 " in flight and %" PRIu64
			    " dead are gone", queue_name(rq->q), st.depth,
			    st.in_flight, st.dead);
	}
}

/* Frees the removed queues that are empty now.  A durable one's last
 * deletes are in the store's batches, which do not need the queue. */
void
runtime_sweep_queues(struct runtime *rt)
{
	struct queue_stats st;
	struct rqueue *rq;
	size_t i = rt->nqueues;

	while (i-- > 0) {
		rq = &rt->queues[i];
		if (!rq->removed || rq->nparked > 0 || !queue_empty(rq->q))
			continue;
		if (rq->durable)
			store_detach(rt->store, rq->q);
		queue_stats(rq->q, &st);
		log_info("queue %s: removed (published %" PRIu64 ", acked %"
		    PRIu64 ", nacked %" PRIu64 ")", queue_name(rq->q),
		    st.published, st.acked, st.nacked);
		queue_free(rq->q);
		memmove(rq, rq + 1, (rt->nqueues - i - 1) * sizeof(*rq));
		rt->nqueues--;
		runtime_touch(rt);
	}
}

static void
log_queue_totals(struct runtime *rt)
{
	struct queue_stats st;
	size_t i;

	for (i = 0; i < rt->nqueues; i++) {
		queue_stats(rt->queues[i].q, &st);
		log_info("queue %s: published %llu, acked %llu, nacked %llu, "
		    "redelivered %llu, dead %llu, queued %llu, in flight %llu, "
		    "dead letters dropped %llu",
		    queue_name(rt->queues[i].q),
		    (unsigned long long)st.published,
		    (unsigned long long)st.acked, (unsigned long long)st.nacked,
		    (unsigned long long)st.redelivered,
		    (unsigned long long)st.dead, (unsigned long long)st.depth,
		    (unsigned long long)st.in_flight,
		    (unsigned long long)st.dead_dropped);
	}
}

/* Whether a worker consumes queue; with live, one that has not failed. */
static bool
consumed_by(struct runtime *rt, const char *queue, bool live)
{
	const struct worker *w;
	size_t i;

	for (i = 0; i < rt->nworkers; i++) {
		w = rt->workers[i];
		if (w->def != NULL && w->def->consumes != NULL &&
		    strcmp(w->def->consumes, queue) == 0 &&
		    (!live || !w->hist.failed))
			return true;
	}
	return false;
}

bool
runtime_queue_drains(struct runtime *rt, const char *queue)
{
	return consumed_by(rt, queue, true);
}

/* Queues nobody consumes cannot drain and do not hold a stop up. */
static bool
queues_drained(struct runtime *rt)
{
	struct queue_stats st;
	size_t i;

	for (i = 0; i < rt->nqueues; i++) {
		if (!consumed_by(rt, queue_name(rt->queues[i].q), false))
			continue;
		queue_stats(rt->queues[i].q, &st);
		if (st.depth > 0 || st.in_flight > 0 || rt->queues[i].nparked > 0)
			return false;
	}
	return true;
}

/* The instance whose process has this pid, or (spawn_id not 0) this
 * spawn id. */
static struct instance *
find_instance(struct runtime *rt, pid_t pid, uint64_t spawn_id)
{
	struct instance *in;
	size_t i;
	unsigned j;

	for (i = 0; i < rt->nworkers; i++)
		for (j = 0; j < rt->workers[i]->ninst; j++) {
			in = rt->workers[i]->inst[j];
			if (spawn_id != 0 ? in->spawn_id == spawn_id &&
			    in->pid > 0 : in->pid == pid)
				return in;
		}
	return NULL;
}

struct instance *
runtime_find_pid(struct runtime *rt, pid_t pid)
{
	return find_instance(rt, pid, 0);
}

struct instance *
runtime_find_spawn(struct runtime *rt, uint64_t spawn_id)
{
	return find_instance(rt, 0, spawn_id);
}

static int
add_worker(struct runtime *rt, struct worker *w)
{
	struct worker **ws;

	ws = realloc(rt->workers, (rt->nworkers + 1) * sizeof(*ws));
	if (ws == NULL)
		return -1;
	rt->workers = ws;
	rt->workers[rt->nworkers++] = w;
	return 0;
}

static void
remove_worker(struct runtime *rt, size_t i)
{
	worker_free(rt->workers[i]);
	memmove(&rt->workers[i], &rt->workers[i + 1],
	    (rt->nworkers - i - 1) * sizeof(*rt->workers));
	rt->nworkers--;
}

/* --- dependency order ----------------------------------------------------- */

/* Every dependency ready, or done: a one-shot job (a migration, say)
 * that exited 0 is what its dependents waited for, not a reason to wait
 * for good. */
static bool
deps_ready(struct runtime *rt, const struct worker *w)
{
	struct worker *d;
	char **dep;

	for (dep = w->def->depends_on; dep != NULL && *dep != NULL; dep++)
		if ((d = runtime_find_worker(rt, *dep)) == NULL ||
		    (!worker_ready(d) && !worker_done(d)))
			return false;
	return true;
}

/* A dependency of w that has failed: w waits for it until an operator
 * restarts it, which is worth saying. */
static const struct worker *
failed_dependency(struct runtime *rt, const struct worker *w)
{
	const struct worker *d;
	char **dep;

	for (dep = w->def->depends_on; dep != NULL && *dep != NULL; dep++)
		if ((d = runtime_find_worker(rt, *dep)) != NULL && d->hist.failed)
			return d;
	return NULL;
}

static bool
depends_on(const struct worker *w, const char *name)
{
	char **dep;

	if (w->def == NULL)
		return false;
	for (dep = w->def->depends_on; dep != NULL && *dep != NULL; dep++)
		if (strcmp(*dep, name) == 0)
			return true;
	return false;
}

/* A worker is stopped only once nothing that depends on it is running. */
static bool
dependents_down(struct runtime *rt, const struct worker *w)
{
	size_t i;

	for (i = 0; i < rt->nworkers; i++) {
		const struct worker *o = rt->workers[i];

		if (o != w && depends_on(o, w->name) &&
		    (o->started || !worker_down(o)))
			return false;
	}
	return true;
}

/* --- the reconciler ------------------------------------------------------- */

static void
check_failures(struct runtime *rt)
{
	size_t i;

	if (!rt->settings->exit_on_failure || rt->failed_exit)
		return;
	for (i = 0; i < rt->nworkers; i++) {
		struct worker *w = rt->workers[i];

		if (w->def != NULL && w->def->critical && w->hist.failed) {
			log_error("critical worker %s failed and "
			    "platform.exit_on_failure is set: stopping",
			    w->name);
			rt->failed_exit = true;
			runtime_stop(rt, false, true, 0);
			return;
		}
	}
}

/*
 * Starts what may start, and ends the start phase once every worker is
 * started and every critical one is ready or settled: ready, or down
 * for good but by an operator's action (a crash loop, a one-shot job
 * that is over, a dependency that failed).  Waiting on those would say
 * "starting" for ever; the health says what is wrong.
 */
static void
reconcile_starts(struct runtime *rt)
{
	struct sup_event start = { .kind = EV_START };
	const struct worker *down = NULL;	/* critical, and not up */
	bool settled = true;
	size_t i;

	for (i = 0; i < rt->nworkers; i++) {
		struct worker *w = rt->workers[i];
		const struct worker *d;

		if (w->def == NULL || !w->wanted)
			continue;
		if (!w->started && w->replaces == NULL && deps_ready(rt, w)) {
			w->started = true;
			w->told_blocked = false;
			worker_event(w, &start);
		} else if (!w->started && (d = failed_dependency(rt, w)) != NULL) {
			if (!w->told_blocked)
				log_warn("%s: not started: it depends on %s, which "
				    "has failed", w->name, d->name);
			w->told_blocked = true;
			/* Held up by a failure, as a failed worker is. */
			if (w->def->critical && down == NULL)
				down = w;
			continue;
		}
		if (!w->started) {
			settled = false;
			continue;
		}
		/* A non-critical worker that never gets ready (a crash
		 * loop) must not keep the runtime from being up. */
		if (!w->def->critical || worker_ready(w))
			continue;
		if (!worker_settled(w))
			settled = false;
		else if (!worker_done(w) && down == NULL)
			down = w;
	}
	if (rt->state != RT_STARTING || !settled)
		return;
	rt->state = RT_RUNNING;
	if (down == NULL) {
		log_info("all workers started, critical ones ready");
		notify_upward("READY=1\nSTATUS=running, %zu worker%s",
		    rt->nworkers, rt->nworkers == 1 ? "" : "s");
		return;
	}
	/* The start is over all the same: a service manager that waits for
	 * READY=1 would otherwise kill a master told to stay up. */
	log_warn("workers started, but critical worker %s is not up",
	    down->name);
	notify_upward("READY=1\nSTATUS=running, %zu worker%s, critical %s "
	    "not up", rt->nworkers, rt->nworkers == 1 ? "" : "s", down->name);
}

/*
 * Consumers stop last: only once every other worker is down and every
 * queue is drained, so work already accepted is finished (within
 * platform.stop_timeout).  Pipelines of consumers feeding each other are
 * covered because no consumer stops while any queue holds anything.
 */
/* Whether a consumer depends on w, directly or through others: such a
 * worker is stopped after the consumers, not before them. */
static bool
serves_consumer(struct runtime *rt, const struct worker *w, unsigned depth)
{
	size_t i;

	if (depth > rt->nworkers)
		return false;	/* cycles are config errors; be safe anyway */
	for (i = 0; i < rt->nworkers; i++) {
		const struct worker *o = rt->workers[i];

		if (o == w || !depends_on(o, w->name))
			continue;
		if ((o->def != NULL && o->def->consumes != NULL) ||
		    serves_consumer(rt, o, depth + 1))
			return true;
	}
	return false;
}

static bool
may_stop_consumer(struct runtime *rt)
{
	size_t i;

	for (i = 0; i < rt->nworkers; i++) {
		struct worker *w = rt->workers[i];

		if (w->def != NULL && w->def->consumes != NULL)
			continue;
		if ((w->started || !worker_down(w)) && !serves_consumer(rt, w, 0))
			return false;
	}
	return queues_drained(rt);
}

static void
reconcile_stops(struct runtime *rt)
{
	struct sup_event stop = { .kind = EV_STOP };
	bool all_down = true, consumers_may = may_stop_consumer(rt);
	size_t i;

	for (i = 0; i < rt->nworkers; i++) {
		struct worker *w = rt->workers[i];
		bool consumer = w->def != NULL && w->def->consumes != NULL;

		if (w->started && dependents_down(rt, w) &&
		    (!consumer || consumers_may)) {
			w->started = false;
			worker_event(w, &stop);
		}
		if (w->started || !worker_down(w))
			all_down = false;
	}
	if (!all_down)
		return;
	rt->state = RT_STOPPED;
	timer_cancel(rt->loop, &rt->stop_timer);
	log_info("all workers stopped");
	if (rt->exit_when_stopped)
		rt->done = true;
	else
		notify_upward("STATUS=stopped");
}

static void	reconcile(struct runtime *);

void
reconcile_now(struct runtime *rt)
{
	runtime_touch(rt);
	reconcile(rt);
}

static void
reconcile(struct runtime *rt)
{
	size_t i;
	int rounds;

	/* Starting or stopping one worker can free the next; a handful of
	 * rounds settles any chain, and the rest waits for the next event. */
	for (rounds = 0; rt->dirty && rounds < 16; rounds++) {
		rt->dirty = false;
		for (i = 0; i < rt->nworkers; i++) {
			struct worker *w = rt->workers[i];
			size_t j;

			if (w->def != NULL || w->started || !worker_down(w))
				continue;
			/* A removed or replaced version is gone: drop it. */
			for (j = 0; j < rt->nworkers; j++)
				if (rt->workers[j]->replaces == w) {
					rt->workers[j]->replaces = NULL;
					rt->dirty = true;
				}
			remove_worker(rt, i--);
		}
		check_failures(rt);
		for (i = 0; i < rt->nworkers; i++) {
			worker_prune(rt->workers[i]);
			worker_rolling_step(rt->workers[i]);
		}
		if (rt->state == RT_STARTING || rt->state == RT_RUNNING)
			reconcile_starts(rt);
		else if (rt->state == RT_STOPPING)
			reconcile_stops(rt);
	}
}

/* --- start and stop ------------------------------------------------------- */

void
runtime_start(struct runtime *rt)
{
	size_t i;

	if (rt->state == RT_STARTING || rt->state == RT_RUNNING) {
		/* Already up: the start action revives failed workers. */
		for (i = 0; i < rt->nworkers; i++) {
			struct worker *w = rt->workers[i];
			struct sup_event start = { .kind = EV_START };

			if (w->def == NULL || !w->hist.failed)
				continue;
			log_info("%s: started again after failing", w->name);
			w->hist.failed = false;
			w->hist.n = 0;
			w->failed_logged = false;
			if (w->started)
				worker_event(w, &start);
		}
		runtime_touch(rt);
		return;
	}
	rt->state = RT_STARTING;
	rt->forced = false;
	rt->force_asked = false;
	timer_cancel(rt->loop, &rt->stop_timer);
	log_info("starting %zu worker%s", rt->nworkers,
	    rt->nworkers == 1 ? "" : "s");
	notify_upward("STATUS=starting");
	for (i = 0; i < rt->nworkers; i++) {
		struct worker *w = rt->workers[i];

		if (w->def == NULL)
			continue;
		w->wanted = true;
		/* An operator's start gives a failed worker another chance. */
		w->hist.failed = false;
		w->hist.n = 0;
		w->failed_logged = false;
	}
	/* Spawning every instance keeps the loop from the readers for a
	 * while (seconds, with hundreds): they are told it is starting, not
	 * served the stopped runtime of before. */
	http_refresh(rt);
	runtime_touch(rt);
}

/* EV_STOP with force, or EV_KILL when no time is left. */
static void
force_all(struct runtime *rt, enum sup_event_kind kind)
{
	struct sup_event ev = { .kind = kind, .force = true };
	size_t i;

	for (i = 0; i < rt->nworkers; i++) {
		rt->workers[i]->started = false;
		worker_event(rt->workers[i], &ev);
	}
}

static void
stop_deadline(struct loop *l, struct timer *t)
{
	struct runtime *rt = t->arg;

	struct queue_stats st;
	uint64_t queued = 0, held = 0, waiting = 0;
	size_t i;

	/*
	 * A durable queue keeps what it holds; an in-memory one, only
	 * while the master stays up (a stop action).  A publish waiting for
	 * room (one whose producer is not asked to stop yet, behind a
	 * dependent) was never accepted: its producer is killed with it
	 * unanswered, so it is said apart and not counted as queued, which
	 * the queue's own summary would contradict.
	 */
	for (i = 0; i < rt->nqueues; i++) {
		waiting += rt->queues[i].nparked;
		if (rt->queues[i].durable)
			continue;
		queue_stats(rt->queues[i].q, &st);
		queued += st.depth;
		held += st.in_flight;
	}
	log_warn("platform.stop_timeout reached: killing what is left");
	if (queued + held > 0 && rt->exit_when_stopped)
		log_warn("%llu task%s not processed and lost with the "
		    "in-memory queues (%llu queued, %llu in flight)",
		    (unsigned long long)(queued + held),
		    queued + held == 1 ? "" : "s",
		    (unsigned long long)queued, (unsigned long long)held);
	else if (queued + held > 0)
		log_info("%llu task%s not processed stay in the in-memory "
		    "queues (%llu queued, %llu in flight, which go back)",
		    (unsigned long long)(queued + held),
		    queued + held == 1 ? "" : "s",
		    (unsigned long long)queued, (unsigned long long)held);
	if (waiting > 0)
		log_warn("%llu publish%s waiting for room in a full queue not "
		    "accepted: never queued, so not counted as queued",
		    (unsigned long long)waiting, waiting == 1 ? "" : "es");
	rt->forced = true;
	force_all(rt, EV_KILL);
}

static void
runtime_stop(struct runtime *rt, bool force, bool exit_after,
    uint64_t timeout_ms)
{
	size_t i;

	if (rt->state == RT_STOPPED || rt->state == RT_IDLE) {
		/* Stopped by an action, forced or not, with the master left
		 * up: the exit status tells of the stop that ends it, and
		 * this one stops nothing. */
		if (exit_after && !rt->exit_when_stopped)
			rt->forced = false;
		rt->exit_when_stopped = rt->exit_when_stopped || exit_after;
		rt->done = rt->exit_when_stopped;
		return;
	}
	rt->exit_when_stopped = rt->exit_when_stopped || exit_after;
	if (rt->state != RT_STOPPING) {
		rt->state = RT_STOPPING;
		log_info("stopping%s", force ? " (forced)" : "");
		notify_upward("STOPPING=1\nSTATUS=stopping");
		for (i = 0; i < rt->nworkers; i++)
			rt->workers[i]->wanted = false;
		timer_init(&rt->stop_timer, stop_deadline, rt);
		timer_at(rt->loop, &rt->stop_timer, mono_ms() +
		    (timeout_ms > 0 ? timeout_ms : rt->settings->stop_timeout_ms));
	}
	if (force) {
		rt->forced = true;
		rt->force_asked = true;
		force_all(rt, EV_STOP);
	}
	runtime_touch(rt);
}

void
runtime_stop_for(struct runtime *rt, bool force, uint64_t timeout_ms)
{
	runtime_stop(rt, force, false, timeout_ms);
}

/* --- reload --------------------------------------------------------------- */

/* The files given at start, read and checked again; NULL with errs. */
static struct settings *
load_next(struct runtime *rt, struct conf_errors *errs)
{
	struct settings *next;

	next = settings_load((const char *const *)rt->paths, rt->npaths, errs);
	if (next != NULL && runtime_check_modules(next, rt, errs, NULL) == -1) {
		settings_free(next);
		next = NULL;
	}
	return next;
}

static void
reload_due(struct loop *l, struct timer *t)
{
	(void)l;
	runtime_reload(t->arg);
}

/* "w: concurrency 4, was 2: instances 2 to 3 are added, the others run
 * on", or "instance 1 stops". */
static void
log_scaling(const struct worker *w, unsigned n)
{
	unsigned first = n > w->nwanted ? w->nwanted : n;
	unsigned last = (n > w->nwanted ? n : w->nwanted) - 1;
	const char *what = n > w->nwanted ? "added" : "stopped";

	if (first == last)
		log_info("%s: concurrency %u, was %u: instance %u is %s, the "
		    "others run on", w->name, n, w->nwanted, first, what);
	else
		log_info("%s: concurrency %u, was %u: instances %u to %u are "
		    "%s, the others run on", w->name, n, w->nwanted, first,
		    last, what);
}

/* What runtime_reload() will do with next's workers and queues; it must
 * decide the same way. */
static void
reload_diff(struct runtime *rt, const struct settings *next,
    reload_note_fn note, void *arg)
{
	const struct worker_def *nd;
	struct rqueue *rq;
	size_t i;

	for (i = 0; i < rt->nworkers; i++) {
		struct worker *w = rt->workers[i];

		if (w->def == NULL)
			continue;
		if ((nd = settings_worker(next, w->name)) == NULL)
			note(arg, RELOAD_WORKER_REMOVED, w->name);
		else if (!settings_worker_same(w->def, nd))
			note(arg, RELOAD_WORKER_CHANGED, w->name);
		else if (nd->concurrency != w->nwanted)
			note(arg, RELOAD_WORKER_SCALED, w->name);
	}
	for (i = 0; i < next->nworkers; i++)
		if (runtime_find_worker(rt, next->workers[i].name) == NULL)
			note(arg, RELOAD_WORKER_ADDED, next->workers[i].name);
	for (i = 0; i < next->nqueues; i++)
		if (runtime_find_queue(rt, next->queues[i].name) == NULL)
			note(arg, RELOAD_QUEUE_ADDED, next->queues[i].name);
	for (i = 0; i < rt->nqueues; i++) {
		rq = &rt->queues[i];
		if (newly_undeclared(rt, next, rq))
			note(arg, RELOAD_QUEUE_REMOVED, queue_name(rq->q));
	}
}

int
runtime_reload_check(struct runtime *rt, struct conf_errors *errs,
    reload_note_fn note, void *arg)
{
	struct settings *next;

	if ((next = load_next(rt, errs)) == NULL)
		return -1;
	reload_diff(rt, next, note, arg);
	settings_free(next);
	return 0;
}

void
runtime_reload_soon(struct runtime *rt)
{
	timer_at(rt->loop, &rt->reload_timer, mono_ms());
}

/* Where a worker goes in the order of the files: a version stopping just
 * before the one that replaces it, a removed one after all the rest. */
static size_t
file_rank(const struct runtime *rt, const struct worker *w)
{
	size_t i, n = rt->settings->nworkers;

	for (i = 0; i < n; i++)
		if (strcmp(rt->settings->workers[i].name, w->name) == 0)
			return 2 * i + (w->def != NULL);
	return 2 * n;
}

/*
 * Puts the workers back in the order of the files, which status, the
 * dashboard and plbactl show: a changed or added one was appended.  An
 * insertion sort, which keeps versions of one name in the order made.
 */
static void
order_workers(struct runtime *rt)
{
	struct worker *w;
	size_t i, j;

	for (i = 1; i < rt->nworkers; i++) {
		w = rt->workers[i];
		for (j = i; j > 0 && file_rank(rt, rt->workers[j - 1]) >
		    file_rank(rt, w); j--)
			rt->workers[j] = rt->workers[j - 1];
		rt->workers[j] = w;
	}
}

/*
 * The version of worker `name` that a reload removed or replaced and
 * that is still stopping.  Its successor starts once it is down, so two
 * never run side by side, however many reloads come meanwhile.
 */
static struct worker *
stopping_version(struct runtime *rt, const char *name)
{
	size_t i;

	for (i = 0; i < rt->nworkers; i++)
		if (rt->workers[i]->def == NULL && !worker_down(rt->workers[i]) &&
		    strcmp(rt->workers[i]->name, name) == 0)
			return rt->workers[i];
	return NULL;
}

static void
runtime_reload(struct runtime *rt)
{
	struct conf_errors errs = { 0 };
	struct settings *next, *prev = rt->settings;
	struct sup_event stop = { .kind = EV_STOP };
	bool running = rt->state == RT_STARTING || rt->state == RT_RUNNING;
	bool tell_tracing = false, new_workers = false;
	size_t i, n;

	log_info("reloading configuration");
	if ((next = load_next(rt, &errs)) == NULL) {
		for (i = 0; i < errs.n; i++)
			log_error("%s", errs.msgs[i]);
		log_error("configuration rejected; keeping the running one");
		conf_errors_clear(&errs);
		return;
	}
	/* First: the one change left that can still fail. */
	switch (traces_reload(rt, next)) {
	case -1:
		log_error("configuration rejected; keeping the running one");
		settings_free(next);
		return;
	case 1:
		tell_tracing = true;
		break;
	}
	if (apply_log(next) == -1)
		log_error("log.output: %s: %s; keeping the current log",
		    next->log.output, strerror(errno));
	if (prev->ipc.max_frame != next->ipc.max_frame ||
	    prev->ipc.heartbeat_interval_ms != next->ipc.heartbeat_interval_ms ||
	    prev->ipc.heartbeat_timeout_ms != next->ipc.heartbeat_timeout_ms)
		log_warn("platform.ipc changes take effect at the next start "
		    "of plba-master");

	switch (sync_queues(rt, next, true)) {
	case -1:
		log_error("queues: out of memory");
		break;
	case -2:
		log_error("queues: a durable queue that cannot be stored is "
		    "not created");
		break;
	}
	n = rt->nworkers;
	for (i = 0; i < n; i++) {
		struct worker *w = rt->workers[i], *nw;
		const struct worker_def *nd;

		if (w->def == NULL)
			continue;
		nd = settings_worker(next, w->name);
		/* The same definition, or only its concurrency (or stop
		 * timeout) changed: the instances it keeps run on, untouched. */
		if (nd != NULL && settings_worker_same(w->def, nd)) {
			worker_rebind(w, nd);
			if (nd->concurrency == w->nwanted)
				continue;
			log_scaling(w, nd->concurrency);
			new_workers = new_workers ||
			    nd->concurrency > w->nwanted;
			if (worker_scale(w, nd->concurrency) == -1)
				log_error("%s: out of memory", w->name);
			continue;
		}
		/* Removed or changed: the old version stops for good. */
		w->def = NULL;
		w->wanted = false;
		w->started = false;
		worker_event(w, &stop);
		if (nd == NULL) {
			log_info("%s: removed from the configuration", w->name);
			continue;
		}
		log_info("%s: changed; restarting it", w->name);
		if ((nw = worker_new(rt, nd)) == NULL || add_worker(rt, nw) == -1) {
			log_error("%s: out of memory", nd->name);
			worker_free(nw);
			continue;
		}
		nw->replaces = stopping_version(rt, nd->name);
		nw->wanted = running;
		new_workers = true;
	}
	for (i = 0; i < next->nworkers; i++) {
		struct worker *nw;

		if (runtime_find_worker(rt, next->workers[i].name) != NULL)
			continue;
		log_info("%s: added", next->workers[i].name);
		if ((nw = worker_new(rt, &next->workers[i])) == NULL ||
		    add_worker(rt, nw) == -1) {
			log_error("%s: out of memory", next->workers[i].name);
			worker_free(nw);
			continue;
		}
		/* Removed by an earlier reload and not down yet. */
		nw->replaces = stopping_version(rt, nw->name);
		nw->wanted = running;
		new_workers = true;
	}
	rt->settings = next;
	order_workers(rt);
	http_reload(rt, prev, next);
	settings_free(prev);
	if (tell_tracing)
		channel_send_tracing(rt);
	/* READY again once the workers it added or changed are up; a
	 * reload that touched none leaves the state, and the log, alone. */
	if (rt->state == RT_RUNNING && new_workers)
		rt->state = RT_STARTING;
	runtime_touch(rt);
}

/* --- signals and children ------------------------------------------------- */

static void
reap(struct runtime *rt)
{
	struct instance *in;
	pid_t pid;
	int st;

	/* SIGCHLDs coalesce: one signal may stand for many children. */
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if ((in = runtime_find_pid(rt, pid)) != NULL)
			instance_exited(in, st);
		else
			log_debug("reaped orphan %ld", (long)pid);
	}
}

static void
on_signal(struct loop *l, struct io *io, uint32_t events)
{
	struct runtime *rt = io->arg;
	struct signalfd_siginfo si;

	while (read(rt->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			reap(rt);
			break;
		case SIGTERM:
		case SIGINT:
		case SIGQUIT:	/* supervisord's and nginx's graceful stop */
			if (rt->state == RT_STOPPING && rt->exit_when_stopped &&
			    rt->force_asked) {
				log_warn("%s during a forced stop: killing what "
				    "is left", strsignal((int)si.ssi_signo));
				force_all(rt, EV_KILL);
			} else if (rt->state == RT_STOPPING &&
			    rt->exit_when_stopped) {
				log_warn("a second signal (%s): forcing the stop",
				    strsignal((int)si.ssi_signo));
				runtime_stop(rt, true, true, 0);
			} else
				runtime_stop(rt, false, true, 0);
			break;
		case SIGHUP:
			runtime_reload(rt);
			break;
		case SIGUSR1:
			if (log_reopen() == -1)
				log_error("cannot reopen the log: %s",
				    strerror(errno));
			else
				log_info("log reopened");
			traces_reopen(rt);
			break;
		}
	}
}

static void
on_notify(struct loop *l, struct io *io, uint32_t events)
{
	struct runtime *rt = io->arg;
	struct notify_msg m;
	struct instance *in;
	pid_t pgid;
	int budget = 64;

	while (budget-- > 0 && notify_read(rt->notify_fd, &m) == 1) {
		/* A daemon may notify from a child of its own. */
		if ((in = runtime_find_pid(rt, m.pid)) == NULL &&
		    (pgid = getpgid(m.pid)) > 0)
			in = runtime_find_pid(rt, pgid);
		if (in == NULL || in->worker->def == NULL ||
		    in->worker->def->ready != READY_NOTIFY)
			continue;
		if (m.status[0] != '\0')
			snprintf(in->notify_status, sizeof(in->notify_status),
			    "%s", m.status);
		if (m.ready)
			instance_ready(in);
	}
}

/* For kernels without CLOSE_RANGE_CLOEXEC (before 5.11). */
static void
mark_cloexec_from(int lowest)
{
	struct dirent *e;
	DIR *d;
	int fd;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		fd = atoi(e->d_name);
		if (fd >= lowest && fd != dirfd(d))
			(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	closedir(d);
}

/* The log has room again for what the instances write. */
static void
on_log_room(struct loop *l, struct io *io, uint32_t events)
{
	struct runtime *rt = io->arg;
	uint64_t n;
	size_t i;

	(void)l;
	(void)events;
	if (read(io->fd, &n, sizeof(n)) != (ssize_t)sizeof(n))
		return;
	for (i = 0; i < rt->nworkers; i++)
		worker_resume_output(rt->workers[i]);
}

static int
setup_process(struct runtime *rt)
{
	struct rlimit rl;
	sigset_t mask;
	int fd;

	/* Children get 0-2 by dup2 from fds above 2; make sure they are. */
	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2)
		;
	if (fd > 2)
		close(fd);
	/*
	 * Whatever the master inherited from whoever started it is not the
	 * workers' business: a worker gets 0-2 and fd 3, nothing else.
	 */
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == -1)
		mark_cloexec_from(3);
	/* Three fds per instance: take what the hard limit allows, and
	 * give the workers back the limit they would have had. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rt->child_nofile = rl;
		rl.rlim_cur = rl.rlim_max;
		rt->nofile_raised = setrlimit(RLIMIT_NOFILE, &rl) == 0;
	}
	rt->fd_limit = getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < INT_MAX ?
	    (int)rl.rlim_cur : INT_MAX;
	/* Orphans of our workers come to us, not to init, and get reaped. */
	(void)prctl(PR_SET_CHILD_SUBREAPER, 1);
	signal(SIGPIPE, SIG_IGN);
	/*
	 * A file that may not grow (RLIMIT_FSIZE: the queue database, a log
	 * or trace file) must fail that write with EFBIG, which each of them
	 * handles, not kill the master with the default SIGXFSZ.  Workers get
	 * the default back (spawn.c).
	 */
	signal(SIGXFSZ, SIG_IGN);

	if ((rt->devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
		return -1;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGQUIT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) == -1)
		return -1;
	rt->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (rt->sigfd == -1)
		return -1;
	if ((rt->loop = loop_new()) == NULL)
		return -1;
	if (io_add(rt->loop, &rt->sig_io, rt->sigfd, EPOLLIN, on_signal, rt) == -1)
		return -1;
	if ((rt->notify_fd = notify_listen()) == -1)
		return -1;
	if (io_add(rt->loop, &rt->notify_io, rt->notify_fd, EPOLLIN, on_notify,
	    rt) == -1)
		return -1;
	/* Without it children's output is never held back: lines that find
	 * the log full are dropped instead. */
	if ((fd = log_room_fd()) != -1 &&
	    io_add(rt->loop, &rt->log_room_io, fd, EPOLLIN, on_log_room, rt) == -1)
		return -1;
	if ((rt->base_env = copy_environ()) == NULL)
		return -1;
	return 0;
}

/* Dropped dead letters are logged as a count, not one line each: a
 * consumer failing every task would flood the log. */
static void
report_dead_dropped(struct runtime *rt)
{
	struct queue_stats st;
	size_t i;

	for (i = 0; i < rt->nqueues; i++) {
		queue_stats(rt->queues[i].q, &st);
		if (st.dead_dropped <= rt->queues[i].dead_dropped_logged)
			continue;
		log_warn("queue %s: the dead-letter list is full (dead_max %"
		    PRIu64 ", dead_max_bytes %" PRIu64 "): %" PRIu64 " oldest "
		    "dead letters dropped so far", queue_name(rt->queues[i].q),
		    st.dead_max, st.dead_max_bytes, st.dead_dropped);
		rt->queues[i].dead_dropped_logged = st.dead_dropped;
	}
}

/* How far what the queues hold must fall before it is worth a trim. */
#define TRIM_AFTER_DRAIN	(8u << 20)

/*
 * glibc keeps freed memory for the next allocations, and one small
 * block allocated above a burst of tasks (a status snapshot, a log
 * line) pins the heap's top: after a million tasks had drained the
 * master would hold its peak, some 160 MB, for good.  Once what the
 * queues hold has fallen far enough, the free pages go back.  It costs
 * a walk of the heap, so it is done once a drain, not on every scan.
 */
static void
trim_after_drain(struct runtime *rt)
{
	struct queue_stats st;
	uint64_t held = 0;
	size_t i;

	for (i = 0; i < rt->nqueues; i++) {
		queue_stats(rt->queues[i].q, &st);
		held += st.bytes + st.dead_bytes +
		    (st.depth + st.in_flight + st.dead) * sizeof(struct qtask);
	}
	if (held > rt->queued_peak)
		rt->queued_peak = held;
	else if (held <= rt->queued_peak / 2 &&
	    rt->queued_peak - held >= TRIM_AFTER_DRAIN) {
		malloc_trim(0);
		rt->queued_peak = held;
	}
}

static void
scan(struct loop *l, struct timer *t)
{
	struct runtime *rt = t->arg;
	uint64_t now = mono_ms(), late = now > rt->scan_due ?
	    now - rt->scan_due : 0;
	bool judge = late <= rt->settings->ipc.heartbeat_timeout_ms / 2;

	/*
	 * Held up (stopped, or swapped out, or busy with a long request)
	 * the master read nothing meanwhile: the heartbeats wait in its
	 * sockets, and would be taken for missing.  The next scan judges,
	 * after the loop has read them.
	 */
	if (!judge)
		log_warn("the master was held up for %llums; heartbeats are not "
		    "judged this time", (unsigned long long)late);
	channel_scan(rt, now, judge);
	store_watch(rt->store, now);
	runtime_sweep_queues(rt);
	traces_report(rt);
	report_dead_dropped(rt);
	trim_after_drain(rt);
	rt->scan_due = now + rt->settings->ipc.heartbeat_interval_ms;
	timer_at(l, t, rt->scan_due);
}

int
runtime_run(struct runtime *rt)
{
	size_t i;
	struct worker *w;

	notify_upward_init();
	if (setup_process(rt) == -1) {
		log_error("cannot set up the master: %s", strerror(errno));
		return 1;
	}
	timer_init(&rt->stop_timer, stop_deadline, rt);
	timer_init(&rt->scan_timer, scan, rt);
	timer_init(&rt->reload_timer, reload_due, rt);
	rt->started_ms = mono_ms();
	/* Before the queues: those loaded from disk may have dead letters
	 * to record on their traces. */
	if (traces_open(rt) == -1)
		return 2;
	switch (sync_queues(rt, rt->settings, false)) {
	case -1:
		log_error("out of memory");
		return 1;
	case -2:
		return 2;
	}
	rt->scan_due = rt->started_ms + rt->settings->ipc.heartbeat_interval_ms;
	timer_at(rt->loop, &rt->scan_timer, rt->scan_due);
	for (i = 0; i < rt->settings->nworkers; i++) {
		if ((w = worker_new(rt, &rt->settings->workers[i])) == NULL ||
		    add_worker(rt, w) == -1) {
			log_error("out of memory");
			worker_free(w);
			return 1;
		}
	}
	log_info("%s: %zu worker%s configured", rt->settings->name,
	    rt->nworkers, rt->nworkers == 1 ? "" : "s");
	if (rt->settings->http.enabled && !rt->no_http && http_start(rt) == -1)
		return 2;
	if (rt->settings->autostart)
		runtime_start(rt);
	else {
		rt->state = RT_STOPPED;
		notify_upward("READY=1\nSTATUS=waiting for the start action");
	}
	while (!rt->done) {
		reconcile(rt);
		/* Off to the disk; confirmed when the writer is through. */
		store_flush(rt->store);
		channel_flush_all(rt);
		if (rt->snap_dirty) {
			rt->snap_dirty = false;
			http_dirty(rt);
		}
		if (rt->done)
			break;
		if (loop_run_once(rt->loop) == -1) {
			log_error("event loop: %s", strerror(errno));
			runtime_stop(rt, true, true, 0);
			return 1;
		}
	}
	/* A disk that has stalled must not keep the master from exiting. */
	if (store_drain(rt->store, rt->settings->stop_timeout_ms) == -1) {
		store_abandon(rt->store);
		rt->forced = true;
	}
	log_queue_totals(rt);
	log_info("exiting");
	if (rt->failed_exit || rt->forced)
		return 1;
	return 0;
}
