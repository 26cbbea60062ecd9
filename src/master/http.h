/*
 * The HTTP control plane (the seed's ControlPlaneService): civetweb
 * threads answer from the snapshot the loop publishes, and hand actions
 * to the loop through an eventfd, waiting for its answer with a deadline.
 * A slow or stuck client ties up one civetweb thread, never the loop.
 */
#ifndef PLBA_MASTER_HTTP_H
#define PLBA_MASTER_HTTP_H

#include <stdbool.h>

struct runtime;
struct snapshot;

/* Starts serving platform.http; returns -1 with a reason logged. */
int	http_start(struct runtime *);
void	http_stop(struct runtime *);
/* Replaces the snapshot requests are answered from (takes the ref). */
void	http_publish(struct runtime *, struct snapshot *);
/* The runtime changed: a new snapshot is built shortly. */
void	http_dirty(struct runtime *);

#endif
