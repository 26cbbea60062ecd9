/*
 * What the libFuzzer targets share: an assertion that reports and aborts
 * (libFuzzer then saves the input as a crash), and a NUL-terminated copy
 * of the input for the parsers that take C strings.
 */
#ifndef PLBA_FUZZ_H
#define PLBA_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A broken property is a finding like a crash: say which, then abort. */
#define FUZZ_ASSERT(cond, ...) do {					\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: %s: property failed: %s: ",	\
		    __FILE__, __LINE__, __func__, #cond);		\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
		abort();						\
	}								\
} while (0)

/* The input as a C string, cut at its first NUL as a C caller would see
 * it; the caller frees. NULL only when out of memory. */
static inline char *
fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s != NULL) {
		memcpy(s, data, size);
		s[size] = '\0';
	}
	return s;
}

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * PLBA_FUZZ_SKIP_KNOWN=1 stops checking the properties that the inputs in
 * tests/unit/test_fuzz_regress.c already break, so that a long run can
 * look for something new before those are fixed (see README.md).
 */
static inline int
fuzz_skip_known(void)
{
	static int skip = -1;
	const char *v;

	if (skip == -1) {
		v = getenv("PLBA_FUZZ_SKIP_KNOWN");
		skip = v != NULL && strcmp(v, "1") == 0;
	}
	return skip;
}

#ifdef cJSON__h
#include <float.h>
#include <math.h>
#include <stdbool.h>

/*
 * Two trees are the same JSON: members in the same order with the same
 * names, duplicates included (cJSON_Compare looks members up by name, so
 * it calls {"a":1,"a":2} different from itself).  A non-finite number
 * matches null: cJSON reads 1e999 as infinity and prints it as null, which
 * is cJSON's documented limit, not ours.  Numbers match within a relative
 * DBL_EPSILON: cJSON 1.7 prints a double with 15 significant digits when
 * they read back that close (its compare_double), so printing may move
 * 19007199254740996000 to 19007199254741000000; that too is cJSON's limit.
 * The master passes a task's text on as it came, unprinted.
 */
static inline bool
fuzz_json_same(const cJSON *a, const cJSON *b)
{
	const cJSON *x, *y;

	if (a == NULL || b == NULL)
		return a == b;
	if (cJSON_IsNumber(a) && !isfinite(a->valuedouble) && cJSON_IsNull(b))
		return true;
	if (cJSON_IsNumber(b) && !isfinite(b->valuedouble) && cJSON_IsNull(a))
		return true;
	if ((a->type & 0xff) != (b->type & 0xff))
		return false;
	if (cJSON_IsNumber(a))
		return a->valuedouble == b->valuedouble ||
		    fabs(a->valuedouble - b->valuedouble) <=
		    fmax(fabs(a->valuedouble), fabs(b->valuedouble)) * DBL_EPSILON;
	if (cJSON_IsString(a) || cJSON_IsRaw(a))
		return strcmp(a->valuestring, b->valuestring) == 0;
	if (!cJSON_IsArray(a) && !cJSON_IsObject(a))
		return true;
	for (x = a->child, y = b->child; x != NULL && y != NULL;
	    x = x->next, y = y->next) {
		if (cJSON_IsObject(a) && strcmp(x->string, y->string) != 0)
			return false;
		if (!fuzz_json_same(x, y))
			return false;
	}
	return x == NULL && y == NULL;
}
#endif

#endif
