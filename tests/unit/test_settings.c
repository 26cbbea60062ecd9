/*
 * Unit tests of the validated settings (src/lib/settings.c): defaults, every
 * key of platform, log, queues and workers, and every validation error with
 * its file, line, column and key path.
 */
#include "config.h"

#include "unit.h"
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "settings.h"

static struct conf_errors errs;
static char *tmpfiles[4];
static size_t ntmpfiles;

static void
setup(void)
{
	memset(&errs, 0, sizeof(errs));
}

static void
teardown(void)
{
	size_t	 i;

	conf_errors_clear(&errs);
	for (i = 0; i < ntmpfiles; i++) {
		unlink(tmpfiles[i]);
		free(tmpfiles[i]);
	}
	ntmpfiles = 0;
}

static void
dump_errors(void)
{
	size_t	 i;

	for (i = 0; i < errs.n; i++)
		fprintf(stderr, "  error: %s\n", errs.msgs[i]);
}

static struct settings *
load(const char *yaml)
{
	return settings_load_string(yaml, strlen(yaml), "demo.yml", &errs);
}

static struct settings *
load_ok(const char *yaml)
{
	struct settings	*s = load(yaml);

	if (s == NULL)
		dump_errors();
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(errs.n, 0);
	return s;
}

#define assert_error(msg) do {						\
	const char *m_ = (msg);						\
	size_t i_;							\
	for (i_ = 0; i_ < errs.n; i_++)					\
		if (strcmp(errs.msgs[i_], m_) == 0)			\
			break;						\
	if (i_ == errs.n) {						\
		dump_errors();						\
		ck_abort_msg("expected error \"%s\"", m_);		\
	}								\
} while (0)

/* yaml must fail with exactly the one error msg. */
#define assert_fails(yaml, msg) do {					\
	struct settings *s_ = load(yaml);				\
	if (s_ != NULL)							\
		settings_free(s_);					\
	ck_assert_msg(s_ == NULL, "loading should fail: %s", yaml);	\
	assert_error(msg);						\
	if (errs.n != 1)						\
		dump_errors();						\
	ck_assert_uint_eq(errs.n, 1);					\
	conf_errors_clear(&errs);					\
} while (0)

static const char *
write_temp(const char *text)
{
	char	 tmpl[] = "/tmp/plba-test-settings-XXXXXX";
	size_t	 len = strlen(text);
	int	 fd;

	ck_assert_uint_lt(ntmpfiles, sizeof(tmpfiles) / sizeof(tmpfiles[0]));
	ck_assert_int_ne(fd = mkstemp(tmpl), -1);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
	tmpfiles[ntmpfiles] = strdup(tmpl);
	return tmpfiles[ntmpfiles++];
}

/* --- defaults and the full example -------------------------------------- */

START_TEST(defaults)
{
	static const char *const empties[] = {
		"{}\n", "platform:\nlog:\nqueues:\nworkers:\n",
		"platform: {}\nlog: {}\nqueues: {}\nworkers: {}\n",
	};
	struct settings	*s;
	size_t		 i;

	for (i = 0; i < sizeof(empties) / sizeof(empties[0]); i++) {
		s = load_ok(empties[i]);
		ck_assert_str_eq(s->name, "plba");
		ck_assert(s->autostart);
		ck_assert_uint_eq(s->stop_timeout_ms, 30000);
		ck_assert(!s->exit_on_failure);
		ck_assert_str_eq(s->state_dir, "/var/lib/plba");
		ck_assert_ptr_nonnull(s->modules);
		ck_assert_ptr_null(s->modules[0]);
		ck_assert(!s->http.enabled);
		ck_assert_str_eq(s->http.listen[0], "127.0.0.1:8080");
		ck_assert_ptr_null(s->http.listen[1]);
		ck_assert_ptr_null(s->http.token_file);
		ck_assert_ptr_null(s->http.tls_cert);
		ck_assert_ptr_null(s->http.tls_key);
		ck_assert_uint_eq(s->ipc.max_frame, 16u << 20);
		ck_assert_uint_eq(s->ipc.heartbeat_interval_ms, 1000);
		ck_assert_uint_eq(s->ipc.heartbeat_timeout_ms, 5000);
		ck_assert_int_eq(s->trace.transport, TRACE_NONE);
		ck_assert_ptr_null(s->trace.file);
		ck_assert_str_eq(s->trace.endpoint,
		    "http://127.0.0.1:4318/v1/traces");
		ck_assert(s->trace.sample == 1);
		ck_assert_int_eq(s->log.level, LOG_LEVEL_INFO);
		ck_assert(!s->log.json);
		ck_assert_str_eq(s->log.output, "stderr");
		ck_assert_uint_eq(s->nqueues, 0);
		ck_assert_uint_eq(s->nworkers, 0);
		ck_assert_ptr_nonnull(s->doc);
		settings_free(s);
	}
	settings_free(NULL);
}
END_TEST

/* The example of SPEC section 3, with a user and a dependency that exist. */
static const char spec_example[] =
"platform:\n"
"  name: mail_order_bot          # shown in status, logs, traces\n"
"  autostart: true\n"
"  stop_timeout: 30s\n"
"  exit_on_failure: false\n"
"  state_dir: /var/lib/plba\n"
"  modules: [/usr/lib/plba/modules/mail_order_bot.so]\n"
"  http:\n"
"    enabled: true\n"
"    listen: 127.0.0.1:8080\n"
"    token_file: /etc/plba/token\n"
"    # tls_cert: /etc/plba/cert.pem\n"
"    # tls_key: /etc/plba/key.pem\n"
"  ipc:\n"
"    max_frame: 16MiB\n"
"    heartbeat_interval: 1s\n"
"    heartbeat_timeout: 5s\n"
"  trace:\n"
"    transport: none\n"
"    file: /var/log/plba/traces.jsonl\n"
"    endpoint: http://127.0.0.1:4318/v1/traces\n"
"log:\n"
"  level: info\n"
"  format: text\n"
"  output: stderr\n"
"queues:\n"
"  emails:\n"
"    capacity: 10000\n"
"    max_attempts: 5\n"
"    durable: false\n"
"workers:\n"
"  mail-poller:\n"
"    module: mail_order_bot\n"
"    concurrency: 1\n"
"    critical: true\n"
"    restart: on-failure\n"
"    restart_delay: 100ms\n"
"    restart_max_delay: 30s\n"
"    max_restarts: 10\n"
"    restart_window: 60s\n"
"    stop_timeout: 10s\n"
"    depends_on: [db-proxy]\n"
"    ready: protocol\n"
"    max_memory: 512MiB\n"
"    task_timeout: 5m\n"
"    consumes: emails\n"
"    prefetch: 1\n"
"    environment: {TZ: UTC}\n"
"    working_directory: /var/lib/mail_order_bot\n"
"    user: root\n"
"    config: {poll_interval: 30s}\n"
"  db-proxy:\n"
"    command: [/usr/bin/python3, proxy.py, --port, \"5432\"]\n"
"    type: ~\n"
"mail_order_bot:\n"
"  imap: {url: \"imaps://mail.example.com/INBOX\", user: \"${IMAP_USER}\"}\n";

START_TEST(empty_file_fails)
{
	static const char *const empties[] = {
		"", "# all commented out\n", "null\n", "~\n", "---\n...\n",
	};
	const char	*paths[1];
	size_t		 i;

	/* A reload of a truncated file must not stop every worker. */
	for (i = 0; i < sizeof(empties) / sizeof(empties[0]); i++)
		assert_fails(empties[i], "demo.yml:1:1: the file holds no "
		    "configuration (it is empty, comments only or null); "
		    "write {} for an empty one on purpose");
	paths[0] = write_temp("");
	ck_assert_ptr_null(settings_load(paths, 1, &errs));
	ck_assert_uint_eq(errs.n, 1);
	ck_assert_ptr_nonnull(strstr(errs.msgs[0], paths[0]));
	ck_assert_ptr_nonnull(strstr(errs.msgs[0], "write {} for an empty"));
}
END_TEST

START_TEST(spec_example_loads)
{
	struct settings	  *s;
	struct worker_def *w;
	struct queue_def  *q;
	struct conf_node  *root;

	setenv("IMAP_USER", "bot@example.com", 1);
	s = load_ok(spec_example);
	root = conf_doc_root(s->doc);
	ck_assert_str_eq(s->name, "mail_order_bot");
	ck_assert(s->autostart);
	ck_assert_uint_eq(s->stop_timeout_ms, 30000);
	ck_assert_str_eq(s->modules[0], "/usr/lib/plba/modules/mail_order_bot.so");
	ck_assert_ptr_null(s->modules[1]);
	ck_assert(s->http.enabled);
	ck_assert_str_eq(s->http.listen[0], "127.0.0.1:8080");
	ck_assert_ptr_null(s->http.listen[1]);
	ck_assert_str_eq(s->http.token_file, "/etc/plba/token");
	ck_assert_uint_eq(s->ipc.max_frame, 16u << 20);
	ck_assert_int_eq(s->trace.transport, TRACE_NONE);
	ck_assert_str_eq(s->trace.file, "/var/log/plba/traces.jsonl");
	ck_assert_ptr_eq(s->platform, conf_map_get(root, "platform"));
	ck_assert_ptr_eq(s->log_section, conf_map_get(root, "log"));

	ck_assert_uint_eq(s->nqueues, 1);
	q = settings_queue(s, "emails");
	ck_assert_ptr_eq(q, &s->queues[0]);
	ck_assert_str_eq(q->name, "emails");
	ck_assert_uint_eq(q->capacity, 10000);
	ck_assert_uint_eq(q->max_attempts, 5);
	ck_assert(!q->durable);
	ck_assert_ptr_null(settings_queue(s, "nope"));

	ck_assert_uint_eq(s->nworkers, 2);
	w = settings_worker(s, "mail-poller");
	ck_assert_ptr_eq(w, &s->workers[0]);
	ck_assert_int_eq(w->kind, WORKER_MODULE);
	ck_assert_str_eq(w->module, "mail_order_bot");
	ck_assert_ptr_null(w->argv);
	ck_assert_ptr_null(w->type);
	ck_assert_uint_eq(w->concurrency, 1);
	ck_assert(w->critical);
	ck_assert_int_eq(w->restart, RESTART_ON_FAILURE);
	ck_assert_uint_eq(w->restart_delay_ms, 100);
	ck_assert_uint_eq(w->restart_max_delay_ms, 30000);
	ck_assert_uint_eq(w->max_restarts, 10);
	ck_assert_uint_eq(w->restart_window_ms, 60000);
	ck_assert_uint_eq(w->stop_timeout_ms, 10000);
	ck_assert_str_eq(w->depends_on[0], "db-proxy");
	ck_assert_ptr_null(w->depends_on[1]);
	ck_assert_int_eq(w->ready, READY_PROTOCOL);
	ck_assert_uint_eq(w->max_memory, 512u << 20);
	ck_assert_uint_eq(w->task_timeout_ms, 300000);
	ck_assert_str_eq(w->consumes, "emails");
	ck_assert_uint_eq(w->prefetch, 1);
	ck_assert_str_eq(w->env[0], "TZ=UTC");
	ck_assert_ptr_null(w->env[1]);
	ck_assert_str_eq(w->working_directory, "/var/lib/mail_order_bot");
	ck_assert_str_eq(w->user, "root");
	ck_assert_int_eq(w->uid, 0);
	ck_assert_int_eq(w->gid, 0);
	ck_assert_ptr_eq(w->config, conf_path(root, "workers.mail-poller.config"));
	ck_assert_ptr_eq(w->section, conf_path(root, "workers.mail-poller"));

	w = settings_worker(s, "db-proxy");
	ck_assert_ptr_eq(w, &s->workers[1]);
	ck_assert_int_eq(w->kind, WORKER_EXEC);
	ck_assert_str_eq(w->argv[0], "/usr/bin/python3");
	ck_assert_str_eq(w->argv[3], "5432");
	ck_assert_ptr_null(w->argv[4]);
	ck_assert_ptr_null(w->depends_on[0]);
	ck_assert_ptr_null(settings_worker(s, "nope"));
	ck_assert_ptr_null(settings_worker(s, NULL));

	/* The application's section is left in the tree, interpolated. */
	ck_assert_str_eq(conf_path(root, "mail_order_bot.imap.user")->value,
	    "bot@example.com");
	settings_free(s);
}
END_TEST

START_TEST(worker_defaults)
{
	struct settings	  *s;
	struct worker_def *w;

	s = load_ok("platform: {stop_timeout: 7s}\n"
	    "workers:\n  w: {command: [/bin/true]}\n");
	w = &s->workers[0];
	ck_assert_str_eq(w->name, "w");
	ck_assert_int_eq(w->kind, WORKER_EXEC);
	ck_assert_str_eq(w->argv[0], "/bin/true");
	ck_assert_ptr_null(w->argv[1]);
	ck_assert_uint_eq(w->concurrency, 1);
	ck_assert(w->critical);
	ck_assert_int_eq(w->restart, RESTART_ON_FAILURE);
	ck_assert_uint_eq(w->restart_delay_ms, 100);
	ck_assert_uint_eq(w->restart_max_delay_ms, 30000);
	ck_assert_uint_eq(w->max_restarts, 10);
	ck_assert_uint_eq(w->restart_window_ms, 60000);
	ck_assert_uint_eq(w->stop_timeout_ms, 7000);
	ck_assert_ptr_nonnull(w->depends_on);
	ck_assert_ptr_null(w->depends_on[0]);
	ck_assert_int_eq(w->ready, READY_DELAY);
	ck_assert_uint_eq(w->ready_delay_ms, 1000);
	ck_assert_uint_eq(w->max_memory, 0);
	ck_assert_uint_eq(w->task_timeout_ms, 0);
	ck_assert_ptr_null(w->consumes);
	ck_assert_uint_eq(w->prefetch, 1);
	ck_assert_ptr_null(w->env);
	ck_assert_ptr_null(w->working_directory);
	ck_assert_ptr_null(w->user);
	ck_assert_ptr_null(w->config);
	ck_assert_ptr_nonnull(w->section);
	settings_free(s);

	/* Null values mean the default too. */
	s = load_ok("workers:\n  w:\n    command: [x]\n    concurrency:\n"
	    "    user: ~\n    config:\n");
	ck_assert_uint_eq(s->workers[0].concurrency, 1);
	ck_assert_ptr_null(s->workers[0].user);
	ck_assert_ptr_null(s->workers[0].config);
	settings_free(s);
}
END_TEST

START_TEST(worker_values)
{
	struct settings	  *s;
	struct worker_def *w;
	struct passwd	  *pw;
	char		   want[256];

	s = load_ok("workers:\n"
	    "  a:\n"
	    "    type: timer\n"
	    "    concurrency: 10000\n"
	    "    critical: no\n"
	    "    restart: always\n"
	    "    restart_delay: 1.5s\n"
	    "    max_restarts: 0\n"
	    "    ready: notify\n"
	    "    max_memory: 1GB\n"
	    "    environment: {A: 1, B: \"x=y\", C: , D_2: ''}\n"
	    "    user: \"0\"\n"
	    "    config: [1, 2]\n"
	    "  b:\n"
	    "    command: [prog, '', ~]\n"
	    "    restart: never\n"
	    "    ready: 2s\n"
	    "    restart_delay: 1m\n"
	    "    user: nobody\n"
	    "  c:\n"
	    "    command: [prog]\n"
	    "    ready: 0\n"
	    "    restart_delay: 0\n"
	    "    restart_max_delay: 0\n");
	w = settings_worker(s, "a");
	ck_assert_int_eq(w->kind, WORKER_BUILTIN);
	ck_assert_str_eq(w->type, "timer");
	ck_assert_uint_eq(w->concurrency, 10000);
	ck_assert(!w->critical);
	ck_assert_int_eq(w->restart, RESTART_ALWAYS);
	ck_assert_uint_eq(w->restart_delay_ms, 1500);
	ck_assert_uint_eq(w->restart_max_delay_ms, 30000);
	ck_assert_uint_eq(w->max_restarts, 0);
	ck_assert_int_eq(w->ready, READY_NOTIFY);
	ck_assert_uint_eq(w->max_memory, 1000000000);
	ck_assert_str_eq(w->env[0], "A=1");
	ck_assert_str_eq(w->env[1], "B=x=y");
	ck_assert_str_eq(w->env[2], "C=");
	ck_assert_str_eq(w->env[3], "D_2=");
	ck_assert_ptr_null(w->env[4]);
	ck_assert_str_eq(w->user, "0");
	ck_assert_int_eq(w->uid, 0);
	/* A uid gives the name of its entry, not the number. */
	ck_assert_str_eq(w->user_env[1], "USER=root");
	ck_assert_str_eq(w->user_env[2], "LOGNAME=root");
	ck_assert_int_eq(w->config->type, CONF_SEQ);

	w = settings_worker(s, "b");
	ck_assert_str_eq(w->argv[0], "prog");
	ck_assert_str_eq(w->argv[1], "");
	ck_assert_str_eq(w->argv[2], "~");
	ck_assert_ptr_null(w->argv[3]);
	ck_assert_int_eq(w->restart, RESTART_NEVER);
	ck_assert_int_eq(w->ready, READY_DELAY);
	ck_assert_uint_eq(w->ready_delay_ms, 2000);
	/* Only a first delay above the default cap: it is its own cap. */
	ck_assert_uint_eq(w->restart_delay_ms, 60000);
	ck_assert_uint_eq(w->restart_max_delay_ms, 60000);
	ck_assert_str_eq(w->user, "nobody");
	ck_assert_int_eq(w->uid, 65534);
	ck_assert_int_eq(w->gid, 65534);
	pw = getpwnam("nobody");
	ck_assert_ptr_nonnull(pw);
	snprintf(want, sizeof(want), "HOME=%s", pw->pw_dir);
	ck_assert_str_eq(w->user_env[0], want);
	ck_assert_str_eq(w->user_env[1], "USER=nobody");
	ck_assert_str_eq(w->user_env[2], "LOGNAME=nobody");
	snprintf(want, sizeof(want), "SHELL=%s", pw->pw_shell);
	ck_assert_str_eq(w->user_env[3], want);
	ck_assert_ptr_null(w->user_env[4]);

	w = settings_worker(s, "c");
	ck_assert_int_eq(w->ready, READY_DELAY);
	ck_assert_uint_eq(w->ready_delay_ms, 0);
	ck_assert_uint_eq(w->restart_delay_ms, 0);
	ck_assert_uint_eq(w->restart_max_delay_ms, 0);
	settings_free(s);
}
END_TEST

START_TEST(platform_values)
{
	struct settings	*s;

	s = load_ok("platform:\n"
	    "  name: demo\n"
	    "  autostart: off\n"
	    "  stop_timeout: 2m\n"
	    "  exit_on_failure: yes\n"
	    "  state_dir: /tmp/st\n"
	    "  modules: [a.so, b.so]\n"
	    "  http:\n"
	    "    enabled: true\n"
	    "    listen: [127.0.0.1:1, \"[::1]:2\", localhost:3, 0.0.0.0:4]\n"
	    "    token_file: /tok\n"
	    "    tls_cert: /c.pem\n"
	    "    tls_key: /k.pem\n"
	    "  ipc: {max_frame: 1KiB, heartbeat_interval: 250ms, "
	    "heartbeat_timeout: 251ms}\n"
	    "  trace: {transport: file, file: /t.jsonl}\n"
	    "log: {level: debug, format: json, output: /var/log/x.log}\n"
	    "queues:\n"
	    "  q1:\n"
	    "  q2: {capacity: 1, max_attempts: 1, durable: true, dead_max: 7,\n"
	    "       max_bytes: 1MiB, dead_max_bytes: 64KiB}\n");
	ck_assert_str_eq(s->name, "demo");
	ck_assert(!s->autostart);
	ck_assert_uint_eq(s->stop_timeout_ms, 120000);
	ck_assert(s->exit_on_failure);
	ck_assert_str_eq(s->state_dir, "/tmp/st");
	ck_assert_str_eq(s->modules[1], "b.so");
	ck_assert_ptr_null(s->modules[2]);
	ck_assert(s->http.enabled);
	ck_assert_str_eq(s->http.listen[1], "[::1]:2");
	ck_assert_str_eq(s->http.listen[3], "0.0.0.0:4");
	ck_assert_ptr_null(s->http.listen[4]);
	ck_assert_str_eq(s->http.tls_cert, "/c.pem");
	ck_assert_str_eq(s->http.tls_key, "/k.pem");
	ck_assert_uint_eq(s->ipc.max_frame, 1024);
	ck_assert_uint_eq(s->ipc.heartbeat_interval_ms, 250);
	ck_assert_uint_eq(s->ipc.heartbeat_timeout_ms, 251);
	ck_assert_int_eq(s->trace.transport, TRACE_FILE);
	ck_assert_str_eq(s->trace.file, "/t.jsonl");
	ck_assert_int_eq(s->log.level, LOG_LEVEL_DEBUG);
	ck_assert(s->log.json);
	ck_assert_str_eq(s->log.output, "/var/log/x.log");
	ck_assert_uint_eq(s->nqueues, 2);
	ck_assert_uint_eq(settings_queue(s, "q1")->capacity, 10000);
	ck_assert_uint_eq(settings_queue(s, "q1")->max_attempts, 5);
	ck_assert(!settings_queue(s, "q1")->durable);
	ck_assert_uint_eq(settings_queue(s, "q1")->dead_max, 10000);
	ck_assert_uint_eq(settings_queue(s, "q2")->dead_max, 7);
	ck_assert_uint_eq(settings_queue(s, "q1")->max_bytes, 256u << 20);
	ck_assert_uint_eq(settings_queue(s, "q2")->max_bytes, 1u << 20);
	ck_assert_uint_eq(settings_queue(s, "q1")->dead_max_bytes, 256u << 20);
	ck_assert_uint_eq(settings_queue(s, "q2")->dead_max_bytes, 64u << 10);
	ck_assert_uint_eq(settings_queue(s, "q2")->capacity, 1);
	ck_assert_uint_eq(settings_queue(s, "q2")->max_attempts, 1);
	ck_assert(settings_queue(s, "q2")->durable);
	settings_free(s);

	s = load_ok("platform: {trace: {transport: otlp}, "
	    "http: {listen: 127.0.0.1:9}}\nlog: {level: error}\n");
	ck_assert_int_eq(s->trace.transport, TRACE_OTLP);
	ck_assert_str_eq(s->http.listen[0], "127.0.0.1:9");
	ck_assert_ptr_null(s->http.listen[1]);
	ck_assert_int_eq(s->log.level, LOG_LEVEL_ERROR);
	settings_free(s);
	{
		static const struct {
			const char	*text;
			double		 ratio;
		} ratios[] = {
			{ "0", 0 }, { "1", 1 }, { "1.000", 1 }, { "0.1", 0.1 },
			{ ".25", 0.25 }, { "0.05", 0.05 }, { "00.5", 0.5 },
			{ "1.", 1 },
			/* Places past the fifteenth are dropped. */
			{ "0.1000000000000009", 0.1 },
			{ "0.0000000000000001", 0 },
		};
		char	 text[96];
		size_t	 i;

		for (i = 0; i < sizeof(ratios) / sizeof(ratios[0]); i++) {
			snprintf(text, sizeof(text),
			    "platform: {trace: {sample: %s}}\n", ratios[i].text);
			s = load_ok(text);
			ck_assert_msg(s->trace.sample == ratios[i].ratio,
			    "%s gave %.17g", ratios[i].text, s->trace.sample);
			settings_free(s);
		}
	}
	s = load_ok("log: {level: warning, format: text}\n");
	ck_assert_int_eq(s->log.level, LOG_LEVEL_WARNING);
	ck_assert(!s->log.json);
	settings_free(s);
}
END_TEST

/* --- validation errors -------------------------------------------------- */

START_TEST(error_sections_types)
{
	assert_fails("platform: [1]\n",
	    "demo.yml:1:11: platform: expected a map, got a list");
	assert_fails("log: loud\n",
	    "demo.yml:1:6: log: expected a map, got \"loud\"");
	assert_fails("queues: [a]\n",
	    "demo.yml:1:9: queues: expected a map, got a list");
	assert_fails("workers:\n  - a\n",
	    "demo.yml:2:3: workers: expected a map, got a list");
	assert_fails("platform:\n  http: yes\n",
	    "demo.yml:2:9: platform.http: expected a map, got \"yes\"");
	assert_fails("platform: {ipc: [1]}\n",
	    "demo.yml:1:17: platform.ipc: expected a map, got a list");
	assert_fails("platform: {trace: 1}\n",
	    "demo.yml:1:19: platform.trace: expected a map, got \"1\"");
}
END_TEST

START_TEST(error_unknown_keys)
{
	struct settings	*s;

	assert_fails("platform:\n  nmae: x\n",
	    "demo.yml:2:3: platform.nmae: unknown key; did you mean \"name\"?");
	assert_fails("platform:\n  colour: x\n",
	    "demo.yml:2:3: platform.colour: unknown key");
	assert_fails("platform:\n  http:\n    listn: 127.0.0.1:1\n",
	    "demo.yml:3:5: platform.http.listn: unknown key; did you mean "
	    "\"listen\"?");
	assert_fails("platform: {ipc: {heartbeat: 1s}}\n",
	    "demo.yml:1:18: platform.ipc.heartbeat: unknown key");
	assert_fails("platform: {trace: {endpont: x}}\n",
	    "demo.yml:1:20: platform.trace.endpont: unknown key; did you mean "
	    "\"endpoint\"?");
	assert_fails("log:\n  lvl: info\n",
	    "demo.yml:2:3: log.lvl: unknown key; did you mean \"level\"?");
	assert_fails("queues:\n  q:\n    capacty: 1\n",
	    "demo.yml:3:5: queues.q.capacty: unknown key; did you mean "
	    "\"capacity\"?");
	assert_fails("workers:\n  w:\n    command: [x]\n    concurency: 2\n",
	    "demo.yml:4:5: workers.w.concurency: unknown key; did you mean "
	    "\"concurrency\"?");
	assert_fails("workers:\n  w:\n    command: [x]\n    x: 2\n",
	    "demo.yml:4:5: workers.w.x: unknown key");

	/* Other top-level sections belong to the application. */
	s = load_ok("myapp: {anything: [1, {deep: true}]}\nworker: typo\n");
	ck_assert_str_eq(conf_path(conf_doc_root(s->doc), "worker")->value,
	    "typo");
	settings_free(s);
}
END_TEST

START_TEST(error_platform_values)
{
	assert_fails("platform:\n  name: [a]\n",
	    "demo.yml:2:9: platform.name: expected a string, got a list");
	assert_fails("platform:\n  name: ''\n",
	    "demo.yml:2:9: platform.name: must not be empty");
	assert_fails("platform:\n  autostart: maybe\n",
	    "demo.yml:2:14: platform.autostart: expected true or false, got "
	    "\"maybe\"");
	assert_fails("platform:\n  stop_timeout: 30x\n",
	    "demo.yml:2:17: platform.stop_timeout: expected a duration such as "
	    "250ms, 5s, 2m or 1h, got \"30x\"");
	/* 0 would kill every instance at once, never asked to stop. */
	assert_fails("platform:\n  stop_timeout: 0\n",
	    "demo.yml:2:17: platform.stop_timeout: must be longer than 0");
	assert_fails("platform:\n  exit_on_failure: {a: 1}\n",
	    "demo.yml:2:20: platform.exit_on_failure: expected true or false, "
	    "got a map");
	assert_fails("platform:\n  modules: /x.so\n",
	    "demo.yml:2:12: platform.modules: expected a list of module paths, "
	    "e.g. [/usr/lib/plba/modules/app.so], got \"/x.so\"");
	assert_fails("platform:\n  modules: [a.so, [b.so]]\n",
	    "demo.yml:2:19: platform.modules[1]: expected a string, got a list");
	assert_fails("platform:\n  modules: [a.so, ~]\n",
	    "demo.yml:2:19: platform.modules[1]: expected a string, got null");
	assert_fails("platform:\n  state_dir: \"\"\n",
	    "demo.yml:2:14: platform.state_dir: must not be empty");
	assert_fails("log:\n  level: verbose\n",
	    "demo.yml:2:10: log.level: expected debug, info, warning or error, "
	    "got \"verbose\"");
	assert_fails("log:\n  format: xml\n",
	    "demo.yml:2:11: log.format: expected text or json, got \"xml\"");
	assert_fails("log:\n  output: ''\n",
	    "demo.yml:2:11: log.output: must not be empty");
	assert_fails("platform:\n  trace:\n    transport: zipkin\n",
	    "demo.yml:3:16: platform.trace.transport: expected none, file or "
	    "otlp, got \"zipkin\"");
	{
		static const char *const bad[] = {
			"1.5", "2", "10", "-0.1", "+0.5", "1e-1", "0x1", "nan",
			"inf", ".", "", "0.5 ", "50%", "0,5", "1.0000000000000001",
		};
		char	 text[96], want[160];
		size_t	 i;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			snprintf(text, sizeof(text),
			    "platform:\n  trace:\n    sample: '%s'\n", bad[i]);
			snprintf(want, sizeof(want), "demo.yml:3:13: "
			    "platform.trace.sample: expected a number from 0 "
			    "to 1, such as 0.1, got \"%s\"", bad[i]);
			assert_fails(text, want);
		}
	}
	assert_fails("platform:\n  trace:\n    sample: [1]\n",
	    "demo.yml:3:13: platform.trace.sample: expected a number from 0 "
	    "to 1, such as 0.1, got a list");
	assert_fails("platform:\n  trace:\n    transport: file\n",
	    "demo.yml:3:16: platform.trace.transport: the file transport needs "
	    "platform.trace.file");
}
END_TEST

START_TEST(error_http)
{
	struct settings	*s;

	assert_fails("platform:\n  http:\n    listen: 8080\n",
	    "demo.yml:3:13: platform.http.listen: expected host:port, e.g. "
	    "127.0.0.1:8080, got \"8080\"");
	assert_fails("platform:\n  http:\n    listen: [127.0.0.1:1, "
	    "\"localhost:0\"]\n",
	    "demo.yml:3:27: platform.http.listen[1]: the port must be between "
	    "1 and 65535, got \"localhost:0\"");
	assert_fails("platform:\n  http:\n    listen: 127.0.0.1:65536\n",
	    "demo.yml:3:13: platform.http.listen: the port must be between 1 "
	    "and 65535, got \"127.0.0.1:65536\"");
	assert_fails("platform:\n  http:\n    listen: 127.0.0.1:99999999999999\n",
	    "demo.yml:3:13: platform.http.listen: the port must be between 1 "
	    "and 65535, got \"127.0.0.1:99999999999999\"");
	assert_fails("platform:\n  http:\n    listen: 127.0.0.1:http\n",
	    "demo.yml:3:13: platform.http.listen: the port must be a number, "
	    "got \"127.0.0.1:http\"");
	assert_fails("platform:\n  http:\n    listen: \":8080\"\n",
	    "demo.yml:3:13: platform.http.listen: expected host:port, e.g. "
	    "127.0.0.1:8080, got \":8080\"");
	assert_fails("platform:\n  http:\n    listen: \"::1:8080\"\n",
	    "demo.yml:3:13: platform.http.listen: write IPv6 addresses in "
	    "brackets, e.g. [::1]:8080, got \"::1:8080\"");
	assert_fails("platform:\n  http:\n    listen: \"[]:8080\"\n",
	    "demo.yml:3:13: platform.http.listen: expected [address]:port for "
	    "IPv6, e.g. [::1]:8080, got \"[]:8080\"");
	assert_fails("platform:\n  http:\n    listen: []\n",
	    "demo.yml:3:13: platform.http.listen: expected at least one "
	    "address");
	assert_fails("platform:\n  http:\n    listen: {a: 1}\n",
	    "demo.yml:3:13: platform.http.listen: expected an address or a "
	    "list of addresses, e.g. 127.0.0.1:8080, got a map");
	assert_fails("platform:\n  http:\n    tls_cert: /c.pem\n",
	    "demo.yml:3:15: platform.http.tls_cert: tls_key must be set too");
	assert_fails("platform:\n  http:\n    tls_key: /k.pem\n    tls_cert:\n",
	    "demo.yml:3:14: platform.http.tls_key: tls_cert must be set too");
	assert_fails("platform:\n  http:\n    enabled: true\n"
	    "    listen: [127.0.0.1:80, 0.0.0.0:8080]\n",
	    "demo.yml:4:13: platform.http.listen: a non-loopback address needs "
	    "platform.http.token_file");
	/* Not enabled, or with a token: fine. */
	s = load_ok("platform: {http: {listen: 0.0.0.0:1}}\n");
	settings_free(s);
	s = load_ok("platform: {http: {enabled: on, listen: \"[::]:1\", "
	    "token_file: /t}}\n");
	settings_free(s);
}
END_TEST

START_TEST(error_ipc)
{
	assert_fails("platform:\n  ipc:\n    max_frame: 1023\n",
	    "demo.yml:3:16: platform.ipc.max_frame: must be at least 1024 bytes");
	assert_fails("platform:\n  ipc:\n    max_frame: 4GiB\n",
	    "demo.yml:3:16: platform.ipc.max_frame: must be at most 4294967295 "
	    "bytes");
	assert_fails("platform:\n  ipc:\n    max_frame: big\n",
	    "demo.yml:3:16: platform.ipc.max_frame: expected a size such as "
	    "512, 64KiB or 16MiB, got \"big\"");
	/* A worker's config must fit in the welcome frame that carries it:
	 * 900 bytes of JSON and the welcome's extra do not fit in 1KiB. */
	{
		char yaml[2048];
		struct settings *s;

		snprintf(yaml, sizeof(yaml), "platform:\n  ipc: {max_frame: 1KiB}\n"
		    "workers:\n  w:\n    command: [x]\n    config:\n"
		    "      text: \"%0900d\"\n", 0);
		assert_fails(yaml, "demo.yml:7:7: workers.w.config: 911 bytes as "
		    "JSON: too large for the welcome message that carries it to "
		    "each instance, as platform.ipc.max_frame is 1024 bytes");
		/* With room for the rest of the welcome, it loads. */
		snprintf(yaml, sizeof(yaml), "platform:\n  ipc: {max_frame: 1KiB}\n"
		    "workers:\n  w:\n    command: [x]\n    config:\n"
		    "      text: \"%0700d\"\n", 0);
		s = load_ok(yaml);
		settings_free(s);
	}
	assert_fails("platform:\n  ipc:\n    heartbeat_interval: 0\n",
	    "demo.yml:3:25: platform.ipc.heartbeat_interval: must be longer "
	    "than 0");
	assert_fails("platform:\n  ipc:\n    heartbeat_timeout: 1s\n",
	    "demo.yml:3:24: platform.ipc.heartbeat_timeout: must be longer "
	    "than heartbeat_interval");
	assert_fails("platform:\n  ipc:\n    heartbeat_interval: 10s\n"
	    "    heartbeat_timeout: 10s\n",
	    "demo.yml:4:24: platform.ipc.heartbeat_timeout: must be longer "
	    "than heartbeat_interval");
}
END_TEST

START_TEST(error_queues)
{
	assert_fails("queues:\n  emails:\n    max_bytes: lots\n",
	    "demo.yml:3:16: queues.emails.max_bytes: expected a size such as "
	    "512, 64KiB or 16MiB, got \"lots\"");
	assert_fails("queues:\n  emails:\n    dead_max_bytes: -1\n",
	    "demo.yml:3:21: queues.emails.dead_max_bytes: expected a size such "
	    "as 512, 64KiB or 16MiB, got \"-1\"");
	assert_fails("queues:\n  emails:\n    dead_max: 0\n",
	    "demo.yml:3:15: queues.emails.dead_max: expected a positive "
	    "integer, got \"0\"");
	assert_fails("queues:\n  emails:\n    capacity: 0\n",
	    "demo.yml:3:15: queues.emails.capacity: expected a positive "
	    "integer, got \"0\"");
	assert_fails("queues:\n  emails:\n    max_attempts: -1\n",
	    "demo.yml:3:19: queues.emails.max_attempts: expected a positive "
	    "integer, got \"-1\"");
	assert_fails("queues:\n  emails:\n    max_attempts: 4294967296\n",
	    "demo.yml:3:19: queues.emails.max_attempts: must be at most "
	    "4294967295, got \"4294967296\"");
	assert_fails("queues:\n  emails:\n    durable: maybe\n",
	    "demo.yml:3:14: queues.emails.durable: expected true or false, got "
	    "\"maybe\"");
	assert_fails("queues:\n  emails: [1]\n",
	    "demo.yml:2:11: queues.emails: expected a map, got a list");
	assert_fails("queues:\n  \"bad name\":\n",
	    "demo.yml:2:3: queues.bad name: queue names are 1 to 64 letters, "
	    "digits, '_', '.' or '-'");
}
END_TEST

START_TEST(error_worker_kind)
{
	assert_fails("workers:\n  w: {}\n",
	    "demo.yml:2:6: workers.w: one of command, module or type is "
	    "required");
	assert_fails("workers:\n  w:\n    concurrency: 2\n",
	    "demo.yml:3:5: workers.w: one of command, module or type is "
	    "required");
	assert_fails("workers:\n  w:\n",
	    "demo.yml:2:5: workers.w: expected a map with command, module or "
	    "type, got null");
	assert_fails("workers:\n  w: [x]\n",
	    "demo.yml:2:6: workers.w: expected a map with command, module or "
	    "type, got a list");
	assert_fails("workers:\n  w:\n    module: m\n    command: [x]\n",
	    "demo.yml:4:5: workers.w.command: command and module cannot both "
	    "be set");
	assert_fails("workers:\n  w:\n    type: t\n    module: m\n",
	    "demo.yml:4:5: workers.w.module: module and type cannot both be "
	    "set");
	assert_fails("workers:\n  w:\n    module: [m]\n",
	    "demo.yml:3:13: workers.w.module: expected a string, got a list");
	assert_fails("workers:\n  w:\n    type: ''\n",
	    "demo.yml:3:11: workers.w.type: must not be empty");
	{
		struct settings *s = load("workers:\n  w:\n    type: t\n"
		    "    module: m\n    command: [x]\n");

		ck_assert_ptr_null(s);
		ck_assert_uint_eq(errs.n, 2);
		assert_error("demo.yml:5:5: workers.w.command: command and "
		    "module cannot both be set");
		assert_error("demo.yml:5:5: workers.w.command: command and "
		    "type cannot both be set");
	}
}
END_TEST

START_TEST(error_worker_command)
{
	assert_fails("workers:\n  w:\n    command: /bin/prog --flag\n",
	    "demo.yml:3:14: workers.w.command: expected a list of arguments, "
	    "e.g. [/bin/prog, arg], got \"/bin/prog --flag\"");
	assert_fails("workers:\n  w:\n    command: []\n",
	    "demo.yml:3:14: workers.w.command: expected at least the program "
	    "to run");
	assert_fails("workers:\n  w:\n    command: [prog, {a: 1}]\n",
	    "demo.yml:3:21: workers.w.command[1]: expected a string, got a map");
	assert_fails("workers:\n  w:\n    command: ['', x]\n",
	    "demo.yml:3:15: workers.w.command[0]: the program must not be "
	    "empty");
	assert_fails("workers:\n  w:\n    command: {a: 1}\n",
	    "demo.yml:3:14: workers.w.command: expected a list of arguments, "
	    "e.g. [/bin/prog, arg], got a map");
}
END_TEST

START_TEST(error_worker_values)
{
	static const struct { const char *line; const char *msg; } cases[] = {
		{ "concurrency: zero", "demo.yml:4:18: workers.mail-poller."
		    "concurrency: expected a positive integer, got \"zero\"" },
		{ "concurrency: 0", "demo.yml:4:18: workers.mail-poller."
		    "concurrency: expected a positive integer, got \"0\"" },
		{ "concurrency: -3", "demo.yml:4:18: workers.mail-poller."
		    "concurrency: expected a positive integer, got \"-3\"" },
		{ "concurrency: 1.5", "demo.yml:4:18: workers.mail-poller."
		    "concurrency: expected a positive integer, got \"1.5\"" },
		{ "concurrency: 10001", "demo.yml:4:18: workers.mail-poller."
		    "concurrency: must be at most 10000, got \"10001\"" },
		{ "critical: perhaps", "demo.yml:4:15: workers.mail-poller."
		    "critical: expected true or false, got \"perhaps\"" },
		{ "restart: sometimes", "demo.yml:4:14: workers.mail-poller."
		    "restart: expected always, on-failure or never, got "
		    "\"sometimes\"" },
		{ "restart_delay: fast", "demo.yml:4:20: workers.mail-poller."
		    "restart_delay: expected a duration such as 250ms, 5s, 2m "
		    "or 1h, got \"fast\"" },
		{ "restart_max_delay: 50ms", "demo.yml:4:24: workers."
		    "mail-poller.restart_max_delay: must not be shorter than "
		    "restart_delay" },
		{ "max_restarts: -1", "demo.yml:4:19: workers.mail-poller."
		    "max_restarts: expected a non-negative integer, got "
		    "\"-1\"" },
		{ "restart_window: 0s", "demo.yml:4:21: workers.mail-poller."
		    "restart_window: must be longer than 0" },
		{ "stop_timeout: -1s", "demo.yml:4:19: workers.mail-poller."
		    "stop_timeout: expected a duration such as 250ms, 5s, 2m or "
		    "1h, got \"-1s\"" },
		{ "stop_timeout: 0s", "demo.yml:4:19: workers.mail-poller."
		    "stop_timeout: must be longer than 0" },
		{ "stop_timeout: 0.5ms", "demo.yml:4:19: workers.mail-poller."
		    "stop_timeout: must be longer than 0" },
		{ "ready: soon", "demo.yml:4:12: workers.mail-poller.ready: "
		    "expected protocol, notify or a duration such as 2s, got "
		    "\"soon\"" },
		{ "ready: [protocol]", "demo.yml:4:12: workers.mail-poller."
		    "ready: expected protocol, notify or a duration such as 2s, "
		    "got a list" },
		{ "max_memory: lots", "demo.yml:4:17: workers.mail-poller."
		    "max_memory: expected a size such as 512, 64KiB or 16MiB, "
		    "got \"lots\"" },
		{ "task_timeout: forever", "demo.yml:4:19: workers."
		    "mail-poller.task_timeout: expected a duration such as "
		    "250ms, 5s, 2m or 1h, got \"forever\"" },
		{ "prefetch: 0", "demo.yml:4:15: workers.mail-poller.prefetch: "
		    "expected a positive integer, got \"0\"" },
		{ "working_directory: ''", "demo.yml:4:24: workers."
		    "mail-poller.working_directory: must not be empty" },
		{ "consumes: [emails]", "demo.yml:4:15: workers.mail-poller."
		    "consumes: expected a queue name, got a list" },
		{ "user: no-such-user-plba", "demo.yml:4:11: workers."
		    "mail-poller.user: user \"no-such-user-plba\" does not "
		    "exist" },
		{ "user: 4000000000", "demo.yml:4:11: workers.mail-poller.user: "
		    "user \"4000000000\" does not exist" },
		{ "user: [root]", "demo.yml:4:11: workers.mail-poller.user: "
		    "expected a user name, got a list" },
		{ "environment: TZ=UTC", "demo.yml:4:18: workers.mail-poller."
		    "environment: expected a map of variables, e.g. {TZ: UTC}, "
		    "got \"TZ=UTC\"" },
		{ "environment: {1X: y}", "demo.yml:4:19: workers.mail-poller."
		    "environment.1X: not a valid environment variable name" },
		{ "environment: {A-B: y}", "demo.yml:4:19: workers."
		    "mail-poller.environment.A-B: not a valid environment "
		    "variable name" },
		{ "environment: {PLBA_FD: 4}", "demo.yml:4:19: workers."
		    "mail-poller.environment.PLBA_FD: is set by the master for "
		    "every instance" },
		{ "environment: {L: [1]}", "demo.yml:4:22: workers.mail-poller."
		    "environment.L: expected a string, got a list" },
		{ "depends_on: db", "demo.yml:4:17: workers.mail-poller."
		    "depends_on: expected a list of worker names, e.g. "
		    "[db-proxy], got \"db\"" },
	};
	char	 yaml[512];
	size_t	 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(yaml, sizeof(yaml), "workers:\n  mail-poller:\n"
		    "    command: [x]\n    %s\n", cases[i].line);
		assert_fails(yaml, cases[i].msg);
	}
}
END_TEST

START_TEST(error_worker_names)
{
	struct settings	*s;
	char		 yaml[256], msg[256], name[66];

	memset(name, 'n', 64);
	name[64] = '\0';
	snprintf(yaml, sizeof(yaml), "workers:\n  %s: {command: [x]}\n", name);
	s = load_ok(yaml);
	settings_free(s);
	name[64] = 'n';
	name[65] = '\0';
	snprintf(yaml, sizeof(yaml), "workers:\n  %s: {command: [x]}\n", name);
	snprintf(msg, sizeof(msg), "demo.yml:2:3: workers.%s: worker names "
	    "are 1 to 64 letters, digits, '_', '.' or '-'", name);
	assert_fails(yaml, msg);
	assert_fails("workers:\n  \"a/b\": {command: [x]}\n",
	    "demo.yml:2:3: workers.a/b: worker names are 1 to 64 letters, "
	    "digits, '_', '.' or '-'");
	assert_fails("workers:\n  \"\": {command: [x]}\n",
	    "demo.yml:2:3: workers.: worker names are 1 to 64 letters, "
	    "digits, '_', '.' or '-'");
	s = load_ok("workers:\n  A.b_c-9: {command: [x]}\n");
	settings_free(s);
}
END_TEST

START_TEST(error_depends_on)
{
	struct settings	*s;

	assert_fails("workers:\n  a:\n    command: [x]\n    depends_on: [b]\n",
	    "demo.yml:4:18: workers.a.depends_on[0]: unknown worker \"b\"");
	assert_fails("workers:\n  a:\n    command: [x]\n    depends_on: [a]\n",
	    "demo.yml:4:18: workers.a.depends_on[0]: a worker cannot depend "
	    "on itself");
	assert_fails("workers:\n  a:\n    command: [x]\n    depends_on: [b, b]\n"
	    "  b: {command: [x]}\n",
	    "demo.yml:4:21: workers.a.depends_on[1]: \"b\" is listed twice");
	assert_fails("workers:\n  a:\n    command: [x]\n    depends_on: [[b]]\n",
	    "demo.yml:4:18: workers.a.depends_on[0]: expected a worker name, "
	    "got a list");
	assert_fails("workers:\n"
	    "  a:\n    command: [x]\n    depends_on: [b]\n"
	    "  b:\n    command: [x]\n    depends_on: [a]\n",
	    "demo.yml:4:17: workers.a.depends_on: dependency cycle a -> b -> a");
	assert_fails("workers:\n"
	    "  a: {command: [x], depends_on: [c]}\n"
	    "  b: {command: [x], depends_on: [a]}\n"
	    "  c: {command: [x], depends_on: [b]}\n",
	    "demo.yml:2:33: workers.a.depends_on: dependency cycle a -> c -> "
	    "b -> a");
	/* A cycle not through the first worker is entered where found. */
	assert_fails("workers:\n"
	    "  top: {command: [x], depends_on: [b]}\n"
	    "  b: {command: [x], depends_on: [c]}\n"
	    "  c: {command: [x], depends_on: [b]}\n",
	    "demo.yml:3:33: workers.b.depends_on: dependency cycle b -> c -> b");
	/* A dependency on a broken worker is still a known worker. */
	assert_fails("workers:\n"
	    "  a: {command: [x], depends_on: [b]}\n"
	    "  b: {concurrency: 1}\n",
	    "demo.yml:3:6: workers.b: one of command, module or type is "
	    "required");

	/* A diamond is not a cycle. */
	s = load_ok("workers:\n"
	    "  a: {command: [x], depends_on: [b, c]}\n"
	    "  b: {command: [x], depends_on: [d]}\n"
	    "  c: {command: [x], depends_on: [d]}\n"
	    "  d: {command: [x]}\n");
	ck_assert_str_eq(s->workers[0].depends_on[0], "b");
	ck_assert_str_eq(s->workers[0].depends_on[1], "c");
	ck_assert_ptr_null(s->workers[0].depends_on[2]);
	settings_free(s);
}
END_TEST

START_TEST(error_long_dependency_chain)
{
	/* A long chain is checked without recursion, and its cycle found. */
	const size_t	 n = 20000;
	struct settings	*s;
	char		*yaml, *p;
	size_t		 i;

	p = yaml = malloc(n * 64 + 64);
	p += sprintf(p, "workers:\n");
	for (i = 0; i < n; i++)
		p += sprintf(p, "  w%zu: {command: [x], depends_on: [w%zu]}\n",
		    i, i + 1);
	sprintf(p, "  w%zu: {command: [x]}\n", n);
	s = load_ok(yaml);
	ck_assert_uint_eq(s->nworkers, n + 1);
	settings_free(s);
	sprintf(p, "  w%zu: {command: [x], depends_on: [w0]}\n", n);
	ck_assert_ptr_null(load(yaml));
	ck_assert_uint_eq(errs.n, 1);
	/* Long cycles are shortened. */
	ck_assert_msg(strcmp(errs.msgs[0] + strlen(errs.msgs[0]) - 4, " ...")
	    == 0, "%s", errs.msgs[0]);
	ck_assert_msg(strncmp(errs.msgs[0], "demo.yml:2:34: workers.w0."
	    "depends_on: dependency cycle w0 -> w1 -> w2 -> ", 62) == 0, "%s",
	    errs.msgs[0]);
	free(yaml);
}
END_TEST

START_TEST(error_consumes)
{
	struct settings	*s;

	assert_fails("workers:\n  w:\n    command: [x]\n    consumes: emails\n",
	    "demo.yml:4:15: workers.w.consumes: queue \"emails\" is not "
	    "declared in queues");
	assert_fails("queues: {mails: }\n"
	    "workers:\n  w:\n    command: [x]\n    consumes: emails\n",
	    "demo.yml:5:15: workers.w.consumes: queue \"emails\" is not "
	    "declared in queues");
	s = load_ok("queues: {emails: }\n"
	    "workers:\n  w:\n    command: [x]\n    consumes: emails\n"
	    "    prefetch: 8\n");
	ck_assert_str_eq(s->workers[0].consumes, "emails");
	ck_assert_uint_eq(s->workers[0].prefetch, 8);
	settings_free(s);
}
END_TEST

START_TEST(errors_all_collected)
{
	struct settings	*s;

	s = load("platform:\n"
	    "  autostart: maybe\n"
	    "  bogus: 1\n"
	    "log:\n"
	    "  level: loud\n"
	    "queues:\n"
	    "  q: {capacity: 0}\n"
	    "workers:\n"
	    "  a:\n"
	    "    command: x\n"
	    "    concurrency: zero\n"
	    "    depends_on: [ghost]\n"
	    "  b:\n"
	    "    module: m\n"
	    "    consumes: nope\n"
	    "    restart: sometimes\n");
	ck_assert_ptr_null(s);
	assert_error("demo.yml:3:3: platform.bogus: unknown key");
	assert_error("demo.yml:2:14: platform.autostart: expected true or "
	    "false, got \"maybe\"");
	assert_error("demo.yml:5:10: log.level: expected debug, info, warning "
	    "or error, got \"loud\"");
	assert_error("demo.yml:7:17: queues.q.capacity: expected a positive "
	    "integer, got \"0\"");
	assert_error("demo.yml:10:14: workers.a.command: expected a list of "
	    "arguments, e.g. [/bin/prog, arg], got \"x\"");
	assert_error("demo.yml:11:18: workers.a.concurrency: expected a "
	    "positive integer, got \"zero\"");
	assert_error("demo.yml:12:18: workers.a.depends_on[0]: unknown worker "
	    "\"ghost\"");
	assert_error("demo.yml:15:15: workers.b.consumes: queue \"nope\" is "
	    "not declared in queues");
	assert_error("demo.yml:16:14: workers.b.restart: expected always, "
	    "on-failure or never, got \"sometimes\"");
	if (errs.n != 9)
		dump_errors();
	ck_assert_uint_eq(errs.n, 9);
}
END_TEST

START_TEST(errors_from_conf_layer)
{
	/* Syntax and interpolation errors come through unchanged. */
	unsetenv("PLBA_T_UNSET");
	assert_fails("workers:\n  w:\n    command: [x, \"${PLBA_T_UNSET}\"]\n",
	    "demo.yml:3:18: workers.w.command[1]: environment variable "
	    "PLBA_T_UNSET is not set");
	assert_fails("workers: [\n",
	    "demo.yml:2:1: workers[0]: did not find expected node content (while parsing "
	    "a flow node at line 2, column 1)");
	assert_fails("workers:\n  a: {command: [x]}\n  a: {command: [y]}\n",
	    "demo.yml:3:3: workers.a: duplicate key, first written on line 2");
}
END_TEST

START_TEST(files_merge)
{
	const char	*paths[2];
	struct settings	*s;
	char		 msg[256];

	paths[0] = write_temp("platform: {name: base, stop_timeout: 9s}\n"
	    "workers:\n"
	    "  a: {command: [/bin/a, one], concurrency: 2}\n"
	    "  b: {command: [/bin/b]}\n");
	paths[1] = write_temp("workers:\n"
	    "  a:\n"
	    "    command: [/bin/a2]\n"
	    "  c: {type: timer, depends_on: [a, b]}\n");
	s = settings_load(paths, 2, &errs);
	if (s == NULL)
		dump_errors();
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s->name, "base");
	ck_assert_uint_eq(s->nworkers, 3);
	ck_assert_str_eq(s->workers[0].name, "a");
	ck_assert_str_eq(s->workers[0].argv[0], "/bin/a2");
	ck_assert_ptr_null(s->workers[0].argv[1]);
	ck_assert_uint_eq(s->workers[0].concurrency, 2);
	ck_assert_uint_eq(s->workers[0].stop_timeout_ms, 9000);
	ck_assert_str_eq(s->workers[2].name, "c");
	ck_assert_str_eq(s->workers[2].depends_on[1], "b");
	settings_free(s);

	/* Errors name the file that provided the bad value. */
	paths[1] = write_temp("workers:\n  b:\n    concurrency: many\n");
	ck_assert_ptr_null(settings_load(paths, 2, &errs));
	ck_assert_uint_eq(errs.n, 1);
	snprintf(msg, sizeof(msg), "%s:3:18: workers.b.concurrency: expected "
	    "a positive integer, got \"many\"", paths[1]);
	assert_error(msg);
	conf_errors_clear(&errs);

	paths[1] = "/nonexistent/plba.yml";
	ck_assert_ptr_null(settings_load(paths, 2, &errs));
	assert_error("/nonexistent/plba.yml: No such file or directory");
}
END_TEST

/* same(A, B): the worker w of A and of B are the same definition. */
static bool
same(const char *a, const char *b)
{
	struct settings	*sa = load_ok(a), *sb = load_ok(b);
	bool		 r;

	r = settings_worker_same(settings_worker(sa, "w"),
	    settings_worker(sb, "w"));
	settings_free(sa);
	settings_free(sb);
	return r;
}

START_TEST(worker_same_by_value)
{
	const char *base = "workers:\n  w:\n    command: [/bin/true, a]\n"
	    "    restart_delay: 100ms\n    environment: {A: 1, B: x}\n"
	    "    depends_on: [p, q]\n    config: {n: 1, s: t}\n"
	    "  p: {command: [/bin/true]}\n  q: {command: [/bin/true]}\n";

	ck_assert(same(base, base));
	/* Written another way, or a default written out. */
	ck_assert(same(base, "workers:\n  w:\n    command: [\"/bin/true\", 'a']\n"
	    "    restart_delay: 0.1s\n    environment: {B: 'x', A: \"1\"}\n"
	    "    depends_on: [q, p]\n    config: {s: 't', n: 1.0}\n"
	    "    critical: true\n    restart: on-failure\n"
	    "    concurrency: 3\n    stop_timeout: 30s\n"
	    "  p: {command: [/bin/true]}\n  q: {command: [/bin/true]}\n"));
	ck_assert(same("workers: {w: {command: [x]}}\n",
	    "workers: {w: {command: [x], environment: {}, ready: 1s}}\n"));
	/* Changes. */
	ck_assert(!same(base, "workers:\n  w:\n    command: [/bin/true, a]\n"
	    "    restart_delay: 100ms\n    environment: {A: 1, B: x}\n"
	    "    depends_on: [p, q]\n    config: {n: '1', s: t}\n"
	    "  p: {command: [/bin/true]}\n  q: {command: [/bin/true]}\n"));
	ck_assert(!same("workers: {w: {command: [x, a, b]}}\n",
	    "workers: {w: {command: [x, b, a]}}\n"));
	ck_assert(!same("workers: {w: {command: [x]}}\n",
	    "workers: {w: {command: [x], environment: {A: ''}}}\n"));
	ck_assert(!same("workers: {w: {command: [x]}}\n",
	    "workers: {w: {command: [x], critical: false}}\n"));
	ck_assert(!same("workers: {w: {command: [x]}}\n",
	    "workers: {w: {command: [x], ready: 2s}}\n"));
}
END_TEST

START_TEST(http_same_by_value)
{
	struct settings *a, *b;

	a = load_ok("platform: {http: {enabled: true, listen: 127.0.0.1:81}}\n");
	b = load_ok("platform: {http: {enabled: true, listen: [\"127.0.0.1:81\"]}}\n");
	ck_assert(settings_http_same(a, b));
	settings_free(b);
	b = load_ok("platform: {http: {enabled: true, listen: 127.0.0.1:82}}\n");
	ck_assert(!settings_http_same(a, b));
	settings_free(a);
	settings_free(b);
	/* Off, wherever it would listen. */
	a = load_ok("platform: {http: {listen: 127.0.0.1:81}}\n");
	b = load_ok("platform: {http: {enabled: false}}\n");
	ck_assert(settings_http_same(a, b));
	settings_free(a);
	settings_free(b);
}
END_TEST

static Suite *
settings_suite(void)
{
	Suite	*s = suite_create("settings");
	TCase	*tc;

	tc = tcase_create("values");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, empty_file_fails);
	tcase_add_test(tc, spec_example_loads);
	tcase_add_test(tc, worker_defaults);
	tcase_add_test(tc, worker_values);
	tcase_add_test(tc, platform_values);
	tcase_add_test(tc, files_merge);
	tcase_add_test(tc, worker_same_by_value);
	tcase_add_test(tc, http_same_by_value);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, error_sections_types);
	tcase_add_test(tc, error_unknown_keys);
	tcase_add_test(tc, error_platform_values);
	tcase_add_test(tc, error_http);
	tcase_add_test(tc, error_ipc);
	tcase_add_test(tc, error_queues);
	tcase_add_test(tc, error_worker_kind);
	tcase_add_test(tc, error_worker_command);
	tcase_add_test(tc, error_worker_values);
	tcase_add_test(tc, error_worker_names);
	tcase_add_test(tc, error_depends_on);
	tcase_add_test(tc, error_long_dependency_chain);
	tcase_add_test(tc, error_consumes);
	tcase_add_test(tc, errors_all_collected);
	tcase_add_test(tc, errors_from_conf_layer);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(settings_suite());
}
