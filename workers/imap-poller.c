/*
 * The imap-poller built-in worker: polls one IMAP mailbox and publishes
 * one task per unseen mail, then marks the mail seen (or moves it) only
 * once the master says the task was acked or dead-lettered.  A crash
 * anywhere in between leaves the mail unseen, so it is found and
 * published again: at-least-once, like the queue behind it.
 *
 * Round trips per poll stay constant as the mailbox grows: after the
 * first poll only mails above the highest UID already seen are asked
 * for, with a full search of unseen mail every `rescan`.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <plba/plba.h>

#include "imap.h"
#include "imap-settings.h"
#include "wconf.h"
#include "mailmsg.h"

/* A published mail; finished ones wait in the array until compaction. */
struct pending {
	uint64_t	 id;		/* the task id */
	uint32_t	 uid;
	uint32_t	 uidvalidity;
	bool		 finished;
};

/* A finished task whose mail still has to be marked. */
struct mark {
	uint32_t	 uid;
	bool		 acked;
};

struct poller {
	plba_worker	*w;
	struct imap_settings s;
	struct imap	*imap;
	uint32_t	 uidvalidity;
	uint32_t	 last_uid;	/* highest UID already looked at */
	long long	 rescan_at;	/* ms: next full search */
	struct pending	*pend;		/* by task id, ascending */
	size_t		 npend, cappend, live;
	struct mark	*marks;
	size_t		 nmarks, capmarks;
	uint32_t	*found;		/* UIDs the last search returned */
	size_t		 nfound, capfound;
	uint64_t	 sent_from;	/* imap_commands() at sent_reset() */
	char		 sent[2048];	/* verbose: the commands since then */
	size_t		 sentlen;
	bool		 sentcut;	/* more than sent holds */
	char		 err[1024];
};

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- bookkeeping ------------------------------------------------------------- */

static int
grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t ncap;
	void *np;

	if (need <= *cap)
		return 0;
	ncap = *cap == 0 ? 64 : *cap * 2;
	while (ncap < need)
		ncap *= 2;
	if ((np = realloc(*p, ncap * size)) == NULL)
		return -1;
	*p = np;
	*cap = ncap;
	return 0;
}

static bool
is_pending(const struct poller *p, uint32_t uid)
{
	size_t i;

	for (i = 0; i < p->npend; i++)
		if (!p->pend[i].finished && p->pend[i].uid == uid &&
		    p->pend[i].uidvalidity == p->uidvalidity)
			return true;
	return false;
}

/* Task ids come from one counter per queue, so appending keeps order. */
static int
add_pending(struct poller *p, uint64_t id, uint32_t uid)
{
	if (grow((void **)&p->pend, &p->cappend, p->npend + 1,
	    sizeof(*p->pend)) == -1)
		return -1;
	p->pend[p->npend++] = (struct pending){ id, uid, p->uidvalidity, false };
	p->live++;
	return 0;
}

static struct pending *
find_pending(struct poller *p, uint64_t id)
{
	size_t lo = 0, hi = p->npend, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (p->pend[mid].id == id)
			return p->pend[mid].finished ? NULL : &p->pend[mid];
		if (p->pend[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static void
finish_pending(struct poller *p, struct pending *e)
{
	size_t i, o = 0;

	e->finished = true;
	p->live--;
	if (p->live * 2 > p->npend)
		return;
	for (i = 0; i < p->npend; i++)
		if (!p->pend[i].finished)
			p->pend[o++] = p->pend[i];
	p->npend = o;
}

static void
forget_pending(struct poller *p)
{
	p->npend = p->live = 0;
	p->nmarks = 0;
}

/* --- IMAP ---------------------------------------------------------------------- */

static void
drop_connection(struct poller *p)
{
	imap_close(p->imap);
	p->imap = NULL;
}

/* Notes a command for the verbose line; past the room, "...". */
static void
on_sent(const char *cmd, size_t len, void *arg)
{
	struct poller *p = arg;
	size_t room = sizeof(p->sent) - p->sentlen;
	int n;

	if (p->sentcut)
		return;
	/* A long UID set says little past its start. */
	n = snprintf(p->sent + p->sentlen, room, "%s%.*s%s",
	    p->sentlen > 0 ? "; " : "", len > 200 ? 200 : (int)len, cmd,
	    len > 200 ? "..." : "");
	if (n < 0 || (size_t)n >= room - 8) {
		p->sent[p->sentlen] = '\0';
		p->sentcut = true;
	} else
		p->sentlen += (size_t)n;
}

/* Starts what the next line reports: the commands sent from here. */
static void
sent_reset(struct poller *p)
{
	p->sent_from = p->imap != NULL ? imap_commands(p->imap) : 0;
	p->sentlen = 0;
	p->sentcut = false;
	p->sent[0] = '\0';
}

/*
 * How many commands went since sent_reset().  After a round that worked
 * the connection is the one it saw or, if it saw none, a new one.
 */
static uint64_t
sent_count(const struct poller *p)
{
	return p->imap != NULL ? imap_commands(p->imap) - p->sent_from : 0;
}

static void
on_select(const struct imap_response *r, void *arg)
{
	struct poller *p = arg;
	unsigned long v;

	if (r->nlit == 0 && sscanf(r->text[0], "* OK [UIDVALIDITY %lu]", &v) == 1)
		p->uidvalidity = (uint32_t)v;
}

static bool
on_cancel(void *arg)
{
	struct poller *p = arg;

	return plba_worker_stopping(p->w);
}

static int
connect_mailbox(struct poller *p)
{
	struct imap_options o = {
		.url = p->s.url, .user = p->s.user, .password = p->s.password,
		.starttls = p->s.starttls, .ca_file = p->s.ca_file,
		.insecure = p->s.insecure, .timeout_ms = (long)p->s.timeout_ms,
		/* A header block is rarely past 1 MiB. */
		.max_literal = p->s.max_body + 1024 * 1024,
		.trace = p->s.verbose ? on_sent : NULL, .trace_arg = p,
		/* A stop must not wait for a server that does not answer. */
		.cancel = on_cancel, .cancel_arg = p,
	};
	char box[IMAP_MAILBOX_MAX], err[300];
	const char *why;
	uint32_t before = p->uidvalidity;

	if (imap_mailbox(box, sizeof(box), p->s.mailbox, &why) == -1) {
		snprintf(p->err, sizeof(p->err), "mailbox %s: %s", p->s.mailbox,
		    why);
		return -1;
	}
	if ((p->imap = imap_open(&o, err, sizeof(err))) == NULL) {
		snprintf(p->err, sizeof(p->err), "connect: %s", err);
		return -1;
	}
	if (imap_command(p->imap, on_select, p, err, sizeof(err), "SELECT %s",
	    box) != 0) {
		snprintf(p->err, sizeof(p->err), "SELECT %s: %s", p->s.mailbox, err);
		drop_connection(p);
		return -1;
	}
	/* New UIDs: what was in flight names other mails now.  They are
	 * still unseen, so they are found again. */
	if (before != 0 && before != p->uidvalidity) {
		fprintf(stderr, "imap-poller: %s: UIDVALIDITY changed; "
		    "looking at every unseen mail again\n", p->s.mailbox);
		forget_pending(p);
	}
	p->last_uid = 0;
	p->rescan_at = 0;
	return 0;
}

static void
on_search(const struct imap_response *r, void *arg)
{
	struct poller *p = arg;
	const char *s = r->text[0], *end = s + r->textlen[0];
	unsigned long v;
	char *e;

	if (r->nlit != 0 || r->textlen[0] < 8 ||
	    strncasecmp(s, "* SEARCH", 8) != 0)
		return;
	for (s += 8; s < end; s = e) {
		while (s < end && *s == ' ')
			s++;
		if (s >= end)
			break;
		v = strtoul(s, &e, 10);
		if (e == s)
			break;
		if (v == 0 || v > UINT32_MAX)
			continue;
		if (grow((void **)&p->found, &p->capfound, p->nfound + 1,
		    sizeof(*p->found)) == -1)
			return;
		p->found[p->nfound++] = (uint32_t)v;
	}
}

static int
cmp_uid(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The number after a FETCH item name in a piece of response text. */
static bool
fetch_number(const char *s, size_t len, const char *item, uint64_t *out)
{
	char text[512];
	const char *p;

	snprintf(text, sizeof(text), "%.*s", (int)(len < 511 ? len : 511), s);
	if ((p = strcasestr(text, item)) == NULL)
		return false;
	*out = strtoull(p + strlen(item), NULL, 10);
	return true;
}

/* The literal announced at the end of the piece of text naming section. */
static bool
section(const struct imap_response *r, const char *name, const char **data,
    size_t *len)
{
	char text[256];
	size_t i, n;

	for (i = 0; i < r->nlit; i++) {
		n = r->textlen[i] < 255 ? r->textlen[i] : 255;
		snprintf(text, sizeof(text), "%.*s", (int)n,
		    r->text[i] + r->textlen[i] - n);
		if (strcasestr(text, name) != NULL) {
			*data = r->lit[i];
			*len = r->litlen[i];
			return true;
		}
	}
	return false;
}

/* A mail fetched, waiting to be published. */
struct fetched {
	uint32_t	 uid;
	char		*payload;	/* built while the response was there */
	char		 message_id[256];
};

struct fetch_batch {
	struct poller	*p;
	struct fetched	*mails;		/* one slot per UID asked for */
	size_t		 n;
};

static void
on_fetch(const struct imap_response *r, void *arg)
{
	struct fetch_batch *b = arg;
	struct fetched *f = NULL;
	struct mailmsg m = { 0 };
	uint64_t uid = 0;
	size_t i;

	if (!fetch_number(r->text[0], r->textlen[0], "UID ", &uid))
		return;
	for (i = 0; i < b->n && f == NULL; i++)
		if (b->mails[i].uid == uid && b->mails[i].payload == NULL)
			f = &b->mails[i];
	if (f == NULL)
		return;		/* an unsolicited FLAGS update, say */
	m.mailbox = b->p->s.mailbox;
	m.uidvalidity = b->p->uidvalidity;
	m.uid = f->uid;
	fetch_number(r->text[0], r->textlen[0], "RFC822.SIZE ", &m.size);
	if (!section(r, "BODY[HEADER]", &m.header, &m.header_len))
		m.header = "";
	if (!section(r, "BODY[TEXT]", &m.body, &m.body_len))
		m.body = "";
	m.truncated = m.header_len + m.body_len < m.size;
	if (!mailmsg_header(m.header, m.header_len, "Message-ID", f->message_id,
	    sizeof(f->message_id)))
		f->message_id[0] = '\0';
	f->payload = mailmsg_payload(&m);
}

/*
 * Publishes one fetched mail as a tracked task, inside a "mail
 * discovered" span so its trace starts here.  0, or -1 with p->err.
 */
static int
publish_mail(struct poller *p, const struct fetched *f)
{
	plba_span *span;
	char id[32];
	int rc;

	span = plba_trace_start(p->w, "mail discovered");
	plba_span_set_str(span, "mail.mailbox", p->s.mailbox);
	plba_span_set_int(span, "mail.uid", f->uid);
	plba_span_set_str(span, "mail.message_id", f->message_id);
	/* Waits while the queue is full: back-pressure reaches the mailbox. */
	rc = plba_publish_tracked(p->w, p->s.queue, p->s.task, f->payload, id,
	    sizeof(id));
	if (rc != PLBA_OK)
		plba_span_error(span, "publish: %s", plba_strerror(rc));
	plba_span_end(span);
	if (rc != PLBA_OK) {
		snprintf(p->err, sizeof(p->err), "publish to %s: %s", p->s.queue,
		    plba_strerror(rc));
		return -1;
	}
	if (add_pending(p, strtoull(id, NULL, 10), f->uid) == -1) {
		snprintf(p->err, sizeof(p->err), "out of memory");
		return -1;
	}
	return 0;
}

/* UIDs fetched by one command: one round trip for many mails. */
#define FETCH_CHUNK	64

/*
 * Fetches the mails without marking them (BODY.PEEK) and publishes them
 * in UID order.  Returns how many were published, or -1 with p->err set
 * (a connection error also drops the connection).
 */
static int
fetch_and_publish(struct poller *p, const uint32_t *uids, size_t n)
{
	struct fetched mails[FETCH_CHUNK];
	struct fetch_batch b = { .p = p, .mails = mails, .n = n };
	char set[FETCH_CHUNK * 11 + 1], err[300];
	size_t i, o = 0;
	int rc, published = 0;

	memset(mails, 0, sizeof(mails));
	for (i = 0; i < n; i++) {
		mails[i].uid = uids[i];
		o += (size_t)snprintf(set + o, sizeof(set) - o, "%s%" PRIu32,
		    i > 0 ? "," : "", uids[i]);
	}
	rc = imap_command(p->imap, on_fetch, &b, err, sizeof(err),
	    "UID FETCH %s (UID RFC822.SIZE BODY.PEEK[HEADER] "
	    "BODY.PEEK[TEXT]<0.%" PRIu64 ">)", set, p->s.max_body);
	if (rc != 0) {
		snprintf(p->err, sizeof(p->err), "FETCH: %s", err);
		if (rc == -2)
			drop_connection(p);
		published = -1;
	}
	/* A mail expunged meanwhile has no payload: nothing to do. */
	for (i = 0; i < n && published != -1; i++)
		if (mails[i].payload != NULL) {
			if (publish_mail(p, &mails[i]) == -1)
				published = -1;
			else
				published++;
		}
	for (i = 0; i < n; i++)
		free(mails[i].payload);
	return published;
}

/*
 * One poll: unseen mails above the highest UID already looked at (all
 * unseen mail on the first poll and every rescan), oldest first, up to
 * batch and max_in_flight.
 */
static int
poll_once(struct poller *p, int *published)
{
	uint32_t chunk[FETCH_CHUNK], highest;
	char err[300];
	long long now = now_ms();
	bool full = p->rescan_at == 0 || now >= p->rescan_at;
	size_t i, nchunk = 0, room;
	int rc;

	*published = 0;
	if (p->imap == NULL && connect_mailbox(p) == -1)
		return -1;
	p->nfound = 0;
	/* A selected mailbox's view moves on at NOOP: without it Dovecot
	 * showed new maildir mail only seconds later. */
	if ((rc = imap_command(p->imap, NULL, NULL, err, sizeof(err),
	    "NOOP")) != 0) {
		snprintf(p->err, sizeof(p->err), "NOOP: %s", err);
		if (rc == -2)
			drop_connection(p);
		return -1;
	}
	if (full)
		rc = imap_command(p->imap, on_search, p, err, sizeof(err),
		    "UID SEARCH UNSEEN UNDELETED");
	else
		rc = imap_command(p->imap, on_search, p, err, sizeof(err),
		    "UID SEARCH UID %" PRIu32 ":* UNSEEN UNDELETED",
		    p->last_uid + 1);
	if (rc != 0) {
		snprintf(p->err, sizeof(p->err), "SEARCH: %s", err);
		if (rc == -2)
			drop_connection(p);
		return -1;
	}
	if (full)
		p->rescan_at = now + (long long)p->s.rescan_ms;
	/* Nothing found: found may be NULL, which qsort() may not be given. */
	if (p->nfound > 1)
		qsort(p->found, p->nfound, sizeof(*p->found), cmp_uid);
	highest = p->last_uid;
	room = (size_t)(p->s.max_in_flight > (long long)p->live ?
	    p->s.max_in_flight - (long long)p->live : 0);
	if ((long long)room > p->s.batch)
		room = (size_t)p->s.batch;
	for (i = 0; i < p->nfound; i++) {
		uint32_t uid = p->found[i];

		/* "n:*" also matches the last mail when n is past it. */
		if ((!full && uid <= p->last_uid) || is_pending(p, uid))
			continue;
		if (room == 0)
			break;
		chunk[nchunk++] = uid;
		room--;
		highest = uid > highest ? uid : highest;
		if (nchunk == FETCH_CHUNK) {
			if ((rc = fetch_and_publish(p, chunk, nchunk)) == -1)
				return -1;
			*published += rc;
			nchunk = 0;
		}
	}
	if (nchunk > 0) {
		if ((rc = fetch_and_publish(p, chunk, nchunk)) == -1)
			return -1;
		*published += rc;
	}
	/*
	 * Mails left for a later batch all lie above highest: found is in
	 * UID order, and taking stops at the first that does not fit.  The
	 * next poll looks from there, so a backlog does not make every poll
	 * search the whole mailbox again.
	 */
	p->last_uid = highest;
	return 0;
}

/* --- marking finished mails --------------------------------------------------- */

/* "1,5,9" of the marks with this outcome, from *from on, as many as fit. */
static size_t
uid_set(const struct poller *p, bool acked, size_t *from, char *out,
    size_t cap)
{
	size_t o = 0, n = 0, i;
	int w;

	for (i = *from; i < p->nmarks; i++) {
		if (p->marks[i].acked != acked)
			continue;
		if (o + 12 >= cap)
			break;
		w = snprintf(out + o, cap - o, "%s%" PRIu32, o > 0 ? "," : "",
		    p->marks[i].uid);
		o += (size_t)w;
		n++;
	}
	*from = i;
	out[o] = '\0';
	return n;
}

/* Marks or moves the mails of finished tasks, several per command. */
static int
apply_marks(struct poller *p)
{
	static const bool outcomes[] = { true, false };
	char set[4000], box[IMAP_MAILBOX_MAX], err[300];
	const char *folder, *why;
	size_t from, k;
	int rc = 0;

	if (p->nmarks == 0)
		return 0;
	if (p->imap == NULL && connect_mailbox(p) == -1)
		return -1;
	for (k = 0; k < 2 && rc == 0; k++) {
		folder = outcomes[k] ? p->s.move_to : p->s.dead_move_to;
		if (folder != NULL &&
		    imap_mailbox(box, sizeof(box), folder, &why) == -1) {
			snprintf(p->err, sizeof(p->err), "mailbox %s: %s",
			    folder, why);
			return -1;
		}
		for (from = 0; rc == 0 && from < p->nmarks;) {
			if (uid_set(p, outcomes[k], &from, set, sizeof(set)) == 0)
				continue;
			if (folder != NULL && imap_has(p->imap, "MOVE"))
				rc = imap_command(p->imap, NULL, NULL, err, sizeof(err),
				    "UID MOVE %s %s", set, box);
			else if (folder != NULL) {
				rc = imap_command(p->imap, NULL, NULL, err, sizeof(err),
				    "UID COPY %s %s", set, box);
				if (rc == 0)
					rc = imap_command(p->imap, NULL, NULL, err,
					    sizeof(err), "UID STORE %s +FLAGS.SILENT "
					    "(\\Seen \\Deleted)", set);
				if (rc == 0 && imap_has(p->imap, "UIDPLUS"))
					rc = imap_command(p->imap, NULL, NULL, err,
					    sizeof(err), "UID EXPUNGE %s", set);
			} else
				rc = imap_command(p->imap, NULL, NULL, err, sizeof(err),
				    "UID STORE %s +FLAGS.SILENT (%s)", set,
				    outcomes[k] ? "\\Seen" : "\\Seen \\Flagged");
		}
	}
	if (rc != 0) {
		snprintf(p->err, sizeof(p->err), "marking mails: %s", err);
		if (rc == -2)
			drop_connection(p);
		return -1;
	}
	p->nmarks = 0;
	return 0;
}

/* Waits out the interval taking done notices, marking as they come. */
static void
settle(struct poller *p, long long until)
{
	struct plba_done d;
	struct pending *e;
	long long left;
	size_t marked;
	int rc;

	while ((left = until - now_ms()) > 0) {
		rc = plba_worker_next_done(p->w, (uint64_t)left, &d);
		if (rc <= 0)
			return;		/* stopping, or the master is gone */
		/* Take every notice already here, then mark them together. */
		do {
			if ((e = find_pending(p, strtoull(d.id, NULL, 10))) == NULL)
				continue;
			if (e->uidvalidity == p->uidvalidity &&
			    grow((void **)&p->marks, &p->capmarks, p->nmarks + 1,
			    sizeof(*p->marks)) == 0)
				p->marks[p->nmarks++] = (struct mark){ e->uid,
				    d.acked };
			finish_pending(p, e);
		} while (plba_worker_next_done(p->w, 0, &d) == 1);
		marked = p->nmarks;
		sent_reset(p);
		if (apply_marks(p) == -1) {
			plba_worker_set_health(p->w, PLBA_HEALTH_UNHEALTHY, p->err);
			return;
		}
		/* Marking between polls sends commands too. */
		if (p->s.verbose && marked > 0) {
			printf("imap-poller: %s: %zu marked, %" PRIu64 " IMAP "
			    "commands: %s%s\n", p->s.mailbox, marked,
			    sent_count(p), p->sent, p->sentcut ? "; ..." : "");
			fflush(stdout);
		}
	}
}

static void
config_error(const char *key, const char *msg, void *arg)
{
	wconf_error(arg, key, "%s", msg);
}

/*
 * Polls that fail in a row: a server down for a night at a 30 s interval
 * would otherwise put the same line in the log a thousand times.  The log
 * says when failing starts, when the reason changes, every
 * OUTAGE_REMIND_MS while it goes on, and when polls work again; the
 * health detail counts the polls.
 */
#define OUTAGE_REMIND_MS	(10 * 60 * 1000)

struct outage {
	unsigned long	 failed;	/* polls in a row */
	long long	 since;		/* ms: the first of them failed */
	long long	 told;		/* ms: the log last said so */
	char		 err[sizeof(((struct poller *)0)->err)];
};

static void
outage_poll_failed(struct outage *o, plba_worker *w, const char *err)
{
	long long now = now_ms();
	char detail[sizeof(o->err) + 64];

	if (o->failed++ == 0 || !imap_errors_alike(err, o->err)) {
		if (o->failed == 1)
			o->since = now;
		fprintf(stderr, "imap-poller: %s\n", err);
		o->told = now;
	} else if (now - o->told >= OUTAGE_REMIND_MS) {
		fprintf(stderr, "imap-poller: %s (still: %lu polls in a row "
		    "over %lld s)\n", err, o->failed, (now - o->since) / 1000);
		o->told = now;
	}
	snprintf(o->err, sizeof(o->err), "%s", err);
	if (o->failed > 1) {
		snprintf(detail, sizeof(detail), "%s (%lu polls in a row)",
		    err, o->failed);
		plba_worker_set_health(w, PLBA_HEALTH_UNHEALTHY, detail);
	} else
		plba_worker_set_health(w, PLBA_HEALTH_UNHEALTHY, err);
}

static void
outage_poll_worked(struct outage *o, const char *mailbox)
{
	if (o->failed == 0)
		return;
	fprintf(stderr, "imap-poller: %s: polls work again, after %lu "
	    "failed in a row over %lld s\n", mailbox, o->failed,
	    (now_ms() - o->since) / 1000);
	o->failed = 0;
}

/* What poller_check read, for poller_start: one worker per process. */
static struct imap_settings settings;

/* Every error, each on its line naming the file, line and key like the
 * master's own; then the instance ends, never ready. */
static int
poller_check(plba_worker *w, void *arg)
{
	int nbad;

	(void)arg;
	nbad = wconf_unknown_keys(w, imap_settings_keys);
	nbad += imap_settings_read(plba_worker_config(w), &settings,
	    config_error, w);
	return nbad > 0 ? -1 : 0;
}

static int
poller_start(plba_worker *w, void *arg)
{
	struct poller p = { .w = w, .s = settings };
	struct outage outage = { 0 };
	int published;

	(void)arg;
	while (!plba_worker_stopping(w)) {
		long long due = now_ms() + (long long)p.s.interval_ms;

		plba_worker_set_status(w, PLBA_STATUS_BUSY);
		sent_reset(&p);
		if (apply_marks(&p) == 0 && poll_once(&p, &published) == 0) {
			outage_poll_worked(&outage, p.s.mailbox);
			plba_worker_set_health(w, PLBA_HEALTH_OK, NULL);
			if (p.s.verbose || published > 0)
				printf("imap-poller: %s: %d published, %zu in flight, "
				    "%" PRIu64 " IMAP commands%s%s%s\n", p.s.mailbox,
				    published, p.live, sent_count(&p),
				    p.s.verbose ? ": " : "", p.sent,
				    p.sentcut ? "; ..." : "");
		} else if (!plba_worker_stopping(w))
			outage_poll_failed(&outage, w, p.err);
		fflush(stdout);
		plba_worker_set_status(w, PLBA_STATUS_IDLE);
		settle(&p, due);
	}
	drop_connection(&p);
	imap_settings_free(&p.s);
	free(p.pend);
	free(p.marks);
	free(p.found);
	return 0;
}

static const struct plba_worker_ops imap_poller = { .start = poller_start };

static int
init(plba_registry *reg)
{
	int rc;

	if ((rc = plba_register_worker(reg, "imap-poller", &imap_poller,
	    NULL)) != 0)
		return rc;
	return plba_register_check(reg, "imap-poller", poller_check);
}

PLBA_MODULE("imap-poller", init);
