#ifndef PLBA_JSON_EXACT_H
#define PLBA_JSON_EXACT_H

#include <stddef.h>

#include <cjson/cJSON.h>

/*
 * Makes the numbers of root, parsed from the len bytes at text, print as
 * they were written when cJSON would print another value: those with 16
 * significant digits or more become raw items of their own text.  Values
 * the caller reads (ids, counts) are never that long; those it carries
 * (a task's payload) are passed on as sent.  Returns -1 when out of
 * memory, root then unchanged from that number on.
 */
int	json_exact_numbers(cJSON *root, const char *text, size_t len);

#endif
