/*
 * The configuration loader: YAML text in, a validated configuration or a
 * list of errors out.  Runs settings_load_string (parse, interpolate,
 * validate) and conf_load_string (the tree alone) on the input.  Checks:
 *   - exactly one of a configuration and a non-empty error list comes out,
 *     and every message is a non-empty line;
 *   - an accepted configuration keeps the promises of settings.h: ranges,
 *     one kind per worker, unique names, depends_on naming workers and
 *     consumes a queue (or modules being loaded), no dependency cycle;
 *   - the tree respects CONF_MAX_DEPTH and CONF_MAX_NODES, is equal to
 *     itself, and every scalar in it survives the value parsers.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "settings.h"

#include "fuzz.h"

int	LLVMFuzzerInitialize(int *, char ***);

/* Variables the seeds interpolate, so ${...} reaches its success paths. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setenv("PLBA_FUZZ_NAME", "fuzzed", 1);
	setenv("PLBA_FUZZ_EMPTY", "", 1);
	setenv("PLBA_FUZZ_DOLLAR", "$${x}", 1);
	unsetenv("PLBA_FUZZ_UNSET");
	return 0;
}

static void
check_errors(const struct conf_errors *errs)
{
	size_t i;

	for (i = 0; i < errs->n; i++)
		FUZZ_ASSERT(errs->msgs[i] != NULL && errs->msgs[i][0] != '\0',
		    "error %zu is empty", i);
}

static size_t
strv_len(char **v)
{
	size_t n = 0;

	while (v != NULL && v[n] != NULL)
		n++;
	return n;
}

/* Depth-first search for a dependency cycle; state 1 on the path, 2 done. */
static bool
cycle_from(const struct settings *s, size_t i, unsigned char *state)
{
	const struct worker_def *w = &s->workers[i], *d;
	size_t k;

	if (state[i] == 1)
		return true;
	if (state[i] == 2)
		return false;
	state[i] = 1;
	for (k = 0; w->depends_on != NULL && w->depends_on[k] != NULL; k++) {
		d = settings_worker(s, w->depends_on[k]);
		if (d != NULL && cycle_from(s, (size_t)(d - s->workers), state))
			return true;
	}
	state[i] = 2;
	return false;
}

static void
check_settings(const struct settings *s)
{
	const struct worker_def *w;
	const struct queue_def *q;
	unsigned char *state;
	size_t i, k;

	FUZZ_ASSERT(s->doc != NULL && s->name != NULL && s->state_dir != NULL,
	    "platform defaults");
	FUZZ_ASSERT(strv_len(s->http.listen) >= 1, "no listen address");
	FUZZ_ASSERT(s->modules != NULL, "modules");
	FUZZ_ASSERT(s->ipc.max_frame >= 1024 && s->ipc.max_frame <= UINT32_MAX,
	    "max_frame %llu", (unsigned long long)s->ipc.max_frame);
	FUZZ_ASSERT(s->log.level <= LOG_LEVEL_ERROR && s->log.output != NULL,
	    "log");
	for (i = 0; i < s->nqueues; i++) {
		q = &s->queues[i];
		FUZZ_ASSERT(q->name != NULL && settings_queue(s, q->name) == q,
		    "queue %zu is not found by its name", i);
		FUZZ_ASSERT(q->capacity >= 1 && q->max_attempts >= 1,
		    "queue \"%s\" limits", q->name);
	}
	for (i = 0; i < s->nworkers; i++) {
		w = &s->workers[i];
		FUZZ_ASSERT(w->name != NULL && settings_worker(s, w->name) == w,
		    "worker %zu is not found by its name", i);
		switch (w->kind) {
		case WORKER_EXEC:
			FUZZ_ASSERT(strv_len(w->argv) >= 1 && w->module == NULL &&
			    w->type == NULL, "worker \"%s\": command", w->name);
			break;
		case WORKER_MODULE:
			FUZZ_ASSERT(w->module != NULL && w->argv == NULL &&
			    w->type == NULL, "worker \"%s\": module", w->name);
			break;
		case WORKER_BUILTIN:
			FUZZ_ASSERT(w->type != NULL && w->argv == NULL &&
			    w->module == NULL, "worker \"%s\": type", w->name);
			break;
		default:
			FUZZ_ASSERT(0, "worker \"%s\": kind %d", w->name, (int)w->kind);
		}
		FUZZ_ASSERT(w->concurrency >= 1 && w->concurrency <= 10000,
		    "worker \"%s\": concurrency %u", w->name, w->concurrency);
		FUZZ_ASSERT(w->prefetch >= 1, "worker \"%s\": prefetch", w->name);
		FUZZ_ASSERT(w->restart_max_delay_ms >= w->restart_delay_ms,
		    "worker \"%s\": restart delays", w->name);
		/* A module may declare the queue it consumes; without
		 * modules it must be in queues. */
		FUZZ_ASSERT(w->consumes == NULL || strv_len(s->modules) > 0 ||
		    settings_queue(s, w->consumes) != NULL,
		    "worker \"%s\" consumes unknown queue \"%s\"", w->name, w->consumes);
		for (k = 0; w->depends_on != NULL && w->depends_on[k] != NULL; k++)
			FUZZ_ASSERT(settings_worker(s, w->depends_on[k]) != NULL,
			    "worker \"%s\" depends on unknown \"%s\"", w->name,
			    w->depends_on[k]);
		for (k = 0; w->env != NULL && w->env[k] != NULL; k++)
			FUZZ_ASSERT(strchr(w->env[k], '=') != NULL,
			    "worker \"%s\": environment \"%s\"", w->name, w->env[k]);
	}
	if (s->nworkers > 0 && (state = calloc(s->nworkers, 1)) != NULL) {
		for (i = 0; i < s->nworkers; i++)
			FUZZ_ASSERT(!cycle_from(s, i, state),
			    "a dependency cycle through \"%s\" was accepted",
			    s->workers[i].name);
		free(state);
	}
}

/* Walks the tree; returns the nodes seen. */
static size_t
walk(const struct conf_node *n, int depth)
{
	uint64_t u;
	long long ll;
	size_t i, count = 1;
	bool b;

	FUZZ_ASSERT(n != NULL, "a NULL node");
	FUZZ_ASSERT(depth <= CONF_MAX_DEPTH + 1, "nested %d deep", depth);
	FUZZ_ASSERT(n->line >= 1 && n->col >= 1, "position %d:%d", n->line, n->col);
	switch (n->type) {
	case CONF_SCALAR:
		FUZZ_ASSERT(n->value != NULL, "a scalar without a value");
		(void)conf_parse_duration(n->value, &u);
		(void)conf_parse_size(n->value, &u);
		(void)conf_parse_bool(n->value, &b);
		(void)conf_parse_int(n->value, &ll);
		(void)conf_is_null(n);
		break;
	case CONF_MAP:
		for (i = 0; i < n->n; i++) {
			FUZZ_ASSERT(n->keys[i] != NULL, "a NULL key");
			/* Small maps only: the lookup is linear. */
			FUZZ_ASSERT(n->n > 32 ||
			    conf_map_get(n, n->keys[i]) == n->items[i],
			    "key \"%s\" found twice or not at all", n->keys[i]);
			count += walk(n->items[i], depth + 1);
		}
		break;
	case CONF_SEQ:
		for (i = 0; i < n->n; i++)
			count += walk(n->items[i], depth + 1);
		break;
	default:
		FUZZ_ASSERT(0, "node type %d", (int)n->type);
	}
	return count;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf_errors errs = { 0 };
	struct settings *s;
	struct conf_doc *doc;
	struct conf_node *root;

	s = settings_load_string((const char *)data, size, "fuzz.yml", &errs);
	check_errors(&errs);
	FUZZ_ASSERT((s == NULL) == (errs.n > 0),
	    "settings %p with %zu errors", (void *)s, errs.n);
	if (s != NULL)
		check_settings(s);
	settings_free(s);
	conf_errors_clear(&errs);
	FUZZ_ASSERT(errs.n == 0, "conf_errors_clear left %zu", errs.n);

	doc = conf_load_string((const char *)data, size, "fuzz.yml", &errs);
	check_errors(&errs);
	FUZZ_ASSERT((doc == NULL) == (errs.n > 0),
	    "document %p with %zu errors", (void *)doc, errs.n);
	if (doc != NULL) {
		root = conf_doc_root(doc);
		FUZZ_ASSERT(root != NULL && root->type == CONF_MAP, "root not a map");
		FUZZ_ASSERT(walk(root, 0) <= CONF_MAX_NODES + 1, "too many nodes");
		FUZZ_ASSERT(conf_equal(root, root), "the tree differs from itself");
		(void)conf_path(root, "platform.http.listen");
		(void)conf_path(root, "workers");
	}
	conf_doc_free(doc);
	conf_errors_clear(&errs);
	return 0;
}
