/*
 * Domain code of mail_order_bot: what a mail is and how an order is read
 * out of it.  Nothing here knows about workers, queues or PLBA.
 */
#ifndef MOB_MAIL_H
#define MOB_MAIL_H

#include <stddef.h>

#define MAIL_MAX_LINES	32

struct order_line {
	char		sku[32];
	unsigned	quantity;
};

struct mail {
	char		message_id[128];
	char		from[128];
	char		subject[256];
	const char     *body;		/* borrowed */
};

struct order {
	char		message_id[128];
	char		customer[128];
	struct order_line lines[MAIL_MAX_LINES];
	size_t		nlines;
};

/*
 * Reads "order: SKU x QTY" lines out of a mail body.  Returns 0, or -1
 * with a reason a person understands in err ("line 3: quantity must be
 * 1 to 9999").
 */
int	mail_parse_order(const struct mail *, struct order *, char *err, size_t errlen);

/* Makes up a plausible mail, for the poller until it reads a real
 * mailbox; every 7th one is malformed on purpose. */
void	mail_fake(unsigned long seq, unsigned instance, char *id, size_t idlen,
	    char *body, size_t bodylen);

#endif
