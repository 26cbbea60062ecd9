/*
 * Worker protocol version 1: the messages of plba-protocol(7), decoded and
 * checked member by member (framing is checked by frame.c first), and
 * encoded straight into a frame writer.  Shared by the master and by
 * libplba's child runtime.
 */
#ifndef PLBA_PROTO_H
#define PLBA_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "frame.h"

#define PROTO_VERSION	1

enum msg_type {
	MSG_INVALID = 0,
	/* child to master */
	MSG_HELLO, MSG_READY, MSG_STATUS, MSG_HEALTH, MSG_HEARTBEAT,
	MSG_PUBLISH, MSG_ACK, MSG_NACK, MSG_TRACE,
	/* master to child */
	MSG_WELCOME, MSG_PUBLISHED, MSG_REJECTED, MSG_TASK, MSG_STOP, MSG_DONE,
	MSG_TRACING
};

/* A decoded message; string members point into root and live as long. */
struct msg {
	enum msg_type	 type;
	cJSON		*root;
	long long	 protocol;	/* hello */
	long long	 pid;		/* hello */
	bool		 tracing_updates; /* hello: takes "tracing" messages */
	const char	*status;	/* status */
	const char	*health;	/* health */
	const char	*detail;	/* health, may be NULL */
	const char	*ref;		/* publish, published, rejected */
	const char	*queue;		/* publish, task, done */
	cJSON		*task;		/* publish, task: {name, payload, metadata};
					 *   without metadata when meta is set */
	const char	*meta;		/* publish, task: the metadata as text in */
	size_t		 meta_len;	/*   the frame, or NULL (below) */
	const char	*task_raw;	/* publish: the task's text in the frame; */
	size_t		 task_raw_len;	/*   trace: the record's; as long as the frame */
	const char	*id;		/* ack, nack, published, task, done */
	const char	*error;		/* nack, rejected, done; may be NULL */
	bool		 track;		/* publish: send a done notice, default false */
	bool		 acked;		/* done: outcome "acked", else "dead" */
	bool		 retry;		/* nack, default true */
	cJSON		*record;	/* trace */
	const char	*worker;	/* welcome */
	long long	 instance;	/* welcome */
	cJSON		*config;	/* welcome, may be NULL */
	long long	 attempt;	/* task */
	bool		 force;		/* stop */
	bool		 trace;		/* welcome, tracing */
	double		 trace_sample;	/* welcome, tracing; 1 when absent */
};

/*
 * Decodes and checks one frame body.  from_child selects which types are
 * acceptable.  Returns 0, or -1 with a reason such as `publish: "queue"
 * must be a string` in err.
 */
int		 msg_decode(struct msg *, const char *data, size_t len,
		    bool from_child, char *err, size_t errlen);
void		 msg_clear(struct msg *);

/*
 * A task's metadata in libplba's form (an object of strings without
 * escapes, the task's last member, the task the frame's last) is checked
 * by a scan and not parsed: it stays text (meta), and task has no
 * "metadata" member.  Any other form is parsed whole.
 *
 * meta_text_next steps through such text's members, *pos starting at the
 * text; keys and values are their bytes, there being no escapes.
 * msg_meta_get copies a value out of either form, NUL-terminated, and
 * fails when it does not fit.
 * msg_task_whole parses the text into task, for a caller that needs the
 * whole tree.  Each returns 0 or -1.
 */
int		 meta_text_next(const char **pos, const char *end,
		    const char **key, size_t *klen, const char **value,
		    size_t *vlen);
int		 msg_meta_get(const struct msg *, const char *key, char *buf,
		    size_t buflen);
int		 msg_task_whole(struct msg *);
const char	*msg_type_name(enum msg_type);

/* Valid instance status and health words. */
bool		 proto_status_valid(const char *);
bool		 proto_health_valid(const char *);

/* Encoders: each appends one frame; -1 when out of memory. */
int	proto_put_hello(struct frame_writer *, long pid, bool tracing_updates);
int	proto_put_simple(struct frame_writer *, const char *type);	/* ready, heartbeat */
int	proto_put_status(struct frame_writer *, const char *status);
int	proto_put_health(struct frame_writer *, const char *health, const char *detail);
/* task_json is the task object's JSON text. */
int	proto_put_publish(struct frame_writer *, const char *ref, const char *queue,
	    const char *task_json, size_t task_len, bool track);
int	proto_put_ack(struct frame_writer *, const char *id);
int	proto_put_nack(struct frame_writer *, const char *id, const char *error, bool retry);
int	proto_put_trace(struct frame_writer *, const char *record_json, size_t len);
/* The most a welcome adds to its worker's name and config: what the
 * configuration check leaves of platform.ipc.max_frame for a config. */
#define PROTO_WELCOME_EXTRA	160
int	proto_put_welcome(struct frame_writer *, const char *worker, unsigned instance,
	    const char *config_json, uint64_t heartbeat_ms, bool tracing,
	    double trace_sample);
int	proto_put_published(struct frame_writer *, const char *ref, uint64_t id);
int	proto_put_rejected(struct frame_writer *, const char *ref, const char *error);
/* How the reason of a publish refused because its publisher was asked to
 * stop begins; libplba returns PLBA_ESTATE for it. */
#define PROTO_REJECT_STOPPING	"stopping"
int	proto_put_task(struct frame_writer *, uint64_t id, const char *queue,
	    unsigned attempt, const char *task_json, size_t task_len);
int	proto_put_stop(struct frame_writer *, bool force);
int	proto_put_tracing(struct frame_writer *, bool tracing, double trace_sample);
/* What became of a tracked task: acked, or dead-lettered with error. */
int	proto_put_done(struct frame_writer *, uint64_t id, const char *queue,
	    bool acked, const char *error);

/*
 * Finds the text of a top-level member's value in an object already known
 * to be valid JSON, so a value can be passed on without re-encoding it.
 * Keys are compared as written (a key spelled with escapes is not found:
 * callers fall back to the parsed tree).  Returns 0 or -1.
 */
int	json_member_text(const char *json, size_t len, const char *key,
	    const char **value, size_t *vlen);

/* Appends s as a JSON string literal, quotes included; returns the length
 * written, or the length needed when it does not fit in cap. */
size_t	json_quote(char *out, size_t cap, const char *s);
/*
 * Where the first byte is that a frame's text may not hold, or len: a
 * control character other than JSON's white space, or one that starts
 * no valid UTF-8 sequence.
 */
size_t	proto_first_invalid(const char *data, size_t len);
/* Whether every number in o is finite: cJSON keeps one beyond a double's
 * range as infinity, and prints it as null. */
bool	json_finite(const cJSON *o);

/*
 * How deep a task's payload, or any other member of a task, may nest,
 * counting its own levels ([[1]] is 2).  Every reader nests a task deeper
 * than it came (a task frame, the master's listings) and some stop at a
 * fixed depth (cJSON, and so plbactl, at 1000 levels; Python's json at
 * its recursion limit, 1000): this leaves all of them room.
 */
#define PROTO_TASK_DEPTH	256
/* Whether the JSON value v nests deeper than limit; a scalar is 0 deep. */
bool	json_deeper(const cJSON *v, int limit);
/* The name of a member of the task object nested deeper than
 * PROTO_TASK_DEPTH, or NULL; it lives as long as the task. */
const char *proto_task_too_deep(const cJSON *task);
/*
 * The same check on a task's text, for text cJSON may be unable to parse
 * (past 1000 levels): whether it nests deeper than a task object whose
 * members keep to PROTO_TASK_DEPTH.  If so, *key and *klen are the
 * top-level key, as written, of the member where it does, or NULL and 0
 * when the text is not an object.  Exact for valid JSON and for the
 * prefix of any text that cJSON would parse.
 */
bool	proto_text_too_deep(const char *s, size_t len, const char **key,
	    size_t *klen);

#endif
