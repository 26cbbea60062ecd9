/*
 * plba-master: reads the configuration, then supervises its workers until
 * told to stop.  Always in the foreground, as systemd, s6 and containers
 * want; under systemd use Type=notify.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "entry.h"
#include "http.h"
#include "runtime.h"
#include "settings.h"
#include "trace_sink.h"

#define DEFAULT_CONFIG	PLBA_SYSCONFDIR "/plba/plba.yml"
#define MAX_CONFIGS	32

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: plba-master [-c FILE]... [-t|--check] [-f|--foreground]\n"
	    "                   [--pid-file FILE] [-V|--version]\n"
	    "  -c, --config FILE  configuration file; several merge, later wins\n"
	    "                     (default " DEFAULT_CONFIG ")\n"
	    "  -t, --check        validate the configuration and exit\n"
	    "  -f, --foreground   run in the foreground (always the case)\n"
	    "      --pid-file F   write the master's pid to F\n"
	    "  -V, --version      print the version and exit\n");
	exit(status);
}

static void
print_errors(const struct conf_errors *errs)
{
	size_t i;

	for (i = 0; i < errs->n; i++)
		fprintf(stderr, "plba-master: %s\n", errs->msgs[i]);
}

/*
 * Whether the start could open path for appending, as the log and the
 * trace file are: without creating it, or anything.  NULL, or why not.
 */
static const char *
appendable(const char *path)
{
	char copy[PATH_MAX];
	int fd;

	/* O_NONBLOCK: a FIFO without a reader says so instead of waiting. */
	if ((fd = open(path, O_WRONLY | O_APPEND | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC)) != -1) {
		close(fd);
		return NULL;
	}
	if (errno != ENOENT)
		return strerror(errno);
	snprintf(copy, sizeof(copy), "%s", path);
	if (access(dirname(copy), W_OK | X_OK) == -1)
		return strerror(errno);
	return NULL;
}

/*
 * What the start opens and a check can try without changing anything:
 * the token file is read, the log and trace files must be writable or
 * creatable.  Ports are not bound, and state_dir is not created.
 */
static void
probe_files(const struct settings *s, struct conf_errors *errs)
{
	const struct conf_node *http = conf_map_get(s->platform, "http");
	const struct conf_node *trace = conf_map_get(s->platform, "trace");
	const char *why;
	char *token;

	if (s->http.enabled && s->http.token_file != NULL) {
		if ((token = http_read_token(s->http.token_file, &why)) == NULL)
			conf_error(errs, conf_map_get(http, "token_file"),
			    "platform.http.token_file", "%s: %s",
			    s->http.token_file, why);
		free(token);
	}
	if (s->log.output != NULL && strcmp(s->log.output, "stderr") != 0 &&
	    strcmp(s->log.output, "syslog") != 0 &&
	    (why = appendable(s->log.output)) != NULL)
		conf_error(errs, conf_map_get(s->log_section, "output"),
		    "log.output", "%s: %s", s->log.output, why);
	if (s->trace.transport == TRACE_FILE && s->trace.file != NULL &&
	    (why = appendable(s->trace.file)) != NULL)
		conf_error(errs, conf_map_get(trace, "file"),
		    "platform.trace.file", "%s: %s", s->trace.file, why);
	/* What otlp_http_new() would refuse at the start: a unit's
	 * ExecStartPre=-t must not pass a master that cannot start. */
	if (s->trace.transport == TRACE_OTLP && s->trace.endpoint != NULL &&
	    !otlp_http_endpoint_ok(s->trace.endpoint))
		conf_error(errs, conf_map_get(trace, "endpoint"),
		    "platform.trace.endpoint", "%s: " OTLP_ENDPOINT_WANTED,
		    s->trace.endpoint);
}

static int
check(const char *const *paths, size_t npaths)
{
	struct conf_errors errs = { 0 };
	struct settings *s;
	unsigned long instances = 0;
	size_t i, nqueues = 0;

	/* Both second-round checks run: one list, not two rounds of
	 * fixes.  They need a valid configuration to know what to try. */
	if ((s = settings_load(paths, npaths, &errs)) != NULL) {
		runtime_check_modules(s, NULL, &errs, &nqueues);
		probe_files(s, &errs);
	}
	if (s == NULL || errs.n > 0) {
		settings_free(s);
		print_errors(&errs);
		fprintf(stderr, "plba-master: configuration invalid: %zu error%s\n",
		    errs.n, errs.n == 1 ? "" : "s");
		conf_errors_clear(&errs);
		return 2;
	}
	for (i = 0; i < s->nworkers; i++)
		instances += s->workers[i].concurrency;
	/* Those a module declares count too: they are created alike. */
	nqueues += s->nqueues;
	for (i = 0; i < npaths; i++)
		printf("%s%s", i > 0 ? ", " : "", paths[i]);
	printf(": configuration ok: %zu worker%s (%lu instance%s), "
	    "%zu queue%s\n", s->nworkers,
	    s->nworkers == 1 ? "" : "s", instances, instances == 1 ? "" : "s",
	    nqueues, nqueues == 1 ? "" : "s");
	settings_free(s);
	return 0;
}

static int
write_pid_file(const char *path)
{
	char buf[32];
	int fd, n;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) == -1)
		return -1;
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)n) != n) {
		close(fd);
		return -1;
	}
	return close(fd);
}

int
plba__master_main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config",	required_argument, NULL, 'c' },
		{ "check",	no_argument,	   NULL, 't' },
		{ "foreground",	no_argument,	   NULL, 'f' },
		{ "pid-file",	required_argument, NULL, 'P' },
		{ "version",	no_argument,	   NULL, 'V' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *paths[MAX_CONFIGS];
	const char *pid_file = NULL;
	struct conf_errors errs = { 0 };
	struct runtime *rt;
	size_t npaths = 0;
	bool check_only = false;
	int ch, status;

	/* Our own words, not getopt's: its name the program by argv[0],
	 * which in a build tree is libtool's .libs/lt-plba-master. */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":c:tfVh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			if (npaths == MAX_CONFIGS) {
				fprintf(stderr, "plba-master: at most %d -c "
				    "files\n", MAX_CONFIGS);
				return 2;
			}
			/* Not stdin: a reload reads the files again, and
			 * stdin would be read out by then. */
			if (strcmp(optarg, "-") == 0) {
				fprintf(stderr, "plba-master: -c -: the "
				    "configuration must be a file, which a "
				    "reload reads again\n");
				return 2;
			}
			paths[npaths++] = optarg;
			break;
		case 't':
			check_only = true;
			break;
		case 'f':
			break;
		case 'P':
			pid_file = optarg;
			break;
		case 'V':
			printf("plba-master %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(0);
		case ':':
			fprintf(stderr, "plba-master: %s needs an argument\n",
			    argv[optind - 1]);
			usage(2);
		default:
			if (optopt != 0)
				fprintf(stderr, "plba-master: unknown option "
				    "-%c\n", optopt);
			else
				fprintf(stderr, "plba-master: unknown option "
				    "%s\n", argv[optind - 1]);
			usage(2);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "plba-master: unexpected argument \"%s\"\n",
		    argv[optind]);
		usage(2);
	}
	if (npaths == 0)
		paths[npaths++] = DEFAULT_CONFIG;
	if (check_only)
		return check(paths, npaths);

	if ((rt = runtime_new(paths, npaths, NULL, &errs)) == NULL) {
		print_errors(&errs);
		conf_errors_clear(&errs);
		return 2;
	}
	if (pid_file != NULL && write_pid_file(pid_file) == -1) {
		fprintf(stderr, "plba-master: %s: %s\n", pid_file,
		    strerror(errno));
		runtime_free(rt);
		return 2;
	}
	status = runtime_run(rt);
	runtime_free(rt);
	if (pid_file != NULL)
		unlink(pid_file);
	return status;
}
