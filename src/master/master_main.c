/*
 * plba-master: reads the configuration, then supervises its workers until
 * told to stop.  Always in the foreground, as systemd, s6 and containers
 * want; under systemd use Type=notify.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "entry.h"
#include "runtime.h"
#include "settings.h"

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

static int
check(const char *const *paths, size_t npaths)
{
	struct conf_errors errs = { 0 };
	struct settings *s;
	unsigned long instances = 0;
	size_t i;

	if ((s = settings_load(paths, npaths, &errs)) == NULL ||
	    runtime_check_modules(s, NULL, &errs) == -1) {
		settings_free(s);
		print_errors(&errs);
		fprintf(stderr, "plba-master: configuration invalid: %zu error%s\n",
		    errs.n, errs.n == 1 ? "" : "s");
		conf_errors_clear(&errs);
		return 2;
	}
	for (i = 0; i < s->nworkers; i++)
		instances += s->workers[i].concurrency;
	printf("%s: configuration ok: %zu worker%s (%lu instance%s), "
	    "%zu queue%s\n", paths[npaths - 1], s->nworkers,
	    s->nworkers == 1 ? "" : "s", instances, instances == 1 ? "" : "s",
	    s->nqueues, s->nqueues == 1 ? "" : "s");
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

	while ((ch = getopt_long(argc, argv, "c:tfVh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			if (npaths == MAX_CONFIGS) {
				fprintf(stderr, "plba-master: at most %d -c "
				    "files\n", MAX_CONFIGS);
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
		default:
			usage(2);
		}
	}
	if (optind != argc)
		usage(2);
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
