/*
 * The HTTP control plane (the seed's ControlPlaneService): civetweb
 * threads answer from the snapshot the loop publishes, and hand actions
 * to the loop through an eventfd, waiting for its answer with a deadline.
 * A slow or stuck client ties up one civetweb thread, never the loop.
 */
#ifndef PLBA_MASTER_HTTP_H
#define PLBA_MASTER_HTTP_H

#include <stdbool.h>
#include <stdint.h>

struct runtime;
struct settings;
struct snapshot;

/* Starts serving platform.http; returns -1 with a reason logged. */
int	http_start(struct runtime *);
/* The token: the first line of the file at path; NULL and why not. */
char	*http_read_token(const char *path, const char **why);
/* Stops serving; requests waiting for the loop are answered 503 at once,
 * so that it never waits for them. */
void	http_stop(struct runtime *);
/*
 * Applies a reload's platform.http: the token file is read again, and a
 * changed one (by its values, not its text) restarts the server on it (on prev again when it does
 * not start, logged).  Never fails the reload.
 */
void	http_reload(struct runtime *, const struct settings *prev,
	    const struct settings *next);
/* Replaces the snapshot requests are answered from (takes the ref). */
void	http_publish(struct runtime *, struct snapshot *);
/* The runtime changed: a new snapshot is built shortly. */
void	http_dirty(struct runtime *);
/* The same, built now: the loop is about to be busy for a while. */
void	http_refresh(struct runtime *);
/* The store is through with batch `batch`: the answers that waited for
 * it, and for those before it, go out. */
void	http_stored(struct runtime *, uint64_t batch, bool stored);

#endif
