#include "config.h"
#include "lib/wildcard.h"

#include <stdlib.h>
#include <string.h>

/*
 * Case folding to uppercase. Ranges map lowercase to uppercase by a fixed
 * delta, or by pairs where upper and lower alternate (the lower one is
 * the odd or the even code point of each pair).
 */
enum fold_kind { DELTA, PAIR_LOWER_ODD, PAIR_LOWER_EVEN };

struct fold_range {
	uint16_t lo, hi;	/* inclusive; for pairs, the whole run */
	uint8_t kind;
	int16_t delta;
};

static const struct fold_range fold_ranges[] = {
	{ 0x0061, 0x007A, DELTA, -0x20 },
	{ 0x00E0, 0x00F6, DELTA, -0x20 },
	{ 0x00F8, 0x00FE, DELTA, -0x20 },
	{ 0x0100, 0x012F, PAIR_LOWER_ODD, 0 },
	{ 0x0132, 0x0137, PAIR_LOWER_ODD, 0 },
	{ 0x0139, 0x0148, PAIR_LOWER_EVEN, 0 },
	{ 0x014A, 0x0177, PAIR_LOWER_ODD, 0 },
	{ 0x0179, 0x017E, PAIR_LOWER_EVEN, 0 },
	{ 0x01CD, 0x01DC, PAIR_LOWER_EVEN, 0 },
	{ 0x01DE, 0x01EF, PAIR_LOWER_ODD, 0 },
	{ 0x01F8, 0x021F, PAIR_LOWER_ODD, 0 },
	{ 0x0222, 0x0233, PAIR_LOWER_ODD, 0 },
	{ 0x0246, 0x024F, PAIR_LOWER_ODD, 0 },
	{ 0x03AD, 0x03AF, DELTA, -0x25 },
	{ 0x03B1, 0x03C1, DELTA, -0x20 },
	{ 0x03C3, 0x03CB, DELTA, -0x20 },
	{ 0x03CD, 0x03CE, DELTA, -0x3F },
	{ 0x03D8, 0x03EF, PAIR_LOWER_ODD, 0 },
	{ 0x0430, 0x044F, DELTA, -0x20 },
	{ 0x0450, 0x045F, DELTA, -0x50 },
	{ 0x0460, 0x0481, PAIR_LOWER_ODD, 0 },
	{ 0x048A, 0x04BF, PAIR_LOWER_ODD, 0 },
	{ 0x04C1, 0x04CE, PAIR_LOWER_EVEN, 0 },
	{ 0x04D0, 0x052F, PAIR_LOWER_ODD, 0 },
	{ 0x0561, 0x0586, DELTA, -0x30 },
	{ 0x1E00, 0x1E95, PAIR_LOWER_ODD, 0 },
	{ 0x1EA0, 0x1EFF, PAIR_LOWER_ODD, 0 },
	{ 0x2170, 0x217F, DELTA, -0x10 },
	{ 0x24D0, 0x24E9, DELTA, -0x1A },
	{ 0xFF41, 0xFF5A, DELTA, -0x20 },
};

/* Lowercase letters whose uppercase is not a neighbour (sorted). */
static const uint16_t fold_single[][2] = {
	{ 0x00B5, 0x039C }, { 0x00FF, 0x0178 }, { 0x0131, 0x0049 }, { 0x017F, 0x0053 },
	{ 0x0180, 0x0243 }, { 0x0183, 0x0182 }, { 0x0185, 0x0184 }, { 0x0188, 0x0187 },
	{ 0x018C, 0x018B }, { 0x0192, 0x0191 }, { 0x0195, 0x01F6 }, { 0x0199, 0x0198 },
	{ 0x019A, 0x023D }, { 0x019E, 0x0220 }, { 0x01A1, 0x01A0 }, { 0x01A3, 0x01A2 },
	{ 0x01A5, 0x01A4 }, { 0x01A8, 0x01A7 }, { 0x01AD, 0x01AC }, { 0x01B0, 0x01AF },
	{ 0x01B4, 0x01B3 }, { 0x01B6, 0x01B5 }, { 0x01B9, 0x01B8 }, { 0x01BD, 0x01BC },
	{ 0x01BF, 0x01F7 }, { 0x01C5, 0x01C4 }, { 0x01C6, 0x01C4 }, { 0x01C8, 0x01C7 },
	{ 0x01C9, 0x01C7 }, { 0x01CB, 0x01CA }, { 0x01CC, 0x01CA }, { 0x01DD, 0x018E },
	{ 0x01F2, 0x01F1 }, { 0x01F3, 0x01F1 }, { 0x01F5, 0x01F4 }, { 0x023C, 0x023B },
	{ 0x0242, 0x0241 }, { 0x0253, 0x0181 }, { 0x0254, 0x0186 }, { 0x0256, 0x0189 },
	{ 0x0257, 0x018A }, { 0x0259, 0x018F }, { 0x025B, 0x0190 }, { 0x0260, 0x0193 },
	{ 0x0263, 0x0194 }, { 0x0268, 0x0197 }, { 0x0269, 0x0196 }, { 0x026F, 0x019C },
	{ 0x0272, 0x019D }, { 0x0275, 0x019F }, { 0x0280, 0x01A6 }, { 0x0283, 0x01A9 },
	{ 0x0288, 0x01AE }, { 0x0289, 0x0244 }, { 0x028A, 0x01B1 }, { 0x028B, 0x01B2 },
	{ 0x028C, 0x0245 }, { 0x0292, 0x01B7 }, { 0x03AC, 0x0386 }, { 0x03C2, 0x03A3 },
	{ 0x03CC, 0x038C }, { 0x03D0, 0x0392 }, { 0x03D1, 0x0398 }, { 0x03D5, 0x03A6 },
	{ 0x03D6, 0x03A0 }, { 0x03F0, 0x039A }, { 0x03F1, 0x03A1 }, { 0x03F5, 0x0395 },
	{ 0x03F8, 0x03F7 }, { 0x03FB, 0x03FA }, { 0x04CF, 0x04C0 },
};

uint32_t wildcard_fold(uint32_t c)
{
	if (c < 0x80)
		return (c >= 'a' && c <= 'z') ? c - 0x20 : c;
	if (c > 0xFFFF)
		return c;	/* $UpCase is BMP-only */

	size_t lo = 0, hi = sizeof(fold_single) / sizeof(fold_single[0]);
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (fold_single[mid][0] == c)
			return fold_single[mid][1];
		if (fold_single[mid][0] < c)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = 0; i < sizeof(fold_ranges) / sizeof(fold_ranges[0]); i++) {
		const struct fold_range *r = &fold_ranges[i];
		if (c < r->lo)
			break;	/* sorted */
		if (c > r->hi)
			continue;
		switch (r->kind) {
		case DELTA:
			return (uint32_t)((int32_t)c + r->delta);
		case PAIR_LOWER_ODD:
			return (c & 1) ? c - 1 : c;
		case PAIR_LOWER_EVEN:
			return (c & 1) ? c : c - 1;
		}
	}
	return c;
}

/*
 * Decodes one code point; an invalid byte comes back as 0x110000 + byte
 * (beyond Unicode, so no valid character or UTF-16 unit equals it),
 * 1 byte long: broken names compare deterministically and only equal
 * themselves.
 */
static size_t next_cp(const unsigned char *s, uint32_t *cp)
{
	unsigned char b = s[0];
	size_t n;
	uint32_t c, min;

	if (b < 0x80) {
		*cp = b;
		return 1;
	}
	if ((b & 0xE0) == 0xC0) {
		n = 2; c = b & 0x1F; min = 0x80;
	} else if ((b & 0xF0) == 0xE0) {
		n = 3; c = b & 0x0F; min = 0x800;
	} else if ((b & 0xF8) == 0xF0) {
		n = 4; c = b & 0x07; min = 0x10000;
	} else {
		goto bad;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)	/* also stops at the NUL */
			goto bad;
		c = c << 6 | (s[i] & 0x3Fu);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		goto bad;
	*cp = c;
	return n;
bad:
	*cp = 0x110000u + b;
	return 1;
}

int name_casecmp(const char *a_utf8, const char *b_utf8)
{
	const unsigned char *a = (const unsigned char *)(a_utf8 ? a_utf8 : "");
	const unsigned char *b = (const unsigned char *)(b_utf8 ? b_utf8 : "");

	while (*a && *b) {
		uint32_t ca, cb;
		a += next_cp(a, &ca);
		b += next_cp(b, &cb);
		ca = wildcard_fold(ca);
		cb = wildcard_fold(cb);
		if (ca != cb)
			return ca < cb ? -1 : 1;
	}
	if (*a)
		return 1;
	if (*b)
		return -1;
	return 0;
}

bool wildcard_has_wild(const char *pattern_utf8)
{
	return pattern_utf8 && strpbrk(pattern_utf8, "*?<>\"") != NULL;
}

/* Pattern elements: folded code points, with the wildcards kept as is. */
#define WC_STAR		'*'
#define WC_QM		'?'
#define WC_DOS_STAR	'<'
#define WC_DOS_QM	'>'
#define WC_DOS_DOT	'"'
#define END_OF_NAME	UINT32_MAX

/*
 * Follows the moves that consume nothing from every live state, given
 * the next name character (or END_OF_NAME). Each such move goes one
 * step forward, so one ascending pass reaches the closure.
 */
static void closure(const uint32_t *pat, size_t m, uint8_t *st, uint32_t next)
{
	for (size_t i = 0; i < m; i++) {
		if (!st[i])
			continue;
		switch (pat[i]) {
		case WC_STAR:
		case WC_DOS_STAR:
			st[i + 1] = 1;
			break;
		case WC_DOS_QM:
			if (next == END_OF_NAME || next == '.')
				st[i + 1] = 1;
			break;
		case WC_DOS_DOT:
			if (next == END_OF_NAME)
				st[i + 1] = 1;
			break;
		}
	}
}

bool wildcard_match(const char *pattern_utf8, const char *name_utf8)
{
	const unsigned char *p = (const unsigned char *)(pattern_utf8 ? pattern_utf8 : "");
	const unsigned char *name = (const unsigned char *)(name_utf8 ? name_utf8 : "");

	if (strcmp((const char *)p, "*") == 0 || strcmp((const char *)p, "*.*") == 0)
		return true;
	if (!wildcard_has_wild((const char *)p))
		return name_casecmp((const char *)p, (const char *)name) == 0;

	/* A pattern has at most strlen() code points. */
	size_t plen = strlen((const char *)p);
	uint32_t pat_small[128];
	uint8_t st_small[2 * 129];
	uint32_t *pat = pat_small;
	uint8_t *cur = st_small;
	void *heap = NULL;
	if (plen > 128) {
		/* Cannot overflow: plen is the length of a string in memory. */
		heap = malloc(plen * sizeof(uint32_t) + 2 * (plen + 1));
		if (heap == NULL)
			return false;
		pat = heap;
		cur = (uint8_t *)(pat + plen);
	}

	/* UTF-16 units, as Windows matches: a non-BMP character is two. */
	size_t m = 0;
	for (const unsigned char *s = p; *s;) {
		uint32_t c;
		size_t n = next_cp(s, &c);
		s += n;
		if (c >= 0x10000 && c <= 0x10FFFF) {
			pat[m++] = 0xD800 + ((c - 0x10000) >> 10);
			pat[m++] = 0xDC00 + (c & 0x3FF);	/* n == 4 >= 2 units */
		} else {
			pat[m++] = wildcard_fold(c);
		}
	}
	uint8_t *nxt = cur + m + 1;
	memset(cur, 0, m + 1);
	cur[0] = 1;

	/* '.' is ASCII, so it never sits inside a multi-byte sequence. */
	const unsigned char *last_dot = (const unsigned char *)strrchr((const char *)name, '.');
	bool matched = false;
	const unsigned char *s = name;
	uint32_t low_half = 0;	/* second unit of a non-BMP character */
	for (;;) {
		uint32_t c = END_OF_NAME;
		size_t n = 0;
		const unsigned char *at = s;
		if (low_half) {
			c = low_half;
			low_half = 0;
			at = NULL;
		} else if (*s) {
			n = next_cp(s, &c);
			if (c >= 0x10000 && c <= 0x10FFFF) {
				low_half = 0xDC00 + (c & 0x3FF);
				c = 0xD800 + ((c - 0x10000) >> 10);
			} else {
				c = wildcard_fold(c);
			}
		}
		closure(pat, m, cur, c);
		if (c == END_OF_NAME) {
			matched = cur[m] != 0;
			break;
		}

		bool any = false;
		memset(nxt, 0, m + 1);
		for (size_t i = 0; i < m; i++) {
			if (!cur[i])
				continue;
			switch (pat[i]) {
			case WC_STAR:
				nxt[i] = 1;
				break;
			case WC_DOS_STAR:
				/* Any character but the name's final '.'. */
				if (at != last_dot || at == NULL)
					nxt[i] = 1;
				break;
			case WC_QM:
				nxt[i + 1] = 1;
				break;
			case WC_DOS_QM:
				/* At a '.', DOS_QM only steps aside (closure). */
				if (c != '.')
					nxt[i + 1] = 1;
				break;
			case WC_DOS_DOT:
				if (c == '.')
					nxt[i + 1] = 1;
				break;
			default:
				if (pat[i] == c)
					nxt[i + 1] = 1;
				break;
			}
		}
		for (size_t i = 0; i <= m; i++)
			any |= nxt[i] != 0;
		if (!any)
			break;
		uint8_t *t = cur;
		cur = nxt;
		nxt = t;
		s += n;
	}
	free(heap);
	return matched;
}
