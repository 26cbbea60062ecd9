/*
 * The validated, typed form of the platform's own sections of plba.yml:
 * platform, log, queues and workers.  Anything else at the top level is the
 * application's and stays in the tree untouched.
 */
#ifndef PLBA_SETTINGS_H
#define PLBA_SETTINGS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "conf.h"

enum restart_policy	{ RESTART_ALWAYS, RESTART_ON_FAILURE, RESTART_NEVER };
enum ready_kind		{ READY_DELAY, READY_NOTIFY, READY_PROTOCOL };
enum worker_kind	{ WORKER_EXEC, WORKER_MODULE, WORKER_BUILTIN };
enum log_level		{ LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARNING, LOG_LEVEL_ERROR };
enum trace_transport	{ TRACE_NONE, TRACE_FILE, TRACE_OTLP };

struct worker_def {
	char		 *name;
	enum worker_kind  kind;
	char		**argv;			/* WORKER_EXEC: NULL-terminated */
	char		 *module;		/* WORKER_MODULE: registered worker name */
	char		 *type;			/* WORKER_BUILTIN */
	unsigned	  concurrency;		/* >= 1, default 1 */
	bool		  critical;		/* default true */
	enum restart_policy restart;		/* default on-failure */
	uint64_t	  restart_delay_ms;	/* default 100ms */
	uint64_t	  restart_max_delay_ms;	/* default 30s */
	unsigned	  max_restarts;		/* default 10 */
	uint64_t	  restart_window_ms;	/* default 60s */
	uint64_t	  stop_timeout_ms;	/* default platform.stop_timeout */
	char		**depends_on;		/* NULL-terminated worker names */
	enum ready_kind	  ready;		/* default READY_DELAY */
	uint64_t	  ready_delay_ms;	/* READY_DELAY: default 1s */
	uint64_t	  max_memory;		/* bytes, 0: no limit */
	uint64_t	  task_timeout_ms;	/* 0: none */
	char		 *consumes;		/* queue name or NULL */
	unsigned	  prefetch;		/* default 1 */
	char		**env;			/* "NAME=value", NULL-terminated */
	char		 *working_directory;	/* NULL: the master's */
	char		 *user;			/* NULL: the master's */
	uid_t		  uid;			/* resolved from user at load */
	gid_t		  gid;			/* user's primary group */
	char		**user_env;		/* HOME=, USER=, LOGNAME=, SHELL=
						 * from user's passwd entry */
	const struct conf_node *config;		/* workers.NAME.config, may be NULL */
	const struct conf_node *section;	/* workers.NAME, for errors */
};

struct queue_def {
	char		*name;
	uint64_t	 capacity;		/* default 10000 */
	unsigned	 max_attempts;		/* default 5 */
	bool		 durable;		/* default false */
	uint64_t	 dead_max;		/* default 10000 */
	uint64_t	 max_bytes;		/* default 256MiB, 0: none */
	uint64_t	 dead_max_bytes;	/* default 256MiB, 0: none */
};

struct settings {
	struct conf_doc	*doc;			/* owns the tree all nodes point into */

	char		*name;			/* platform.name, default "plba" */
	bool		 autostart;		/* default true */
	uint64_t	 stop_timeout_ms;	/* default 30s */
	bool		 exit_on_failure;	/* default false */
	char		*state_dir;		/* default /var/lib/plba */
	char	       **modules;		/* NULL-terminated paths */

	struct {
		bool	 enabled;		/* default false */
		char	**listen;		/* NULL-terminated "host:port", default 127.0.0.1:8080 */
		char	*token_file;
		char	*tls_cert;
		char	*tls_key;
	} http;
	struct {
		uint64_t max_frame;		/* default 16MiB */
		uint64_t heartbeat_interval_ms;	/* default 1s */
		uint64_t heartbeat_timeout_ms;	/* default 5s */
	} ipc;
	struct {
		enum trace_transport transport;	/* default none */
		char	*file;
		char	*endpoint;		/* default http://127.0.0.1:4318/v1/traces */
		double	 sample;		/* of new traces recorded; default 1 */
	} trace;
	struct {
		enum log_level level;		/* default info */
		bool	 json;			/* format: json */
		char	*output;		/* "stderr", "syslog" or a path; default stderr */
	} log;

	struct queue_def  *queues;
	size_t		   nqueues;
	struct worker_def *workers;		/* in file order */
	size_t		   nworkers;
	const struct conf_node *platform;	/* the platform section, may be NULL */
	const struct conf_node *log_section;	/* the log section, may be NULL */
};

/*
 * Loads, merges and validates files.  On any error returns NULL with every
 * problem found appended to errs (validation goes on after the first error).
 * Checks: types and ranges, unknown keys in platform, log, queues and
 * workers, exactly one of command/module/type per worker, depends_on naming
 * existing workers and free of cycles, consumes naming a declared queue,
 * user existing in the password database.
 */
struct settings	*settings_load(const char *const *paths, size_t npaths,
		    struct conf_errors *errs);
/* Same, from text in memory (tests, fuzzing). */
struct settings	*settings_load_string(const char *text, size_t len,
		    const char *name, struct conf_errors *errs);
void		 settings_free(struct settings *);

/*
 * Whether a reload keeps a worker's instances: every value after defaults
 * is the same but concurrency, which scales, and stop_timeout, which
 * only says how long a stop waits and applies to the instances kept.
 */
bool		 settings_worker_same(const struct worker_def *,
		    const struct worker_def *);
/* Whether the HTTP server would serve the same way (platform.http). */
bool		 settings_http_same(const struct settings *,
		    const struct settings *);
/* Whether every platform.http.listen address is on the loopback. */
bool		 settings_http_loopback_only(const struct settings *);

struct worker_def *settings_worker(const struct settings *, const char *name);
struct queue_def  *settings_queue(const struct settings *, const char *name);

#endif
