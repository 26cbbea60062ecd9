/*
 * libplba's child runtime: the worker side of the protocol, run inside
 * each instance.  A channel thread reads fd 3, answers the master, sends
 * heartbeats and turns stop requests and SIGTERM into a stop; the main
 * thread runs the worker's start() or the queue worker's handler loop.
 */
#ifndef PLBA_CHILD_H
#define PLBA_CHILD_H

#include "registry.h"

/* Runs one worker to its end; returns the process exit status.  healths
 * (may be NULL) are the module's health contributors. */
int	child_run(const struct reg_worker *, const struct plba_registry *healths);

#endif
