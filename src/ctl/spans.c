/*
 * plbactl trace: one trace, as GET /traces/ID answers it, shown as a tree.
 * Each span stands under its parent and siblings follow their start; a span
 * whose parent the master no longer holds (or never had: the trace began in
 * another service) starts a tree of its own.  The answer is the master's
 * copy of what children sent, so nothing in it is trusted to form a tree:
 * ids may repeat, be missing or point in a circle, and every span is still
 * shown exactly once.
 */
#include "config.h"

#include <sys/types.h>

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ctl.h"

#define NONE		SIZE_MAX
#define INDENT_MAX	16	/* deeper spans are shown at this depth */
#define EVENTS_MAX	32	/* a span's events shown; the rest counted */

struct span {
	const cJSON	*o;
	const char	*id;		/* NULL when it has none */
	const char	*parent;
	uint64_t	 start, end;	/* ns since the epoch; 0: not given */
	size_t		 child, last;	/* first and last child, by start */
	size_t		 next;		/* next sibling */
	bool		 shown;
};

static const char *
str_of(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) && *v->valuestring != '\0' ?
	    v->valuestring : NULL;
}

/* The records carry times as decimal strings: 64-bit integers do not fit
 * a JSON number that every reader takes exactly. */
static uint64_t
ns_of(const cJSON *o, const char *key)
{
	const char *s = str_of(o, key), *p;
	uint64_t v = 0;

	if (s == NULL || strlen(s) > 19)
		return 0;
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return 0;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	return v;
}

void
spans_duration(uint64_t ns, char buf[32])
{
	if (ns == 0)
		snprintf(buf, 32, "0");
	else if (ns < 1000)
		snprintf(buf, 32, "%" PRIu64 "ns", ns);
	else if (ns < 1000000)
		snprintf(buf, 32, "%.1fus", ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, 32, "%.1fms", ns / 1e6);
	else
		snprintf(buf, 32, "%.2fs", ns / 1e9);
}

/* qsort has no context argument: the spans being sorted. */
static const struct span *sorting;

/* Unknown starts last; equal starts in the master's order. */
static int
by_start(const void *a, const void *b)
{
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	uint64_t si = sorting[i].start != 0 ? sorting[i].start : UINT64_MAX;
	uint64_t sj = sorting[j].start != 0 ? sorting[j].start : UINT64_MAX;

	if (si != sj)
		return si < sj ? -1 : 1;
	return i < j ? -1 : i > j;
}

static int
by_id(const void *a, const void *b)
{
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int c = strcmp(sorting[i].id, sorting[j].id);

	return c != 0 ? c : (i < j ? -1 : i > j);
}

/* A span with that id, the first in the master's order; NONE if none. */
static size_t
find(const struct span *s, const size_t *ids, size_t nids, const char *id)
{
	size_t lo = 0, hi = nids, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (strcmp(s[ids[mid]].id, id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < nids && strcmp(s[ids[lo]].id, id) == 0 ? ids[lo] : NONE;
}

static void
add_row(struct table *t, const struct span *s, size_t depth, uint64_t t0)
{
	char name[INDENT_MAX * 2 + 256], buf[32];
	const cJSON *status = cJSON_GetObjectItemCaseSensitive(s->o, "status");
	const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(s->o, "attributes");
	const cJSON *inst = cJSON_GetObjectItemCaseSensitive(s->o, "instance");
	const char *code = str_of(status, "code"), *worker, *detail;
	int indent = (int)(depth < INDENT_MAX ? depth : INDENT_MAX) * 2;

	if (s->start != 0 && t0 != 0 && s->start >= t0) {
		spans_duration(s->start - t0, buf);
		table_add(t, buf);
	} else
		table_add(t, NULL);
	if (s->start != 0 && s->end >= s->start) {
		spans_duration(s->end - s->start, buf);
		table_add(t, buf);
	} else
		table_add(t, NULL);
	snprintf(name, sizeof(name), "%*s%.255s", indent, "",
	    str_of(s->o, "name") != NULL ? str_of(s->o, "name") : "-");
	table_add(t, name);
	worker = str_of(s->o, "worker");
	if (worker != NULL && cJSON_IsNumber(inst) && inst->valuedouble >= 0)
		table_addf(t, "%.200s.%.0f", worker, inst->valuedouble);
	else
		table_add(t, worker);
	table_add(t, code);
	/* What went wrong, else what the master says it did. */
	detail = code != NULL && strcmp(code, "error") == 0 ?
	    str_of(status, "message") : NULL;
	if (detail == NULL)
		detail = str_of(attrs, "plba.detail");
	table_add(t, detail);
}

/*
 * A span's events (plba_span_event(3), plba_trace_message(3)) under it, in
 * the order recorded: their time from the trace's start, and their text
 * as the row's detail, where long text has room.  The columns a point in
 * time has no value for stay empty.
 */
static void
add_events(struct table *t, const struct span *s, size_t depth, uint64_t t0)
{
	const cJSON *events = cJSON_GetObjectItemCaseSensitive(s->o, "events"), *e;
	int indent = (int)(depth < INDENT_MAX ? depth : INDENT_MAX) * 2;
	int shown = 0, more = 0;
	char buf[32];
	uint64_t at;

	cJSON_ArrayForEach(e, events) {
		if (!cJSON_IsObject(e))
			continue;
		if (shown == EVENTS_MAX) {
			more++;
			continue;
		}
		at = ns_of(e, "time_ns");
		if (at != 0 && t0 != 0 && at >= t0) {
			spans_duration(at - t0, buf);
			table_add(t, buf);
		} else
			table_add(t, NULL);
		table_blank(t);
		table_addf(t, "%*s* event", indent, "");
		table_blank(t);
		table_blank(t);
		table_add(t, str_of(e, "name"));
		shown++;
	}
	if (more > 0) {
		table_blank(t);
		table_blank(t);
		table_addf(t, "%*s* %d more event%s", indent, "", more,
		    more == 1 ? "" : "s");
		table_blank(t);
		table_blank(t);
		table_blank(t);
	}
}

/* Depth first from ROOT, each span once: an id cycle cannot loop. */
static void
walk(struct table *t, struct span *s, size_t root, size_t *stack,
    size_t *depths, uint64_t t0)
{
	size_t top = 0, v, c, k, j, d;

	stack[top] = root;
	depths[top++] = 0;
	while (top > 0) {
		v = stack[--top];
		d = depths[top];
		if (s[v].shown)
			continue;
		s[v].shown = true;
		add_row(t, &s[v], d, t0);
		add_events(t, &s[v], d + 1, t0);
		/* Pushed last child first, so that the first pops first. */
		for (k = 0, c = s[v].child; c != NONE; c = s[c].next)
			k++;
		j = top + k;
		for (c = s[v].child; c != NONE; c = s[c].next) {
			stack[--j] = c;
			depths[j] = d + 1;
		}
		top += k;
	}
}

void
spans_print(const cJSON *answer, FILE *f)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(answer, "spans"), *e;
	static const char *const h[] = { "START", "DURATION", "SPAN", "WORKER",
	    "STATUS", "DETAIL", NULL };
	struct table *t = table_new(h, "rrllll");
	struct span *s;
	size_t n = 0, nids = 0, i, p, *order, *ids, *stack, *depths;
	uint64_t t0 = 0, tend = 0;
	char *id, buf[32];

	cJSON_ArrayForEach(e, arr)
		if (cJSON_IsObject(e))
			n++;
	s = xmalloc((n + 1) * sizeof(*s));
	order = xmalloc((n + 1) * sizeof(*order));
	ids = xmalloc((n + 1) * sizeof(*ids));
	stack = xmalloc((n + 1) * sizeof(*stack));
	depths = xmalloc((n + 1) * sizeof(*depths));
	n = 0;
	cJSON_ArrayForEach(e, arr) {
		if (!cJSON_IsObject(e))
			continue;
		s[n] = (struct span){ .o = e, .id = str_of(e, "span_id"),
		    .parent = str_of(e, "parent_span_id"),
		    .start = ns_of(e, "start_ns"), .end = ns_of(e, "end_ns"),
		    .child = NONE, .last = NONE, .next = NONE };
		if (s[n].start != 0 && (t0 == 0 || s[n].start < t0))
			t0 = s[n].start;
		if (s[n].start != 0 && s[n].end > tend)
			tend = s[n].end;
		if (s[n].id != NULL)
			ids[nids++] = n;
		order[n] = n;
		n++;
	}
	sorting = s;
	qsort(order, n, sizeof(*order), by_start);
	qsort(ids, nids, sizeof(*ids), by_id);
	sorting = NULL;
	/* In start order, so that each list of children is too. */
	for (i = 0; i < n; i++) {
		struct span *c = &s[order[i]];

		if (c->parent == NULL ||
		    (p = find(s, ids, nids, c->parent)) == NONE || p == order[i])
			continue;
		if (s[p].last == NONE)
			s[p].child = order[i];
		else
			s[s[p].last].next = order[i];
		s[p].last = order[i];
	}
	/* Roots first; then whatever only a cycle of parents reaches. */
	for (i = 0; i < n; i++) {
		struct span *c = &s[order[i]];

		if (c->parent == NULL ||
		    (p = find(s, ids, nids, c->parent)) == NONE || p == order[i])
			walk(t, s, order[i], stack, depths, t0);
	}
	for (i = 0; i < n; i++)
		walk(t, s, order[i], stack, depths, t0);

	id = ctl_sanitize(str_of(answer, "trace_id") != NULL ?
	    str_of(answer, "trace_id") : "-");
	spans_duration(tend > t0 ? tend - t0 : 0, buf);
	fprintf(f, "trace %s: %zu span%s over %s\n\n", id, n,
	    n == 1 ? "" : "s", buf);
	free(id);
	table_print(t, f);
	table_free(t);
	free(depths);
	free(stack);
	free(ids);
	free(order);
	free(s);
}

/* The worker and instance of a file's record, where /traces puts them. */
static void
lift_resource(cJSON *span)
{
	cJSON *res = cJSON_GetObjectItemCaseSensitive(span, "resource"), *v;

	if (!cJSON_IsObject(res))
		return;
	if (!cJSON_HasObjectItem(span, "worker") &&
	    cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(res, "worker")))
		cJSON_AddStringToObject(span, "worker", v->valuestring);
	if (!cJSON_HasObjectItem(span, "instance") &&
	    cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(res, "instance")))
		cJSON_AddNumberToObject(span, "instance", v->valuedouble);
}

cJSON *
spans_from_file(FILE *f, const char *trace_id, size_t *nspans)
{
	cJSON *answer = cJSON_CreateObject(), *spans, *span;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	*nspans = 0;
	if (answer == NULL ||
	    cJSON_AddStringToObject(answer, "trace_id", trace_id) == NULL ||
	    (spans = cJSON_AddArrayToObject(answer, "spans")) == NULL) {
		fputs("plbactl: out of memory\n", stderr);
		exit(2);
	}
	/* Most lines are other traces': only those naming the id are parsed,
	 * and a line that is not a record of this trace is passed over. */
	while ((len = getline(&line, &cap, f)) != -1) {
		if (strstr(line, trace_id) == NULL ||
		    (span = cJSON_ParseWithLength(line, (size_t)len)) == NULL)
			continue;
		if (!cJSON_IsObject(span) || str_of(span, "trace_id") == NULL ||
		    strcmp(str_of(span, "trace_id"), trace_id) != 0) {
			cJSON_Delete(span);
			continue;
		}
		lift_resource(span);
		cJSON_AddItemToArray(spans, span);
		(*nspans)++;
	}
	free(line);
	return answer;
}
