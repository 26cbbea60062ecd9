/*
 * Fork and exec of one worker instance.  Everything that may allocate or
 * look things up (the program's path, the environment, the user) is done
 * before the fork: civetweb's threads live in the master, so the child
 * may only make async-signal-safe calls until exec.
 *
 * The fork is a vfork(): the child borrows the master's memory until it
 * execs, so nothing of the master's (its libraries, civetweb, curl) is
 * copied for a process that is about to replace itself.  That halves the
 * restart latency measured by bench/supervise.
 */
#ifndef PLBA_MASTER_SPAWN_H
#define PLBA_MASTER_SPAWN_H

#include <stdbool.h>
#include <sys/resource.h>
#include <sys/types.h>

/* The child's end of its channel to the master is always this fd. */
#define SPAWN_CHANNEL_FD	3

struct spawn_req {
	const char	 *path;		/* resolved program path */
	char *const	 *argv;
	char *const	 *envp;
	const char	 *cwd;		/* NULL: the master's */
	bool		  set_user;
	uid_t		  uid;
	gid_t		  gid;
	int		  stdin_fd;	/* /dev/null */
	int		  stdout_fd;
	int		  stderr_fd;
	int		  channel_fd;	/* becomes SPAWN_CHANNEL_FD */
	const struct rlimit *nofile;	/* RLIMIT_NOFILE to give back, or NULL */
};

/* Why the child could not exec, written by it into the master's memory
 * (shared until exec) just before it exits 127. */
struct spawn_failure {
	int	stage;		/* SPAWN_STAGE_* */
	int	err;		/* errno */
};

enum { SPAWN_STAGE_FDS = 1, SPAWN_STAGE_CHDIR, SPAWN_STAGE_USER, SPAWN_STAGE_EXEC };

/*
 * Forks and execs; returns once the child has exec'd or failed.  Returns
 * the pid, with failure->stage 0 when the exec succeeded, or else the
 * stage and errno that failed (the child then exits 127 and is reaped
 * like any other).  Returns -1 with errno set when the fork itself fails.
 */
pid_t		 spawn_child(const struct spawn_req *, struct spawn_failure *failure);
/* "changing to the working directory" and the like, for log messages. */
const char	*spawn_stage_name(int stage);
/* Resolves a program name through PATH the way execvp would; the result
 * is malloc'ed.  Returns NULL with errno set when nothing executable is
 * found. */
char		*spawn_resolve(const char *name, const char *path_env);

#endif
