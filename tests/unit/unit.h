/* Shared main() for the Check suites: TAP on stdout so the automake TAP
 * driver counts every test case. */
#ifndef FRONTD_UNIT_H
#define FRONTD_UNIT_H

#include <check.h>
#include <stdlib.h>

static inline int unit_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_set_tap(sr, "-");
	srunner_run_all(sr, CK_SILENT);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* One test case per test function, named after it, so the TAP output
 * names the behaviour. */
#define UNIT_ADD(s, t) do { \
	TCase *tc_ = tcase_create(#t); \
	tcase_add_test(tc_, t); \
	suite_add_tcase((s), tc_); \
} while (0)

/* The same, run `n` times with _i = 0 .. n-1. */
#define UNIT_ADD_LOOP(s, t, n) do { \
	TCase *tc_ = tcase_create(#t); \
	tcase_add_loop_test(tc_, t, 0, (n)); \
	suite_add_tcase((s), tc_); \
} while (0)

#define UNIT_MAIN(suite_fn) \
	int main(void) { return unit_run(suite_fn()); }

#endif
