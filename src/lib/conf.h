/*
 * The configuration tree: YAML files parsed by libyaml into nodes that
 * remember where they came from, merged, and interpolated from the
 * environment.  Everything that reports a configuration error points at a
 * node, so every message can name file, line, column and key path.
 */
#ifndef PLBA_CONF_H
#define PLBA_CONF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Hostile or broken files must not hurt the master: libyaml has no nesting
 * limit of its own and aliases can expand exponentially. */
#define CONF_MAX_FILE_SIZE   (4u << 20)   /* bytes per file */
#define CONF_MAX_DEPTH       64           /* nested maps and sequences */
#define CONF_MAX_NODES       200000       /* nodes per document, aliases expanded */
#define CONF_MAX_ERRORS      100          /* reported per load, then one line more */

enum conf_type { CONF_SCALAR, CONF_MAP, CONF_SEQ };

/* Where something was written; keys are not nodes, so maps keep one per key. */
struct conf_mark {
	const char	*file;		/* owned by the document */
	int		 line;		/* 1-based */
	int		 col;		/* 1-based */
};

struct conf_node {
	enum conf_type	  type;
	const char	 *file;		/* owned by the document */
	int		  line;		/* 1-based */
	int		  col;		/* 1-based */
	char		 *value;	/* CONF_SCALAR: text after interpolation */
	bool		  plain;	/* CONF_SCALAR: unquoted in the file (so `null`, `~` mean null) */
	size_t		  n;		/* CONF_MAP: pairs; CONF_SEQ: items */
	char		**keys;		/* CONF_MAP: n keys, in file order */
	struct conf_node **items;	/* CONF_MAP: n values; CONF_SEQ: n items */
	struct conf_mark *keymarks;	/* CONF_MAP: where each of the n keys is written */
};

/* Errors are collected, not returned one at a time, so --check can list
 * every problem of a file in one go. */
struct conf_errors {
	size_t	  n;
	char	**msgs;		/* "FILE:LINE:COL: KEY.PATH: message" */
};

struct conf_doc;

/*
 * Loads and merges files in order (maps deep-merge, scalars and sequences
 * are replaced, later files win), then replaces ${VAR} and ${VAR:-default}
 * in every scalar ($$ is a literal $).  Returns NULL and appends to errs on
 * any error.  The document owns every node and string.
 */
struct conf_doc	*conf_load_files(const char *const *paths, size_t npaths,
		    struct conf_errors *errs);
/* Same as conf_load_files for text already in memory; name is used in errors. */
struct conf_doc	*conf_load_string(const char *text, size_t len, const char *name,
		    struct conf_errors *errs);
void		 conf_doc_free(struct conf_doc *);
struct conf_node *conf_doc_root(const struct conf_doc *);	/* a CONF_MAP, maybe empty */

/* The value of key in a map, or NULL when absent or when map is not a map. */
struct conf_node *conf_map_get(const struct conf_node *map, const char *key);
/* Walks dotted paths such as "platform.http.listen" through maps. */
struct conf_node *conf_path(const struct conf_node *root, const char *path);
/* Deep equality of two subtrees, ignoring positions. NULL equals only NULL. */
bool		 conf_equal(const struct conf_node *, const struct conf_node *);
/* The same for two maps, leaving out one key (absent in either, or not). */
bool		 conf_equal_except(const struct conf_node *, const struct conf_node *,
		    const char *key);
/* A scalar that is an unquoted null, ~ or empty value. */
bool		 conf_is_null(const struct conf_node *);

/* Parsers shared by the settings and by the typed accessors. Each returns 0
 * on success and -1 on bad input, without touching *out. */
int		 conf_parse_duration(const char *, uint64_t *ms);	/* 250ms 5s 2m 1h 1.5s; bare = seconds */
int		 conf_parse_size(const char *, uint64_t *bytes);	/* 512 64KiB 16MiB 1GiB 10kB 5MB */
int		 conf_parse_bool(const char *, bool *);		/* true/false yes/no on/off */
int		 conf_parse_int(const char *, long long *);	/* decimal, optional sign */

/* Appends "FILE:LINE:COL: PATH: message" (node may be NULL: no position). */
void		 conf_error(struct conf_errors *, const struct conf_node *node,
		    const char *path, const char *fmt, ...)
		    __attribute__((format(printf, 4, 5)));
void		 conf_verror(struct conf_errors *, const struct conf_node *node,
		    const char *path, const char *fmt, va_list)
		    __attribute__((format(printf, 4, 0)));
/* Same, at a mark (a map key's position); mark may be NULL. */
void		 conf_error_mark(struct conf_errors *, const struct conf_mark *mark,
		    const char *path, const char *fmt, ...)
		    __attribute__((format(printf, 4, 5)));
void		 conf_errors_clear(struct conf_errors *);

#endif
