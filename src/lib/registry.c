#include "config.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plba/error.h"
#include "registry.h"

#define QUEUE_NAME_MAX	64

static int
grow(void **arr, size_t n, size_t size)
{
	void *p = realloc(*arr, (n + 1) * size);

	if (p == NULL)
		return -1;
	*arr = p;
	return 0;
}

static int
name_taken(const plba_registry *r, const char *name)
{
	return registry_worker(r, name) != NULL;
}

static int
queue_taken(const plba_registry *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nqueues; i++)
		if (strcmp(r->queues[i].name, name) == 0)
			return 1;
	return 0;
}

/* The rule of a `queues:` key in settings.c: a module's queue must be
 * one the configuration could name, in URLs and in plbactl. */
static int
queue_name_ok(const char *s)
{
	size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789_.-");

	return n > 0 && s[n] == '\0' && n <= QUEUE_NAME_MAX;
}

int
plba_register_worker(plba_registry *r, const char *name,
    const struct plba_worker_ops *ops, void *arg)
{
	struct reg_worker *w;

	if (r == NULL || name == NULL || ops == NULL || ops->start == NULL ||
	    name_taken(r, name))
		return PLBA_EINVAL;
	if (grow((void **)&r->workers, r->nworkers, sizeof(*r->workers)) == -1)
		goto nomem;
	w = &r->workers[r->nworkers];
	memset(w, 0, sizeof(*w));
	if ((w->name = strdup(name)) == NULL)
		goto nomem;
	w->ops = ops;
	w->arg = arg;
	r->nworkers++;
	return PLBA_OK;
nomem:
	r->failed = 1;
	return PLBA_ENOMEM;
}

int
plba_register_queue_worker(plba_registry *r, const char *name,
    plba_task_handler handler, void *arg)
{
	struct reg_worker *w;

	if (r == NULL || name == NULL || handler == NULL || name_taken(r, name))
		return PLBA_EINVAL;
	if (grow((void **)&r->workers, r->nworkers, sizeof(*r->workers)) == -1)
		goto nomem;
	w = &r->workers[r->nworkers];
	memset(w, 0, sizeof(*w));
	if ((w->name = strdup(name)) == NULL)
		goto nomem;
	w->handler = handler;
	w->handler_arg = arg;
	r->nworkers++;
	return PLBA_OK;
nomem:
	r->failed = 1;
	return PLBA_ENOMEM;
}

int
plba_register_queue(plba_registry *r, const char *name, uint64_t capacity,
    unsigned max_attempts)
{
	struct reg_queue *q;

	if (r == NULL || name == NULL || capacity == 0 || max_attempts == 0 ||
	    !queue_name_ok(name) || queue_taken(r, name))
		return PLBA_EINVAL;
	if (grow((void **)&r->queues, r->nqueues, sizeof(*r->queues)) == -1)
		goto nomem;
	q = &r->queues[r->nqueues];
	if ((q->name = strdup(name)) == NULL)
		goto nomem;
	q->capacity = capacity;
	q->max_attempts = max_attempts;
	r->nqueues++;
	return PLBA_OK;
nomem:
	r->failed = 1;
	return PLBA_ENOMEM;
}

int
plba_register_health(plba_registry *r, const char *name, plba_health_fn fn,
    void *arg)
{
	struct reg_health *h;

	if (r == NULL || name == NULL || fn == NULL)
		return PLBA_EINVAL;
	if (grow((void **)&r->healths, r->nhealths, sizeof(*r->healths)) == -1)
		goto nomem;
	h = &r->healths[r->nhealths];
	if ((h->name = strdup(name)) == NULL)
		goto nomem;
	h->fn = fn;
	h->arg = arg;
	r->nhealths++;
	return PLBA_OK;
nomem:
	r->failed = 1;
	return PLBA_ENOMEM;
}

/* A separate call, not a member of plba_worker_ops: modules built before
 * it pass a smaller structure that must not be read past its end. */
int
plba_register_check(plba_registry *r, const char *worker, plba_check_fn fn)
{
	size_t i;

	if (r == NULL || worker == NULL || fn == NULL)
		return PLBA_EINVAL;
	for (i = 0; i < r->nworkers; i++)
		if (strcmp(r->workers[i].name, worker) == 0) {
			r->workers[i].check = fn;
			return PLBA_OK;
		}
	return PLBA_EINVAL;
}

const struct reg_worker *
registry_worker(const struct plba_registry *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nworkers; i++)
		if (strcmp(r->workers[i].name, name) == 0)
			return &r->workers[i];
	return NULL;
}

struct plba_registry *
registry_from(const struct plba_module *m, char *err, size_t errlen)
{
	struct plba_registry *r;
	int rc;

	if (m->abi_version != PLBA_ABI_VERSION) {
		snprintf(err, errlen, "module %s was built for PLBA ABI %u, "
		    "this is ABI %u: rebuild it", m->name ? m->name : "?",
		    m->abi_version, PLBA_ABI_VERSION);
		return NULL;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->module = m;
	if (m->init != NULL && (rc = m->init(r)) != 0) {
		snprintf(err, errlen, "module %s: init failed: %s", m->name,
		    plba_strerror(rc));
		registry_free(r);
		return NULL;
	}
	if (r->failed) {
		snprintf(err, errlen, "module %s: out of memory", m->name);
		registry_free(r);
		return NULL;
	}
	return r;
}

struct plba_registry *
registry_load(const char *path, char *err, size_t errlen)
{
	const struct plba_module *m;
	struct plba_registry *r;
	void *dl;
	char inner[512];

	/* RTLD_LOCAL: two modules may use the same symbol names. */
	if ((dl = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		snprintf(err, errlen, "%s", dlerror());
		return NULL;
	}
	if ((m = dlsym(dl, "plba_module")) == NULL) {
		snprintf(err, errlen, "%s: exports no plba_module (use "
		    "PLBA_MODULE())", path);
		dlclose(dl);
		return NULL;
	}
	if ((r = registry_from(m, inner, sizeof(inner))) == NULL) {
		snprintf(err, errlen, "%s: %s", path, inner);
		dlclose(dl);
		return NULL;
	}
	r->dl = dl;
	if ((r->path = strdup(path)) == NULL) {
		snprintf(err, errlen, "out of memory");
		registry_free(r);
		return NULL;
	}
	return r;
}

void
registry_free(struct plba_registry *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nworkers; i++)
		free(r->workers[i].name);
	for (i = 0; i < r->nqueues; i++)
		free(r->queues[i].name);
	for (i = 0; i < r->nhealths; i++)
		free(r->healths[i].name);
	free(r->workers);
	free(r->queues);
	free(r->healths);
	free(r->path);
	if (r->dl != NULL)
		dlclose(r->dl);
	free(r);
}
