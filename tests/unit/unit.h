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

#define UNIT_MAIN(suite_fn) \
	int main(void) { return unit_run(suite_fn()); }

#endif
