/*
 * The configuration tree: reading files, parsing them with libyaml's event
 * parser, merging several files and interpolating the environment.
 *
 * Every node and string of a document lives in one arena owned by the
 * document, so error paths never free node by node, aliases can share their
 * (immutable) scalar text, and conf_doc_free() is one walk over a few blocks.
 */
#include "config.h"

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <yaml.h>

#include "conf.h"

/*
 * Interpolation can grow a document: an alias copied 200000 times whose
 * text names a large environment variable.  The scalars that change are
 * capped in total, like the file and the node count.
 */
#define CONF_MAX_EXPANDED	(64u << 20)

#define ARENA_BLOCK		(64 * 1024)

struct arena_block {
	struct arena_block	*next;
	size_t			 used;
	size_t			 cap;
	max_align_t		 data[];
};

struct conf_doc {
	struct arena_block	*blocks;
	struct conf_node	*root;
};

/* A growable string for key paths and interpolated values. */
struct sbuf {
	char	*s;
	size_t	 len;
	size_t	 cap;
	bool	 oom;
};

/*
 * An index of a map's keys by hash, so duplicate detection and merging stay
 * linear on maps with many keys.  Slots hold positions in the keys array
 * plus one (0 is empty), since that array moves as it grows.
 */
struct keyidx {
	size_t	*slot;
	size_t	 cap;
	size_t	 n;
};

struct anchor {
	struct conf_node	*node;
	int			 height;	/* nesting levels, node included */
	bool			 complete;
};

/* A map or sequence whose events are still arriving. */
struct frame {
	struct conf_node	*node;
	char			**keys;
	struct conf_mark	*marks;
	struct conf_node	**items;
	size_t			 n;
	size_t			 cap;
	int			 height;	/* of the tallest child */
	long			 anchor;	/* in parser.anchors, or -1 */
	/* maps only */
	bool			 have_key;	/* key read, value awaited */
	bool			 merge;		/* that key is a plain << */
	char			*key;
	struct conf_mark	 keymark;
	struct keyidx		 idx;
	struct conf_node	**merges;	/* merged in at the end */
	size_t			 nmerges;
	size_t			 capmerges;
};

struct parser {
	struct conf_doc		*doc;
	struct conf_errors	*errs;
	const char		*file;		/* owned by doc */
	size_t			 nnodes;
	size_t			 nerrs;		/* errors reported so far */
	struct frame		 stack[CONF_MAX_DEPTH];
	int			 depth;
	struct anchor		*anchors;
	char			**anames;	/* anchors' names, indexed by aidx */
	struct keyidx		 aidx;
	size_t			 nanchors;
	size_t			 capanchors;
	struct conf_node	*root;
	int			 ndocs;
};

struct interp {
	struct conf_doc		*doc;
	struct conf_errors	*errs;
	struct sbuf		 path;
	size_t			 budget;	/* bytes it may still produce */
	size_t			 nerrs;
	bool			 stop;
};

static void	 verror_mark(struct conf_errors *, const struct conf_mark *,
		    const char *, const char *, va_list)
		    __attribute__((format(printf, 4, 0)));

/* --- arena -------------------------------------------------------------- */

static void *
doc_alloc(struct conf_doc *doc, size_t size)
{
	const size_t	 align = alignof(max_align_t);
	struct arena_block *b = doc->blocks;
	void		*p;

	if (size > SIZE_MAX / 2)
		return NULL;
	size = (size + align - 1) & ~(align - 1);
	if (size == 0)
		size = align;
	if (b == NULL || b->cap - b->used < size) {
		size_t cap = size > ARENA_BLOCK / 4 ? size : ARENA_BLOCK;

		if ((b = malloc(sizeof(*b) + cap)) == NULL)
			return NULL;
		b->used = 0;
		b->cap = cap;
		/* A large allocation gets a block of its own, behind the
		 * current one, whose free space stays in use. */
		if (cap != ARENA_BLOCK && doc->blocks != NULL) {
			b->next = doc->blocks->next;
			doc->blocks->next = b;
		} else {
			b->next = doc->blocks;
			doc->blocks = b;
		}
	}
	p = (char *)b->data + b->used;
	b->used += size;
	return p;
}

static void *
doc_array(struct conf_doc *doc, size_t n, size_t size)
{
	if (n != 0 && size > SIZE_MAX / n)
		return NULL;
	return doc_alloc(doc, n * size);
}

static char *
doc_strndup(struct conf_doc *doc, const char *s, size_t len)
{
	char	*p;

	if (len == SIZE_MAX || (p = doc_alloc(doc, len + 1)) == NULL)
		return NULL;
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

static struct conf_node *
doc_node(struct conf_doc *doc, enum conf_type type, const char *file,
    int line, int col)
{
	struct conf_node *n;

	if ((n = doc_alloc(doc, sizeof(*n))) == NULL)
		return NULL;
	memset(n, 0, sizeof(*n));
	n->type = type;
	n->file = file;
	n->line = line;
	n->col = col;
	return n;
}

static struct conf_doc *
doc_new(void)
{
	return calloc(1, sizeof(struct conf_doc));
}

/* Frees the document with every node and string in it; NULL is a no-op. */
void
conf_doc_free(struct conf_doc *doc)
{
	struct arena_block *b, *next;

	if (doc == NULL)
		return;
	for (b = doc->blocks; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	free(doc);
}

/* The top-level map; it lives as long as the document. */
struct conf_node *
conf_doc_root(const struct conf_doc *doc)
{
	return doc->root;
}

/* --- small helpers ------------------------------------------------------ */

static void
sbuf_add(struct sbuf *b, const char *s, size_t len)
{
	size_t	 cap;
	char	*p;

	if (b->oom)
		return;
	if (len > SIZE_MAX - b->len - 1) {
		b->oom = true;
		return;
	}
	if (b->len + len + 1 > b->cap) {
		cap = b->cap ? b->cap : 64;
		while (cap < b->len + len + 1)
			cap = cap > SIZE_MAX / 2 ? b->len + len + 1 : cap * 2;
		if ((p = realloc(b->s, cap)) == NULL) {
			b->oom = true;
			return;
		}
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, len);
	b->len += len;
	b->s[b->len] = '\0';
}

static void
sbuf_str(struct sbuf *b, const char *s)
{
	sbuf_add(b, s, strlen(s));
}

/* Appends ".key" (or "key" at the start) to a key path. */
static void
sbuf_key(struct sbuf *b, const char *key)
{
	if (b->len > 0)
		sbuf_add(b, ".", 1);
	sbuf_str(b, key);
}

static void
sbuf_index(struct sbuf *b, size_t i)
{
	char	 tmp[32];

	snprintf(tmp, sizeof(tmp), "[%zu]", i);
	sbuf_str(b, tmp);
}

static void
sbuf_truncate(struct sbuf *b, size_t len)
{
	if (b->s != NULL && len <= b->len) {
		b->len = len;
		b->s[len] = '\0';
	}
}

static const char *
sbuf_get(const struct sbuf *b)
{
	return b->s != NULL ? b->s : "";
}

static uint64_t
hash_key(const char *s)
{
	uint64_t h = 14695981039346656037ull;	/* FNV-1a */

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static long
keyidx_get(const struct keyidx *ix, char *const *keys, const char *key)
{
	size_t	 i, s;

	if (ix->cap == 0)
		return -1;
	for (i = hash_key(key) & (ix->cap - 1); (s = ix->slot[i]) != 0;
	    i = (i + 1) & (ix->cap - 1))
		if (strcmp(keys[s - 1], key) == 0)
			return (long)(s - 1);
	return -1;
}

/* Adds keys[pos] to the index; the caller checked it is not there yet. */
static int
keyidx_put(struct keyidx *ix, char *const *keys, size_t pos)
{
	size_t	*slot, cap, i, j;

	if ((ix->n + 1) * 2 > ix->cap) {
		cap = ix->cap ? ix->cap * 2 : 16;
		if ((slot = calloc(cap, sizeof(*slot))) == NULL)
			return -1;
		for (i = 0; i < ix->cap; i++) {
			if (ix->slot[i] == 0)
				continue;
			j = hash_key(keys[ix->slot[i] - 1]) & (cap - 1);
			while (slot[j] != 0)
				j = (j + 1) & (cap - 1);
			slot[j] = ix->slot[i];
		}
		free(ix->slot);
		ix->slot = slot;
		ix->cap = cap;
	}
	for (i = hash_key(keys[pos]) & (ix->cap - 1); ix->slot[i] != 0;
	    i = (i + 1) & (ix->cap - 1))
		;
	ix->slot[i] = pos + 1;
	ix->n++;
	return 0;
}

static void
keyidx_free(struct keyidx *ix)
{
	free(ix->slot);
	memset(ix, 0, sizeof(*ix));
}

static struct conf_mark
node_mark(const struct conf_node *n)
{
	struct conf_mark m = { n->file, n->line, n->col };

	return m;
}

/* --- errors ------------------------------------------------------------- */

static void
verror_mark(struct conf_errors *errs, const struct conf_mark *mark,
    const char *path, const char *fmt, va_list ap)
{
	char	*msg, *line, **msgs;
	int	 r;

	if (errs == NULL)
		return;
	/*
	 * A mistake copied by aliases is reported once per copy: past this
	 * many errors the rest only repeat it (and cost time: a fuzzed file
	 * gave 78 111).  The last message says so.
	 */
	if (errs->n > CONF_MAX_ERRORS)
		return;
	if (errs->n == CONF_MAX_ERRORS) {
		if ((msgs = reallocarray(errs->msgs, errs->n + 1,
		    sizeof(*msgs))) == NULL)
			return;
		errs->msgs = msgs;
		if (asprintf(&line, "too many errors; the first %d are shown",
		    CONF_MAX_ERRORS) == -1)
			return;
		msgs[errs->n++] = line;
		return;
	}
	if (vasprintf(&msg, fmt, ap) == -1)
		return;
	if (path != NULL && *path == '\0')
		path = NULL;
	if (mark != NULL && mark->file != NULL)
		r = asprintf(&line, "%s:%d:%d: %s%s%s", mark->file, mark->line,
		    mark->col, path ? path : "", path ? ": " : "", msg);
	else
		r = asprintf(&line, "%s%s%s", path ? path : "",
		    path ? ": " : "", msg);
	free(msg);
	if (r == -1)
		return;
	if ((msgs = reallocarray(errs->msgs, errs->n + 1,
	    sizeof(*msgs))) == NULL) {
		free(line);
		return;
	}
	msgs[errs->n++] = line;
	errs->msgs = msgs;
}

/*
 * Appends "FILE:LINE:COL: PATH: message"; without a node just
 * "PATH: message".
 */
void
conf_verror(struct conf_errors *errs, const struct conf_node *node,
    const char *path, const char *fmt, va_list ap)
{
	struct conf_mark m;

	if (node != NULL) {
		m = node_mark(node);
		verror_mark(errs, &m, path, fmt, ap);
	} else
		verror_mark(errs, NULL, path, fmt, ap);
}

/* The printf form of conf_verror. */
void
conf_error(struct conf_errors *errs, const struct conf_node *node,
    const char *path, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	conf_verror(errs, node, path, fmt, ap);
	va_end(ap);
}

/* Like conf_error, for positions that are not nodes: map keys. */
void
conf_error_mark(struct conf_errors *errs, const struct conf_mark *mark,
    const char *path, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	verror_mark(errs, mark, path, fmt, ap);
	va_end(ap);
}

/* Frees every message; the structure can be used again. */
void
conf_errors_clear(struct conf_errors *errs)
{
	size_t	 i;

	if (errs == NULL)
		return;
	for (i = 0; i < errs->n; i++)
		free(errs->msgs[i]);
	free(errs->msgs);
	errs->msgs = NULL;
	errs->n = 0;
}

/* --- parsing ------------------------------------------------------------ */

static void
perr(struct parser *p, const struct conf_mark *m, const char *path,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
perr(struct parser *p, const struct conf_mark *m, const char *path,
    const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	verror_mark(p->errs, m, path, fmt, ap);
	va_end(ap);
	p->nerrs++;
}

static struct conf_mark
yaml_mark(const struct parser *p, yaml_mark_t ym)
{
	struct conf_mark m;

	m.file = p->file;
	m.line = ym.line >= INT_MAX ? INT_MAX : (int)ym.line + 1;
	m.col = ym.column >= INT_MAX ? INT_MAX : (int)ym.column + 1;
	return m;
}

/* The key path of the value the parser would read next. */
static void
parser_path(const struct parser *p, struct sbuf *b)
{
	const struct frame *f;
	int	 i;

	for (i = 0; i < p->depth; i++) {
		f = &p->stack[i];
		if (f->node->type == CONF_SEQ)
			sbuf_index(b, f->n);
		else if (f->have_key)
			sbuf_key(b, f->key);
	}
}

static void
perr_here(struct parser *p, const struct conf_mark *m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
perr_here(struct parser *p, const struct conf_mark *m, const char *fmt, ...)
{
	struct sbuf path = { 0 };
	va_list	 ap;

	parser_path(p, &path);
	va_start(ap, fmt);
	verror_mark(p->errs, m, sbuf_get(&path), fmt, ap);
	va_end(ap);
	free(path.s);
	p->nerrs++;
}

static int
count_node(struct parser *p, const struct conf_mark *m)
{
	if (++p->nnodes <= CONF_MAX_NODES)
		return 0;
	perr(p, m, NULL, "document too large: more than %d nodes once "
	    "aliases are expanded", CONF_MAX_NODES);
	return -1;
}

static int
frame_push(struct parser *p, struct frame *f, char *key,
    const struct conf_mark *mark, struct conf_node *node, int height)
{
	size_t	 cap;
	void	*np;

	if (f->n == f->cap) {
		cap = f->cap ? f->cap * 2 : 8;
		np = reallocarray(f->items, cap, sizeof(*f->items));
		if (np == NULL)
			goto oom;
		f->items = np;
		if (f->node->type == CONF_MAP) {
			if ((np = reallocarray(f->keys, cap,
			    sizeof(*f->keys))) == NULL)
				goto oom;
			f->keys = np;
			if ((np = reallocarray(f->marks, cap,
			    sizeof(*f->marks))) == NULL)
				goto oom;
			f->marks = np;
		}
		f->cap = cap;
	}
	if (f->node->type == CONF_MAP) {
		f->keys[f->n] = key;
		f->marks[f->n] = *mark;
		if (keyidx_put(&f->idx, f->keys, f->n) == -1)
			goto oom;
	}
	f->items[f->n++] = node;
	if (height > f->height)
		f->height = height;
	return 0;
oom:
	perr(p, NULL, p->file, "out of memory");
	return -1;
}

static void
frame_free(struct frame *f)
{
	free(f->keys);
	free(f->marks);
	free(f->items);
	free(f->merges);
	keyidx_free(&f->idx);
	memset(f, 0, sizeof(*f));
}

/*
 * `<<: *base` or `<<: [*a, *b]`: the maps are remembered and merged in when
 * the map ends, so keys written in the map win wherever they appear.
 */
static int
add_merge(struct parser *p, struct frame *f, struct conf_node *node,
    int height)
{
	struct conf_mark m = node_mark(node);
	struct conf_node **np;
	size_t	 i, k = 1;

	if (node->type == CONF_SEQ) {
		for (i = 0; i < node->n; i++)
			if (node->items[i]->type != CONF_MAP)
				break;
		k = node->n;
	}
	if ((node->type != CONF_MAP && node->type != CONF_SEQ) ||
	    (node->type == CONF_SEQ && i < node->n)) {
		perr_here(p, &m, "the value of a merge key must be a map or "
		    "a list of maps");
		return 0;
	}
	if (f->nmerges + k > f->capmerges) {
		size_t cap = (f->nmerges + k) * 2;

		if ((np = reallocarray(f->merges, cap, sizeof(*np))) == NULL) {
			perr(p, NULL, p->file, "out of memory");
			return -1;
		}
		f->merges = np;
		f->capmerges = cap;
	}
	if (node->type == CONF_MAP)
		f->merges[f->nmerges++] = node;
	else
		for (i = 0; i < node->n; i++)
			f->merges[f->nmerges++] = node->items[i];
	/* The merged values sit one level higher than in their own map. */
	if (height - 1 > f->height)
		f->height = height - 1;
	return 0;
}

/* A complete node arrived: the root, a sequence item, a key or a value. */
static int
add_value(struct parser *p, struct conf_node *node, int height)
{
	struct frame	*f;
	struct conf_mark m;
	long		 i;
	int		 r;

	if (p->depth == 0) {
		p->root = node;
		return 0;
	}
	f = &p->stack[p->depth - 1];
	if (f->node->type == CONF_SEQ)
		return frame_push(p, f, NULL, NULL, node, height);
	if (!f->have_key) {
		/* Collections in key position are refused when they start. */
		f->have_key = true;
		f->key = node->value;
		f->keymark = node_mark(node);
		f->merge = node->plain && strcmp(node->value, "<<") == 0;
		return 0;
	}
	if (f->merge) {
		r = add_merge(p, f, node, height);
		f->have_key = false;
		return r;
	}
	if ((i = keyidx_get(&f->idx, f->keys, f->key)) >= 0) {
		/* Reported, and the second value dropped, so parsing goes on
		 * and finds the other duplicates too. */
		perr_here(p, &f->keymark, "duplicate key, first written on "
		    "line %d", f->marks[i].line);
		f->have_key = false;
		return 0;
	}
	m = f->keymark;
	f->have_key = false;
	return frame_push(p, f, f->key, &m, node, height);
}

static bool
in_key_position(const struct parser *p)
{
	const struct frame *f;

	if (p->depth == 0)
		return false;
	f = &p->stack[p->depth - 1];
	return f->node->type == CONF_MAP && !f->have_key;
}

static long
find_anchor(const struct parser *p, const char *name)
{
	return keyidx_get(&p->aidx, p->anames, name);
}

/*
 * Redefining an anchor is allowed, and replaces it for the aliases that
 * follow.  Anchors are hashed: a file may hold many thousands of them.
 */
static long
add_anchor(struct parser *p, const char *name, struct conf_node *node,
    int height, bool complete)
{
	struct anchor	*a;
	char		**names;
	size_t		 cap;
	long		 i;

	if ((i = find_anchor(p, name)) < 0) {
		if (p->nanchors == p->capanchors) {
			cap = p->capanchors ? p->capanchors * 2 : 8;
			a = reallocarray(p->anchors, cap, sizeof(*a));
			if (a == NULL)
				goto oom;
			p->anchors = a;
			names = reallocarray(p->anames, cap, sizeof(*names));
			if (names == NULL)
				goto oom;
			p->anames = names;
			p->capanchors = cap;
		}
		if ((p->anames[p->nanchors] = strdup(name)) == NULL)
			goto oom;
		if (keyidx_put(&p->aidx, p->anames, p->nanchors) == -1) {
			free(p->anames[p->nanchors]);
			goto oom;
		}
		i = (long)p->nanchors++;
	}
	a = &p->anchors[i];
	a->node = node;
	a->height = height;
	a->complete = complete;
	return i;
oom:
	perr(p, NULL, p->file, "out of memory");
	return -2;
}

/* A deep copy for an alias; scalar text is shared, never changed in place. */
static struct conf_node *
copy_node(struct parser *p, const struct conf_node *src,
    const struct conf_mark *at)
{
	struct conf_doc	 *doc = p->doc;
	struct conf_node *n;
	size_t		  i;

	if (count_node(p, at) == -1)
		return NULL;
	if ((n = doc_alloc(doc, sizeof(*n))) == NULL)
		goto oom;
	*n = *src;
	if (src->type == CONF_SCALAR || src->n == 0)
		return n;
	if ((n->items = doc_array(doc, src->n, sizeof(*n->items))) == NULL)
		goto oom;
	if (src->type == CONF_MAP) {
		n->keys = doc_array(doc, src->n, sizeof(*n->keys));
		n->keymarks = doc_array(doc, src->n, sizeof(*n->keymarks));
		if (n->keys == NULL || n->keymarks == NULL)
			goto oom;
		memcpy(n->keys, src->keys, src->n * sizeof(*n->keys));
		memcpy(n->keymarks, src->keymarks,
		    src->n * sizeof(*n->keymarks));
	}
	for (i = 0; i < src->n; i++)
		if ((n->items[i] = copy_node(p, src->items[i], at)) == NULL)
			return NULL;
	return n;
oom:
	perr(p, NULL, p->file, "out of memory");
	return NULL;
}

static int
on_alias(struct parser *p, const yaml_event_t *ev)
{
	struct conf_mark  m = yaml_mark(p, ev->start_mark);
	const char	 *name = (const char *)ev->data.alias.anchor;
	struct anchor	 *a;
	struct conf_node *copy;
	long		  i;

	if ((i = find_anchor(p, name)) < 0) {
		perr(p, &m, NULL, "unknown anchor \"%s\"", name);
		return -1;
	}
	a = &p->anchors[i];
	if (!a->complete) {
		perr(p, &m, NULL, "alias \"*%s\" is used inside its own anchor",
		    name);
		return -1;
	}
	if (in_key_position(p)) {
		if (a->node->type != CONF_SCALAR) {
			perr_here(p, &m, "map keys must be scalars");
			return -1;
		}
		copy = doc_node(p->doc, CONF_SCALAR, p->file, m.line, m.col);
		if (copy == NULL) {
			perr(p, NULL, p->file, "out of memory");
			return -1;
		}
		copy->value = a->node->value;
		copy->plain = a->node->plain;
		return add_value(p, copy, 0);
	}
	/* The copy must obey the depth limit where it lands, or aliases of
	 * aliases would build trees deep enough to exhaust the stack. */
	if (p->depth + a->height > CONF_MAX_DEPTH) {
		perr_here(p, &m, "nested deeper than %d levels",
		    CONF_MAX_DEPTH);
		return -1;
	}
	if ((copy = copy_node(p, a->node, &m)) == NULL)
		return -1;
	return add_value(p, copy, a->height);
}

static int
on_scalar(struct parser *p, const yaml_event_t *ev)
{
	struct conf_mark  m = yaml_mark(p, ev->start_mark);
	const char	 *tag = (const char *)ev->data.scalar.tag;
	struct conf_node *n;

	if (memchr(ev->data.scalar.value, '\0', ev->data.scalar.length)) {
		perr_here(p, &m, "NUL characters are not allowed");
		return -1;
	}
	if (!in_key_position(p) && count_node(p, &m) == -1)
		return -1;
	n = doc_node(p->doc, CONF_SCALAR, p->file, m.line, m.col);
	if (n == NULL || (n->value = doc_strndup(p->doc,
	    (const char *)ev->data.scalar.value,
	    ev->data.scalar.length)) == NULL) {
		perr(p, NULL, p->file, "out of memory");
		return -1;
	}
	/* "!!str null" and "! null" are strings, not nulls. */
	n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    (tag == NULL || (strcmp(tag, "!") != 0 &&
	    strcmp(tag, YAML_STR_TAG) != 0));
	if (ev->data.scalar.anchor != NULL &&
	    add_anchor(p, (const char *)ev->data.scalar.anchor, n, 0,
	    true) == -2)
		return -1;
	return add_value(p, n, 0);
}

static int
on_start(struct parser *p, const yaml_event_t *ev, enum conf_type type)
{
	struct conf_mark  m = yaml_mark(p, ev->start_mark);
	const yaml_char_t *anchor;
	struct conf_node *n;
	struct frame	 *f;
	long		  ai = -1;

	if (in_key_position(p)) {
		perr_here(p, &m, "map keys must be scalars");
		return -1;
	}
	/* Checked as events stream in, so "[[[[..." fails at the 65th
	 * bracket instead of after building a 200 KB deep tree. */
	if (p->depth >= CONF_MAX_DEPTH) {
		perr_here(p, &m, "nested deeper than %d levels",
		    CONF_MAX_DEPTH);
		return -1;
	}
	if (count_node(p, &m) == -1)
		return -1;
	if ((n = doc_node(p->doc, type, p->file, m.line, m.col)) == NULL) {
		perr(p, NULL, p->file, "out of memory");
		return -1;
	}
	anchor = type == CONF_MAP ? ev->data.mapping_start.anchor :
	    ev->data.sequence_start.anchor;
	if (anchor != NULL &&
	    (ai = add_anchor(p, (const char *)anchor, n, 0, false)) == -2)
		return -1;
	f = &p->stack[p->depth++];
	memset(f, 0, sizeof(*f));
	f->node = n;
	f->anchor = ai;
	return 0;
}

static int
merge_in(struct parser *p, struct frame *f)
{
	const struct conf_node *src;
	size_t	 i, j;

	for (i = 0; i < f->nmerges; i++) {
		src = f->merges[i];
		for (j = 0; j < src->n; j++) {
			if (keyidx_get(&f->idx, f->keys, src->keys[j]) >= 0)
				continue;
			if (frame_push(p, f, src->keys[j], &src->keymarks[j],
			    src->items[j], 0) == -1)
				return -1;
		}
	}
	return 0;
}

static int
on_end(struct parser *p)
{
	struct frame	 *f = &p->stack[p->depth - 1];
	struct conf_node *n = f->node;
	int		  height;

	if (n->type == CONF_MAP && merge_in(p, f) == -1)
		return -1;
	n->n = f->n;
	if (f->n > 0) {
		n->items = doc_array(p->doc, f->n, sizeof(*n->items));
		if (n->items == NULL)
			goto oom;
		memcpy(n->items, f->items, f->n * sizeof(*n->items));
		if (n->type == CONF_MAP) {
			n->keys = doc_array(p->doc, f->n, sizeof(*n->keys));
			n->keymarks = doc_array(p->doc, f->n,
			    sizeof(*n->keymarks));
			if (n->keys == NULL || n->keymarks == NULL)
				goto oom;
			memcpy(n->keys, f->keys, f->n * sizeof(*n->keys));
			memcpy(n->keymarks, f->marks,
			    f->n * sizeof(*n->keymarks));
		}
	}
	height = f->height + 1;
	/* Unless an anchor of the same name inside it took over. */
	if (f->anchor >= 0 && p->anchors[f->anchor].node == n) {
		p->anchors[f->anchor].height = height;
		p->anchors[f->anchor].complete = true;
	}
	frame_free(f);
	p->depth--;
	return add_value(p, n, height);
oom:
	perr(p, NULL, p->file, "out of memory");
	return -1;
}

static void
yaml_failure(struct parser *p, const yaml_parser_t *yp, const char *text,
    size_t len)
{
	struct conf_mark m;
	size_t	 i, off;

	if (yp->error == YAML_MEMORY_ERROR) {
		perr(p, NULL, p->file, "out of memory");
		return;
	}
	if (yp->error == YAML_READER_ERROR) {
		/* The reader reports a byte offset, not a mark. */
		m.file = p->file;
		m.line = m.col = 1;
		off = yp->problem_offset < len ? yp->problem_offset : len;
		for (i = 0; i < off; i++) {
			if (text[i] == '\n') {
				m.line++;
				m.col = 1;
			} else
				m.col++;
		}
		if (yp->problem_value != -1)
			perr(p, &m, NULL, "%s (byte 0x%02x)", yp->problem,
			    (unsigned)yp->problem_value);
		else
			perr(p, &m, NULL, "%s", yp->problem);
		return;
	}
	/* The scanner and parser are a token or so ahead of the tree, so
	 * the key path is where the mistake is, or the value just before
	 * it: either way where to look.  (The reader, above, decodes ahead
	 * by whole buffers, so its errors get none.) */
	m = yaml_mark(p, yp->problem_mark);
	if (yp->context != NULL) {
		struct conf_mark c = yaml_mark(p, yp->context_mark);

		perr_here(p, &m, "%s (%s at line %d, column %d)",
		    yp->problem ? yp->problem : "syntax error", yp->context,
		    c.line, c.col);
	} else
		perr_here(p, &m, "%s",
		    yp->problem ? yp->problem : "syntax error");
}

/*
 * Parses one file's text into a tree in doc.  Returns the root map, or NULL
 * after reporting errors.
 */
static struct conf_node *
parse_text(struct conf_doc *doc, const char *text, size_t len,
    const char *file, struct conf_errors *errs)
{
	struct parser	 p;
	yaml_parser_t	 yp;
	yaml_event_t	 ev;
	struct conf_mark m;
	bool		 done = false;
	int		 r = 0, i;
	size_t		 k;

	memset(&p, 0, sizeof(p));
	p.doc = doc;
	p.errs = errs;
	p.file = file;
	if (!yaml_parser_initialize(&yp)) {
		perr(&p, NULL, file, "out of memory");
		return NULL;
	}
	yaml_parser_set_input_string(&yp, (const unsigned char *)text, len);
	while (!done && r == 0) {
		if (!yaml_parser_parse(&yp, &ev)) {
			yaml_failure(&p, &yp, text, len);
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (p.ndocs++ > 0) {
				m = yaml_mark(&p, ev.start_mark);
				perr(&p, &m, NULL, "only one YAML document "
				    "per file is supported");
				r = -1;
			}
			break;
		case YAML_SCALAR_EVENT:
			r = on_scalar(&p, &ev);
			break;
		case YAML_ALIAS_EVENT:
			r = on_alias(&p, &ev);
			break;
		case YAML_SEQUENCE_START_EVENT:
			r = on_start(&p, &ev, CONF_SEQ);
			break;
		case YAML_MAPPING_START_EVENT:
			r = on_start(&p, &ev, CONF_MAP);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			r = on_end(&p);
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&yp);
	for (i = 0; i < p.depth; i++)
		frame_free(&p.stack[i]);
	for (k = 0; k < p.nanchors; k++)
		free(p.anames[k]);
	free(p.anames);
	free(p.anchors);
	keyidx_free(&p.aidx);
	if (!done || p.nerrs > 0)
		return NULL;

	/* A file with no document, or only a null, is more often one an
	 * editor truncated mid-save than one meant to be empty; taken as an
	 * empty map, a reload of it would stop every worker.  An empty
	 * configuration is written {} on purpose. */
	if (p.root == NULL || conf_is_null(p.root)) {
		m.file = file;
		m.line = m.col = 1;
		perr(&p, &m, NULL, "the file holds no configuration (it is "
		    "empty, comments only or null); write {} for an empty "
		    "one on purpose");
		return NULL;
	}
	if (p.root->type != CONF_MAP) {
		m = node_mark(p.root);
		perr(&p, &m, NULL, "the top level must be a map, not a %s",
		    p.root->type == CONF_SEQ ? "list" : "scalar");
		return NULL;
	}
	return p.root;
}

/* --- files and merging -------------------------------------------------- */

static char *
read_file(const char *path, size_t *lenp, struct conf_errors *errs)
{
	struct stat	 st;
	char		*buf = NULL, *nb;
	size_t		 len = 0, cap = 0;
	ssize_t		 r;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		conf_error(errs, NULL, path, "%s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1) {
		conf_error(errs, NULL, path, "%s", strerror(errno));
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		conf_error(errs, NULL, path, "%s", strerror(EISDIR));
		goto fail;
	}
	/* Checked before reading, and again while reading for files whose
	 * size is not known in advance (pipes, /dev/stdin). */
	if (S_ISREG(st.st_mode) && st.st_size > (off_t)CONF_MAX_FILE_SIZE)
		goto toolarge;
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 8192;
			if (cap > CONF_MAX_FILE_SIZE + 1)
				cap = CONF_MAX_FILE_SIZE + 1;
			if (len == cap)
				goto toolarge;
			if ((nb = realloc(buf, cap + 1)) == NULL) {
				conf_error(errs, NULL, path, "out of memory");
				goto fail;
			}
			buf = nb;
		}
		r = read(fd, buf + len, cap - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			conf_error(errs, NULL, path, "%s", strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > CONF_MAX_FILE_SIZE)
			goto toolarge;
	}
	close(fd);
	if (buf == NULL && (buf = malloc(1)) == NULL) {
		conf_error(errs, NULL, path, "out of memory");
		return NULL;
	}
	buf[len] = '\0';
	*lenp = len;
	return buf;
toolarge:
	conf_error(errs, NULL, path, "file is larger than the limit of %u "
	    "bytes", (unsigned)CONF_MAX_FILE_SIZE);
fail:
	free(buf);
	close(fd);
	return NULL;
}

/*
 * Merges src into dst: maps deep-merge, anything else from src replaces
 * what dst has, keeping src's positions.  Nodes of src are moved, not
 * copied; both trees are in the same arena.
 */
static int
merge_map(struct conf_doc *doc, struct conf_node *dst,
    const struct conf_node *src)
{
	struct keyidx	  ix = { 0 };
	struct conf_node **items;
	struct conf_mark *marks;
	char		**keys;
	long		 *at = NULL;
	size_t		  i, nnew = 0, k;
	int		  r = -1;

	if (src->n == 0)
		return 0;
	for (i = 0; i < dst->n; i++)
		if (keyidx_put(&ix, dst->keys, i) == -1)
			goto out;
	if ((at = calloc(src->n, sizeof(*at))) == NULL)
		goto out;
	for (i = 0; i < src->n; i++) {
		at[i] = keyidx_get(&ix, dst->keys, src->keys[i]);
		if (at[i] < 0)
			nnew++;
	}
	for (i = 0; i < src->n; i++) {
		struct conf_node *d, *s = src->items[i];

		if (at[i] < 0)
			continue;
		d = dst->items[at[i]];
		if (d->type == CONF_MAP && s->type == CONF_MAP) {
			if (merge_map(doc, d, s) == -1)
				goto out;
		} else {
			dst->items[at[i]] = s;
			dst->keymarks[at[i]] = src->keymarks[i];
		}
	}
	if (nnew > 0) {
		k = dst->n + nnew;
		items = doc_array(doc, k, sizeof(*items));
		keys = doc_array(doc, k, sizeof(*keys));
		marks = doc_array(doc, k, sizeof(*marks));
		if (items == NULL || keys == NULL || marks == NULL)
			goto out;
		if (dst->n > 0) {
			memcpy(items, dst->items, dst->n * sizeof(*items));
			memcpy(keys, dst->keys, dst->n * sizeof(*keys));
			memcpy(marks, dst->keymarks, dst->n * sizeof(*marks));
		}
		for (i = 0, k = dst->n; i < src->n; i++) {
			if (at[i] >= 0)
				continue;
			items[k] = src->items[i];
			keys[k] = src->keys[i];
			marks[k++] = src->keymarks[i];
		}
		dst->items = items;
		dst->keys = keys;
		dst->keymarks = marks;
		dst->n = k;
	}
	r = 0;
out:
	free(at);
	keyidx_free(&ix);
	return r;
}

/* --- interpolation ------------------------------------------------------ */

static void
ierr(struct interp *in, const struct conf_node *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
ierr(struct interp *in, const struct conf_node *n, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	conf_verror(in->errs, n, sbuf_get(&in->path), fmt, ap);
	va_end(ap);
	in->nerrs++;
}

static bool
is_name_start(int c)
{
	return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool
is_name_char(int c)
{
	return is_name_start(c) || (c >= '0' && c <= '9');
}

/*
 * ${VAR}, ${VAR:-default} and $$ in one scalar.  A default is taken
 * literally up to the first "}"; a "$" before anything else is literal.
 */
static void
interp_scalar(struct interp *in, struct conf_node *n)
{
	struct sbuf	 out = { 0 };
	const char	*s = n->value, *d, *name, *end, *def, *val;
	size_t		 namelen;
	char		*var;

	while ((d = strchr(s, '$')) != NULL) {
		sbuf_add(&out, s, (size_t)(d - s));
		if (d[1] != '{') {
			sbuf_add(&out, "$", 1);
			s = d + (d[1] == '$' ? 2 : 1);
			continue;
		}
		name = d + 2;
		if ((end = strchr(name, '}')) == NULL) {
			ierr(in, n, "unterminated \"${\" (write \"$$\" for a "
			    "literal \"$\")");
			goto out;
		}
		for (namelen = 0; is_name_char((unsigned char)name[namelen]);
		    namelen++)
			;
		def = NULL;
		if (name + namelen != end) {
			if (name[namelen] != ':' || name[namelen + 1] != '-')
				namelen = 0;
			else
				def = name + namelen + 2;
		}
		if (namelen == 0 || !is_name_start((unsigned char)*name)) {
			ierr(in, n, "invalid variable reference \"%.*s\"",
			    (int)(end - d + 1), d);
			goto out;
		}
		if ((var = strndup(name, namelen)) == NULL) {
			out.oom = true;
			break;
		}
		val = getenv(var);
		if (val != NULL && *val != '\0')
			sbuf_str(&out, val);
		else if (def != NULL)
			sbuf_add(&out, def, (size_t)(end - def));
		else if (val == NULL) {
			ierr(in, n, "environment variable %s is not set", var);
			free(var);
			goto out;
		}
		free(var);
		s = end + 1;
	}
	sbuf_str(&out, s);
	if (out.oom) {
		ierr(in, n, "out of memory");
		in->stop = true;
		goto out;
	}
	if (out.len > in->budget) {
		ierr(in, n, "values grow beyond %u bytes in total after "
		    "interpolation", (unsigned)CONF_MAX_EXPANDED);
		in->stop = true;
		goto out;
	}
	in->budget -= out.len;
	n->value = doc_strndup(in->doc, sbuf_get(&out), out.len);
	if (n->value == NULL) {
		ierr(in, n, "out of memory");
		in->stop = true;
	}
out:
	free(out.s);
}

static void
interp_node(struct interp *in, struct conf_node *n)
{
	size_t	 i, len;

	if (n->type == CONF_SCALAR) {
		if (strchr(n->value, '$') != NULL)
			interp_scalar(in, n);
		return;
	}
	len = in->path.len;
	for (i = 0; i < n->n && !in->stop; i++) {
		if (n->type == CONF_MAP)
			sbuf_key(&in->path, n->keys[i]);
		else
			sbuf_index(&in->path, i);
		interp_node(in, n->items[i]);
		sbuf_truncate(&in->path, len);
	}
}

/* --- loading ------------------------------------------------------------ */

static struct conf_doc *
load(const char *const *paths, const char *const *texts, const size_t *lens,
    size_t n, struct conf_errors *errs)
{
	struct conf_doc	 *doc;
	struct conf_node *root, *r;
	struct interp	  in;
	const char	 *name;
	size_t		  i, len;
	char		 *buf;
	bool		  failed = false;

	if ((doc = doc_new()) == NULL) {
		conf_error(errs, NULL, NULL, "out of memory");
		return NULL;
	}
	if ((root = doc_node(doc, CONF_MAP, NULL, 1, 1)) == NULL)
		goto oom;
	/* Every file is parsed, even after a failure, so one run reports
	 * the errors of all of them. */
	for (i = 0; i < n; i++) {
		name = doc_strndup(doc, paths[i], strlen(paths[i]));
		if (name == NULL)
			goto oom;
		if (texts != NULL) {
			len = lens[i];
			if (len > CONF_MAX_FILE_SIZE) {
				conf_error(errs, NULL, name, "file is larger "
				    "than the limit of %u bytes",
				    (unsigned)CONF_MAX_FILE_SIZE);
				failed = true;
				continue;
			}
			r = parse_text(doc, texts[i], len, name, errs);
		} else {
			if ((buf = read_file(name, &len, errs)) == NULL) {
				failed = true;
				continue;
			}
			r = parse_text(doc, buf, len, name, errs);
			free(buf);
		}
		if (r == NULL) {
			failed = true;
			continue;
		}
		/* The first file provides the root and its position. */
		if (root->file == NULL)
			root = r;
		else if (merge_map(doc, root, r) == -1)
			goto oom;
	}
	if (failed)
		goto fail;
	doc->root = root;

	memset(&in, 0, sizeof(in));
	in.doc = doc;
	in.errs = errs;
	in.budget = CONF_MAX_EXPANDED;
	interp_node(&in, root);
	free(in.path.s);
	if (in.nerrs > 0)
		goto fail;
	return doc;
oom:
	conf_error(errs, NULL, NULL, "out of memory");
fail:
	conf_doc_free(doc);
	return NULL;
}

/*
 * Loads and merges files in order, then interpolates the environment.
 * Returns NULL after appending every error found to errs.  The caller frees
 * the document with conf_doc_free().
 */
struct conf_doc *
conf_load_files(const char *const *paths, size_t npaths,
    struct conf_errors *errs)
{
	return load(paths, NULL, NULL, npaths, errs);
}

/* Like conf_load_files for one text in memory, named name in messages. */
struct conf_doc *
conf_load_string(const char *text, size_t len, const char *name,
    struct conf_errors *errs)
{
	const char	*names[1], *texts[1];
	size_t		 lens[1];

	names[0] = name != NULL ? name : "<string>";
	texts[0] = text != NULL ? text : "";
	lens[0] = text != NULL ? len : 0;
	return load(names, texts, lens, 1, errs);
}

/* --- lookups ------------------------------------------------------------ */

/* Linear: platform maps are small, and parsing already refused duplicates. */
struct conf_node *
conf_map_get(const struct conf_node *map, const char *key)
{
	size_t	 i;

	if (map == NULL || map->type != CONF_MAP || key == NULL)
		return NULL;
	for (i = 0; i < map->n; i++)
		if (strcmp(map->keys[i], key) == 0)
			return map->items[i];
	return NULL;
}

/*
 * "a.b.c" through maps; "a.list[2]" indexes a sequence.  Keys that
 * contain "." or "[" cannot be reached this way; use conf_map_get.
 */
struct conf_node *
conf_path(const struct conf_node *root, const char *path)
{
	const struct conf_node *n = root;
	const char	*p = path, *e;
	char		*key;
	unsigned long	 idx;
	char		*end;

	if (n == NULL || path == NULL)
		return NULL;
	while (n != NULL && *p != '\0') {
		e = p + strcspn(p, ".[");
		if (e == p && *p != '[')
			return NULL;
		if (e > p) {
			if ((key = strndup(p, (size_t)(e - p))) == NULL)
				return NULL;
			n = conf_map_get(n, key);
			free(key);
		}
		p = e;
		while (n != NULL && *p == '[') {
			if (!isdigit((unsigned char)p[1]))
				return NULL;
			errno = 0;
			idx = strtoul(p + 1, &end, 10);
			if (errno != 0 || *end != ']' || n->type != CONF_SEQ ||
			    idx >= n->n)
				return NULL;
			n = n->items[idx];
			p = end + 1;
		}
		if (*p == '.') {
			if (p[1] == '\0')
				return NULL;
			p++;
		} else if (*p != '\0')
			return NULL;
	}
	return (struct conf_node *)n;
}

/* Maps compare as unordered; a reordered section is the same section. */
bool
conf_equal(const struct conf_node *a, const struct conf_node *b)
{
	size_t	 i;

	if (a == NULL || b == NULL)
		return a == b;
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case CONF_SCALAR:
		return a->plain == b->plain && strcmp(a->value, b->value) == 0;
	case CONF_SEQ:
		if (a->n != b->n)
			return false;
		for (i = 0; i < a->n; i++)
			if (!conf_equal(a->items[i], b->items[i]))
				return false;
		return true;
	case CONF_MAP:
		if (a->n != b->n)
			return false;
		for (i = 0; i < a->n; i++)
			if (!conf_equal(a->items[i],
			    conf_map_get(b, a->keys[i])))
				return false;
		return true;
	}
	return false;
}

bool
conf_equal_except(const struct conf_node *a, const struct conf_node *b,
    const char *key)
{
	size_t	 i, na = 0, nb = 0;

	if (a == NULL || b == NULL || a->type != CONF_MAP || b->type != CONF_MAP)
		return conf_equal(a, b);
	for (i = 0; i < a->n; i++) {
		if (strcmp(a->keys[i], key) == 0)
			continue;
		na++;
		if (!conf_equal(a->items[i], conf_map_get(b, a->keys[i])))
			return false;
	}
	for (i = 0; i < b->n; i++)
		if (strcmp(b->keys[i], key) != 0)
			nb++;
	return na == nb;
}

/* Only unquoted text is null: "null" in quotes is a string. */
bool
conf_is_null(const struct conf_node *n)
{
	const char	*v;

	if (n == NULL || n->type != CONF_SCALAR || !n->plain)
		return false;
	v = n->value;
	return *v == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
	    strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

/* --- value parsers ------------------------------------------------------ */

/*
 * "digits[.digits]": the integer part, and the fraction in billionths
 * (digits past the ninth are dropped).  Returns the end, or NULL.
 */
static const char *
parse_decimal(const char *s, uint64_t *ip, uint64_t *frac, bool *hasfrac)
{
	uint64_t v = 0, f = 0, scale = 100000000;
	unsigned d;

	if (!isdigit((unsigned char)*s))
		return NULL;
	for (; isdigit((unsigned char)*s); s++) {
		d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return NULL;
		v = v * 10 + d;
	}
	*hasfrac = false;
	if (*s == '.') {
		s++;
		if (!isdigit((unsigned char)*s))
			return NULL;
		for (; isdigit((unsigned char)*s); s++) {
			f += (uint64_t)(*s - '0') * scale;
			scale /= 10;
		}
		*hasfrac = true;
	}
	*ip = v;
	*frac = f;
	return s;
}

/* ip.frac times unit, rounded down; -1 on overflow. */
static int
scale_decimal(uint64_t ip, uint64_t frac, uint64_t unit, uint64_t *out)
{
	const uint64_t	 billion = 1000000000;
	uint64_t	 fpart;

	if (unit != 0 && ip > UINT64_MAX / unit)
		return -1;
	/* Split so that neither product can overflow. */
	fpart = (unit / billion) * frac + (unit % billion) * frac / billion;
	if (ip * unit > UINT64_MAX - fpart)
		return -1;
	*out = ip * unit + fpart;
	return 0;
}

/*
 * 250ms, 5s, 2m, 1h, 1.5s; a bare number is seconds.  Milliseconds are the
 * unit of the result, so anything below rounds down: "0.5ms" is 0.
 */
int
conf_parse_duration(const char *s, uint64_t *ms)
{
	static const struct { const char *name; uint64_t ms; } units[] = {
		{ "", 1000 }, { "ms", 1 }, { "s", 1000 }, { "m", 60000 },
		{ "h", 3600000 },
	};
	uint64_t	 ip, frac, v;
	const char	*e;
	bool		 hasfrac;
	size_t		 i;

	if (s == NULL || (e = parse_decimal(s, &ip, &frac, &hasfrac)) == NULL)
		return -1;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(e, units[i].name) == 0)
			break;
	if (i == sizeof(units) / sizeof(units[0]) ||
	    scale_decimal(ip, frac, units[i].ms, &v) == -1)
		return -1;
	*ms = v;
	return 0;
}

/*
 * 512, 512B, 64KiB, 16MiB, 1GiB, 1TiB (powers of 1024) and 10kB or 10KB,
 * 5MB, 1GB, 1TB (powers of 1000).  A fraction needs a unit above bytes:
 * "1.5GiB" is fine, "1.5" is not.
 */
int
conf_parse_size(const char *s, uint64_t *bytes)
{
	static const struct { const char *name; uint64_t mult; } units[] = {
		{ "", 1 }, { "B", 1 },
		{ "KiB", 1ull << 10 }, { "MiB", 1ull << 20 },
		{ "GiB", 1ull << 30 }, { "TiB", 1ull << 40 },
		{ "kB", 1000 }, { "KB", 1000 }, { "MB", 1000000 },
		{ "GB", 1000000000 }, { "TB", 1000000000000ull },
	};
	uint64_t	 ip, frac, v;
	const char	*e;
	bool		 hasfrac;
	size_t		 i;

	if (s == NULL || (e = parse_decimal(s, &ip, &frac, &hasfrac)) == NULL)
		return -1;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(e, units[i].name) == 0)
			break;
	if (i == sizeof(units) / sizeof(units[0]) ||
	    (hasfrac && units[i].mult == 1) ||
	    scale_decimal(ip, frac, units[i].mult, &v) == -1)
		return -1;
	*bytes = v;
	return 0;
}

/* The YAML 1.1 spellings people write, in any case; not 1/0 or y/n. */
int
conf_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on" };
	static const char *const no[] = { "false", "no", "off" };
	size_t	 i;

	if (s == NULL)
		return -1;
	for (i = 0; i < 3; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

/* strtoll would also take leading spaces and an empty string; these do not. */
int
conf_parse_int(const char *s, long long *out)
{
	const char	*p;
	char		*end;
	long long	 v;

	if (s == NULL)
		return -1;
	p = (*s == '-' || *s == '+') ? s + 1 : s;
	if (!isdigit((unsigned char)*p))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}
