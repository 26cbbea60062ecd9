/*
 * The public, typed view of the configuration tree (plba/config.h).  A
 * plba_config is a struct conf_doc and a plba_node a struct conf_node under
 * another name, so the master can hand its own tree to application code
 * without copying it.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plba/config.h"
#include "plba/error.h"
#include "conf.h"

#define DOC(c)		((struct conf_doc *)(c))
#define NODE(n)		((const struct conf_node *)(n))

/* Writes the messages one per line, truncating to errlen. */
static void
join_errors(const struct conf_errors *errs, char *buf, size_t len)
{
	size_t	 i, used = 0, k;

	if (buf == NULL || len == 0)
		return;
	buf[0] = '\0';
	for (i = 0; i < errs->n && used + 1 < len; i++) {
		k = strlen(errs->msgs[i]);
		if (k > len - 1 - used)
			k = len - 1 - used;
		memcpy(buf + used, errs->msgs[i], k);
		used += k;
		if (i + 1 < errs->n && used + 1 < len)
			buf[used++] = '\n';
		buf[used] = '\0';
	}
}

/*
 * Loads and merges the files.  On success *out owns everything and is
 * freed with plba_config_free().  On failure *out is NULL and errbuf holds
 * every error, one per line.
 */
int
plba_config_load(const char *const *paths, size_t npaths, plba_config **out,
    char *errbuf, size_t errlen)
{
	struct conf_errors errs = { 0 };
	struct conf_doc	*doc;
	size_t		 i;

	if (errbuf != NULL && errlen > 0)
		errbuf[0] = '\0';
	if (out == NULL || (paths == NULL && npaths > 0))
		return PLBA_EINVAL;
	for (i = 0; i < npaths; i++)
		if (paths[i] == NULL)
			return PLBA_EINVAL;
	*out = NULL;
	if ((doc = conf_load_files(paths, npaths, &errs)) == NULL) {
		join_errors(&errs, errbuf, errlen);
		conf_errors_clear(&errs);
		return PLBA_ECONFIG;
	}
	*out = (plba_config *)doc;
	return PLBA_OK;
}

/* Every node and string obtained from cfg dies with it. */
void
plba_config_free(plba_config *cfg)
{
	conf_doc_free(DOC(cfg));
}

/* The top-level map, owned by cfg. */
const plba_node *
plba_config_root(const plba_config *cfg)
{
	if (cfg == NULL)
		return NULL;
	return (const plba_node *)conf_doc_root(DOC(cfg));
}

/* path may also index sequences: "servers[0].host". */
const plba_node *
plba_node_get(const plba_node *node, const char *path)
{
	if (node == NULL)
		return NULL;
	if (path == NULL || *path == '\0')
		return node;
	return (const plba_node *)conf_path(NODE(node), path);
}

/* A NULL node reads as a scalar, so callers need not test twice. */
enum plba_node_kind
plba_node_kind(const plba_node *node)
{
	if (node == NULL)
		return PLBA_NODE_SCALAR;
	switch (NODE(node)->type) {
	case CONF_MAP:
		return PLBA_NODE_MAP;
	case CONF_SEQ:
		return PLBA_NODE_SEQ;
	case CONF_SCALAR:
		break;
	}
	return PLBA_NODE_SCALAR;
}

/* Pairs of a map or items of a sequence; 0 for a scalar or NULL. */
size_t
plba_node_count(const plba_node *node)
{
	if (node == NULL || NODE(node)->type == CONF_SCALAR)
		return 0;
	return NODE(node)->n;
}

/* The i-th value or item, in file order; NULL past the end. */
const plba_node *
plba_node_at(const plba_node *node, size_t i)
{
	if (node == NULL || NODE(node)->type == CONF_SCALAR ||
	    i >= NODE(node)->n)
		return NULL;
	return (const plba_node *)NODE(node)->items[i];
}

/* The i-th key of a map, in file order; NULL past the end or for a non-map. */
const char *
plba_node_key_at(const plba_node *node, size_t i)
{
	if (node == NULL || NODE(node)->type != CONF_MAP || i >= NODE(node)->n)
		return NULL;
	return NODE(node)->keys[i];
}

/*
 * Where the node was written, so applications can report errors like the
 * platform does.
 */
void
plba_node_where(const plba_node *node, const char **file, int *line, int *col)
{
	if (file != NULL)
		*file = node ? NODE(node)->file : NULL;
	if (line != NULL)
		*line = node ? NODE(node)->line : 0;
	if (col != NULL)
		*col = node ? NODE(node)->col : 0;
}

/*
 * The scalar text at path, or NULL when the value is absent or null (both
 * mean "use the default").  Returns PLBA_ETYPE for a map or a sequence.
 */
static int
scalar_at(const plba_node *node, const char *path, const char **text)
{
	const struct conf_node *n;

	*text = NULL;
	n = NODE(plba_node_get(node, path));
	if (n == NULL || conf_is_null(n))
		return PLBA_OK;
	if (n->type != CONF_SCALAR)
		return PLBA_ETYPE;
	*text = n->value;
	return PLBA_OK;
}

/* Any non-null scalar; numbers and booleans come back as written. */
int
plba_node_string(const plba_node *node, const char *path, const char *def,
    const char **out)
{
	const char	*s;
	int		 r;

	if (out == NULL)
		return PLBA_EINVAL;
	if ((r = scalar_at(node, path, &s)) != PLBA_OK)
		return r;
	*out = s != NULL ? s : def;
	return PLBA_OK;
}

/* Decimal integers only: "1.5" and "0x10" are PLBA_ETYPE. */
int
plba_node_int(const plba_node *node, const char *path, long long def,
    long long *out)
{
	const char	*s;
	long long	 v;
	int		 r;

	if (out == NULL)
		return PLBA_EINVAL;
	if ((r = scalar_at(node, path, &s)) != PLBA_OK)
		return r;
	if (s == NULL)
		v = def;
	else if (conf_parse_int(s, &v) == -1)
		return PLBA_ETYPE;
	*out = v;
	return PLBA_OK;
}

/* true/false, yes/no, on/off, in any case. */
int
plba_node_bool(const plba_node *node, const char *path, bool def, bool *out)
{
	const char	*s;
	bool		 v;
	int		 r;

	if (out == NULL)
		return PLBA_EINVAL;
	if ((r = scalar_at(node, path, &s)) != PLBA_OK)
		return r;
	if (s == NULL)
		v = def;
	else if (conf_parse_bool(s, &v) == -1)
		return PLBA_ETYPE;
	*out = v;
	return PLBA_OK;
}

/* Plain decimal notation only: no hex, inf or nan, which strtod would take. */
static int
parse_double(const char *s, double *out)
{
	const char	*p = s;
	char		*end;
	double		 v;

	if (*p == '+' || *p == '-')
		p++;
	if (!(*p >= '0' && *p <= '9') &&
	    !(*p == '.' && p[1] >= '0' && p[1] <= '9'))
		return -1;
	if (s[strspn(s, "0123456789+-.eE")] != '\0')
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (*end != '\0' ||
	    (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL)))
		return -1;
	*out = v;
	return 0;
}

/* Decimal notation, with an optional exponent; integers too. */
int
plba_node_double(const plba_node *node, const char *path, double def,
    double *out)
{
	const char	*s;
	double		 v;
	int		 r;

	if (out == NULL)
		return PLBA_EINVAL;
	if ((r = scalar_at(node, path, &s)) != PLBA_OK)
		return r;
	if (s == NULL)
		v = def;
	else if (parse_double(s, &v) == -1)
		return PLBA_ETYPE;
	*out = v;
	return PLBA_OK;
}

/* A duration in milliseconds, as in the platform sections. */
int
plba_node_duration(const plba_node *node, const char *path, uint64_t def_ms,
    uint64_t *out_ms)
{
	const char	*s;
	uint64_t	 v;
	int		 r;

	if (out_ms == NULL)
		return PLBA_EINVAL;
	if ((r = scalar_at(node, path, &s)) != PLBA_OK)
		return r;
	if (s == NULL)
		v = def_ms;
	else if (conf_parse_duration(s, &v) == -1)
		return PLBA_ETYPE;
	*out_ms = v;
	return PLBA_OK;
}

/* A size in bytes, as in the platform sections. */
int
plba_node_size(const plba_node *node, const char *path, uint64_t def,
    uint64_t *out)
{
	const char	*s;
	uint64_t	 v;
	int		 r;

	if (out == NULL)
		return PLBA_EINVAL;
	if ((r = scalar_at(node, path, &s)) != PLBA_OK)
		return r;
	if (s == NULL)
		v = def;
	else if (conf_parse_size(s, &v) == -1)
		return PLBA_ETYPE;
	*out = v;
	return PLBA_OK;
}
