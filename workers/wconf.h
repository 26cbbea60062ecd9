/*
 * Reading a built-in worker's `config:` section with errors that name the
 * key the way plba-master does ("FILE:LINE:COL: workers.X.config.KEY:
 * message"), on the public configuration API only.
 */
#ifndef PLBA_WORKERS_WCONF_H
#define PLBA_WORKERS_WCONF_H

#include <stdbool.h>

#include <plba/plba.h>

/* Writes one error about key (relative to the config section; NULL for
 * the section itself) to stderr. */
void	 wconf_error(plba_worker *, const char *key, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Reports every key of the section not in known (NULL-terminated);
 * returns how many there were. */
int	 wconf_unknown_keys(plba_worker *, const char *const *known);
/* The same for entry index of the list at key, pointing at the entry:
 * "workers.NAME.config.KEY[INDEX]: ..."; index -1 for the value at key
 * when it is no list. */
void	 wconf_item_error(plba_worker *, const char *key, long index,
	    const plba_node *item, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));
/* Reports a value of key that is not what: "expected WHAT". */
void	 wconf_type_error(plba_worker *, const char *key, const char *what);

#endif
