/*
 * A test's way to make the master's world fail at one chosen place,
 * while a file exists.  Preloaded (LD_PRELOAD) into plba-master, and into
 * nothing else; it takes itself out of LD_PRELOAD, so workers run
 * without it.
 *
 * PLBA_FAILALLOC=FILE: realloc(NULL, 64 KiB), which is how a channel's
 * read buffer is allocated (src/lib/frame.c), fails with ENOMEM while
 * FILE exists.
 *
 * PLBA_SYNCGATE=FILE: fsync(2) and fdatasync(2), which is how SQLite
 * commits the durable queues, do not return while FILE exists: a disk
 * that has stalled.
 *
 * PLBA_SYNCFAIL=FILE: they fail with EIO while FILE exists: a disk that
 * fails every commit.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char *nomem_file;
static char *syncgate_file;
static char *syncfail_file;

static char *
copy_env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL ? strdup(v) : NULL;
}

__attribute__((constructor)) static void
masterfaults_init(void)
{
	char exe[4096];
	const char *base;
	ssize_t n;

	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) <= 0)
		return;
	exe[n] = '\0';
	base = strrchr(exe, '/');
	base = base != NULL ? base + 1 : exe;
	/* libtool's wrapper script runs it as lt-plba-master, or from .libs */
	if (strcmp(base, "plba-master") != 0 && strcmp(base, "lt-plba-master") != 0)
		return;
	nomem_file = copy_env("PLBA_FAILALLOC");
	syncgate_file = copy_env("PLBA_SYNCGATE");
	syncfail_file = copy_env("PLBA_SYNCFAIL");
	unsetenv("LD_PRELOAD");
}

void *
realloc(void *p, size_t n)
{
	static void *(*real_realloc)(void *, size_t);

	if (real_realloc == NULL)
		real_realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
	if (nomem_file != NULL && p == NULL && n == 65536 &&
	    access(nomem_file, F_OK) == 0) {
		errno = ENOMEM;
		return NULL;
	}
	return real_realloc(p, n);
}

/* 0 to go on to the real call, -1 with EIO to fail it. */
static int
sync_fault(void)
{
	const struct timespec tick = { 0, 10 * 1000 * 1000 };
	int saved = errno;

	while (syncgate_file != NULL && access(syncgate_file, F_OK) == 0)
		nanosleep(&tick, NULL);
	if (syncfail_file != NULL && access(syncfail_file, F_OK) == 0) {
		errno = EIO;
		return -1;
	}
	errno = saved;
	return 0;
}

int
fsync(int fd)
{
	static int (*real_fsync)(int);

	if (real_fsync == NULL)
		real_fsync = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	return sync_fault() == -1 ? -1 : real_fsync(fd);
}

int
fdatasync(int fd)
{
	static int (*real_fdatasync)(int);

	if (real_fdatasync == NULL)
		real_fdatasync = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
	return sync_fault() == -1 ? -1 : real_fdatasync(fd);
}
