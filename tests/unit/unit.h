/* What every unit-test program shares: run one suite, fail on a failure. */
#ifndef PLBA_TEST_UNIT_H
#define PLBA_TEST_UNIT_H

#include <check.h>
#include <stdlib.h>

/* Runs the suite (forked per test unless CK_FORK=no) and returns the
 * exit status for main(). */
static inline int
unit_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
