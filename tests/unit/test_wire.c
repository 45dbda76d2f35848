/* The wire codec and the UTF-16 conversions. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lib/unicode.h"
#include "lib/wire.h"

static void test_reads_little_endian(void **state)
{
	static const uint8_t b[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
				     0x0c, 0x0d, 0x0e, 0x0f };
	struct wire_rd r;
	wire_rd_init(&r, b, sizeof(b));
	assert_int_equal(wire_u8(&r), 0x01);
	assert_int_equal(wire_u16(&r), 0x0302);
	assert_int_equal(wire_u32(&r), 0x07060504);
	assert_true(wire_u64(&r) == 0x0f0e0d0c0b0a0908ULL);
	assert_true(wire_ok(&r));
	assert_int_equal(wire_remaining(&r), 0);
}

static void test_overrun_is_sticky(void **state)
{
	static const uint8_t b[] = { 1, 2, 3 };
	struct wire_rd r;
	wire_rd_init(&r, b, sizeof(b));
	assert_int_equal(wire_u16(&r), 0x0201);
	assert_int_equal(wire_u32(&r), 0); /* only one byte left */
	assert_false(wire_ok(&r));
	/* Every later read fails too, even one that would have fit. */
	assert_int_equal(wire_u8(&r), 0);
	assert_null(wire_ptr(&r, 0));
	assert_false(wire_ok(&r));
	assert_int_equal(wire_remaining(&r), 0);
}

static void test_copy_zero_fills_on_overrun(void **state)
{
	static const uint8_t b[] = { 0xAA, 0xBB };
	uint8_t out[4] = { 1, 1, 1, 1 };
	struct wire_rd r;
	wire_rd_init(&r, b, sizeof(b));
	wire_copy(&r, out, sizeof(out));
	assert_false(wire_ok(&r));
	for (size_t i = 0; i < sizeof(out); i++)
		assert_int_equal(out[i], 0);
}

static void test_slice_bounds(void **state)
{
	uint8_t b[100] = { 0 };
	b[60] = 0x42;
	struct wire_rd whole, s;
	wire_rd_init(&whole, b, sizeof(b));
	assert_true(wire_slice(&whole, 60, 40, &s));
	assert_int_equal(wire_u8(&s), 0x42);
	assert_true(wire_slice(&whole, 100, 0, &s)); /* empty at the very end */
	assert_false(wire_slice(&whole, 61, 40, &s));
	assert_false(wire_ok(&s));
	/* Lengths that wrap in 32 or 64 bits must not pass. */
	assert_false(wire_slice(&whole, 0xFFFFFFF0u, 0x20, &s));
	assert_false(wire_slice(&whole, 8, UINT64_MAX - 4, &s));
	assert_false(wire_slice(&whole, UINT64_MAX, 1, &s));
	assert_false(wire_range_ok(10, 5, 6));
	assert_true(wire_range_ok(10, 5, 5));
}

static void test_seek_and_align(void **state)
{
	uint8_t b[16] = { 0 };
	struct wire_rd r;
	wire_rd_init(&r, b, sizeof(b));
	wire_skip(&r, 3);
	wire_align(&r, 8);
	assert_int_equal(r.pos, 8);
	wire_seek(&r, 16);
	assert_true(wire_ok(&r));
	wire_seek(&r, 17);
	assert_false(wire_ok(&r));
}

static void test_writer_grows_and_patches(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct wire_wr w;
	wire_wr_init(&w, mem, 2);
	wire_put_u8(&w, 0x11);
	size_t at = wire_reserve(&w, 4);
	wire_put_u16(&w, 0x3322);
	wire_put_u64(&w, 0x0807060504030201ULL);
	wire_put_align(&w, 8);
	wire_patch_u32(&w, at, 0xDDCCBBAA);
	assert_true(wire_wr_ok(&w));
	static const uint8_t want[] = { 0x11, 0xAA, 0xBB, 0xCC, 0xDD, 0x22, 0x33, 0x01, 0x02, 0x03, 0x04,
					0x05, 0x06, 0x07, 0x08, 0x00 };
	assert_int_equal(w.len, sizeof(want));
	assert_memory_equal(w.buf, want, sizeof(want));
	/* A patch past what was written is an error, not a write. */
	wire_patch_u32(&w, w.len - 2, 1);
	assert_false(wire_wr_ok(&w));
	talloc_free(mem);
}

static void test_utf16_round_trip(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	const char *s = "Porthos \xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"; /* é, €, U+1F600 */
	size_t n;
	uint8_t *u = utf8_to_utf16le(mem, s, &n);
	assert_non_null(u);
	assert_int_equal(n, utf8_utf16le_len(s));
	/* The emoji is a surrogate pair: D83D DE00. */
	assert_memory_equal(u + n - 4, "\x3d\xd8\x00\xde", 4);
	char *back = utf16le_to_utf8(mem, u, n);
	assert_string_equal(back, s);
	talloc_free(mem);
}

static void test_utf16_rejects_invalid(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	static const uint8_t lone_high[] = { 'a', 0, 0x3d, 0xd8 };
	static const uint8_t lone_low[] = { 0x00, 0xde, 'a', 0 };
	static const uint8_t odd[] = { 'a', 0, 'b' };
	size_t n;
	assert_null(utf16le_to_utf8(mem, lone_high, sizeof(lone_high)));
	assert_null(utf16le_to_utf8(mem, lone_low, sizeof(lone_low)));
	assert_null(utf16le_to_utf8(mem, odd, sizeof(odd)));
	assert_null(utf8_to_utf16le(mem, "bad \xc0\xaf overlong", &n));
	assert_null(utf8_to_utf16le(mem, "surrogate \xed\xa0\x80", &n));
	assert_null(utf8_to_utf16le(mem, "cut \xe2\x82", &n));
	assert_int_equal(utf8_utf16le_len("\xff"), SIZE_MAX);
	talloc_free(mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_little_endian),
		cmocka_unit_test(test_overrun_is_sticky),
		cmocka_unit_test(test_copy_zero_fills_on_overrun),
		cmocka_unit_test(test_slice_bounds),
		cmocka_unit_test(test_seek_and_align),
		cmocka_unit_test(test_writer_grows_and_patches),
		cmocka_unit_test(test_utf16_round_trip),
		cmocka_unit_test(test_utf16_rejects_invalid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
