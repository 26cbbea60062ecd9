/*
 * The traceparent header, as a caller of the HTTP API or a task's
 * metadata supplies it.  tracectx_parse is compared with a validator
 * written from the W3C Trace Context spec, and every context it accepts
 * must format back to a version-00 header that parses to the same ids.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "tracectx.h"

#include "fuzz.h"

static int
lhex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* n lower-case hex digits at s, not all zero when nonzero is set. */
static bool
hex_field(const char *s, size_t n, bool nonzero)
{
	bool any = false;
	size_t i;

	for (i = 0; i < n; i++) {
		if (lhex(s[i]) < 0)
			return false;
		any |= s[i] != '0';
	}
	return any || !nonzero;
}

/* version "-" trace-id "-" parent-id "-" trace-flags, W3C section 3.2. */
static bool
spec_valid(const char *s)
{
	size_t len = strlen(s);

	if (len < 55 || !hex_field(s, 2, false) || strncmp(s, "ff", 2) == 0)
		return false;
	if (s[2] != '-' || s[35] != '-' || s[52] != '-')
		return false;
	if (!hex_field(s + 3, 32, true) || !hex_field(s + 36, 16, true) ||
	    !hex_field(s + 53, 2, false))
		return false;
	if (strncmp(s, "00", 2) == 0)
		return len == 55;
	/* A later version may append fields, each after a dash. */
	return len == 55 || s[55] == '-';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tracectx c, back;
	char *s, buf[TRACEPARENT_LEN + 1], hex[33];
	int rc;

	if ((s = fuzz_cstr(data, size)) == NULL)
		return 0;
	memset(&c, 0xa5, sizeof(c));
	rc = tracectx_parse(s, &c);
	FUZZ_ASSERT((rc == 0) == spec_valid(s), "tracectx_parse says %d for \"%s\"",
	    rc, s);
	if (rc == 0) {
		trace_hex(c.trace_id, 16, hex);
		FUZZ_ASSERT(memcmp(hex, s + 3, 32) == 0, "trace id %s", hex);
		trace_hex(c.span_id, 8, hex);
		FUZZ_ASSERT(memcmp(hex, s + 36, 16) == 0, "span id %s", hex);
		FUZZ_ASSERT(c.sampled == ((lhex(s[54]) & 1) != 0), "sampled flag");

		memset(buf, 'x', sizeof(buf));
		tracectx_format(&c, buf);
		FUZZ_ASSERT(strlen(buf) == TRACEPARENT_LEN &&
		    strncmp(buf, "00-", 3) == 0, "formatted \"%s\"", buf);
		FUZZ_ASSERT(memcmp(buf + 3, s + 3, 50) == 0,
		    "formatted \"%s\" from \"%s\"", buf, s);
		FUZZ_ASSERT(tracectx_parse(buf, &back) == 0, "own \"%s\" refused", buf);
		FUZZ_ASSERT(memcmp(back.trace_id, c.trace_id, 16) == 0 &&
		    memcmp(back.span_id, c.span_id, 8) == 0 &&
		    back.sampled == c.sampled, "round trip changed \"%s\"", buf);
	}
	free(s);
	return 0;
}
