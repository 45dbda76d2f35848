#include "config.h"
#include "lib/unicode.h"

#include <string.h>

/* Decodes one code point from UTF-8; returns bytes used, 0 if invalid. */
static size_t utf8_next(const unsigned char *s, uint32_t *cp)
{
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	size_t n;
	uint32_t c, min;
	if ((s[0] & 0xE0) == 0xC0) {
		n = 2; c = s[0] & 0x1F; min = 0x80;
	} else if ((s[0] & 0xF0) == 0xE0) {
		n = 3; c = s[0] & 0x0F; min = 0x800;
	} else if ((s[0] & 0xF8) == 0xF0) {
		n = 4; c = s[0] & 0x07; min = 0x10000;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return n;
}

size_t utf8_utf16le_len(const char *src)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t units = 0;
	while (*s) {
		uint32_t cp;
		size_t n = utf8_next(s, &cp);
		if (n == 0)
			return SIZE_MAX;
		units += cp >= 0x10000 ? 2 : 1;
		s += n;
	}
	return units * 2;
}

uint8_t *utf8_to_utf16le(TALLOC_CTX *mem, const char *src, size_t *out_bytes)
{
	size_t len = utf8_utf16le_len(src);
	if (len == SIZE_MAX)
		return NULL;
	/* +2 so an empty string still yields a valid allocation. */
	uint8_t *out = talloc_zero_size(mem, len + 2);
	if (out == NULL)
		return NULL;
	const unsigned char *s = (const unsigned char *)src;
	uint8_t *o = out;
	while (*s) {
		uint32_t cp;
		s += utf8_next(s, &cp);
		if (cp >= 0x10000) {
			cp -= 0x10000;
			uint16_t hi = (uint16_t)(0xD800 | (cp >> 10));
			uint16_t lo = (uint16_t)(0xDC00 | (cp & 0x3FF));
			o[0] = (uint8_t)hi; o[1] = (uint8_t)(hi >> 8);
			o[2] = (uint8_t)lo; o[3] = (uint8_t)(lo >> 8);
			o += 4;
		} else {
			o[0] = (uint8_t)cp; o[1] = (uint8_t)(cp >> 8);
			o += 2;
		}
	}
	*out_bytes = len;
	return out;
}

char *utf16le_to_utf8(TALLOC_CTX *mem, const uint8_t *src, size_t bytes)
{
	if (bytes % 2)
		return NULL;
	size_t units = bytes / 2;
	/* Each UTF-16 unit becomes at most 3 bytes of UTF-8. */
	char *out = talloc_size(mem, units * 3 + 1);
	if (out == NULL)
		return NULL;
	size_t o = 0;
	for (size_t i = 0; i < units; i++) {
		uint32_t cp = (uint32_t)src[2 * i] | (uint32_t)src[2 * i + 1] << 8;
		if (cp >= 0xD800 && cp <= 0xDBFF) {
			if (i + 1 >= units)
				goto invalid;
			uint32_t lo = (uint32_t)src[2 * i + 2] | (uint32_t)src[2 * i + 3] << 8;
			if (lo < 0xDC00 || lo > 0xDFFF)
				goto invalid;
			cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
			i++;
		} else if (cp >= 0xDC00 && cp <= 0xDFFF) {
			goto invalid;
		}
		if (cp < 0x80) {
			out[o++] = (char)cp;
		} else if (cp < 0x800) {
			out[o++] = (char)(0xC0 | cp >> 6);
			out[o++] = (char)(0x80 | (cp & 0x3F));
		} else if (cp < 0x10000) {
			out[o++] = (char)(0xE0 | cp >> 12);
			out[o++] = (char)(0x80 | ((cp >> 6) & 0x3F));
			out[o++] = (char)(0x80 | (cp & 0x3F));
		} else {
			out[o++] = (char)(0xF0 | cp >> 18);
			out[o++] = (char)(0x80 | ((cp >> 12) & 0x3F));
			out[o++] = (char)(0x80 | ((cp >> 6) & 0x3F));
			out[o++] = (char)(0x80 | (cp & 0x3F));
		}
	}
	out[o] = 0;
	return out;
invalid:
	talloc_free(out);
	return NULL;
}

char *utf16le_name_to_utf8(TALLOC_CTX *mem, const uint8_t *src, size_t bytes)
{
	for (size_t i = 0; i + 1 < bytes; i += 2)
		if (src[i] == 0 && src[i + 1] == 0)
			return NULL;
	return utf16le_to_utf8(mem, src, bytes);
}
