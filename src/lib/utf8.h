#ifndef PLBA_UTF8_H
#define PLBA_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Length of the valid UTF-8 sequence at s (at most len bytes), or 0 if
 * there is none, also for NUL: no overlong form, no surrogate, nothing
 * past U+10FFFF.
 */
size_t		utf8_seq(const unsigned char *s, size_t len);
/*
 * A copy of s with each byte that starts no valid sequence replaced by
 * U+FFFD; NULL when s is valid as it is, or when memory runs out
 * (*nomem then says which).
 */
char		*utf8_clean(const char *s, bool *nomem);
/* U+FFFD, the replacement character, in UTF-8. */
#define UTF8_REPLACEMENT	"\xef\xbf\xbd"

#endif
