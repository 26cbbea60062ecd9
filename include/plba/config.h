#ifndef PLBA_CONFIG_H
#define PLBA_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A loaded, merged configuration.  Owns every node and string reachable
 * from it; they live until plba_config_free(). */
typedef struct plba_config plba_config;
/* One node of the tree: a map, a sequence or a scalar. */
typedef struct plba_node plba_node;

enum plba_node_kind { PLBA_NODE_SCALAR, PLBA_NODE_MAP, PLBA_NODE_SEQ };

/*
 * Loads the files in order and merges them (maps deep-merge, scalars and
 * sequences are replaced, later files win), replacing ${VAR} and
 * ${VAR:-default} from the environment.  Only the syntax is checked here,
 * not the platform's sections.  On failure returns PLBA_ECONFIG and, when
 * errbuf is not NULL, writes every error there, one per line, each as
 * "FILE:LINE:COL: KEY.PATH: message" (truncated to errlen).
 */
int		 plba_config_load(const char *const *paths, size_t npaths,
		    plba_config **out, char *errbuf, size_t errlen);
/* Frees the configuration; NULL is a no-op. */
void		 plba_config_free(plba_config *);
/* The top-level map; never NULL for a loaded configuration. */
const plba_node	*plba_config_root(const plba_config *);

/* The node at a dotted path below node ("imap.url"), or NULL. */
const plba_node	*plba_node_get(const plba_node *node, const char *path);
enum plba_node_kind plba_node_kind(const plba_node *);
/* Number of pairs of a map or items of a sequence; 0 for a scalar. */
size_t		 plba_node_count(const plba_node *);
/* The i-th value of a map or item of a sequence, or NULL. */
const plba_node	*plba_node_at(const plba_node *, size_t i);
/* The i-th key of a map, or NULL. */
const char	*plba_node_key_at(const plba_node *, size_t i);
/* Where the node was written, for the application's own error messages. */
void		 plba_node_where(const plba_node *, const char **file, int *line, int *col);

/*
 * Typed accessors.  path may be NULL or "" for node itself.  When the path
 * is absent, *out is set to def and PLBA_OK is returned; when it is present
 * but not of the asked type, PLBA_ETYPE is returned and *out is untouched.
 * Strings point into the configuration and live as long as it.
 */
int		 plba_node_string(const plba_node *, const char *path,
		    const char *def, const char **out);
int		 plba_node_int(const plba_node *, const char *path,
		    long long def, long long *out);
int		 plba_node_bool(const plba_node *, const char *path,
		    bool def, bool *out);
int		 plba_node_double(const plba_node *, const char *path,
		    double def, double *out);
/* "250ms", "5s", "2m", "1h"; a bare number is seconds. In milliseconds. */
int		 plba_node_duration(const plba_node *, const char *path,
		    uint64_t def_ms, uint64_t *out_ms);
/* "512", "64KiB", "16MiB". In bytes. */
int		 plba_node_size(const plba_node *, const char *path,
		    uint64_t def, uint64_t *out);

#ifdef __cplusplus
}
#endif

#endif
