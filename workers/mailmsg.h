/*
 * One mail as the imap-poller publishes it: the task payload built from
 * the raw header block and the (possibly cut) body the server sent.
 * Pure, for the unit tests.
 */
#ifndef PLBA_WORKERS_MAILMSG_H
#define PLBA_WORKERS_MAILMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mailmsg {
	const char	*mailbox;
	uint32_t	 uidvalidity;
	uint32_t	 uid;
	uint64_t	 size;		/* RFC822.SIZE: the whole message */
	const char	*header;	/* the header block, as sent */
	size_t		 header_len;
	const char	*body;		/* the body, at most max_body bytes */
	size_t		 body_len;
	bool		 truncated;
};

/*
 * The payload as JSON text (malloc'd), or NULL when out of memory:
 *   {"mailbox", "uidvalidity", "uid", "size", "message_id", "from", "to",
 *    "subject", "date", "headers": {name: value, ...}, "body", "truncated"}
 * Folded header lines are unfolded; of a header that occurs more than
 * once the first is kept.  Text is not MIME-decoded.  Bytes that are not
 * UTF-8 become U+FFFD, so the payload is always valid JSON text.
 */
char	*mailmsg_payload(const struct mailmsg *);

/* The first header field name's value in a header block, unfolded and
 * trimmed, into out; false when there is none. */
bool	 mailmsg_header(const char *block, size_t len, const char *name,
	    char *out, size_t outlen);

/* s[0..len) as valid UTF-8 (malloc'd, NUL-terminated), or NULL. */
char	*utf8_clean(const char *s, size_t len);

#endif
