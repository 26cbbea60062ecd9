#define _DEFAULT_SOURCE	/* flock, strdup */

#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "orders.h"

/*
 * Several processes append to one file.  Each keeps a set of the
 * Message-IDs it has seen and the offset it has read the file to; under
 * an exclusive lock it first reads what the others appended since, then
 * appends only what is new.
 */
struct orders {
	int	  fd;
	off_t	  seen_to;
	char	**ids;		/* open addressing */
	size_t	  cap;
	size_t	  n;
};

static size_t
hash(const char *s)
{
	size_t h = 5381;

	while (*s != '\0')
		h = h * 33 ^ (unsigned char)*s++;
	return h;
}

static int
set_add(struct orders *o, const char *id)
{
	size_t i;

	if (2 * (o->n + 1) > o->cap) {
		size_t ncap = o->cap ? o->cap * 2 : 1024, j;
		char **nids = calloc(ncap, sizeof(*nids));

		if (nids == NULL)
			return -1;
		for (j = 0; j < o->cap; j++)
			if (o->ids[j] != NULL) {
				for (i = hash(o->ids[j]) % ncap; nids[i] != NULL;
				    i = (i + 1) % ncap)
					;
				nids[i] = o->ids[j];
			}
		free(o->ids);
		o->ids = nids;
		o->cap = ncap;
	}
	for (i = hash(id) % o->cap; o->ids[i] != NULL; i = (i + 1) % o->cap)
		if (strcmp(o->ids[i], id) == 0)
			return 0;
	if ((o->ids[i] = strdup(id)) == NULL)
		return -1;
	o->n++;
	return 1;
}

static int
set_has(const struct orders *o, const char *id)
{
	size_t i;

	if (o->cap == 0)
		return 0;
	for (i = hash(id) % o->cap; o->ids[i] != NULL; i = (i + 1) % o->cap)
		if (strcmp(o->ids[i], id) == 0)
			return 1;
	return 0;
}

/* A line someone else wrote: one JSON object with a "message_id". */
static void
learn_line(struct orders *o, const char *line)
{
	cJSON *j = cJSON_Parse(line), *id;

	id = cJSON_GetObjectItemCaseSensitive(j, "message_id");
	if (cJSON_IsString(id))
		set_add(o, id->valuestring);
	cJSON_Delete(j);
}

/* The order as one line of JSON: names and ids may hold any character. */
static char *
order_line(const struct order *ord)
{
	cJSON *j = cJSON_CreateObject(), *lines, *l;
	char *text = NULL;
	size_t i;

	if (j == NULL ||
	    cJSON_AddStringToObject(j, "message_id", ord->message_id) == NULL ||
	    cJSON_AddStringToObject(j, "customer", ord->customer) == NULL ||
	    (lines = cJSON_AddArrayToObject(j, "lines")) == NULL)
		goto out;
	for (i = 0; i < ord->nlines; i++) {
		if ((l = cJSON_CreateObject()) == NULL)
			goto out;
		cJSON_AddItemToArray(lines, l);
		if (cJSON_AddStringToObject(l, "sku", ord->lines[i].sku) == NULL ||
		    cJSON_AddNumberToObject(l, "quantity",
		    ord->lines[i].quantity) == NULL)
			goto out;
	}
	text = cJSON_PrintUnformatted(j);
out:
	cJSON_Delete(j);
	return text;
}

static int
catch_up(struct orders *o)
{
	char buf[65536], *line, *nl;
	size_t have = 0;
	ssize_t r;

	if (lseek(o->fd, o->seen_to, SEEK_SET) == -1)
		return -1;
	while ((r = read(o->fd, buf + have, sizeof(buf) - 1 - have)) > 0) {
		have += (size_t)r;
		buf[have] = '\0';
		for (line = buf; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
			*nl = '\0';
			learn_line(o, line);
			o->seen_to += nl - line + 1;
		}
		have = strlen(line);
		memmove(buf, line, have);
		if (have == sizeof(buf) - 1)
			have = 0;	/* a line this long is not ours */
	}
	return r == -1 ? -1 : 0;
}

struct orders *
orders_open(const char *path)
{
	struct orders *o;

	if ((o = calloc(1, sizeof(*o))) == NULL)
		return NULL;
	if ((o->fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) == -1) {
		free(o);
		return NULL;
	}
	return o;
}

void
orders_close(struct orders *o)
{
	size_t i;

	if (o == NULL)
		return;
	for (i = 0; i < o->cap; i++)
		free(o->ids[i]);
	free(o->ids);
	close(o->fd);
	free(o);
}

int
orders_record(struct orders *o, const struct order *ord)
{
	char *line = NULL;
	size_t n;
	int rc = -1;

	if (flock(o->fd, LOCK_EX) == -1)
		return -1;
	if (catch_up(o) == -1)
		goto out;
	if (set_has(o, ord->message_id)) {
		rc = 0;
		goto out;
	}
	if ((line = order_line(ord)) == NULL)
		goto out;
	/* One write, so a line is never interleaved with another. */
	n = strlen(line);
	line[n++] = '\n';	/* over the NUL: the length is known */
	if (write(o->fd, line, n) != (ssize_t)n)
		goto out;
	o->seen_to += (off_t)n;
	set_add(o, ord->message_id);
	rc = 1;
out:
	flock(o->fd, LOCK_UN);
	free(line);
	return rc;
}
