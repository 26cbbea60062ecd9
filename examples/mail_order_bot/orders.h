/*
 * The order service: records orders as JSON lines in one file shared by
 * every processing worker.  Idempotent by Message-ID, as at-least-once
 * delivery demands: a mail delivered twice makes one order.
 */
#ifndef MOB_ORDERS_H
#define MOB_ORDERS_H

#include <stdbool.h>

#include "mail.h"

struct orders;

struct orders	*orders_open(const char *path);
void		 orders_close(struct orders *);
/* Returns 1 when recorded, 0 when it was already there, -1 on error
 * (errno set). */
int		 orders_record(struct orders *, const struct order *);

#endif
