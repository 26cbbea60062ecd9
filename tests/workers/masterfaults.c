/*
 * A test's way to leave the master short of memory at one chosen place.
 * Preloaded (LD_PRELOAD) into plba-master, and into nothing else, it fails
 * realloc(NULL, 64 KiB), which is how a channel's read buffer is allocated
 * (src/lib/frame.c), with ENOMEM while the file named by PLBA_FAILALLOC
 * exists.  It takes itself out of LD_PRELOAD, so workers run without it.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *(*real_realloc)(void *, size_t);
static char *trigger;

__attribute__((constructor)) static void
failalloc_init(void)
{
	char exe[4096];
	const char *base, *path;
	ssize_t n;

	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) <= 0)
		return;
	exe[n] = '\0';
	base = strrchr(exe, '/');
	base = base != NULL ? base + 1 : exe;
	/* libtool's wrapper script runs it as lt-plba-master, or from .libs */
	if (strcmp(base, "plba-master") != 0 && strcmp(base, "lt-plba-master") != 0)
		return;
	if ((path = getenv("PLBA_FAILALLOC")) != NULL)
		trigger = strdup(path);
	unsetenv("LD_PRELOAD");
}

void *
realloc(void *p, size_t n)
{
	if (real_realloc == NULL)
		real_realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
	if (trigger != NULL && p == NULL && n == 65536 && access(trigger, F_OK) == 0) {
		errno = ENOMEM;
		return NULL;
	}
	return real_realloc(p, n);
}
