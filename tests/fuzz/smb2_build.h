/*
 * A small SMB2 request writer for the fuzz harnesses and the seed
 * generator: requests as a client sends them (MS-SMB2 2.2), compounded or
 * not, and the direct-TCP frame (MS-SMB2 2.1) around a PDU.
 */
#ifndef PORTHOS_FUZZ_SMB2_BUILD_H
#define PORTHOS_FUZZ_SMB2_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <talloc.h>

#include "lib/wire.h"

/* A file id that names "the file of the previous CREATE" in a related chain. */
#define SB_FID_RELATED UINT64_MAX

struct sb {
	struct wire_wr w;
	size_t elem;      /* offset of the current element's header */
	bool has_elem;
	uint64_t mid;     /* message id of the next element */
	uint64_t sid;
	uint32_t tid;
};

void sb_init(struct sb *b, TALLOC_CTX *mem, uint64_t first_mid, uint64_t sid, uint32_t tid);
/*
 * Starts an element (padding the previous one to 8 bytes and linking it);
 * flags are SMB2_FLAGS_*; related elements inherit session, tree and file.
 */
void sb_begin(struct sb *b, uint16_t command, uint32_t flags);
/* Header-relative offset of the next byte written, for Offset fields. */
uint16_t sb_off(const struct sb *b);
/* The PDU so far; NULL on allocation failure. */
const uint8_t *sb_pdu(const struct sb *b, size_t *len);

/* Bodies (each after sb_begin with the matching command). */
void sb_negotiate(struct sb *b, const uint16_t *dialects, unsigned n, uint16_t cipher, int sign_algo);
void sb_session_setup(struct sb *b, const uint8_t *token, size_t len);
void sb_tree_connect(struct sb *b, const char *unc);
void sb_create(struct sb *b, const char *name, uint32_t access, uint32_t attrs, uint32_t share,
	       uint32_t disposition, uint32_t options, uint8_t oplock, const uint8_t *ctx, size_t ctx_len);
void sb_close(struct sb *b, uint64_t fid, uint16_t flags);
void sb_flush(struct sb *b, uint64_t fid);
void sb_read(struct sb *b, uint64_t fid, uint32_t len, uint64_t off);
void sb_write(struct sb *b, uint64_t fid, uint64_t off, const void *data, uint32_t len);
void sb_lock(struct sb *b, uint64_t fid, uint64_t off, uint64_t len, uint32_t flags);
void sb_ioctl(struct sb *b, uint64_t fid, uint32_t ctl, const void *in, uint32_t in_len, uint32_t max_out);
void sb_query_dir(struct sb *b, uint64_t fid, uint8_t klass, uint8_t flags, const char *pattern);
void sb_notify(struct sb *b, uint64_t fid, uint16_t flags, uint32_t filter);
void sb_query_info(struct sb *b, uint64_t fid, uint8_t type, uint8_t klass, uint32_t max_out, uint32_t addl,
		   const void *in, uint32_t in_len);
void sb_set_info(struct sb *b, uint64_t fid, uint8_t type, uint8_t klass, uint32_t addl, const void *buf,
		 uint32_t len);
void sb_oplock_break(struct sb *b, uint64_t fid, uint8_t level);
/* ECHO, LOGOFF, TREE_DISCONNECT and CANCEL: the 4-byte body. */
void sb_empty(struct sb *b);

/* Appends pdu to stream as one direct-TCP frame (0x00, 24-bit length). */
void sb_frame(struct wire_wr *stream, const uint8_t *pdu, size_t len);
/* UTF-16LE of an ASCII/UTF-8 string into w; returns its byte length. */
size_t sb_put_utf16(struct wire_wr *w, const char *s);

#endif
