#include "config.h"

#include <sys/prctl.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spawn.h"

const char *
spawn_stage_name(int stage)
{
	switch (stage) {
	case SPAWN_STAGE_FDS:	return "setting up file descriptors";
	case SPAWN_STAGE_CHDIR:	return "changing to the working directory";
	case SPAWN_STAGE_USER:	return "switching user";
	case SPAWN_STAGE_EXEC:	return "executing";
	}
	return "starting";
}

char *
spawn_resolve(const char *name, const char *path_env)
{
	const char *p, *end;
	char buf[PATH_MAX];
	int len, saved = ENOENT;

	if (name == NULL || *name == '\0') {
		errno = ENOENT;
		return NULL;
	}
	if (strchr(name, '/') != NULL)
		return strdup(name);
	if (path_env == NULL)
		path_env = "/usr/local/bin:/usr/bin:/bin";
	for (p = path_env; ; p = end + 1) {
		end = strchrnul(p, ':');
		len = snprintf(buf, sizeof(buf), "%.*s/%s", (int)(end - p), p, name);
		if (len > 0 && (size_t)len < sizeof(buf)) {
			if (access(buf, X_OK) == 0)
				return strdup(buf);
			if (errno == EACCES)
				saved = EACCES;
		}
		if (*end == '\0')
			break;
	}
	errno = saved;
	return NULL;
}

/*
 * Only async-signal-safe calls from here until exec, and no writes to the
 * master's memory but *failure: this runs in the master's address space
 * while the master waits.
 */
static void __attribute__((noreturn))
child_fail(volatile struct spawn_failure *failure, int stage)
{
	failure->err = errno;
	failure->stage = stage;
	_exit(127);
}

static void __attribute__((noreturn))
child(const struct spawn_req *r, volatile struct spawn_failure *failure,
    pid_t parent)
{
	struct sigaction sa;
	sigset_t none;
	int sig;

	/*
	 * Dispositions and the mask survive exec: the master blocks the
	 * signals it reads from a signalfd, and civetweb ignores SIGPIPE for
	 * the whole process.  Neither may leak into a worker.  The mask is
	 * cleared last, once no handler of the master's can run here.
	 */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &sa, NULL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);

	/* Its own group, so stopping it reaches what it forked too. */
	(void)setpgid(0, 0);
	/* Dies with the master; checked again in case the master already
	 * died between fork and prctl. */
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);

	/* Every source fd is above 2, so these cannot clobber each other. */
	if (dup2(r->stdin_fd, STDIN_FILENO) == -1 ||
	    dup2(r->stdout_fd, STDOUT_FILENO) == -1 ||
	    dup2(r->stderr_fd, STDERR_FILENO) == -1)
		child_fail(failure, SPAWN_STAGE_FDS);
	if (r->channel_fd == SPAWN_CHANNEL_FD) {
		if (fcntl(SPAWN_CHANNEL_FD, F_SETFD, 0) == -1)
			child_fail(failure, SPAWN_STAGE_FDS);
	} else if (dup2(r->channel_fd, SPAWN_CHANNEL_FD) == -1)
		child_fail(failure, SPAWN_STAGE_FDS);

	/* The limit the master raised for itself is not the worker's: a
	 * program using select() breaks on descriptors above 1023. */
	if (r->nofile != NULL)
		(void)setrlimit(RLIMIT_NOFILE, r->nofile);
	if (r->cwd != NULL && chdir(r->cwd) == -1)
		child_fail(failure, SPAWN_STAGE_CHDIR);
	if (r->set_user) {
		if (setgroups(1, &r->gid) == -1 || setgid(r->gid) == -1 ||
		    setuid(r->uid) == -1)
			child_fail(failure, SPAWN_STAGE_USER);
	}
	execve(r->path, r->argv, r->envp);
	child_fail(failure, SPAWN_STAGE_EXEC);
}

pid_t
spawn_child(const struct spawn_req *r, struct spawn_failure *failure)
{
	volatile struct spawn_failure shared = { 0, 0 };
	pid_t pid, parent = getpid();

	/*
	 * The master's own signals are blocked (it reads them from a
	 * signalfd), so none can be handled on the stack the child borrows
	 * before it resets every disposition.
	 */
	pid = vfork();
	if (pid == 0)
		child(r, &shared, parent);
	if (pid == -1)
		return -1;
	failure->stage = shared.stage;
	failure->err = shared.err;
	return pid;
}
