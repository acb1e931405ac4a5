/* Value parsers: durations, sizes, integers, booleans, edit distance,
 * suggestions and comma lists. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "parse.h"
#include "unit.h"

static char err[256];

/* Parse a duration that must be accepted. */
static uint64_t dur_ok(const char *s)
{
	uint64_t ms = 12345;

	err[0] = '\0';
	ck_assert_msg(parse_duration_ms(s, &ms, err, sizeof(err)) == 0,
	              "\"%s\" rejected: %s", s, err);
	return ms;
}

/* A duration that must be refused with exactly `reason`; the output is
 * left alone. */
static void dur_bad(const char *s, const char *reason)
{
	uint64_t ms = 777;

	err[0] = '\0';
	ck_assert_msg(parse_duration_ms(s, &ms, err, sizeof(err)) == -1,
	              "\"%s\" accepted", s);
	ck_assert_str_eq(err, reason);
	ck_assert_uint_eq(ms, 777);
}

START_TEST(duration_accepts_every_suffix)
{
	ck_assert_uint_eq(dur_ok("250ms"), 250);
	ck_assert_uint_eq(dur_ok("5s"), 5000);
	ck_assert_uint_eq(dur_ok("10m"), 600000);
	ck_assert_uint_eq(dur_ok("2h"), 7200000);
	ck_assert_uint_eq(dur_ok("0ms"), 0);
	ck_assert_uint_eq(dur_ok("007s"), 7000);
}
END_TEST

START_TEST(duration_bare_number_means_seconds)
{
	ck_assert_uint_eq(dur_ok("30"), 30000);
	ck_assert_uint_eq(dur_ok("0"), 0);
	ck_assert_uint_eq(dur_ok("1"), 1000);
}
END_TEST

START_TEST(duration_largest_values_fit)
{
	ck_assert_uint_eq(dur_ok("18446744073709551615ms"), UINT64_MAX);
	ck_assert_uint_eq(dur_ok("5124095576030h"),
	                  UINT64_C(5124095576030) * 3600000);
	ck_assert_uint_eq(dur_ok("307445734561825m"),
	                  UINT64_C(307445734561825) * 60000);
	ck_assert_uint_eq(dur_ok("18446744073709551s"),
	                  UINT64_C(18446744073709551) * 1000);
}
END_TEST

START_TEST(duration_rejects_overflow)
{
	dur_bad("18446744073709551616ms",
	        "bad duration \"18446744073709551616ms\": too large");
	dur_bad("5124095576031h", "bad duration \"5124095576031h\": too large");
	dur_bad("307445734561826m",
	        "bad duration \"307445734561826m\": too large");
	dur_bad("18446744073709552", "bad duration \"18446744073709552\": "
	        "too large");
	dur_bad("99999999999999999999999h",
	        "bad duration \"99999999999999999999999h\": too large");
}
END_TEST

START_TEST(duration_rejects_negative)
{
	dur_bad("-5s", "bad duration \"-5s\": must not be negative");
	dur_bad("-0", "bad duration \"-0\": must not be negative");
}
END_TEST

START_TEST(duration_rejects_unknown_suffix_and_junk)
{
	static const char *const bad[] = {
		"5x", "5S", "5MS", "5 s", " 5s", "5s ", "1.5s", "s", "ms", "",
		"5sec", "1h30m", "5d", "+5s", "0x10", "5mss", NULL
	};
	char want[128];
	size_t i;

	for (i = 0; bad[i] != NULL; i++) {
		snprintf(want, sizeof(want), "bad duration \"%s\": expected a "
		         "number with ms, s, m or h", bad[i]);
		dur_bad(bad[i], want);
	}
}
END_TEST

static uint64_t size_ok(const char *s)
{
	uint64_t v = 12345;

	err[0] = '\0';
	ck_assert_msg(parse_size(s, &v, err, sizeof(err)) == 0,
	              "\"%s\" rejected: %s", s, err);
	return v;
}

static void size_bad(const char *s, const char *reason)
{
	uint64_t v = 777;

	err[0] = '\0';
	ck_assert_msg(parse_size(s, &v, err, sizeof(err)) == -1,
	              "\"%s\" accepted", s);
	ck_assert_str_eq(err, reason);
	ck_assert_uint_eq(v, 777);
}

START_TEST(size_accepts_powers_of_1024_any_case)
{
	ck_assert_uint_eq(size_ok("512"), 512);
	ck_assert_uint_eq(size_ok("0"), 0);
	ck_assert_uint_eq(size_ok("16k"), 16384);
	ck_assert_uint_eq(size_ok("16K"), 16384);
	ck_assert_uint_eq(size_ok("4m"), 4194304);
	ck_assert_uint_eq(size_ok("4M"), 4194304);
	ck_assert_uint_eq(size_ok("1g"), 1073741824);
	ck_assert_uint_eq(size_ok("1G"), 1073741824);
	ck_assert_uint_eq(size_ok("17179869183g"),
	                  UINT64_C(17179869183) << 30);
}
END_TEST

START_TEST(size_rejects_junk_negative_and_overflow)
{
	static const char *const bad[] = {
		"16x", "16kb", "", "k", "1.5k", "16 k", "1t", NULL
	};
	char want[128];
	size_t i;

	for (i = 0; bad[i] != NULL; i++) {
		snprintf(want, sizeof(want), "bad size \"%s\": expected a number "
		         "with an optional k, m or g suffix", bad[i]);
		size_bad(bad[i], want);
	}
	size_bad("-1k", "bad size \"-1k\": must not be negative");
	size_bad("17179869184g", "bad size \"17179869184g\": too large");
	size_bad("18446744073709551616",
	         "bad size \"18446744073709551616\": too large");
}
END_TEST

START_TEST(uint_accepts_range_bounds)
{
	uint64_t v = 0;

	ck_assert_int_eq(parse_uint("1", 1, 10, &v, err, sizeof(err)), 0);
	ck_assert_uint_eq(v, 1);
	ck_assert_int_eq(parse_uint("10", 1, 10, &v, err, sizeof(err)), 0);
	ck_assert_uint_eq(v, 10);
	ck_assert_int_eq(parse_uint("0", 0, 0, &v, err, sizeof(err)), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(parse_uint("18446744073709551615", 0, UINT64_MAX, &v,
	                            err, sizeof(err)), 0);
	ck_assert_uint_eq(v, UINT64_MAX);
}
END_TEST

START_TEST(uint_rejects_out_of_range_and_junk)
{
	static const char *const bad[] = {
		"0", "11", "", "-1", "+1", " 1", "1 ", "1k", "abc", "0x5",
		"99999999999999999999999", NULL
	};
	char want[128];
	uint64_t v = 777;
	size_t i;

	for (i = 0; bad[i] != NULL; i++) {
		snprintf(want, sizeof(want), "bad number \"%s\": expected an "
		         "integer from 1 to 10", bad[i]);
		ck_assert_msg(parse_uint(bad[i], 1, 10, &v, err, sizeof(err)) == -1,
		              "\"%s\" accepted", bad[i]);
		ck_assert_str_eq(err, want);
		ck_assert_uint_eq(v, 777);
	}
	ck_assert_int_eq(parse_uint("18446744073709551616", 0, UINT64_MAX, &v,
	                            err, sizeof(err)), -1);
}
END_TEST

START_TEST(bool_accepts_every_spelling_any_case)
{
	static const char *const yes[] = { "on", "yes", "true", "1", "ON",
	                                   "Yes", "TRUE", NULL };
	static const char *const no[] = { "off", "no", "false", "0", "OFF",
	                                  "No", "False", NULL };
	size_t i;
	int b;

	for (i = 0; yes[i] != NULL; i++) {
		b = -1;
		ck_assert_int_eq(parse_bool(yes[i], &b, err, sizeof(err)), 0);
		ck_assert_int_eq(b, 1);
	}
	for (i = 0; no[i] != NULL; i++) {
		b = -1;
		ck_assert_int_eq(parse_bool(no[i], &b, err, sizeof(err)), 0);
		ck_assert_int_eq(b, 0);
	}
}
END_TEST

START_TEST(bool_rejects_other_words)
{
	int b = 7;

	ck_assert_int_eq(parse_bool("maybe", &b, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "bad value \"maybe\": expected on or off");
	ck_assert_int_eq(parse_bool("", &b, err, sizeof(err)), -1);
	ck_assert_int_eq(parse_bool("2", &b, err, sizeof(err)), -1);
	ck_assert_int_eq(parse_bool("onn", &b, err, sizeof(err)), -1);
	ck_assert_int_eq(b, 7);
}
END_TEST

START_TEST(edit_distance_known_pairs)
{
	ck_assert_uint_eq(parse_edit_distance("", ""), 0);
	ck_assert_uint_eq(parse_edit_distance("bind", "bind"), 0);
	ck_assert_uint_eq(parse_edit_distance("", "abc"), 3);
	ck_assert_uint_eq(parse_edit_distance("abc", ""), 3);
	ck_assert_uint_eq(parse_edit_distance("kitten", "sitting"), 3);
	ck_assert_uint_eq(parse_edit_distance("sitting", "kitten"), 3);
	ck_assert_uint_eq(parse_edit_distance("flaw", "lawn"), 2);
	ck_assert_uint_eq(parse_edit_distance("ab", "ba"), 2);
	ck_assert_uint_eq(parse_edit_distance("idle_timout", "idle_timeout"), 1);
	ck_assert_uint_eq(parse_edit_distance("Log_Level", "log_level"), 2);
}
END_TEST

START_TEST(edit_distance_long_strings_capped_at_255)
{
	char a[701], b[701];

	memset(a, 'a', 700);
	a[700] = '\0';
	memcpy(b, a, sizeof(b));
	ck_assert_uint_eq(parse_edit_distance(a, b), 0);
	b[350] = 'x';
	ck_assert_uint_eq(parse_edit_distance(a, b), 1);
	b[0] = 'x';
	b[699] = 'x';
	ck_assert_uint_eq(parse_edit_distance(a, b), 3);
	/* lengths 700 and 300 */
	ck_assert_uint_eq(parse_edit_distance(a, a + 400), 255);
	/* 254 substitutions is below the cap, 300 is above */
	memset(b, 'b', 700);
	ck_assert_uint_eq(parse_edit_distance(a + 446, b + 446), 254);
	ck_assert_uint_eq(parse_edit_distance(a + 400, b + 400), 255);
	ck_assert_uint_eq(parse_edit_distance(a + 450, ""), 250);
	ck_assert_uint_eq(parse_edit_distance("", a), 255);
}
END_TEST

START_TEST(suggest_closest_within_two)
{
	static const char *const keys[] = { "bind", "backend", "idle_timeout",
	                                    "connect_timeout", NULL };

	ck_assert_str_eq(parse_suggest("idle_timout", keys), "idle_timeout");
	ck_assert_str_eq(parse_suggest("conect_timout", keys),
	                 "connect_timeout");
	ck_assert_str_eq(parse_suggest("bnd", keys), "bind");
	ck_assert_str_eq(parse_suggest("backends", keys), "backend");
	ck_assert_ptr_null(parse_suggest("cnect_timout", keys)); /* 3 */
	ck_assert_ptr_null(parse_suggest("workers", keys));
}
END_TEST

START_TEST(suggest_prefers_first_on_tie_and_handles_empty_list)
{
	static const char *const keys[] = { "abcx", "abcy", NULL };
	static const char *const none[] = { NULL };

	ck_assert_str_eq(parse_suggest("abcz", keys), "abcx");
	ck_assert_ptr_null(parse_suggest("abcz", none));
}
END_TEST

START_TEST(split_list_trims_items)
{
	char s[] = " 0.0.0.0:80 ,\t[::]:80,unix:/x ,a b\t";
	char *items[4];

	ck_assert_int_eq(parse_split_list(s, items, 4), 4);
	ck_assert_str_eq(items[0], "0.0.0.0:80");
	ck_assert_str_eq(items[1], "[::]:80");
	ck_assert_str_eq(items[2], "unix:/x");
	ck_assert_str_eq(items[3], "a b");
}
END_TEST

START_TEST(split_list_single_item)
{
	char s[] = "127.0.0.1:8080";
	char *items[2];

	ck_assert_int_eq(parse_split_list(s, items, 2), 1);
	ck_assert_str_eq(items[0], "127.0.0.1:8080");
}
END_TEST

START_TEST(split_list_rejects_empty_items)
{
	static const char *const bad[] = { "a,,b", "a,", ",a", "", " ",
	                                   "a, ,b", "\t", NULL };
	char buf[32];
	char *items[8];
	size_t i;

	for (i = 0; bad[i] != NULL; i++) {
		strcpy(buf, bad[i]);
		ck_assert_msg(parse_split_list(buf, items, 8) == -1,
		              "\"%s\" accepted", bad[i]);
	}
}
END_TEST

START_TEST(split_list_rejects_more_than_max)
{
	char s1[] = "a,b,c";
	char s2[] = "a,b";
	char *items[3];

	ck_assert_int_eq(parse_split_list(s1, items, 2), -1);
	ck_assert_int_eq(parse_split_list(s2, items, 2), 2);
	ck_assert_str_eq(items[0], "a");
	ck_assert_str_eq(items[1], "b");
}
END_TEST

#define ADD(s, t) UNIT_ADD(s, t)

static Suite *make_suite(void)
{
	Suite *s = suite_create("parse");

	ADD(s, duration_accepts_every_suffix);
	ADD(s, duration_bare_number_means_seconds);
	ADD(s, duration_largest_values_fit);
	ADD(s, duration_rejects_overflow);
	ADD(s, duration_rejects_negative);
	ADD(s, duration_rejects_unknown_suffix_and_junk);
	ADD(s, size_accepts_powers_of_1024_any_case);
	ADD(s, size_rejects_junk_negative_and_overflow);
	ADD(s, uint_accepts_range_bounds);
	ADD(s, uint_rejects_out_of_range_and_junk);
	ADD(s, bool_accepts_every_spelling_any_case);
	ADD(s, bool_rejects_other_words);
	ADD(s, edit_distance_known_pairs);
	ADD(s, edit_distance_long_strings_capped_at_255);
	ADD(s, suggest_closest_within_two);
	ADD(s, suggest_prefers_first_on_tie_and_handles_empty_list);
	ADD(s, split_list_trims_items);
	ADD(s, split_list_single_item);
	ADD(s, split_list_rejects_empty_items);
	ADD(s, split_list_rejects_more_than_max);
	return s;
}

UNIT_MAIN(make_suite)
