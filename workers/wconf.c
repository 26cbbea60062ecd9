/*
 * Configuration errors of the built-in workers, worded like the master's.
 */
/* A module built like a third party's: no config.h, so ask for POSIX. */
#define _POSIX_C_SOURCE 200809L

#include "wconf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* "FILE:LINE:COL: workers.NAME.config.KEY: ", pointing at node. */
static void
where(plba_worker *w, const plba_node *node, const char *key)
{
	const char *file = NULL;
	int line = 0, col = 0;

	plba_node_where(node, &file, &line, &col);
	if (file != NULL)
		fprintf(stderr, "%s:%d:%d: ", file, line, col);
	fprintf(stderr, "workers.%s.config%s%s", plba_worker_name(w),
	    key != NULL ? "." : "", key != NULL ? key : "");
}

void
wconf_error(plba_worker *w, const char *key, const char *fmt, ...)
{
	const plba_node *cfg = plba_worker_config(w);
	const plba_node *at = plba_node_get(cfg, key);
	va_list ap;

	/* Point at the key when it is there, else at the section. */
	where(w, at != NULL ? at : cfg, key);
	fputs(": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
wconf_item_error(plba_worker *w, const char *key, long index,
    const plba_node *item, const char *fmt, ...)
{
	va_list ap;

	where(w, item, key);
	if (index >= 0)
		fprintf(stderr, "[%ld]", index);
	fputs(": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
wconf_unknown_keys(plba_worker *w, const char *const *known)
{
	const plba_node *cfg = plba_worker_config(w);
	const char *key;
	size_t i, k;
	int n = 0;

	if (cfg == NULL || plba_node_kind(cfg) != PLBA_NODE_MAP)
		return 0;
	for (i = 0; (key = plba_node_key_at(cfg, i)) != NULL; i++) {
		for (k = 0; known[k] != NULL; k++)
			if (strcmp(known[k], key) == 0)
				break;
		if (known[k] == NULL) {
			wconf_error(w, key, "unknown key");
			n++;
		}
	}
	return n;
}

void
wconf_type_error(plba_worker *w, const char *key, const char *what)
{
	wconf_error(w, key, "expected %s", what);
}
