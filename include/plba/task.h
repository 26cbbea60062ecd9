#ifndef PLBA_TASK_H
#define PLBA_TASK_H

#include <stdarg.h>

#include <plba/worker.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A task being handled.  Owned by libplba; valid only during the
 * handler call that received it. */
typedef struct plba_task plba_task;

enum plba_task_result {
	PLBA_TASK_OK,		/* ack: done */
	PLBA_TASK_RETRY,	/* nack, deliver again (up to max_attempts) */
	PLBA_TASK_FAIL		/* nack, straight to the dead-letter list */
};

/* Handles one task of the queue the worker consumes (the seed's
 * TaskHandler).  Runs on the worker's main thread, one task at a time. */
typedef enum plba_task_result (*plba_task_handler)(plba_worker *w,
		    plba_task *task, void *arg);

const char	*plba_task_id(const plba_task *);
const char	*plba_task_queue(const plba_task *);
const char	*plba_task_name(const plba_task *);
/* The payload as JSON text ("null" when absent). */
const char	*plba_task_payload(const plba_task *);
/* A metadata value, or NULL. */
const char	*plba_task_meta(const plba_task *, const char *key);
/* 1 on first delivery, then 2, 3, ... */
unsigned	 plba_task_attempt(const plba_task *);
/* The reason sent with a RETRY or FAIL result (printf-style). */
void		 plba_task_error(plba_task *, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));

#ifdef __cplusplus
}
#endif

#endif
