/*
 * The scalar parsers every configuration value and the stop body's
 * "timeout" go through: conf_parse_duration, conf_parse_size,
 * conf_parse_bool and conf_parse_int.  Each is compared with a reference
 * written from its documented grammar in 128-bit arithmetic, so a wrong
 * answer near an overflow is found as well as a crash.
 */
#include "config.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "conf.h"

#include "fuzz.h"

typedef unsigned __int128 u128;

/*
 * "digits[.digits]unit": the value times mult, rounded down, in 128 bits.
 * Returns false for bad syntax or an integer part over 64 bits.
 */
static bool
ref_scaled(const char *s, const char *unit_names[], const uint64_t mults[],
    size_t nunits, bool frac_needs_unit, u128 *out)
{
	u128 ip = 0, frac = 0, scale = 100000000, mult;
	bool hasfrac = false;
	size_t i;

	if (*s < '0' || *s > '9')
		return false;
	for (; *s >= '0' && *s <= '9'; s++)
		if ((ip = ip * 10 + (u128)(*s - '0')) > UINT64_MAX)
			return false;
	if (*s == '.') {
		if (*++s < '0' || *s > '9')
			return false;
		for (; *s >= '0' && *s <= '9'; s++) {
			frac += (u128)(*s - '0') * scale;
			scale /= 10;
		}
		hasfrac = true;
	}
	for (i = 0; i < nunits; i++)
		if (strcmp(s, unit_names[i]) == 0)
			break;
	if (i == nunits)
		return false;
	mult = mults[i];
	if (hasfrac && frac_needs_unit && mult == 1)
		return false;
	*out = ip * mult + frac * mult / 1000000000u;
	return true;
}

static void
check_duration(const char *s)
{
	static const char *names[] = { "", "ms", "s", "m", "h" };
	static const uint64_t mults[] = { 1000, 1, 1000, 60000, 3600000 };
	uint64_t got = 12345;
	u128 want;
	bool ok;
	int rc;

	rc = conf_parse_duration(s, &got);
	ok = ref_scaled(s, names, mults, 5, false, &want) && want <= UINT64_MAX;
	FUZZ_ASSERT((rc == 0) == ok, "duration \"%s\": %d", s, rc);
	FUZZ_ASSERT(rc == 0 ? got == (uint64_t)want : got == 12345,
	    "duration \"%s\": %llu", s, (unsigned long long)got);
}

static void
check_size(const char *s)
{
	static const char *names[] = { "", "B", "KiB", "MiB", "GiB", "TiB",
	    "kB", "KB", "MB", "GB", "TB" };
	static const uint64_t mults[] = { 1, 1, 1ull << 10, 1ull << 20,
	    1ull << 30, 1ull << 40, 1000, 1000, 1000000, 1000000000,
	    1000000000000ull };
	uint64_t got = 12345;
	u128 want;
	bool ok;
	int rc;

	rc = conf_parse_size(s, &got);
	ok = ref_scaled(s, names, mults, 11, true, &want) && want <= UINT64_MAX;
	FUZZ_ASSERT((rc == 0) == ok, "size \"%s\": %d", s, rc);
	FUZZ_ASSERT(rc == 0 ? got == (uint64_t)want : got == 12345,
	    "size \"%s\": %llu", s, (unsigned long long)got);
}

static void
check_bool(const char *s)
{
	static const char *yes[] = { "true", "yes", "on" }, *no[] = { "false",
	    "no", "off" };
	bool got = true, want = false, known = false;
	size_t i;
	int rc;

	for (i = 0; i < 3; i++) {
		if (strcasecmp(s, yes[i]) == 0)
			known = want = true;
		if (strcasecmp(s, no[i]) == 0)
			known = true;
	}
	rc = conf_parse_bool(s, &got);
	FUZZ_ASSERT((rc == 0) == known, "bool \"%s\": %d", s, rc);
	FUZZ_ASSERT(!known || got == want, "bool \"%s\"", s);
}

static void
check_int(const char *s)
{
	const char *p = s;
	long long got = 12345;
	__int128 v = 0;
	bool neg = false, ok = true;
	int rc;

	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (*p < '0' || *p > '9')
		ok = false;
	for (; ok && *p != '\0'; p++) {
		if (*p < '0' || *p > '9' || v > (__int128)LLONG_MAX + 1)
			ok = false;
		else
			v = v * 10 + (*p - '0');
	}
	if (neg)
		v = -v;
	if (v > LLONG_MAX || v < LLONG_MIN)
		ok = false;
	rc = conf_parse_int(s, &got);
	FUZZ_ASSERT((rc == 0) == ok, "int \"%s\": %d", s, rc);
	FUZZ_ASSERT(rc == 0 ? got == (long long)v : got == 12345, "int \"%s\": %lld",
	    s, got);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if ((s = fuzz_cstr(data, size)) == NULL)
		return 0;
	check_duration(s);
	check_size(s);
	check_bool(s);
	check_int(s);
	free(s);
	return 0;
}
