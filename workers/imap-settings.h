/*
 * The imap-poller's configuration (its `config:` section), read and
 * checked apart from the worker so the errors can be unit-tested.
 */
#ifndef PLBA_WORKERS_IMAP_SETTINGS_H
#define PLBA_WORKERS_IMAP_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <plba/config.h>

struct imap_settings {
	const char	*url;
	const char	*user;
	char		*password;	/* owned */
	char		 mailbox[256];
	bool		 starttls;
	bool		 insecure;
	const char	*ca_file;
	const char	*queue;
	const char	*task;
	const char	*move_to;
	const char	*dead_move_to;
	uint64_t	 interval_ms;
	uint64_t	 rescan_ms;
	uint64_t	 timeout_ms;
	uint64_t	 max_body;
	long long	 batch;
	long long	 max_in_flight;
	bool		 verbose;
};

/* Every key the section may have. */
extern const char *const imap_settings_keys[];

/*
 * Called once per error with the key (relative to the section; NULL for
 * the section itself) and a message such as "is required".
 */
typedef void	imap_settings_error_fn(const char *key, const char *msg,
		    void *arg);

/*
 * Reads and checks the section, reporting every error, not only the
 * first, to fn.  Returns how many there were; on 0, *s holds the values
 * (the strings point into the section) and is freed with
 * imap_settings_free().  A NULL section is an empty one.
 */
int	imap_settings_read(const plba_node *, struct imap_settings *s,
	    imap_settings_error_fn *fn, void *arg);
/* Frees what *s owns; again on the same *s is a no-op. */
void	imap_settings_free(struct imap_settings *s);

#endif
