/* What plba_register_*() accept, checked through a module's init. */
#include "config.h"

#include "unit.h"
#include <string.h>

#include "plba/error.h"
#include "plba/module.h"
#include "registry.h"

/* Each init records its results here: registry_from() runs it at once. */
static int	rcs[8];

static int
bad_names_init(plba_registry *r)
{
	char longest[66];

	memset(longest, 'q', 64);
	longest[64] = '\0';
	rcs[0] = plba_register_queue(r, "bad name!", 3, 3);
	rcs[1] = plba_register_queue(r, "", 3, 3);
	rcs[2] = plba_register_queue(r, "a/b", 3, 3);
	rcs[3] = plba_register_queue(r, longest, 3, 3);
	longest[64] = 'q';
	longest[65] = '\0';
	rcs[4] = plba_register_queue(r, longest, 3, 3);
	rcs[5] = plba_register_queue(r, "Mail_1.in-box", 3, 3);
	return 0;
}

START_TEST(queue_names)
{
	static const struct plba_module m = { PLBA_ABI_VERSION, "names",
	    bad_names_init };
	struct plba_registry *r;
	char err[256];

	r = registry_from(&m, err, sizeof(err));
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(rcs[0], PLBA_EINVAL);
	ck_assert_int_eq(rcs[1], PLBA_EINVAL);
	ck_assert_int_eq(rcs[2], PLBA_EINVAL);
	ck_assert_int_eq(rcs[3], PLBA_OK);
	ck_assert_int_eq(rcs[4], PLBA_EINVAL);
	ck_assert_int_eq(rcs[5], PLBA_OK);
	/* Only the two good ones exist. */
	ck_assert_uint_eq(r->nqueues, 2);
	ck_assert_str_eq(r->queues[1].name, "Mail_1.in-box");
	registry_free(r);
}
END_TEST

static int
twice_init(plba_registry *r)
{
	rcs[0] = plba_register_queue(r, "mq", 2, 5);
	rcs[1] = plba_register_queue(r, "mq", 3, 5);
	rcs[2] = plba_register_queue(r, "other", 4, 5);
	return 0;
}

START_TEST(queue_twice)
{
	static const struct plba_module m = { PLBA_ABI_VERSION, "twice",
	    twice_init };
	struct plba_registry *r;
	char err[256];

	r = registry_from(&m, err, sizeof(err));
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(rcs[0], PLBA_OK);
	ck_assert_int_eq(rcs[1], PLBA_EINVAL);
	ck_assert_int_eq(rcs[2], PLBA_OK);
	ck_assert_uint_eq(r->nqueues, 2);
	ck_assert_str_eq(r->queues[0].name, "mq");
	ck_assert_uint_eq(r->queues[0].capacity, 2);
	registry_free(r);
}
END_TEST

static int
fail_init(plba_registry *r)
{
	int rc;

	if ((rc = plba_register_queue(r, "mq", 2, 5)) != PLBA_OK ||
	    (rc = plba_register_queue(r, "mq", 3, 5)) != PLBA_OK)
		return rc;
	return 0;
}

START_TEST(init_passes_error_on)
{
	static const struct plba_module m = { PLBA_ABI_VERSION, "dup",
	    fail_init };
	char err[256];

	ck_assert_ptr_null(registry_from(&m, err, sizeof(err)));
	ck_assert_str_eq(err, "module dup: init failed: invalid argument");
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("registry");
	TCase *q = tcase_create("queues");

	tcase_add_test(q, queue_names);
	tcase_add_test(q, queue_twice);
	tcase_add_test(q, init_passes_error_on);
	suite_add_tcase(s, q);
	return s;
}

int
main(void)
{
	return unit_run(suite());
}
