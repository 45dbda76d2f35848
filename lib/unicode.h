/*
 * UTF-8 <-> UTF-16LE, the two encodings Porthos translates between: the
 * wire speaks UTF-16LE, Linux file names and config are UTF-8.
 * Unpaired surrogates and invalid UTF-8 are rejected (NULL), never mangled,
 * so a name cannot change meaning on the way through.
 */
#ifndef PORTHOS_UNICODE_H
#define PORTHOS_UNICODE_H

#include <stddef.h>
#include <stdint.h>
#include <talloc.h>

/* NUL-terminated UTF-8 from 'bytes' bytes of UTF-16LE; NULL if invalid. */
char *utf16le_to_utf8(TALLOC_CTX *mem, const uint8_t *src, size_t bytes);
/* As utf16le_to_utf8, for names: an embedded NUL is invalid too (NULL),
 * so "a\0b" can never act as "a". */
char *utf16le_name_to_utf8(TALLOC_CTX *mem, const uint8_t *src, size_t bytes);
/* UTF-16LE (not terminated) from UTF-8; *out_bytes gets the length. */
uint8_t *utf8_to_utf16le(TALLOC_CTX *mem, const char *src, size_t *out_bytes);
/* Bytes the UTF-16LE form of 'src' would take, or SIZE_MAX if invalid. */
size_t utf8_utf16le_len(const char *src);

#endif
