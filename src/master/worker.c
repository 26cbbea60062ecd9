#include "config.h"

#include <sys/socket.h>
#include <sys/epoll.h>
#include <sys/wait.h>

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf_json.h"
#include "log.h"
#include "notify.h"
#include "queue.h"
#include "registry.h"
#include "runtime.h"
#include "spawn.h"
#include "worker.h"

/* Descriptors kept free for the HTTP server's connections (8 threads,
 * a queue of 20) and the master's own needs. */
#define FD_RESERVE		40
/* How often RSS is compared with max_memory. */
#define MEMORY_CHECK_MS		2000
/* Read at most this much of one pipe per wakeup, so one chatty child
 * cannot starve the others or the loop. */
#define OUTPUT_READ_MAX		65536
/* After a child exits, what it left in its pipes is read up to this. */
#define OUTPUT_DRAIN_MAX	(1u << 20)

static void	instance_timer(struct loop *, struct timer *);
static void	memory_timer(struct loop *, struct timer *);
static struct instance *instance_new(struct worker *, unsigned);
static void	apply(struct instance *, enum sup_action);

static void
init_io(struct io *io)
{
	memset(io, 0, sizeof(*io));
	io->fd = -1;
}

static void
close_io(struct loop *l, struct io *io)
{
	int fd = io->fd;

	if (fd == -1)
		return;
	io_del(l, io);
	close(fd);
}

/*
 * PLBA_MODULE_PATH for an instance, which opens the object after its chdir
 * to working_directory: a relative path is made absolute against the
 * directory dlopen resolved it against in the master, which never changes
 * directory.  A bare name is searched for the same way by both, and left.
 */
static int
module_path_env(char **out, const char *path)
{
	char cwd[PATH_MAX];

	if (path[0] == '/' || strchr(path, '/') == NULL ||
	    getcwd(cwd, sizeof(cwd)) == NULL)
		return asprintf(out, "PLBA_MODULE_PATH=%s", path);
	return asprintf(out, "PLBA_MODULE_PATH=%s/%s", cwd, path);
}

struct worker *
worker_new(struct runtime *rt, const struct worker_def *def)
{
	struct worker *w;
	unsigned i;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->rt = rt;
	w->def = def;
	sup_policy_from_def(&w->policy, def);
	if ((w->name = strdup(def->name)) == NULL ||
	    sup_history_init(&w->hist, def->max_restarts) == -1 ||
	    (w->inst = calloc(def->concurrency, sizeof(*w->inst))) == NULL) {
		worker_free(w);
		return NULL;
	}
	if (def->config != NULL &&
	    (w->config_json = conf_to_json(def->config)) == NULL) {
		worker_free(w);
		return NULL;
	}
	if (def->kind == WORKER_MODULE || def->kind == WORKER_BUILTIN) {
		bool builtin = def->kind == WORKER_BUILTIN;
		const char *name = builtin ? def->type : def->module;
		struct plba_registry *reg;
		char err[512];

		/* Checked when the configuration was, so it is there. */
		reg = builtin ? runtime_builtin(rt, name, err, sizeof(err)) :
		    runtime_module_for(rt, name);
		if (asprintf(&w->module_env[0], "PLBA_MODULE_WORKER=%s",
		    name) == -1) {
			w->module_env[0] = NULL;
			worker_free(w);
			return NULL;
		}
		if (reg != NULL && reg->path != NULL &&
		    module_path_env(&w->module_env[1], reg->path) == -1) {
			w->module_env[1] = NULL;
			worker_free(w);
			return NULL;
		}
		/* A module compiled into the program runs in the program;
		 * a shared object runs in plba-worker. */
		w->host_argv[0] = reg != NULL && reg->path == NULL &&
		    rt->self_path != NULL ? rt->self_path : rt->host_path;
	}
	w->rolling = UINT_MAX;
	w->capacity = def->concurrency;
	for (i = 0; i < def->concurrency; i++) {
		if ((w->inst[i] = instance_new(w, i)) == NULL) {
			worker_free(w);
			return NULL;
		}
		w->ninst = i + 1;
	}
	w->nwanted = w->ninst;
	timer_init(&w->mem_timer, memory_timer, w);
	if (def->max_memory > 0)
		timer_at(rt->loop, &w->mem_timer, mono_ms() + MEMORY_CHECK_MS);
	return w;
}

static struct instance *
instance_new(struct worker *w, unsigned index)
{
	struct instance *in;

	if ((in = calloc(1, sizeof(*in))) == NULL)
		return NULL;
	in->worker = w;
	in->index = index;
	in->last_exit = -1;
	timer_init(&in->timer, instance_timer, in);
	init_io(&in->out_io);
	init_io(&in->err_io);
	init_io(&in->ch.io);
	return in;
}

static void
close_instance_fds(struct instance *in)
{
	struct loop *l = in->worker->rt->loop;

	close_io(l, &in->out_io);
	close_io(l, &in->err_io);
	output_reset(&in->out);
	output_reset(&in->err);
}

static void
instance_free(struct instance *in)
{
	close_instance_fds(in);
	if (in->ch.io.fd != -1)
		channel_close(in, "gone");
	timer_cancel(in->worker->rt->loop, &in->timer);
	free(in);
}

void
worker_free(struct worker *w)
{
	unsigned i;

	if (w == NULL)
		return;
	for (i = 0; i < w->ninst && w->inst != NULL; i++)
		instance_free(w->inst[i]);
	timer_cancel(w->rt->loop, &w->mem_timer);
	sup_history_free(&w->hist);
	free(w->inst);
	free(w->path);
	free(w->config_json);
	free(w->module_env[0]);
	free(w->module_env[1]);
	free(w->name);
	free(w);
}

void
worker_rebind(struct worker *w, const struct worker_def *def)
{
	w->def = def;
	sup_policy_from_def(&w->policy, def);
}

bool
instance_alive(const struct instance *in)
{
	return in->pid > 0;
}

/*
 * While a reload's old version of a worker stops, its instances stand in
 * for the new version's, which start only once it is down: a process
 * still alive is shown stopping, with its pid, not hidden behind a new
 * instance that has none.  Indices past the old version's are the new
 * version's own.
 */
unsigned
worker_nshown(const struct worker *w)
{
	const struct worker *old = w->replaces;

	return old != NULL && old->ninst > w->ninst ? old->ninst : w->ninst;
}

struct instance *
worker_shown(const struct worker *w, unsigned i)
{
	const struct worker *old = w->replaces;

	if (old != NULL && i < old->ninst)
		return old->inst[i];
	return w->inst[i];
}

bool
worker_ready(const struct worker *w)
{
	unsigned i;

	for (i = 0; i < w->nwanted; i++)
		if (w->inst[i]->sup.state != INST_RUNNING)
			return false;
	return true;
}

/*
 * Every instance is ready or will not come up on its own: it ended and
 * its policy does not restart it, its spawn failed for good, or the
 * worker failed.  Only an operator's action changes that.
 */
bool
worker_settled(const struct worker *w)
{
	unsigned i;

	for (i = 0; i < w->nwanted; i++)
		if (w->inst[i]->sup.state != INST_RUNNING &&
		    w->inst[i]->sup.state != INST_STOPPED)
			return false;
	return true;
}

/* Every instance ended, and by its policy for good: nothing should run. */
bool
worker_done(const struct worker *w)
{
	unsigned i;

	if (w->hist.failed || w->nwanted == 0)
		return false;
	for (i = 0; i < w->nwanted; i++)
		if (w->inst[i]->sup.state != INST_STOPPED ||
		    !w->inst[i]->sup.done)
			return false;
	return true;
}

bool
worker_down(const struct worker *w)
{
	unsigned i;

	for (i = 0; i < w->ninst; i++)
		if (instance_alive(w->inst[i]))
			return false;
	return true;
}

void
describe_wait(int st, char *buf, size_t len)
{
	if (WIFEXITED(st))
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, len, "killed by signal %d (%s)%s", WTERMSIG(st),
		    strsignal(WTERMSIG(st)), WCOREDUMP(st) ? ", core dumped" : "");
	else
		snprintf(buf, len, "ended with wait status %#x", st);
}

/* --- output ------------------------------------------------------------ */

struct line_ctx {
	struct instance	*in;
	const char	*stream;
};

static void
log_line(void *arg, const char *line, size_t len, bool truncated)
{
	struct line_ctx *c = arg;

	log_child(LOG_LEVEL_INFO, c->in->worker->name, c->in->index,
	    c->stream, line, len, truncated);
}

/* Returns bytes read, 0 at end of stream, -1 when nothing is waiting. */
static ssize_t
read_output(struct instance *in, struct io *io, size_t max)
{
	static char buf[OUTPUT_READ_MAX];
	struct line_ctx c = { in, io == &in->out_io ? "stdout" : "stderr" };
	struct output *o = io == &in->out_io ? &in->out : &in->err;
	ssize_t n;

	n = read(io->fd, buf, max < sizeof(buf) ? max : sizeof(buf));
	if (n > 0) {
		output_feed(o, buf, (size_t)n, log_line, &c);
		return n;
	}
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return -1;
	output_flush(o, log_line, &c);
	close_io(in->worker->rt->loop, io);
	return 0;
}

/*
 * While the log is behind, a child's output waits in its pipe and the
 * child with it, as on any slow pipe, until worker_resume_output().  At
 * its end the pipe is read all the same: nothing more can come.
 */
static void
on_output(struct loop *l, struct io *io, uint32_t events)
{
	struct instance *in = io->arg;
	size_t max = log_child_budget(in->worker->name);

	if (max == 0 && !(events & (EPOLLHUP | EPOLLERR))) {
		io_mod(l, io, 0);
		return;
	}
	read_output(in, io, max == 0 ? OUTPUT_READ_MAX : max);
}

void
worker_resume_output(struct worker *w)
{
	struct loop *l = w->rt->loop;
	unsigned i;

	for (i = 0; i < w->ninst; i++) {
		struct instance *in = w->inst[i];

		if (in->out_io.fd != -1 && in->out_io.events == 0)
			io_mod(l, &in->out_io, EPOLLIN);
		if (in->err_io.fd != -1 && in->err_io.events == 0)
			io_mod(l, &in->err_io, EPOLLIN);
	}
}

/* What a child wrote before it died is logged before its exit is. */
static void
drain_output(struct instance *in, struct io *io)
{
	size_t total = 0;
	ssize_t n;

	while (io->fd != -1 && total < OUTPUT_DRAIN_MAX) {
		if ((n = read_output(in, io, OUTPUT_READ_MAX)) <= 0)
			break;
		total += (size_t)n;
	}
}

/* --- spawning ------------------------------------------------------------ */

/* Only root can change user; anyone else runs instances as itself. */
static bool
user_applies(const struct worker_def *def)
{
	return def->user != NULL && geteuid() == 0;
}

/* Whether the first n of env already set the variable of "NAME=value". */
static bool
env_has(char *const *env, size_t n, const char *var)
{
	size_t klen = strcspn(var, "="), i;

	for (i = 0; i < n; i++)
		if (strncmp(env[i], var, klen + 1) == 0)
			return true;
	return false;
}

static char **
build_env(const struct instance *in, const struct worker_def *def,
    char *buf, size_t buflen)
{
	char **base = in->worker->rt->base_env, **env, **p;
	char **user = user_applies(def) ? def->user_env : NULL;
	size_t n = 0, m = 0;
	char *s = buf;
	int len;

	for (p = base; *p != NULL; p++)
		n++;
	for (p = def->env; p != NULL && *p != NULL; p++)
		n++;
	for (p = user; p != NULL && *p != NULL; p++)
		n++;
	if ((env = calloc(n + 10, sizeof(*env))) == NULL)
		return NULL;
	/*
	 * getenv() takes the first match, and a program may take any: each
	 * name is given once.  The worker's own environment wins, then its
	 * user's HOME and the like, as login(1) would set them, then the
	 * master's.
	 */
	for (p = def->env; p != NULL && *p != NULL; p++)
		env[m++] = *p;
	for (p = user; p != NULL && *p != NULL; p++)
		if (!env_has(env, m, *p))
			env[m++] = *p;
	for (p = base; *p != NULL; p++)
		if (!env_has(env, m, *p))
			env[m++] = *p;
	len = snprintf(s, buflen, "PLBA_WORKER=%s", def->name);
	env[m++] = s;
	s += len + 1;
	buflen -= (size_t)len + 1;
	len = snprintf(s, buflen, "PLBA_INSTANCE=%u", in->index);
	env[m++] = s;
	s += len + 1;
	buflen -= (size_t)len + 1;
	env[m++] = (char *)"PLBA_FD=3";
	env[m++] = (char *)"PLBA_PROTOCOL=1";
	env[m++] = in->worker->rt->config_env;
	for (p = in->worker->module_env; *p != NULL; p++)
		env[m++] = *p;
	if (def->ready == READY_NOTIFY) {
		snprintf(s, buflen, "NOTIFY_SOCKET=%s", notify_address());
		env[m++] = s;
	}
	env[m] = NULL;
	return env;
}

static int
nonblock(int fd)
{
	return fcntl(fd, F_SETFL, O_NONBLOCK);
}

static int
do_spawn(struct instance *in)
{
	struct worker *w = in->worker;
	struct runtime *rt = w->rt;
	const struct worker_def *def = w->def;
	struct spawn_req req;
	char envbuf[512], **env = NULL;
	int out[2] = { -1, -1 }, err[2] = { -1, -1 }, sv[2] = { -1, -1 };
	struct spawn_failure failed;
	int saved;
	pid_t pid;

	if (def == NULL)
		return -1;
	if (def->kind != WORKER_EXEC && w->path == NULL &&
	    (w->path = strdup(w->host_argv[0])) == NULL)
		return -1;
	if (w->path == NULL &&
	    (w->path = spawn_resolve(def->argv[0], getenv("PATH"))) == NULL) {
		log_error("workers.%s.command: %s: %s", w->name, def->argv[0],
		    strerror(errno));
		return -1;
	}
	if (pipe2(out, O_CLOEXEC) == -1 || pipe2(err, O_CLOEXEC) == -1 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1 ||
	    (env = build_env(in, def, envbuf, sizeof(envbuf))) == NULL)
		goto fail;
	/*
	 * Descriptors are handed out lowest first, so the last one tells how
	 * many are in use.  Spawning stops short of the limit: civetweb
	 * spins on accept() when none is left (seen at EMFILE), and the
	 * master needs a few of its own.
	 */
	if (sv[1] >= rt->fd_limit - FD_RESERVE) {
		errno = EMFILE;
		goto fail;
	}

	memset(&req, 0, sizeof(req));
	req.path = w->path;
	req.argv = def->kind != WORKER_EXEC ? w->host_argv : def->argv;
	req.envp = env;
	req.cwd = def->working_directory;
	req.set_user = user_applies(def);
	req.uid = def->uid;
	req.gid = def->gid;
	req.nofile = rt->nofile_raised ? &rt->child_nofile : NULL;
	req.stdin_fd = rt->devnull;
	req.stdout_fd = out[1];
	req.stderr_fd = err[1];
	req.channel_fd = sv[1];
	if ((pid = spawn_child(&req, &failed)) == -1)
		goto fail;
	free(env);
	close(out[1]);
	close(err[1]);
	close(sv[1]);
	nonblock(out[0]);
	nonblock(err[0]);
	nonblock(sv[0]);
	in->pid = pid;
	in->spawn_id = ++rt->spawns;
	in->started_wall = (uint64_t)time(NULL) * 1000;
	in->notify_status[0] = '\0';
	io_add(rt->loop, &in->out_io, out[0], EPOLLIN, on_output, in);
	io_add(rt->loop, &in->err_io, err[0], EPOLLIN, on_output, in);
	channel_open(in, sv[0]);
	if (failed.stage != 0)
		/* It exits 127 and is reaped like any crash. */
		log_error("workers.%s.command: %s: %s: %s", w->name,
		    def->kind != WORKER_EXEC ? w->path : def->argv[0],
		    spawn_stage_name(failed.stage), strerror(failed.err));
	else
		log_info("%s.%u: started, pid %ld", w->name, in->index, (long)pid);
	return 0;

fail:
	saved = errno;
	free(env);
	for (int i = 0; i < 2; i++) {
		if (out[i] != -1)
			close(out[i]);
		if (err[i] != -1)
			close(err[i]);
		if (sv[i] != -1)
			close(sv[i]);
	}
	log_error("%s.%u: cannot start: %s", w->name, in->index,
	    strerror(saved));
	return -1;
}

/* --- events -------------------------------------------------------------- */

static void
sync_timer(struct instance *in)
{
	struct loop *l = in->worker->rt->loop;

	if (in->sup.deadline == 0)
		timer_cancel(l, &in->timer);
	else
		timer_at(l, &in->timer, in->sup.deadline);
}

/*
 * The instance's process group, and the instance itself if it moved to
 * another (setpgid): a zombie left in its own group makes the group's
 * kill succeed without reaching it.  Not twice to one that stayed: a
 * second SIGTERM may find it past its handler, exiting.
 */
static void
signal_group(struct instance *in, int sig)
{
	if (in->pid <= 0)
		return;
	(void)kill(-in->pid, sig);
	if (getpgid(in->pid) != in->pid)
		(void)kill(in->pid, sig);
}

static void
note_failure(struct worker *w)
{
	if (!w->hist.failed || w->failed_logged)
		return;
	w->failed_logged = true;
	log_error("%s: failed: more than %u restart%s within %llums; no longer "
	    "restarted", w->name, w->policy.max_restarts,
	    w->policy.max_restarts == 1 ? "" : "s",
	    (unsigned long long)w->policy.restart_window_ms);
}

static void
note_backoff(struct instance *in)
{
	uint64_t now = mono_ms();

	if (in->sup.state == INST_BACKOFF)
		log_info("%s.%u: restarting in %llums", in->worker->name,
		    in->index, (unsigned long long)(in->sup.deadline > now ?
		    in->sup.deadline - now : 0));
}

static void
apply(struct instance *in, enum sup_action act)
{
	struct sup_event failed = { .kind = EV_SPAWN_FAILED };
	struct worker *w = in->worker;

	switch (act) {
	case ACT_SPAWN:
		/* An operator's start after a stop is not a restart; one
		 * after a spawn that failed is. */
		if (in->tried && !in->operator_start)
			in->restarts++;
		in->tried = true;
		if (do_spawn(in) == -1) {
			act = sup_step(&in->sup, &w->hist, &w->policy, &failed,
			    mono_ms());
			note_failure(w);
			note_backoff(in);
			apply(in, act);
			return;
		}
		break;
	case ACT_TERM:
		log_info("%s.%u: stopping pid %ld", w->name, in->index,
		    (long)in->pid);
		channel_send_stop(in, false);
		signal_group(in, SIGTERM);
		break;
	case ACT_FORCE:
		log_info("%s.%u: stopping pid %ld at once (forced)", w->name,
		    in->index, (long)in->pid);
		/* No SIGTERM with the message: libplba reads a signal as a
		 * graceful stop, and might see it first.  What else runs in
		 * the group is killed when the child is reaped. */
		if (!channel_send_stop(in, true))
			signal_group(in, SIGTERM);
		break;
	case ACT_KILL:
		log_warn("%s.%u: killing pid %ld", w->name, in->index,
		    (long)in->pid);
		signal_group(in, SIGKILL);
		w->rt->forced = w->rt->forced || w->rt->state == RT_STOPPING;
		break;
	case ACT_NONE:
		break;
	}
	sync_timer(in);
	runtime_touch(w->rt);
}

void
instance_event(struct instance *in, const struct sup_event *ev)
{
	struct worker *w = in->worker;

	in->operator_start = ev->kind == EV_START;
	apply(in, sup_step(&in->sup, &w->hist, &w->policy, ev, mono_ms()));
	in->operator_start = false;
}

void
worker_event(struct worker *w, const struct sup_event *ev)
{
	bool starts = ev->kind == EV_START || ev->kind == EV_RESTART;
	unsigned i;

	/* Those leaving after a scale-down are stopped, never started. */
	for (i = 0; i < (starts ? w->nwanted : w->ninst); i++)
		instance_event(w->inst[i], ev);
}

int
worker_scale(struct worker *w, unsigned n)
{
	struct sup_event start = { .kind = EV_START };
	struct sup_event stop = { .kind = EV_STOP };
	unsigned i, was = w->nwanted;

	if (n > w->capacity) {
		struct instance **inst;

		if ((inst = reallocarray(w->inst, n, sizeof(*inst))) == NULL)
			return -1;
		w->inst = inst;
		w->capacity = n;
	}
	for (i = w->ninst; i < n; i++) {
		if ((w->inst[i] = instance_new(w, i)) == NULL)
			return -1;
		w->ninst = i + 1;
	}
	w->nwanted = n;
	if (w->rolling != UINT_MAX && w->rolling >= n)
		w->rolling = UINT_MAX;
	/* Leaving: a graceful stop, as the worker's own would be.  They go
	 * once down (worker_prune). */
	for (i = n; i < was; i++)
		instance_event(w->inst[i], &stop);
	/* New ones, and any still leaving from an earlier scale-down, which
	 * start again once down; not for a failed worker, which waits for
	 * an operator's restart, as its other instances do. */
	if (w->started && !w->hist.failed)
		for (i = was; i < n; i++)
			instance_event(w->inst[i], &start);
	runtime_touch(w->rt);
	return 0;
}

void
worker_prune(struct worker *w)
{
	struct instance *in;

	while (w->ninst > w->nwanted) {
		in = w->inst[w->ninst - 1];
		/* Its channel too: a consumer's last words are still read
		 * for a moment after it is reaped. */
		if (in->pid > 0 || in->sup.state != INST_STOPPED ||
		    in->ch.io.fd != -1)
			return;
		instance_free(in);
		w->ninst--;
	}
}

void
instance_hello(struct instance *in)
{
	struct sup_event ev = { .kind = EV_HELLO };

	instance_event(in, &ev);
}

void
instance_kill(struct instance *in)
{
	signal_group(in, SIGKILL);
}

enum health
instance_health(const struct instance *in, const char **detail)
{
	const struct worker *w = in->worker;

	*detail = in->ch.detail;
	if (w->hist.failed) {
		*detail = "failed: too many restarts";
		return HEALTH_UNHEALTHY;
	}
	switch (in->sup.state) {
	case INST_BACKOFF:
		*detail = "restarting";
		return HEALTH_UNHEALTHY;
	case INST_STOPPED:
		if (w->wanted && in->index < w->nwanted && !in->sup.done) {
			*detail = "not running";
			return HEALTH_UNHEALTHY;
		}
		/* Stopped on purpose: what it last said of itself is old. */
		*detail = NULL;
		return HEALTH_OK;
	default:
		break;
	}
	return in->ch.health;
}

enum status
instance_status(const struct instance *in)
{
	switch (in->sup.state) {
	case INST_STARTING:
	case INST_BACKOFF:
		return STATUS_STARTING;
	case INST_STOPPING:
		return STATUS_STOPPING;
	case INST_STOPPED:
		return in->worker->hist.failed ? STATUS_FAILED : STATUS_STOPPED;
	case INST_RUNNING:
		break;
	}
	if (in->ch.consumer != NULL)
		return queue_consumer_inflight(in->ch.consumer) > 0 ?
		    STATUS_BUSY : STATUS_IDLE;
	if (in->ch.has_status &&
	    (in->ch.status == STATUS_BUSY || in->ch.status == STATUS_IDLE))
		return in->ch.status;
	return STATUS_IDLE;
}

void
instance_ready(struct instance *in)
{
	struct sup_event ev = { .kind = EV_READY };

	if (in->sup.state == INST_STARTING)
		log_info("%s.%u: ready", in->worker->name, in->index);
	instance_event(in, &ev);
}

static void
instance_timer(struct loop *l, struct timer *t)
{
	struct instance *in = t->arg;
	struct sup_event ev = { .kind = EV_DEADLINE };
	enum inst_state before = in->sup.state;

	instance_event(in, &ev);
	if (before == INST_STARTING && in->sup.state == INST_RUNNING)
		log_info("%s.%u: ready", in->worker->name, in->index);
}

void
instance_exited(struct instance *in, int wstatus)
{
	struct worker *w = in->worker;
	struct sup_event ev = { .kind = EV_EXIT };
	enum inst_state before = in->sup.state;
	char how[96];

	drain_output(in, &in->out_io);
	drain_output(in, &in->err_io);
	/* Whatever it left behind in its group goes with it. */
	(void)kill(-in->pid, SIGKILL);
	close_instance_fds(in);
	describe_wait(wstatus, how, sizeof(how));
	channel_last_words(in);
	channel_close(in, how);
	ev.clean = WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0;
	in->pid = 0;
	in->last_exit = wstatus;
	/* A clean exit that its policy does not restart is a job done, not
	 * something to look into: on-failure and never leave it stopped. */
	if (before == INST_STOPPING)
		log_info("%s.%u: stopped, %s", w->name, in->index, how);
	else if (ev.clean && w->policy.restart != RESTART_ALWAYS)
		log_info("%s.%u: %s", w->name, in->index, how);
	else
		log_warn("%s.%u: %s", w->name, in->index, how);
	instance_event(in, &ev);
	note_failure(w);
	note_backoff(in);
}

/* --- rolling restart ------------------------------------------------------ */

static void
roll_next(struct worker *w)
{
	struct sup_event restart = { .kind = EV_RESTART };
	struct sup_event start = { .kind = EV_START };

	while (w->rolling < w->nwanted) {
		struct instance *in = w->inst[w->rolling];

		w->rolling_pid = in->pid;
		if (in->sup.state == INST_RUNNING || in->sup.state == INST_STARTING) {
			instance_event(in, &restart);
			return;
		}
		/* A failed or backing-off instance of a wanted worker is
		 * started now: a restart is how an operator revives it. */
		if (w->wanted && w->started &&
		    (in->sup.state == INST_STOPPED || in->sup.state == INST_BACKOFF)) {
			instance_event(in, &start);
			return;
		}
		w->rolling++;
	}
	w->rolling = UINT_MAX;
}

void
worker_rolling_restart(struct worker *w)
{
	log_info("%s: restarting its instances one at a time", w->name);
	w->hist.failed = false;
	w->hist.n = 0;
	w->failed_logged = false;
	w->rolling = 0;
	roll_next(w);
}

void
worker_rolling_step(struct worker *w)
{
	struct instance *in;

	if (w->rolling >= w->nwanted)
		return;
	in = w->inst[w->rolling];
	/* The next one goes once this one is back and ready. */
	if (in->sup.state == INST_RUNNING && in->pid != w->rolling_pid) {
		w->rolling++;
		roll_next(w);
	} else if (in->sup.state == INST_STOPPED) {
		w->rolling++;
		roll_next(w);
	}
}

/* --- memory -------------------------------------------------------------- */

static uint64_t
rss_bytes(pid_t pid)
{
	char path[64];
	unsigned long long size, resident;
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "/proc/%ld/statm", (long)pid);
	if ((f = fopen(path, "re")) == NULL)
		return 0;
	n = fscanf(f, "%llu %llu", &size, &resident);
	fclose(f);
	if (n != 2)
		return 0;
	return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

static void
memory_timer(struct loop *l, struct timer *t)
{
	struct worker *w = t->arg;
	struct sup_event ev = { .kind = EV_RESTART, .fault = true };
	uint64_t rss;
	unsigned i;

	if (w->def == NULL || w->def->max_memory == 0)
		return;
	for (i = 0; i < w->ninst; i++) {
		struct instance *in = w->inst[i];

		if (in->sup.state != INST_RUNNING && in->sup.state != INST_STARTING)
			continue;
		rss = rss_bytes(in->pid);
		if (rss <= w->def->max_memory)
			continue;
		log_warn("%s.%u: resident memory %llu bytes is over max_memory "
		    "%llu; restarting it", w->name, i, (unsigned long long)rss,
		    (unsigned long long)w->def->max_memory);
		instance_event(in, &ev);
	}
	timer_at(l, t, mono_ms() + MEMORY_CHECK_MS);
}
