/* Unit tests for lib/wildcard: MS-FSA 2.1.4.4 matching and case folding. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "lib/wildcard.h"

static void yes(const char *pat, const char *name)
{
	if (!wildcard_match(pat, name))
		fail_msg("'%s' should match '%s'", pat, name);
}

static void no(const char *pat, const char *name)
{
	if (wildcard_match(pat, name))
		fail_msg("'%s' should not match '%s'", pat, name);
}

static void test_star_qm(void **state)
{
	(void)state;
	yes("*", "anything.at.all");
	yes("*", "");
	yes("*.*", "noextension");
	yes("*.*", "a.b");
	yes("*.*", "");

	yes("*.txt", "a.txt");
	yes("*.txt", ".txt");
	yes("*.txt", "x.y.txt");
	yes("*.txt", "A.TXT");
	no("*.txt", "a.txt2");
	no("*.txt", "atxt");
	no("*.txt", "a.tx");

	yes("a?c", "abc");
	yes("a?c", "a.c");
	yes("a?c", "AXC");
	no("a?c", "ac");
	no("a?c", "abbc");
	no("a?c", "abcd");

	yes("a*", "a");
	yes("*a", "ba");
	yes("a*b*c", "aXXbYYc");
	yes("a*b*c", "abc");
	no("a*b*c", "acb");
	yes("**", "x");
	yes("*?", "x");
	no("*?", "");
	yes("???", "abc");
	no("???", "ab");
}

static void test_dos_wildcards(void **state)
{
	(void)state;
	/* DOS_STAR '<' ("*." from Win32): stops before the final '.'. */
	yes("<.txt", "a.txt");
	yes("<.txt", "a.b.txt");
	yes("<.txt", ".txt");
	no("<.txt", "atxt");
	no("<.txt", "a.txt.bak");
	yes("<", "noext");
	yes("<", "");
	no("<", "a.b");
	yes("<.", "a.");
	yes("<.<", "a.b.c");

	/* DOS_DOT '"': a '.' or nothing at the end of the name. */
	yes("foo\"", "foo");
	yes("foo\"", "foo.");
	yes("FOO\"", "foo");
	no("foo\"", "foox");
	no("foo\"", "foo.x");
	/* "foo.*" as Win32 sends it. */
	yes("foo\"*", "foo");
	yes("foo\"*", "foo.bar");
	no("foo\"*", "foobar");

	/* DOS_QM '>': one character, or nothing at '.' or at the end. */
	yes(">>>.txt", "a.txt");
	yes(">>>.txt", "ab.txt");
	yes(">>>.txt", "abc.txt");
	no(">>>.txt", "abcd.txt");
	yes("a\">", "a");		/* "a.?" */
	yes("a\">", "a.b");
	no("a\">", "a.bc");
	no("a\">", "ab");
	yes(">>>", "ab");
	no(">", "ab");
	/* '?' is not DOS_QM: it never matches nothing. */
	no("ab?", "ab");
}

static void test_literal_and_case(void **state)
{
	(void)state;
	yes("File.TXT", "file.txt");
	no("file.txt", "file.txt ");
	yes("", "");
	no("", "a");

	/* Latin-1 and beyond (UTF-8 in the source). */
	yes("\xc3\x84" "BC", "\xc3\xa4" "bc");			/* ÄBC / äbc */
	yes("*\xc3\xa4*", "X\xc3\x84Y");
	yes("\xc5\xb8", "\xc3\xbf");				/* Ÿ / ÿ */
	yes("\xc4\x8c" "ESKY", "\xc4\x8d" "esky");		/* Č / č */
	/* ΣΊΣΥΦΟΣ / σίσυφος: final sigma folds to Σ too. */
	yes("\xce\xa3\xce\x8a\xce\xa3\xce\xa5\xce\xa6\xce\x9f\xce\xa3",
	    "\xcf\x83\xce\xaf\xcf\x83\xcf\x85\xcf\x86\xce\xbf\xcf\x82");
	/* ПРИВЕТ / привет, Ё / ё */
	yes("\xd0\x9f\xd0\xa0\xd0\x98\xd0\x92\xd0\x95\xd0\xa2",
	    "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82");
	yes("\xd0\x81", "\xd1\x91");
	/* No full folding: ß is not SS. */
	no("SS", "\xc3\x9f");

	assert_int_equal(wildcard_fold('a'), 'A');
	assert_int_equal(wildcard_fold('Z'), 'Z');
	assert_int_equal(wildcard_fold(0xE9), 0xC9);
	assert_int_equal(wildcard_fold(0xF7), 0xF7);		/* ÷ */
	assert_int_equal(wildcard_fold(0x0101), 0x0100);
	assert_int_equal(wildcard_fold(0x0100), 0x0100);
	assert_int_equal(wildcard_fold(0x013A), 0x0139);
	assert_int_equal(wildcard_fold(0x0139), 0x0139);
	assert_int_equal(wildcard_fold(0x01CE), 0x01CD);
	assert_int_equal(wildcard_fold(0x01C6), 0x01C4);
	assert_int_equal(wildcard_fold(0x03C2), 0x03A3);
	assert_int_equal(wildcard_fold(0x03AC), 0x0386);
	assert_int_equal(wildcard_fold(0x03CE), 0x038F);
	assert_int_equal(wildcard_fold(0x0450), 0x0400);
	assert_int_equal(wildcard_fold(0x04C2), 0x04C1);
	assert_int_equal(wildcard_fold(0x04CF), 0x04C0);
	assert_int_equal(wildcard_fold(0x0561), 0x0531);
	assert_int_equal(wildcard_fold(0x1EA1), 0x1EA0);
	assert_int_equal(wildcard_fold(0xFF41), 0xFF21);
	assert_int_equal(wildcard_fold(0x10428), 0x10428);	/* outside the BMP: as is */

	assert_int_equal(name_casecmp("abc", "ABC"), 0);
	assert_int_equal(name_casecmp("\xc3\x84" "bc", "\xc3\xa4" "BC"), 0);
	assert_true(name_casecmp("a", "b") < 0);
	assert_true(name_casecmp("B", "a") > 0);
	assert_true(name_casecmp("ab", "abc") < 0);
	assert_true(name_casecmp("abc", "ab") > 0);
	assert_int_equal(name_casecmp("", ""), 0);
	assert_int_equal(name_casecmp(NULL, ""), 0);
}

static void test_utf16_units_and_invalid(void **state)
{
	(void)state;
	/* U+1F600 is two UTF-16 units, as Windows counts them. */
	no("?", "\xf0\x9f\x98\x80");
	yes("??", "\xf0\x9f\x98\x80");
	yes("\xf0\x9f\x98\x80*", "\xf0\x9f\x98\x80.txt");
	yes("*\xf0\x9f\x98\x80", "a\xf0\x9f\x98\x80");
	no("\xf0\x9f\x98\x80", "\xf0\x9f\x98\x81");
	yes("<", "\xf0\x9f\x98\x80");

	/* Invalid bytes only match themselves (or a wildcard). */
	yes("\xff*", "\xff" "abc");
	no("\xff*", "\xfe" "abc");
	yes("?", "\xff");
	yes("a?", "a\xc3");				/* truncated sequence */
	assert_int_equal(name_casecmp("\xff", "\xff"), 0);
	assert_int_not_equal(name_casecmp("\xff", "\xfe"), 0);
	assert_int_not_equal(name_casecmp("\xc3", "\xc3\xa4"), 0);
}

static void test_has_wild(void **state)
{
	(void)state;
	assert_false(wildcard_has_wild("file.txt"));
	assert_false(wildcard_has_wild(""));
	assert_false(wildcard_has_wild(NULL));
	assert_true(wildcard_has_wild("*"));
	assert_true(wildcard_has_wild("a?"));
	assert_true(wildcard_has_wild("<.txt"));
	assert_true(wildcard_has_wild("a>"));
	assert_true(wildcard_has_wild("foo\""));
}

static void test_long_pattern(void **state)
{
	(void)state;
	/* Past the on-stack buffer: exercises the heap path. */
	char pat[402], name[402];
	memset(pat, '?', 400);
	pat[400] = '\0';
	memset(name, 'x', 400);
	name[400] = '\0';
	yes(pat, name);
	name[399] = '\0';
	no(pat, name);
	pat[0] = '*';
	pat[399] = 'X';
	name[399] = 'x';
	name[400] = '\0';
	yes(pat, name);
}

static double seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_hostile_speed(void **state)
{
	(void)state;
	/* Exponential for a backtracking matcher; linear x pattern here. */
	size_t n = 20000;
	char *name = malloc(n + 1);
	assert_non_null(name);
	memset(name, 'a', n);
	name[n] = '\0';

	char pat[256] = "";
	for (int i = 0; i < 40; i++)
		strcat(pat, "*a");
	strcat(pat, "*b");

	double t0 = seconds();
	no("*a*a*a*a*a*b", name);
	no(pat, name);
	no("<a<a<a<a<a<b", name);
	no(">*>*>*>*>*b", name);
	name[n - 1] = 'b';
	yes(pat, name);
	double dt = seconds() - t0;
	/* A few million steps: far below a second even under sanitizers. */
	if (dt > 2.0)
		fail_msg("hostile patterns took %.2f s", dt);
	free(name);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_star_qm),
		cmocka_unit_test(test_dos_wildcards),
		cmocka_unit_test(test_literal_and_case),
		cmocka_unit_test(test_utf16_units_and_invalid),
		cmocka_unit_test(test_has_wild),
		cmocka_unit_test(test_long_pattern),
		cmocka_unit_test(test_hostile_speed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
