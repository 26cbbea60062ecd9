/*
 * From the merged configuration tree to struct settings: the platform's
 * own sections (platform, log, queues, workers) are type-checked, range
 * checked and cross-checked.  Validation never stops at the first problem,
 * so `plba-master --check` lists everything wrong with a file in one run.
 *
 * Everything in struct settings is owned by it: strings are copies, except
 * the node pointers (config, section, platform, log_section), which point
 * into settings->doc.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conf_json.h"
#include "proto.h"
#include "settings.h"

#define PATHLEN		512
#define NAME_MAX_LEN	64

struct name_ref {
	const char	*name;
	long		 i;
};

struct ctx {
	struct settings		*s;
	struct conf_errors	*errs;
	size_t			 nerrs;
	bool			 oom;
	/* per worker, for the checks that need every worker parsed */
	const struct conf_node	**depends;	/* workers.NAME.depends_on */
	const struct conf_node	**consumes;	/* workers.NAME.consumes */
	struct name_ref		*wnames;	/* workers by name */
	size_t			 nwnames;
	struct name_ref		*qnames;	/* queues by name */
	size_t			 nqnames;
};

static const char *const platform_keys[] = {
	"name", "autostart", "stop_timeout", "exit_on_failure", "state_dir",
	"modules", "http", "ipc", "trace", NULL
};
static const char *const http_keys[] = {
	"enabled", "listen", "token_file", "tls_cert", "tls_key", NULL
};
static const char *const ipc_keys[] = {
	"max_frame", "heartbeat_interval", "heartbeat_timeout", NULL
};
static const char *const trace_keys[] = {
	"transport", "file", "endpoint", "sample", NULL
};
static const char *const log_keys[] = {
	"level", "format", "output", NULL
};
static const char *const queue_keys[] = {
	"capacity", "max_attempts", "durable", "dead_max", "max_bytes",
	"dead_max_bytes", NULL
};
static const char *const worker_keys[] = {
	"module", "type", "command", "concurrency", "critical", "restart",
	"restart_delay", "restart_max_delay", "max_restarts",
	"restart_window", "stop_timeout", "depends_on", "ready",
	"max_memory", "task_timeout", "consumes", "prefetch", "environment",
	"working_directory", "user", "config", NULL
};

/* Names the master gives every instance; a worker may not override them. */
static const char *const reserved_env[] = {
	"PLBA_WORKER", "PLBA_INSTANCE", "PLBA_FD", "PLBA_PROTOCOL",
	"PLBA_CONFIG", "PLBA_MODULE_WORKER", "PLBA_MODULE_PATH", NULL
};

static const char *const restart_names[] = {
	/* in the order of enum restart_policy */
	"always", "on-failure", "never", NULL
};
static const char *const level_names[] = {
	/* in the order of enum log_level */
	"debug", "info", "warning", "error", NULL
};
static const char *const format_names[] = { "text", "json", NULL };
static const char *const transport_names[] = {
	/* in the order of enum trace_transport */
	"none", "file", "otlp", NULL
};

/* --- errors and small helpers ------------------------------------------- */

static void
err(struct ctx *c, const struct conf_node *n, const char *path,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
err(struct ctx *c, const struct conf_node *n, const char *path,
    const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	conf_verror(c->errs, n, path, fmt, ap);
	va_end(ap);
	c->nerrs++;
}

static void
err_key(struct ctx *c, const struct conf_node *map, size_t i,
    const char *path, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void
err_key(struct ctx *c, const struct conf_node *map, size_t i,
    const char *path, const char *fmt, ...)
{
	char	 msg[PATHLEN];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	conf_error_mark(c->errs, map->keymarks ? &map->keymarks[i] : NULL,
	    path, "%s", msg);
	c->nerrs++;
}

static char *
xstrdup(struct ctx *c, const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		c->oom = true;
	return p;
}

static char **
strv_new(struct ctx *c, size_t n)
{
	char	**v;

	if ((v = calloc(n + 1, sizeof(*v))) == NULL)
		c->oom = true;
	return v;
}

static void
strv_free(char **v)
{
	size_t	 i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

static size_t
append(char *buf, size_t len, const char *s)
{
	size_t	 k = strlen(s);

	if (k > PATHLEN - 1 - len)
		k = PATHLEN - 1 - len;
	memcpy(buf + len, s, k);
	buf[len + k] = '\0';
	return len + k;
}

/* "parent.key" into buf (PATHLEN bytes, may be parent), truncated. */
static void
join(char *buf, const char *parent, const char *key)
{
	char	 tmp[PATHLEN];
	size_t	 len = 0;

	tmp[0] = '\0';
	if (parent != NULL && *parent != '\0') {
		len = append(tmp, len, parent);
		len = append(tmp, len, ".");
	}
	len = append(tmp, len, key);
	memcpy(buf, tmp, len + 1);
}

/* How a value is shown in "got ...": its text, or what kind of node it is. */
static const char *
got(const struct conf_node *n, char *buf, size_t len)
{
	if (n->type == CONF_MAP)
		return "a map";
	if (n->type == CONF_SEQ)
		return "a list";
	if (strlen(n->value) > 40)
		snprintf(buf, len, "\"%.37s...\"", n->value);
	else
		snprintf(buf, len, "\"%s\"", n->value);
	return buf;
}

static bool
valid_name(const char *s)
{
	size_t	 n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789_.-");

	return n > 0 && s[n] == '\0' && n <= NAME_MAX_LEN;
}

static bool
valid_env_name(const char *s)
{
	size_t	 n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789_");

	return n > 0 && s[n] == '\0' && !(*s >= '0' && *s <= '9');
}

/* Levenshtein distance, for "did you mean"; keys are short. */
static size_t
distance(const char *a, const char *b)
{
	size_t	 la = strlen(a), lb = strlen(b), i, j, prev, cur, tmp;
	size_t	 row[NAME_MAX_LEN + 1];

	if (la > NAME_MAX_LEN || lb > NAME_MAX_LEN)
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			cur = prev + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < cur)
				cur = row[j] + 1;
			if (row[j - 1] + 1 < cur)
				cur = row[j - 1] + 1;
			tmp = row[j];
			row[j] = cur;
			prev = tmp;
		}
	}
	return row[lb];
}

/* Reports every key of map that is not in allowed, with a suggestion. */
static void
check_keys(struct ctx *c, const struct conf_node *map, const char *parent,
    const char *const *allowed)
{
	char		 path[PATHLEN];
	const char	*best;
	size_t		 i, j, d, bestd;

	for (i = 0; i < map->n; i++) {
		best = NULL;
		bestd = SIZE_MAX;
		for (j = 0; allowed[j] != NULL; j++) {
			if (strcmp(map->keys[i], allowed[j]) == 0)
				break;
			d = distance(map->keys[i], allowed[j]);
			if (d < bestd) {
				bestd = d;
				best = allowed[j];
			}
		}
		if (allowed[j] != NULL)
			continue;
		join(path, parent, map->keys[i]);
		/* Two edits catch typos without suggesting nonsense for
		 * short keys. */
		if (best != NULL && bestd <= 2 && bestd < strlen(map->keys[i]))
			err_key(c, map, i, path, "unknown key; did you mean "
			    "\"%s\"?", best);
		else
			err_key(c, map, i, path, "unknown key");
	}
}

/*
 * The value of key in map, or NULL when absent or null: a null value means
 * "the default" everywhere.  path receives the key's path.
 */
static const struct conf_node *
field(const struct conf_node *map, const char *parent, const char *key,
    char *path)
{
	const struct conf_node *n;

	join(path, parent, key);
	n = conf_map_get(map, key);
	return conf_is_null(n) ? NULL : n;
}

/* A section that must be a map when present. */
static const struct conf_node *
section(struct ctx *c, const struct conf_node *map, const char *parent,
    const char *key, char *path, const char *const *keys)
{
	const struct conf_node *n;
	char	 g[64];

	if ((n = field(map, parent, key, path)) == NULL)
		return NULL;
	if (n->type != CONF_MAP) {
		err(c, n, path, "expected a map, got %s", got(n, g, sizeof(g)));
		return NULL;
	}
	if (keys != NULL)
		check_keys(c, n, path, keys);
	return n;
}

static void
opt_string(struct ctx *c, const struct conf_node *map, const char *parent,
    const char *key, char **out)
{
	const struct conf_node *n;
	char	 path[PATHLEN], g[64];

	if ((n = field(map, parent, key, path)) == NULL)
		return;
	if (n->type != CONF_SCALAR) {
		err(c, n, path, "expected a string, got %s",
		    got(n, g, sizeof(g)));
		return;
	}
	if (*n->value == '\0') {
		err(c, n, path, "must not be empty");
		return;
	}
	free(*out);
	*out = xstrdup(c, n->value);
}

static void
opt_bool(struct ctx *c, const struct conf_node *map, const char *parent,
    const char *key, bool *out)
{
	const struct conf_node *n;
	char	 path[PATHLEN], g[64];

	if ((n = field(map, parent, key, path)) == NULL)
		return;
	if (n->type != CONF_SCALAR || conf_parse_bool(n->value, out) == -1)
		err(c, n, path, "expected true or false, got %s",
		    got(n, g, sizeof(g)));
}

static bool
get_duration(struct ctx *c, const struct conf_node *n, const char *path,
    bool positive, uint64_t *out)
{
	uint64_t v;
	char	 g[64];

	if (n->type != CONF_SCALAR || conf_parse_duration(n->value, &v) == -1) {
		err(c, n, path, "expected a duration such as 250ms, 5s, 2m "
		    "or 1h, got %s", got(n, g, sizeof(g)));
		return false;
	}
	if (positive && v == 0) {
		err(c, n, path, "must be longer than 0");
		return false;
	}
	*out = v;
	return true;
}

/* Returns the node when it was present and valid, for checks between keys. */
static const struct conf_node *
opt_duration(struct ctx *c, const struct conf_node *map, const char *parent,
    const char *key, bool positive, uint64_t *out)
{
	const struct conf_node *n;
	char	 path[PATHLEN];

	if ((n = field(map, parent, key, path)) == NULL)
		return NULL;
	return get_duration(c, n, path, positive, out) ? n : NULL;
}

static void
opt_size(struct ctx *c, const struct conf_node *map, const char *parent,
    const char *key, uint64_t min, uint64_t max, uint64_t *out)
{
	const struct conf_node *n;
	char	 path[PATHLEN], g[64];
	uint64_t v;

	if ((n = field(map, parent, key, path)) == NULL)
		return;
	if (n->type != CONF_SCALAR || conf_parse_size(n->value, &v) == -1)
		err(c, n, path, "expected a size such as 512, 64KiB or 16MiB, "
		    "got %s", got(n, g, sizeof(g)));
	else if (v < min)
		err(c, n, path, "must be at least %llu bytes",
		    (unsigned long long)min);
	else if (v > max)
		err(c, n, path, "must be at most %llu bytes",
		    (unsigned long long)max);
	else
		*out = v;
}

static void
opt_uint(struct ctx *c, const struct conf_node *map, const char *parent,
    const char *key, uint64_t min, uint64_t max, uint64_t *out)
{
	const struct conf_node *n;
	char	 path[PATHLEN], g[64];
	long long v;

	if ((n = field(map, parent, key, path)) == NULL)
		return;
	if (n->type != CONF_SCALAR || conf_parse_int(n->value, &v) == -1 ||
	    v < 0 || (uint64_t)v < min)
		err(c, n, path, "expected a %s integer, got %s",
		    min > 0 ? "positive" : "non-negative",
		    got(n, g, sizeof(g)));
	else if ((uint64_t)v > max)
		err(c, n, path, "must be at most %llu, got %s",
		    (unsigned long long)max, got(n, g, sizeof(g)));
	else
		*out = (uint64_t)v;
}

static void
opt_unsigned(struct ctx *c, const struct conf_node *map, const char *parent,
    const char *key, unsigned min, unsigned max, unsigned *out)
{
	uint64_t v = *out;

	opt_uint(c, map, parent, key, min, max, &v);
	*out = (unsigned)v;
}

/*
 * A number from 0 to 1 written in decimal: "0.25", "1", ".5"; not what
 * strtod would also take (exponents, hex, inf, nan, signs, spaces), and
 * not subject to a locale that a module may have set.  Places past the
 * fifteenth are ignored: below anything a sampling ratio can mean.
 */
static int
parse_ratio(const char *s, double *out)
{
	const uint64_t max_scale = UINT64_C(1000000000000000);
	uint64_t mantissa = 0, scale = 1;
	bool	 fraction = false, digits = false, big = false, rest = false;
	const char *p;

	for (p = s; (*p >= '0' && *p <= '9') || (*p == '.' && !fraction); p++) {
		if (*p == '.') {
			fraction = true;
			continue;
		}
		digits = true;
		if (!fraction && mantissa > 1)
			big = true;
		else if (!fraction || scale < max_scale) {
			mantissa = mantissa * 10 + (uint64_t)(*p - '0');
			scale *= fraction ? 10 : 1;
		} else
			rest |= *p != '0';
	}
	/* 1.0000000000000001 is still above 1. */
	big |= mantissa > scale || (mantissa == scale && rest);
	if (*p != '\0' || !digits || big)
		return -1;
	/* Both below 2^53, exact in a double: the quotient is rounded once. */
	*out = (double)mantissa / (double)scale;
	return 0;
}

static void
opt_ratio(struct ctx *c, const struct conf_node *map, const char *parent,
    const char *key, double *out)
{
	const struct conf_node *n;
	char	 path[PATHLEN], g[64];

	if ((n = field(map, parent, key, path)) == NULL)
		return;
	if (n->type != CONF_SCALAR || parse_ratio(n->value, out) == -1)
		err(c, n, path, "expected a number from 0 to 1, such as 0.1, "
		    "got %s", got(n, g, sizeof(g)));
}

static void
opt_enum(struct ctx *c, const struct conf_node *map, const char *parent,
    const char *key, const char *const *names, int *out)
{
	const struct conf_node *n;
	char	 path[PATHLEN], g[64], list[128] = "";
	size_t	 i;

	if ((n = field(map, parent, key, path)) == NULL)
		return;
	for (i = 0; n->type == CONF_SCALAR && names[i] != NULL; i++)
		if (strcmp(n->value, names[i]) == 0) {
			*out = (int)i;
			return;
		}
	for (i = 0; names[i] != NULL; i++) {
		if (i > 0)
			strncat(list, names[i + 1] ? ", " : " or ",
			    sizeof(list) - strlen(list) - 1);
		strncat(list, names[i], sizeof(list) - strlen(list) - 1);
	}
	err(c, n, path, "expected %s, got %s", list, got(n, g, sizeof(g)));
}

/* A list of non-empty strings; also_scalar lets one string stand for a list. */
static const struct conf_node *
opt_strlist(struct ctx *c, const struct conf_node *map, const char *parent,
    const char *key, bool also_scalar, const char *what, char ***out)
{
	const struct conf_node *n, *it;
	char	 path[PATHLEN], ipath[PATHLEN + 32], g[64];
	char	**v;
	size_t	 i;
	bool	 ok = true;

	if ((n = field(map, parent, key, path)) == NULL)
		return NULL;
	if (also_scalar && n->type == CONF_SCALAR) {
		if (*n->value == '\0') {
			err(c, n, path, "must not be empty");
			return NULL;
		}
		if ((v = strv_new(c, 1)) == NULL)
			return NULL;
		v[0] = xstrdup(c, n->value);
		strv_free(*out);
		*out = v;
		return n;
	}
	if (n->type != CONF_SEQ) {
		err(c, n, path, "expected %s, got %s", what,
		    got(n, g, sizeof(g)));
		return NULL;
	}
	for (i = 0; i < n->n; i++) {
		it = n->items[i];
		snprintf(ipath, sizeof(ipath), "%s[%zu]", path, i);
		if (it->type != CONF_SCALAR || conf_is_null(it)) {
			err(c, it, ipath, "expected a string, got %s",
			    conf_is_null(it) ? "null" : got(it, g, sizeof(g)));
			ok = false;
		} else if (*it->value == '\0') {
			err(c, it, ipath, "must not be empty");
			ok = false;
		}
	}
	if (!ok || (v = strv_new(c, n->n)) == NULL)
		return NULL;
	for (i = 0; i < n->n; i++)
		v[i] = xstrdup(c, n->items[i]->value);
	strv_free(*out);
	*out = v;
	return n;
}

/* --- platform and log ---------------------------------------------------- */

static bool
is_loopback(const char *addr)
{
	return strncmp(addr, "127.", 4) == 0 ||
	    strncmp(addr, "localhost:", 10) == 0 ||
	    strncmp(addr, "[::1]:", 6) == 0;
}

/* "host:port" or "[v6]:port"; returns NULL when fine, else why not. */
static const char *
check_listen(const char *s)
{
	const char	*colon = strrchr(s, ':'), *p;
	long		 port = 0;

	if (colon == NULL || colon == s || colon[1] == '\0')
		return "expected host:port, e.g. 127.0.0.1:8080";
	if (*s == '[') {
		if (colon[-1] != ']' || colon - s < 3)
			return "expected [address]:port for IPv6, "
			    "e.g. [::1]:8080";
	} else if (memchr(s, ':', (size_t)(colon - s)) != NULL)
		return "write IPv6 addresses in brackets, e.g. [::1]:8080";
	for (p = colon + 1; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return "the port must be a number";
		if ((port = port * 10 + (*p - '0')) > 65535)
			break;
	}
	if (port < 1 || port > 65535)
		return "the port must be between 1 and 65535";
	return NULL;
}

static void
parse_http(struct ctx *c, const struct conf_node *p)
{
	struct settings	*s = c->s;
	const struct conf_node *h, *listen, *cert, *key;
	char		 path[PATHLEN], lpath[PATHLEN], ipath[PATHLEN + 32];
	char		 cpath[PATHLEN], kpath[PATHLEN];
	const char	*why;
	size_t		 i;
	bool		 public = false;

	if ((h = section(c, p, "platform", "http", path, http_keys)) == NULL)
		return;
	opt_bool(c, h, path, "enabled", &s->http.enabled);
	listen = opt_strlist(c, h, path, "listen", true,
	    "an address or a list of addresses, e.g. 127.0.0.1:8080",
	    &s->http.listen);
	if (listen != NULL && listen->type == CONF_SEQ && listen->n == 0) {
		join(lpath, path, "listen");
		err(c, listen, lpath, "expected at least one address");
	}
	for (i = 0; listen != NULL && s->http.listen[i] != NULL; i++) {
		join(lpath, path, "listen");
		if (listen->type == CONF_SEQ)
			snprintf(ipath, sizeof(ipath), "%s[%zu]", lpath, i);
		else
			snprintf(ipath, sizeof(ipath), "%s", lpath);
		if ((why = check_listen(s->http.listen[i])) != NULL)
			err(c, listen->type == CONF_SEQ ? listen->items[i] :
			    listen, ipath, "%s, got \"%s\"", why,
			    s->http.listen[i]);
		else if (!is_loopback(s->http.listen[i]))
			public = true;
	}
	opt_string(c, h, path, "token_file", &s->http.token_file);
	opt_string(c, h, path, "tls_cert", &s->http.tls_cert);
	opt_string(c, h, path, "tls_key", &s->http.tls_key);
	cert = field(h, path, "tls_cert", cpath);
	key = field(h, path, "tls_key", kpath);
	if (cert != NULL && key == NULL)
		err(c, cert, cpath, "tls_key must be set too");
	if (key != NULL && cert == NULL)
		err(c, key, kpath, "tls_cert must be set too");
	/* The HTTP API can stop and restart everything: off the loopback
	 * it is refused without a token, so say so before starting. */
	if (public && s->http.enabled && s->http.token_file == NULL) {
		join(lpath, path, "listen");
		err(c, listen, lpath, "a non-loopback address needs "
		    "%s.token_file", path);
	}
}

static void
parse_ipc(struct ctx *c, const struct conf_node *p)
{
	struct settings	*s = c->s;
	const struct conf_node *ipc, *to;
	char		 path[PATHLEN], tpath[PATHLEN];

	if ((ipc = section(c, p, "platform", "ipc", path, ipc_keys)) == NULL)
		return;
	/* Frame lengths travel as 32-bit numbers. */
	opt_size(c, ipc, path, "max_frame", 1024, UINT32_MAX,
	    &s->ipc.max_frame);
	opt_duration(c, ipc, path, "heartbeat_interval", true,
	    &s->ipc.heartbeat_interval_ms);
	to = opt_duration(c, ipc, path, "heartbeat_timeout", true,
	    &s->ipc.heartbeat_timeout_ms);
	if (to != NULL &&
	    s->ipc.heartbeat_timeout_ms <= s->ipc.heartbeat_interval_ms) {
		join(tpath, path, "heartbeat_timeout");
		err(c, to, tpath, "must be longer than heartbeat_interval");
	}
}

static void
parse_trace(struct ctx *c, const struct conf_node *p)
{
	struct settings	*s = c->s;
	const struct conf_node *t, *tn;
	char		 path[PATHLEN], tpath[PATHLEN], fpath[PATHLEN];
	int		 v = (int)s->trace.transport;

	if ((t = section(c, p, "platform", "trace", path, trace_keys)) == NULL)
		return;
	opt_enum(c, t, path, "transport", transport_names, &v);
	s->trace.transport = (enum trace_transport)v;
	opt_string(c, t, path, "file", &s->trace.file);
	opt_string(c, t, path, "endpoint", &s->trace.endpoint);
	opt_ratio(c, t, path, "sample", &s->trace.sample);
	tn = field(t, path, "transport", tpath);
	if (s->trace.transport == TRACE_FILE &&
	    field(t, path, "file", fpath) == NULL)
		err(c, tn, tpath, "the file transport needs %s", fpath);
}

static void
parse_platform(struct ctx *c, const struct conf_node *root)
{
	struct settings	*s = c->s;
	const struct conf_node *p;
	char		 path[PATHLEN];

	if ((p = section(c, root, NULL, "platform", path,
	    platform_keys)) == NULL)
		return;
	s->platform = p;
	opt_string(c, p, "platform", "name", &s->name);
	opt_bool(c, p, "platform", "autostart", &s->autostart);
	opt_duration(c, p, "platform", "stop_timeout", true,
	    &s->stop_timeout_ms);
	opt_bool(c, p, "platform", "exit_on_failure", &s->exit_on_failure);
	opt_string(c, p, "platform", "state_dir", &s->state_dir);
	opt_strlist(c, p, "platform", "modules", false,
	    "a list of module paths, e.g. [/usr/lib/plba/modules/app.so]",
	    &s->modules);
	parse_http(c, p);
	parse_ipc(c, p);
	parse_trace(c, p);
}

static void
parse_log(struct ctx *c, const struct conf_node *root)
{
	struct settings	*s = c->s;
	const struct conf_node *l;
	char		 path[PATHLEN];
	int		 level = (int)s->log.level, format = s->log.json;

	if ((l = section(c, root, NULL, "log", path, log_keys)) == NULL)
		return;
	s->log_section = l;
	opt_enum(c, l, "log", "level", level_names, &level);
	s->log.level = (enum log_level)level;
	opt_enum(c, l, "log", "format", format_names, &format);
	s->log.json = format == 1;
	opt_string(c, l, "log", "output", &s->log.output);
}

/* --- queues ------------------------------------------------------------- */

static void
parse_queues(struct ctx *c, const struct conf_node *root)
{
	struct settings	*s = c->s;
	const struct conf_node *qs, *qn;
	struct queue_def *q;
	char		 path[PATHLEN], qpath[PATHLEN], g[64];
	uint64_t	 cap;
	size_t		 i;

	if ((qs = section(c, root, NULL, "queues", path, NULL)) == NULL)
		return;
	if (qs->n == 0)
		return;
	if ((s->queues = calloc(qs->n, sizeof(*s->queues))) == NULL) {
		c->oom = true;
		return;
	}
	for (i = 0; i < qs->n; i++) {
		join(qpath, "queues", qs->keys[i]);
		if (!valid_name(qs->keys[i]))
			err_key(c, qs, i, qpath, "queue names are 1 to %d "
			    "letters, digits, '_', '.' or '-'", NAME_MAX_LEN);
		q = &s->queues[s->nqueues++];
		q->name = xstrdup(c, qs->keys[i]);
		q->capacity = 10000;
		q->max_attempts = 5;
		q->durable = false;
		q->dead_max = 10000;
		q->max_bytes = 256u << 20;
		q->dead_max_bytes = 256u << 20;
		qn = qs->items[i];
		if (conf_is_null(qn))
			continue;
		if (qn->type != CONF_MAP) {
			err(c, qn, qpath, "expected a map, got %s",
			    got(qn, g, sizeof(g)));
			continue;
		}
		check_keys(c, qn, qpath, queue_keys);
		cap = q->capacity;
		opt_uint(c, qn, qpath, "capacity", 1, LLONG_MAX, &cap);
		q->capacity = cap;
		opt_unsigned(c, qn, qpath, "max_attempts", 1, UINT_MAX,
		    &q->max_attempts);
		opt_bool(c, qn, qpath, "durable", &q->durable);
		cap = q->dead_max;
		opt_uint(c, qn, qpath, "dead_max", 1, LLONG_MAX, &cap);
		q->dead_max = cap;
		opt_size(c, qn, qpath, "max_bytes", 0, UINT64_MAX, &q->max_bytes);
		opt_size(c, qn, qpath, "dead_max_bytes", 0, UINT64_MAX,
		    &q->dead_max_bytes);
	}
}

/* --- workers ------------------------------------------------------------ */

static void
parse_command(struct ctx *c, struct worker_def *w, const struct conf_node *n,
    const char *path)
{
	char	 g[64], ipath[PATHLEN + 32];
	size_t	 i;
	bool	 ok = true;

	if (n->type != CONF_SEQ) {
		err(c, n, path, "expected a list of arguments, e.g. "
		    "[/bin/prog, arg], got %s", got(n, g, sizeof(g)));
		return;
	}
	if (n->n == 0) {
		err(c, n, path, "expected at least the program to run");
		return;
	}
	for (i = 0; i < n->n; i++) {
		snprintf(ipath, sizeof(ipath), "%s[%zu]", path, i);
		if (n->items[i]->type != CONF_SCALAR) {
			err(c, n->items[i], ipath, "expected a string, got %s",
			    got(n->items[i], g, sizeof(g)));
			ok = false;
		} else if (i == 0 && *n->items[i]->value == '\0') {
			err(c, n->items[i], ipath, "the program must not be "
			    "empty");
			ok = false;
		}
	}
	if (!ok || (w->argv = strv_new(c, n->n)) == NULL)
		return;
	/* Arguments are taken as written: a quoted "" is an empty argument
	 * and an unquoted ~ is the text "~", not a null. */
	for (i = 0; i < n->n; i++)
		w->argv[i] = xstrdup(c, n->items[i]->value);
}

static void
parse_kind(struct ctx *c, struct worker_def *w, const struct conf_node *wn,
    const char *wpath)
{
	static const char *const kinds[] = { "command", "module", "type" };
	const struct conf_node *n, *first = NULL;
	const char	*firstkey = NULL;
	char		 path[PATHLEN], g[64];
	size_t		 i, k, at, firstat = 0;

	for (i = 0; i < 3; i++) {
		if ((n = field(wn, wpath, kinds[i], path)) == NULL)
			continue;
		for (at = 0; at < wn->n; at++)
			if (wn->items[at] == n)
				break;
		if (first != NULL) {
			/* Point at the one written last, where the reader
			 * is likely to look. */
			k = at > firstat ? at : firstat;
			join(path, wpath, wn->keys[k]);
			err_key(c, wn, k, path, "%s and %s cannot both be set",
			    firstkey, kinds[i]);
			continue;
		}
		firstat = at;
		first = n;
		firstkey = kinds[i];
		if (i == 0) {
			w->kind = WORKER_EXEC;
			parse_command(c, w, n, path);
		} else if (n->type != CONF_SCALAR) {
			err(c, n, path, "expected a string, got %s",
			    got(n, g, sizeof(g)));
		} else if (*n->value == '\0') {
			err(c, n, path, "must not be empty");
		} else if (i == 1) {
			w->kind = WORKER_MODULE;
			w->module = xstrdup(c, n->value);
		} else {
			w->kind = WORKER_BUILTIN;
			w->type = xstrdup(c, n->value);
		}
	}
	if (first == NULL)
		err(c, wn, wpath, "one of command, module or type is required");
}

static void
parse_ready(struct ctx *c, struct worker_def *w, const struct conf_node *wn,
    const char *wpath)
{
	const struct conf_node *n;
	char	 path[PATHLEN], g[64];

	if ((n = field(wn, wpath, "ready", path)) == NULL)
		return;
	if (n->type == CONF_SCALAR && strcmp(n->value, "protocol") == 0)
		w->ready = READY_PROTOCOL;
	else if (n->type == CONF_SCALAR && strcmp(n->value, "notify") == 0)
		w->ready = READY_NOTIFY;
	else if (n->type == CONF_SCALAR &&
	    conf_parse_duration(n->value, &w->ready_delay_ms) == 0)
		w->ready = READY_DELAY;
	else
		err(c, n, path, "expected protocol, notify or a duration such "
		    "as 2s, got %s", got(n, g, sizeof(g)));
}

static void
parse_environment(struct ctx *c, struct worker_def *w,
    const struct conf_node *wn, const char *wpath)
{
	const struct conf_node *n, *v;
	char	 path[PATHLEN], kpath[PATHLEN], g[64];
	size_t	 i, j, k = 0;
	bool	 ok = true;

	if ((n = field(wn, wpath, "environment", path)) == NULL)
		return;
	if (n->type != CONF_MAP) {
		err(c, n, path, "expected a map of variables, e.g. {TZ: UTC}, "
		    "got %s", got(n, g, sizeof(g)));
		return;
	}
	for (i = 0; i < n->n; i++) {
		join(kpath, path, n->keys[i]);
		v = n->items[i];
		if (!valid_env_name(n->keys[i])) {
			err_key(c, n, i, kpath, "not a valid environment "
			    "variable name");
			ok = false;
			continue;
		}
		for (j = 0; reserved_env[j] != NULL; j++)
			if (strcmp(n->keys[i], reserved_env[j]) == 0)
				break;
		if (reserved_env[j] != NULL) {
			err_key(c, n, i, kpath, "is set by the master for "
			    "every instance");
			ok = false;
		} else if (v->type != CONF_SCALAR) {
			err(c, v, kpath, "expected a string, got %s",
			    got(v, g, sizeof(g)));
			ok = false;
		}
	}
	if (!ok || (w->env = strv_new(c, n->n)) == NULL)
		return;
	for (i = 0; i < n->n; i++) {
		v = n->items[i];
		/* A null value is an empty variable, as in `FOO:`. */
		if (asprintf(&w->env[k], "%s=%s", n->keys[i],
		    conf_is_null(v) ? "" : v->value) == -1) {
			w->env[k] = NULL;
			c->oom = true;
			return;
		}
		k++;
	}
}

/*
 * What login(1) and systemd's User= set, taken here because the spawn
 * cannot look anything up: it runs after fork in a process with threads.
 * An empty shell is /bin/sh, as passwd(5) says; an empty home sets none.
 */
static void
user_env(struct ctx *c, struct worker_def *w, const struct passwd *pw)
{
	const char *shell = *pw->pw_shell != '\0' ? pw->pw_shell : "/bin/sh";
	size_t k = 0;

	if ((w->user_env = strv_new(c, 4)) == NULL)
		return;
	if ((*pw->pw_dir != '\0' &&
	    asprintf(&w->user_env[k++], "HOME=%s", pw->pw_dir) == -1) ||
	    asprintf(&w->user_env[k++], "USER=%s", pw->pw_name) == -1 ||
	    asprintf(&w->user_env[k++], "LOGNAME=%s", pw->pw_name) == -1 ||
	    asprintf(&w->user_env[k++], "SHELL=%s", shell) == -1) {
		w->user_env[k - 1] = NULL;
		c->oom = true;
	}
}

static void
parse_user(struct ctx *c, struct worker_def *w, const struct conf_node *wn,
    const char *wpath)
{
	const struct conf_node *n;
	struct passwd	*pw;
	char		 path[PATHLEN], g[64], *end;
	unsigned long	 uid;

	if ((n = field(wn, wpath, "user", path)) == NULL)
		return;
	if (n->type != CONF_SCALAR || *n->value == '\0') {
		err(c, n, path, "expected a user name, got %s",
		    got(n, g, sizeof(g)));
		return;
	}
	/* A number is taken as a uid, as chown(1) does when no such name
	 * exists. */
	errno = 0;
	if ((pw = getpwnam(n->value)) == NULL && n->value[0] >= '0' &&
	    n->value[0] <= '9') {
		uid = strtoul(n->value, &end, 10);
		if (*end == '\0' && uid <= UINT_MAX)
			pw = getpwuid((uid_t)uid);
	}
	if (pw == NULL) {
		if (errno != 0 && errno != ENOENT && errno != ESRCH)
			err(c, n, path, "cannot look up user \"%s\": %s",
			    n->value, strerror(errno));
		else
			err(c, n, path, "user \"%s\" does not exist",
			    n->value);
		return;
	}
	w->user = xstrdup(c, n->value);
	w->uid = pw->pw_uid;
	w->gid = pw->pw_gid;
	user_env(c, w, pw);
}

/*
 * The welcome message carries the worker's config to every instance, so
 * it must fit in a frame: a child may refuse a larger one, as the master
 * refuses a child's.  Said here, with the place, rather than by an
 * instance that cannot start.
 */
static void
check_welcome(struct ctx *c, const struct worker_def *w, const char *path)
{
	uint64_t max = c->s->ipc.max_frame;
	size_t len;
	char *json;

	if (w->config == NULL)
		return;
	if ((json = conf_to_json(w->config)) == NULL) {
		c->oom = true;
		return;
	}
	len = strlen(json);
	free(json);
	if (len + strlen(w->name) + PROTO_WELCOME_EXTRA > max)
		err(c, w->config, path, "%zu bytes as JSON: too large for the "
		    "welcome message that carries it to each instance, as "
		    "platform.ipc.max_frame is %" PRIu64 " bytes", len, max);
}

static void
parse_worker(struct ctx *c, struct worker_def *w, size_t wi,
    const struct conf_node *wn, const char *wpath)
{
	struct settings	*s = c->s;
	const struct conf_node *d, *md, *n;
	char		 path[PATHLEN], g[64];
	int		 restart = (int)RESTART_ON_FAILURE;

	check_keys(c, wn, wpath, worker_keys);
	parse_kind(c, w, wn, wpath);
	opt_unsigned(c, wn, wpath, "concurrency", 1, 10000, &w->concurrency);
	opt_bool(c, wn, wpath, "critical", &w->critical);
	opt_enum(c, wn, wpath, "restart", restart_names, &restart);
	w->restart = (enum restart_policy)restart;
	d = opt_duration(c, wn, wpath, "restart_delay", false,
	    &w->restart_delay_ms);
	md = opt_duration(c, wn, wpath, "restart_max_delay", false,
	    &w->restart_max_delay_ms);
	if (md != NULL && w->restart_max_delay_ms < w->restart_delay_ms) {
		join(path, wpath, "restart_max_delay");
		err(c, md, path, "must not be shorter than restart_delay");
	} else if (md == NULL && d != NULL &&
	    w->restart_max_delay_ms < w->restart_delay_ms)
		/* Only the first delay was given: it caps itself. */
		w->restart_max_delay_ms = w->restart_delay_ms;
	opt_unsigned(c, wn, wpath, "max_restarts", 0, UINT_MAX,
	    &w->max_restarts);
	opt_duration(c, wn, wpath, "restart_window", true,
	    &w->restart_window_ms);
	w->stop_timeout_ms = s->stop_timeout_ms;
	opt_duration(c, wn, wpath, "stop_timeout", true, &w->stop_timeout_ms);
	parse_ready(c, w, wn, wpath);
	opt_size(c, wn, wpath, "max_memory", 0, UINT64_MAX, &w->max_memory);
	opt_duration(c, wn, wpath, "task_timeout", false, &w->task_timeout_ms);
	if ((n = field(wn, wpath, "consumes", path)) != NULL) {
		if (n->type != CONF_SCALAR)
			err(c, n, path, "expected a queue name, got %s",
			    got(n, g, sizeof(g)));
		else {
			c->consumes[wi] = n;
			/* A consumer speaks the protocol: it is ready when it
			 * says so, not after a delay, unless told otherwise. */
			if (conf_map_get(wn, "ready") == NULL ||
			    conf_is_null(conf_map_get(wn, "ready")))
				w->ready = READY_PROTOCOL;
		}
	}
	opt_unsigned(c, wn, wpath, "prefetch", 1, UINT_MAX, &w->prefetch);
	parse_environment(c, w, wn, wpath);
	opt_string(c, wn, wpath, "working_directory", &w->working_directory);
	parse_user(c, w, wn, wpath);
	if ((n = field(wn, wpath, "depends_on", path)) != NULL) {
		if (n->type != CONF_SEQ)
			err(c, n, path, "expected a list of worker names, "
			    "e.g. [db-proxy], got %s", got(n, g, sizeof(g)));
		else
			c->depends[wi] = n;
	}
	w->config = field(wn, wpath, "config", path);
	check_welcome(c, w, path);
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct name_ref *)a)->name,
	    ((const struct name_ref *)b)->name);
}

/*
 * Sorted names for the cross-checks (depends_on, consumes), which would
 * otherwise be quadratic in the number of workers.  Names are unique: they
 * are keys of one map.
 */
static struct name_ref *
name_index(struct ctx *c, size_t n, const char *(*name)(const struct settings *,
    size_t), size_t *np)
{
	struct name_ref	*v;
	size_t		 i, k = 0;

	if ((v = calloc(n ? n : 1, sizeof(*v))) == NULL) {
		c->oom = true;
		return NULL;
	}
	for (i = 0; i < n; i++)
		if ((v[k].name = name(c->s, i)) != NULL)
			v[k++].i = (long)i;
	qsort(v, k, sizeof(*v), name_cmp);
	*np = k;
	return v;
}

static long
name_find(const struct name_ref *v, size_t n, const char *name)
{
	struct name_ref	 key = { name, -1 }, *r;

	if (v == NULL)
		return -1;
	r = bsearch(&key, v, n, sizeof(*v), name_cmp);
	return r != NULL ? r->i : -1;
}

static const char *
worker_name(const struct settings *s, size_t i)
{
	return s->workers[i].name;
}

static const char *
queue_name(const struct settings *s, size_t i)
{
	return s->queues[i].name;
}

static void
resolve_consumes(struct ctx *c)
{
	struct settings	*s = c->s;
	const struct conf_node *n;
	char		 path[PATHLEN];
	size_t		 i;

	for (i = 0; i < s->nworkers; i++) {
		if ((n = c->consumes[i]) == NULL)
			continue;
		/* A module may declare the queue: the master, which loads
		 * the modules, makes that check. */
		if (name_find(c->qnames, c->nqnames, n->value) < 0 &&
		    (s->modules == NULL || s->modules[0] == NULL)) {
			join(path, "workers", s->workers[i].name);
			join(path, path, "consumes");
			err(c, n, path, "queue \"%s\" is not declared in "
			    "queues", n->value);
			continue;
		}
		s->workers[i].consumes = xstrdup(c, n->value);
	}
}

/*
 * Fills depends_on and returns the dependency graph as index lists (each
 * ending with -1) for the cycle check; NULL on out of memory.
 */
static long **
resolve_depends(struct ctx *c)
{
	struct settings	*s = c->s;
	const struct conf_node *n, *it;
	char		 path[PATHLEN], ipath[PATHLEN + 32], g[64];
	long		**graph, t;
	size_t		 i, j, k, m;

	if ((graph = calloc(s->nworkers ? s->nworkers : 1,
	    sizeof(*graph))) == NULL) {
		c->oom = true;
		return NULL;
	}
	for (i = 0; i < s->nworkers; i++) {
		n = c->depends[i];
		if ((graph[i] = calloc(n ? n->n + 1 : 1,
		    sizeof(**graph))) == NULL ||
		    (s->workers[i].depends_on = strv_new(c,
		    n ? n->n : 0)) == NULL) {
			c->oom = true;
			return graph;
		}
		graph[i][0] = -1;
		if (n == NULL)
			continue;
		join(path, "workers", s->workers[i].name);
		join(path, path, "depends_on");
		for (j = 0, k = 0; j < n->n; j++) {
			it = n->items[j];
			snprintf(ipath, sizeof(ipath), "%s[%zu]", path, j);
			if (it->type != CONF_SCALAR || conf_is_null(it)) {
				err(c, it, ipath, "expected a worker name, "
				    "got %s", conf_is_null(it) ? "null" :
				    got(it, g, sizeof(g)));
				continue;
			}
			if ((t = name_find(c->wnames, c->nwnames,
			    it->value)) < 0) {
				err(c, it, ipath, "unknown worker \"%s\"",
				    it->value);
				continue;
			}
			if ((size_t)t == i) {
				err(c, it, ipath, "a worker cannot depend on "
				    "itself");
				continue;
			}
			for (m = 0; m < k; m++)
				if (graph[i][m] == t)
					break;
			if (m < k) {
				err(c, it, ipath, "\"%s\" is listed twice",
				    it->value);
				continue;
			}
			graph[i][k] = t;
			graph[i][++k] = -1;
			s->workers[i].depends_on[k - 1] = xstrdup(c, it->value);
		}
	}
	return graph;
}

/*
 * Depth-first search with an explicit stack (a long chain of workers must
 * not exhaust the C stack).  Each cycle found is reported once, at the
 * depends_on of the worker where it was entered: "a -> b -> a".
 */
static void
check_cycles(struct ctx *c, long **graph)
{
	struct settings	*s = c->s;
	struct { long w; size_t next; } *stack;
	unsigned char	*color;		/* 0 new, 1 on the stack, 2 done */
	char		 path[PATHLEN], msg[PATHLEN];
	size_t		 i, sp, k, len;
	long		 w, d;

	stack = calloc(s->nworkers + 1, sizeof(*stack));
	color = calloc(s->nworkers + 1, 1);
	if (stack == NULL || color == NULL) {
		c->oom = true;
		goto out;
	}
	for (i = 0; i < s->nworkers; i++) {
		if (color[i] != 0)
			continue;
		sp = 0;
		stack[sp].w = (long)i;
		stack[sp++].next = 0;
		color[i] = 1;
		while (sp > 0) {
			w = stack[sp - 1].w;
			if ((d = graph[w][stack[sp - 1].next]) == -1) {
				color[w] = 2;
				sp--;
				continue;
			}
			stack[sp - 1].next++;
			if (color[d] == 0) {
				color[d] = 1;
				stack[sp].w = d;
				stack[sp++].next = 0;
				continue;
			}
			if (color[d] == 2)
				continue;
			for (k = 0; stack[k].w != d; k++)
				;
			len = 0;
			msg[0] = '\0';
			for (; k < sp; k++) {
				len = append(msg, len,
				    s->workers[stack[k].w].name);
				len = append(msg, len, " -> ");
			}
			len = append(msg, len, s->workers[d].name);
			/* Shortened visibly when it does not fit. */
			if (len == sizeof(msg) - 1)
				memcpy(msg + len - 4, " ...", 5);
			join(path, "workers", s->workers[d].name);
			join(path, path, "depends_on");
			err(c, c->depends[d], path, "dependency cycle %s", msg);
		}
	}
out:
	free(stack);
	free(color);
}

static void
parse_workers(struct ctx *c, const struct conf_node *root)
{
	struct settings	*s = c->s;
	const struct conf_node *ws, *wn;
	struct worker_def *w;
	char		 path[PATHLEN], wpath[PATHLEN], g[64];
	long		**graph;
	size_t		 i;

	if ((ws = section(c, root, NULL, "workers", path, NULL)) == NULL ||
	    ws->n == 0)
		return;
	s->workers = calloc(ws->n, sizeof(*s->workers));
	c->depends = calloc(ws->n, sizeof(*c->depends));
	c->consumes = calloc(ws->n, sizeof(*c->consumes));
	if (s->workers == NULL || c->depends == NULL || c->consumes == NULL) {
		c->oom = true;
		return;
	}
	for (i = 0; i < ws->n; i++) {
		join(wpath, "workers", ws->keys[i]);
		if (!valid_name(ws->keys[i]))
			err_key(c, ws, i, wpath, "worker names are 1 to %d "
			    "letters, digits, '_', '.' or '-'", NAME_MAX_LEN);
		w = &s->workers[s->nworkers++];
		w->name = xstrdup(c, ws->keys[i]);
		w->kind = WORKER_EXEC;
		w->concurrency = 1;
		w->critical = true;
		w->restart = RESTART_ON_FAILURE;
		w->restart_delay_ms = 100;
		w->restart_max_delay_ms = 30000;
		w->max_restarts = 10;
		w->restart_window_ms = 60000;
		w->stop_timeout_ms = s->stop_timeout_ms;
		w->ready = READY_DELAY;
		w->ready_delay_ms = 1000;
		w->prefetch = 1;
		w->uid = (uid_t)-1;
		w->gid = (gid_t)-1;
		wn = ws->items[i];
		w->section = wn;
		if (wn->type != CONF_MAP) {
			err(c, wn, wpath, "expected a map with command, module "
			    "or type, got %s", conf_is_null(wn) ? "null" :
			    got(wn, g, sizeof(g)));
			continue;
		}
		parse_worker(c, w, i, wn, wpath);
	}
	c->wnames = name_index(c, s->nworkers, worker_name, &c->nwnames);
	c->qnames = name_index(c, s->nqueues, queue_name, &c->nqnames);
	if (c->oom)
		return;
	resolve_consumes(c);
	if ((graph = resolve_depends(c)) == NULL)
		return;
	if (!c->oom)
		check_cycles(c, graph);
	for (i = 0; i < s->nworkers; i++)
		free(graph[i]);
	free(graph);
}

/* --- entry points ------------------------------------------------------- */

static struct settings *
settings_new(void)
{
	struct settings	*s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->autostart = true;
	s->stop_timeout_ms = 30000;
	s->ipc.max_frame = 16u << 20;
	s->ipc.heartbeat_interval_ms = 1000;
	s->ipc.heartbeat_timeout_ms = 5000;
	s->trace.transport = TRACE_NONE;
	s->log.level = LOG_LEVEL_INFO;
	s->name = strdup("plba");
	s->state_dir = strdup("/var/lib/plba");
	s->trace.endpoint = strdup("http://127.0.0.1:4318/v1/traces");
	s->trace.sample = 1;
	s->log.output = strdup("stderr");
	s->modules = calloc(1, sizeof(char *));
	if ((s->http.listen = calloc(2, sizeof(char *))) != NULL)
		s->http.listen[0] = strdup("127.0.0.1:8080");
	if (s->name == NULL || s->state_dir == NULL ||
	    s->trace.endpoint == NULL || s->log.output == NULL ||
	    s->modules == NULL || s->http.listen == NULL ||
	    s->http.listen[0] == NULL) {
		settings_free(s);
		return NULL;
	}
	return s;
}

/* Takes ownership of doc, also on failure. */
static struct settings *
settings_from_doc(struct conf_doc *doc, struct conf_errors *errs)
{
	struct ctx	 c;
	struct settings	*s;
	struct conf_node *root;

	if ((s = settings_new()) == NULL) {
		conf_doc_free(doc);
		conf_error(errs, NULL, NULL, "out of memory");
		return NULL;
	}
	s->doc = doc;
	root = conf_doc_root(doc);
	memset(&c, 0, sizeof(c));
	c.s = s;
	c.errs = errs;
	/* platform first: worker stop_timeout defaults to its stop_timeout;
	 * queues before workers, which name them in consumes. */
	parse_platform(&c, root);
	parse_log(&c, root);
	parse_queues(&c, root);
	parse_workers(&c, root);
	free(c.depends);
	free(c.consumes);
	free(c.wnames);
	free(c.qnames);
	if (c.oom)
		conf_error(errs, NULL, NULL, "out of memory");
	if (c.nerrs > 0 || c.oom) {
		settings_free(s);
		return NULL;
	}
	return s;
}

/*
 * Loads, merges and validates.  The caller owns the result and frees it
 * with settings_free(); on failure every problem is in errs.
 */
struct settings *
settings_load(const char *const *paths, size_t npaths,
    struct conf_errors *errs)
{
	struct conf_doc	*doc;

	if ((doc = conf_load_files(paths, npaths, errs)) == NULL)
		return NULL;
	return settings_from_doc(doc, errs);
}

/* Like settings_load, for text in memory, named name in messages. */
struct settings *
settings_load_string(const char *text, size_t len, const char *name,
    struct conf_errors *errs)
{
	struct conf_doc	*doc;

	if ((doc = conf_load_string(text, len, name, errs)) == NULL)
		return NULL;
	return settings_from_doc(doc, errs);
}

/* Frees the settings, their strings and the tree; NULL is a no-op. */
void
settings_free(struct settings *s)
{
	struct worker_def *w;
	size_t		 i;

	if (s == NULL)
		return;
	free(s->name);
	free(s->state_dir);
	strv_free(s->modules);
	strv_free(s->http.listen);
	free(s->http.token_file);
	free(s->http.tls_cert);
	free(s->http.tls_key);
	free(s->trace.file);
	free(s->trace.endpoint);
	free(s->log.output);
	for (i = 0; i < s->nqueues; i++)
		free(s->queues[i].name);
	free(s->queues);
	for (i = 0; i < s->nworkers; i++) {
		w = &s->workers[i];
		free(w->name);
		strv_free(w->argv);
		free(w->module);
		free(w->type);
		strv_free(w->depends_on);
		free(w->consumes);
		strv_free(w->env);
		free(w->working_directory);
		free(w->user);
		strv_free(w->user_env);
	}
	free(s->workers);
	conf_doc_free(s->doc);
	free(s);
}

/* NULL when there is no such worker; the pointer lives as long as s. */
struct worker_def *
settings_worker(const struct settings *s, const char *name)
{
	size_t	 i;

	if (s == NULL || name == NULL)
		return NULL;
	for (i = 0; i < s->nworkers; i++)
		if (s->workers[i].name != NULL &&
		    strcmp(s->workers[i].name, name) == 0)
			return &s->workers[i];
	return NULL;
}

/* NULL when there is no such queue; the pointer lives as long as s. */
struct queue_def *
settings_queue(const struct settings *s, const char *name)
{
	size_t	 i;

	if (s == NULL || name == NULL)
		return NULL;
	for (i = 0; i < s->nqueues; i++)
		if (s->queues[i].name != NULL &&
		    strcmp(s->queues[i].name, name) == 0)
			return &s->queues[i];
	return NULL;
}

static bool
str_same(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static size_t
strv_len(char *const *v)
{
	size_t	 n = 0;

	while (v != NULL && v[n] != NULL)
		n++;
	return n;
}

static bool
strv_has(char *const *v, const char *s)
{
	for (; v != NULL && *v != NULL; v++)
		if (strcmp(*v, s) == 0)
			return true;
	return false;
}

/* NULL is the empty list: `environment: {}` is no environment. */
static bool
strv_same(char *const *a, char *const *b, bool ordered)
{
	size_t	 i, n = strv_len(a);

	if (n != strv_len(b))
		return false;
	for (i = 0; i < n; i++)
		if (ordered ? strcmp(a[i], b[i]) != 0 :
		    (!strv_has(b, a[i]) || !strv_has(a, b[i])))
			return false;
	return true;
}

/*
 * The config: subtree is opaque here; what an instance sees of it is the
 * JSON of its welcome, so that is what is compared: "1" and '1' differ
 * there, 1 and 1.0 or a reordered map do not.  No memory counts as a
 * difference, which restarts rather than keeps a stale config.
 */
static bool
config_same(const struct conf_node *a, const struct conf_node *b)
{
	cJSON	*ja, *jb;
	bool	 same;

	if (conf_equal(a, b))
		return true;
	ja = conf_to_cjson(a);
	jb = conf_to_cjson(b);
	same = ja != NULL && jb != NULL && cJSON_Compare(ja, jb, true);
	cJSON_Delete(ja);
	cJSON_Delete(jb);
	return same;
}

/*
 * What a reload decides by: whether instances of a and b run the same
 * way, by the values after defaults, not the text that gave them.  The
 * environment and depends_on are sets; argv and the listen addresses
 * keep their order.
 */
bool
settings_worker_same(const struct worker_def *a, const struct worker_def *b)
{
	if (!str_same(a->name, b->name) || a->kind != b->kind ||
	    !strv_same(a->argv, b->argv, true) ||
	    !str_same(a->module, b->module) || !str_same(a->type, b->type))
		return false;
	if (a->critical != b->critical || a->restart != b->restart ||
	    a->restart_delay_ms != b->restart_delay_ms ||
	    a->restart_max_delay_ms != b->restart_max_delay_ms ||
	    a->max_restarts != b->max_restarts ||
	    a->restart_window_ms != b->restart_window_ms)
		return false;
	if (a->ready != b->ready || (a->ready == READY_DELAY &&
	    a->ready_delay_ms != b->ready_delay_ms))
		return false;
	if (a->max_memory != b->max_memory ||
	    a->task_timeout_ms != b->task_timeout_ms ||
	    !str_same(a->consumes, b->consumes) || a->prefetch != b->prefetch)
		return false;
	if (!strv_same(a->depends_on, b->depends_on, false) ||
	    !strv_same(a->env, b->env, false) ||
	    !str_same(a->working_directory, b->working_directory))
		return false;
	/* Instances run as the uid and group, whichever name gave them. */
	if ((a->user == NULL) != (b->user == NULL) ||
	    (a->user != NULL && (a->uid != b->uid || a->gid != b->gid ||
	    !strv_same(a->user_env, b->user_env, false))))
		return false;
	return config_same(a->config, b->config);
}

/* Off is off, whatever address it would have listened on. */
bool
settings_http_loopback_only(const struct settings *s)
{
	size_t i;

	for (i = 0; s->http.listen != NULL && s->http.listen[i] != NULL; i++)
		if (!is_loopback(s->http.listen[i]))
			return false;
	return true;
}

bool
settings_http_same(const struct settings *a, const struct settings *b)
{
	if (!a->http.enabled || !b->http.enabled)
		return a->http.enabled == b->http.enabled;
	return strv_same(a->http.listen, b->http.listen, true) &&
	    str_same(a->http.token_file, b->http.token_file) &&
	    str_same(a->http.tls_cert, b->http.tls_cert) &&
	    str_same(a->http.tls_key, b->http.tls_key);
}
