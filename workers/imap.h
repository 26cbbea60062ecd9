/*
 * A small IMAP4rev1 client for the imap-poller.  libcurl opens the
 * connection and does everything that must be right and is hard: TLS,
 * STARTTLS, certificate checks and the login.  libcurl's own IMAP
 * commands cannot read a mail without marking it \Seen (it fetches
 * BODY[], never BODY.PEEK[]), and its custom commands drop literals, so
 * once logged in this file speaks the few commands the poller needs over
 * the connection libcurl made.
 *
 * The response reader (imap_response_next) is pure, for the unit tests.
 */
#ifndef PLBA_WORKERS_IMAP_H
#define PLBA_WORKERS_IMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IMAP_MAX_LITERALS	8

/* One complete response: text pieces with a literal after each but the
 * last.  Pointers into the reader's buffer, valid until the next read. */
struct imap_response {
	const char	*text[IMAP_MAX_LITERALS + 1];
	size_t		 textlen[IMAP_MAX_LITERALS + 1];
	const char	*lit[IMAP_MAX_LITERALS];
	size_t		 litlen[IMAP_MAX_LITERALS];
	size_t		 nlit;
};

/*
 * Finds the first complete response in buf.  Returns the bytes it takes,
 * 0 when more input is needed, -1 when it is malformed or over max_literal
 * (the connection is then unusable).
 */
long	imap_response_next(const char *buf, size_t len, size_t max_literal,
	    struct imap_response *);

/*
 * Called with each command sent, without its tag: libcurl's login
 * commands too, with their arguments (the credentials) replaced by "***".
 */
typedef void	imap_trace_fn(const char *command, size_t len, void *arg);

/*
 * What may be shown of a line libcurl sent while logging in (without its
 * line end): 0 with the command, without its tag and with its credentials
 * replaced by "***", in out; -1 when the line is not a command (a SASL
 * continuation, which is all credentials).  Pure, for the unit tests.
 */
int	imap_login_shown(char *out, size_t cap, const char *line, size_t len);

struct imap_options {
	const char	*url;		/* imap://host[:port] or imaps://... */
	const char	*user;
	const char	*password;
	bool		 starttls;	/* imap:// only: require STARTTLS */
	const char	*ca_file;	/* NULL: the system's */
	bool		 insecure;	/* no certificate check */
	long		 timeout_ms;
	size_t		 max_literal;	/* the largest literal accepted */
	imap_trace_fn	*trace;		/* NULL: none */
	void		*trace_arg;
	/* Asked at least every 100ms while waiting on the server, the
	 * login's waits too; true ends the wait with an error, so a stop
	 * need not outwait timeout_ms.  NULL: never. */
	bool		(*cancel)(void *arg);
	void		*cancel_arg;
};

struct imap;

/* Called for each untagged response ("* ...") of a command. */
typedef void	imap_untagged_fn(const struct imap_response *, void *arg);

/* Connects and logs in; NULL with a reason in err. */
struct imap	*imap_open(const struct imap_options *, char *err, size_t errlen);
void		 imap_close(struct imap *);
/* Whether the server announced a capability, such as "MOVE". */
bool		 imap_has(const struct imap *, const char *capability);
/* How many commands were sent since the connection was opened, the
 * login's included. */
uint64_t	 imap_commands(const struct imap *);

/*
 * Sends one command (the tag is added) and reads until its tagged
 * answer.  Returns 0 for OK, -1 for NO or BAD (the server's text in err),
 * -2 when the connection failed or timed out (close it).
 */
int		 imap_command(struct imap *, imap_untagged_fn *, void *arg,
		    char *err, size_t errlen, const char *fmt, ...)
		    __attribute__((format(printf, 6, 7)));

/*
 * Whether two failures have the same reason: equal text but for its
 * numbers.  libcurl's messages carry the time it took ("... after 1 ms:
 * Couldn't connect to server"), which changes from one poll to the next
 * while the server stays down.
 */
bool		 imap_errors_alike(const char *a, const char *b);

/* Writes s as an IMAP quoted string; -1 when it cannot be one (CR, LF,
 * NUL or too long for out). */
int		 imap_quote(char *out, size_t cap, const char *s);

/* The longest mailbox argument, quoted and encoded, with its NUL. */
#define IMAP_MAILBOX_MAX	1024

/*
 * Writes a mailbox name given in UTF-8 as a command argument: encoded in
 * IMAP's modified UTF-7, then quoted.  -1 with the reason in *why ("is
 * not UTF-8", "has a control character", "is empty", "is too long").
 */
int		 imap_mailbox(char *out, size_t cap, const char *name,
		    const char **why);

#endif
