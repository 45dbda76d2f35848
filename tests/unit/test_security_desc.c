/* Security descriptors: parser, encoder, merge, select, inheritance, storage. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <talloc.h>

#include "smbd/security_desc.h"

static const uint8_t SID_A[16] = { 1, 2, 0, 0, 0, 0, 0, 22, 1, 0, 0, 0, 0xe8, 3, 0, 0 };  /* S-1-22-1-1000 */
static const uint8_t SID_B[16] = { 1, 2, 0, 0, 0, 0, 0, 22, 2, 0, 0, 0, 0xe8, 3, 0, 0 };  /* S-1-22-2-1000 */
static const uint8_t SID_WORLD[12] = { 1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0 };
static const uint8_t SID_AUTH_USERS[12] = { 1, 1, 0, 0, 0, 0, 0, 5, 11, 0, 0, 0 };
static const uint8_t SID_CREATOR_OWNER[12] = { 1, 1, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0 };
static const uint8_t SID_LABEL_MEDIUM[12] = { 1, 1, 0, 0, 0, 0, 0, 16, 0, 0x20, 0, 0 };

/* An ACL under construction: header patched by acl_done(). */
struct tacl {
	struct wire_wr w;
	unsigned n;
};

static void acl_start(struct tacl *a, TALLOC_CTX *mem, uint8_t rev)
{
	wire_wr_init(&a->w, mem, 64);
	a->n = 0;
	wire_put_u8(&a->w, rev);
	wire_put_u8(&a->w, 0);
	wire_put_u16(&a->w, 0);
	wire_put_u16(&a->w, 0);
	wire_put_u16(&a->w, 0);
}

static void ace_plain(struct tacl *a, uint8_t type, uint8_t flags, uint32_t mask, const uint8_t *sid, size_t sid_len)
{
	wire_put_u8(&a->w, type);
	wire_put_u8(&a->w, flags);
	wire_put_u16(&a->w, (uint16_t)(8 + sid_len));
	wire_put_u32(&a->w, mask);
	wire_put_bytes(&a->w, sid, sid_len);
	a->n++;
}

/* ACCESS_ALLOWED_OBJECT_ACE with an ObjectType GUID. */
static void ace_object(struct tacl *a, const uint8_t *sid, size_t sid_len)
{
	static const uint8_t guid[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
	wire_put_u8(&a->w, 0x05);
	wire_put_u8(&a->w, 0);
	wire_put_u16(&a->w, (uint16_t)(12 + 16 + sid_len));
	wire_put_u32(&a->w, 0x10);
	wire_put_u32(&a->w, 1); /* ACE_OBJECT_TYPE_PRESENT */
	wire_put_bytes(&a->w, guid, 16);
	wire_put_bytes(&a->w, sid, sid_len);
	a->n++;
}

/* ACCESS_ALLOWED_CALLBACK_ACE with 4 bytes of application data. */
static void ace_callback(struct tacl *a, const uint8_t *sid, size_t sid_len)
{
	wire_put_u8(&a->w, 0x09);
	wire_put_u8(&a->w, 0);
	wire_put_u16(&a->w, (uint16_t)(8 + sid_len + 4));
	wire_put_u32(&a->w, 0x1);
	wire_put_bytes(&a->w, sid, sid_len);
	wire_put_u32(&a->w, 0xdeadbeef);
	a->n++;
}

static void acl_done(struct tacl *a, const uint8_t **p, size_t *len)
{
	wire_patch_u16(&a->w, 2, (uint16_t)a->w.len);
	wire_patch_u16(&a->w, 4, (uint16_t)a->n);
	assert_true(wire_wr_ok(&a->w));
	*p = a->w.buf;
	*len = a->w.len;
}

/* A descriptor with every part: owner, group, SACL (audit + label), DACL (plain, object, callback). */
static void full_sd(TALLOC_CTX *mem, struct smbd_sd *sd)
{
	struct tacl s, d;
	memset(sd, 0, sizeof(*sd));
	sd->owner = SID_A;
	sd->owner_len = sizeof(SID_A);
	sd->group = SID_B;
	sd->group_len = sizeof(SID_B);
	acl_start(&s, mem, 2);
	ace_plain(&s, 0x02, 0x40, 0x10000, SID_WORLD, sizeof(SID_WORLD));
	ace_plain(&s, SEC_ACE_SYSTEM_MANDATORY_LABEL, 0, 1, SID_LABEL_MEDIUM, sizeof(SID_LABEL_MEDIUM));
	acl_done(&s, &sd->sacl, &sd->sacl_len);
	acl_start(&d, mem, 4);
	ace_plain(&d, SEC_ACE_ACCESS_ALLOWED, 0, 0x1F01FF, SID_WORLD, sizeof(SID_WORLD));
	ace_object(&d, SID_AUTH_USERS, sizeof(SID_AUTH_USERS));
	ace_callback(&d, SID_A, sizeof(SID_A));
	acl_done(&d, &sd->dacl, &sd->dacl_len);
	sd->control = SE_SELF_RELATIVE | SE_DACL_PRESENT | SE_SACL_PRESENT | SE_DACL_PROTECTED;
}

static uint8_t *encode(TALLOC_CTX *mem, const struct smbd_sd *sd, size_t *len)
{
	struct wire_wr w;
	wire_wr_init(&w, mem, 128);
	smbd_sd_encode(&w, sd);
	assert_true(wire_wr_ok(&w));
	*len = w.len;
	return w.buf;
}

static bool parses(const uint8_t *buf, size_t len)
{
	struct smbd_sd sd;
	return NT_STATUS_IS_OK(smbd_sd_parse(buf, len, &sd));
}

static void assert_part(const uint8_t *p, size_t n, const uint8_t *want, size_t want_n)
{
	assert_non_null(p);
	assert_int_equal(n, want_n);
	assert_memory_equal(p, want, n);
}

static void test_round_trip(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct smbd_sd sd, back;
	full_sd(mem, &sd);
	size_t len;
	uint8_t *buf = encode(mem, &sd, &len);
	assert_true(NT_STATUS_IS_OK(smbd_sd_parse(buf, len, &back)));
	assert_int_equal(back.control, sd.control);
	assert_part(back.owner, back.owner_len, SID_A, sizeof(SID_A));
	assert_part(back.group, back.group_len, SID_B, sizeof(SID_B));
	assert_part(back.sacl, back.sacl_len, sd.sacl, sd.sacl_len);
	assert_part(back.dacl, back.dacl_len, sd.dacl, sd.dacl_len);
	/* Re-encoding a parsed canonical descriptor gives the same bytes. */
	size_t len2;
	uint8_t *buf2 = encode(mem, &back, &len2);
	assert_int_equal(len2, len);
	assert_memory_equal(buf2, buf, len);
	/* Header: revision 1, Sbz1 0, self-relative, owner right after the header. */
	assert_int_equal(buf[0], 1);
	assert_int_equal(buf[1], 0);
	assert_int_equal(le32(buf + 4), SD_HEADER_LEN);
	talloc_free(mem);
}

static void test_every_truncation_fails(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct smbd_sd sd;
	full_sd(mem, &sd);
	size_t len;
	uint8_t *buf = encode(mem, &sd, &len);
	assert_true(parses(buf, len));
	for (size_t n = 0; n < len; n++) {
		/* A private copy so that a sanitizer sees any read past n. */
		uint8_t *t = malloc(n ? n : 1);
		memcpy(t, buf, n);
		assert_false(parses(t, n));
		free(t);
	}
	talloc_free(mem);
}

static void test_null_and_absent_parts(void **state)
{
	uint8_t h[SD_HEADER_LEN] = { 1, 0 };
	struct smbd_sd sd;
	/* DACL present with offset 0: a NULL DACL. */
	put_le16(h + 2, SE_SELF_RELATIVE | SE_DACL_PRESENT);
	assert_true(NT_STATUS_IS_OK(smbd_sd_parse(h, sizeof(h), &sd)));
	assert_true(sd.control & SE_DACL_PRESENT);
	assert_null(sd.dacl);
	assert_null(sd.owner);
	/* An ACL offset without its _PRESENT bit is not looked at. */
	put_le16(h + 2, SE_SELF_RELATIVE);
	put_le32(h + 16, 0x7fffffff);
	assert_true(NT_STATUS_IS_OK(smbd_sd_parse(h, sizeof(h), &sd)));
	assert_null(sd.dacl);
	/* ... but with it, it is. */
	put_le16(h + 2, SE_SELF_RELATIVE | SE_DACL_PRESENT);
	assert_false(parses(h, sizeof(h)));
	/* An empty descriptor encodes to just the header. */
	TALLOC_CTX *mem = talloc_new(NULL);
	struct smbd_sd empty = { 0 };
	size_t len;
	uint8_t *buf = encode(mem, &empty, &len);
	assert_int_equal(len, SD_HEADER_LEN);
	assert_int_equal(le16(buf + 2), SE_SELF_RELATIVE);
	talloc_free(mem);
}

static void test_lying_offsets(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct smbd_sd sd;
	full_sd(mem, &sd);
	size_t len;
	uint8_t *good = encode(mem, &sd, &len);
	uint8_t *b = talloc_memdup(mem, good, len);
	const uint32_t bad[] = { 1, 4, 19, (uint32_t)len, (uint32_t)len - 4, (uint32_t)len + 8, 0x7fffffff, 0xffffffff,
				 0xfffffffc };
	for (unsigned slot = 0; slot < 4; slot++) {
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			memcpy(b, good, len);
			put_le32(b + 4 + 4 * slot, bad[i]);
			assert_false(parses(b, len));
		}
	}
	/* The DACL offset pointing at the owner SID: not an ACL (revision 1). */
	memcpy(b, good, len);
	put_le32(b + 16, le32(good + 4));
	assert_false(parses(b, len));
	talloc_free(mem);
}

static void test_bad_revisions_and_sids(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct smbd_sd sd;
	full_sd(mem, &sd);
	size_t len;
	uint8_t *good = encode(mem, &sd, &len);
	uint8_t *b = talloc_memdup(mem, good, len);
	size_t owner = le32(good + 4), dacl = le32(good + 16);

	b[0] = 2; /* descriptor revision */
	assert_false(parses(b, len));
	b[0] = 0;
	assert_false(parses(b, len));

	memcpy(b, good, len);
	b[owner] = 2; /* SID revision */
	assert_false(parses(b, len));

	memcpy(b, good, len);
	b[owner + 1] = 16; /* 16 sub-authorities */
	assert_false(parses(b, len));

	memcpy(b, good, len);
	b[dacl] = 3; /* ACL revision */
	assert_false(parses(b, len));
	b[dacl] = 2; /* ACL_REVISION is fine too */
	assert_true(parses(b, len));

	/* SID check alone: 15 sub-authorities is the maximum, and must fit. */
	uint8_t sid[8 + 4 * 16] = { 1, 15 };
	size_t n;
	assert_true(smbd_sd_sid_valid(sid, 8 + 60, &n));
	assert_int_equal(n, 68);
	assert_false(smbd_sd_sid_valid(sid, 8 + 56, &n));
	sid[1] = 16;
	assert_false(smbd_sd_sid_valid(sid, sizeof(sid), &n));
	sid[1] = 0;
	assert_true(smbd_sd_sid_valid(sid, 8, &n));
	assert_false(smbd_sd_sid_valid(sid, 7, &n));
	talloc_free(mem);
}

static void test_lying_acls(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct tacl a;
	const uint8_t *acl;
	size_t len, n;
	acl_start(&a, mem, 2);
	ace_plain(&a, SEC_ACE_ACCESS_ALLOWED, 0, 1, SID_WORLD, sizeof(SID_WORLD));
	ace_object(&a, SID_WORLD, sizeof(SID_WORLD));
	acl_done(&a, &acl, &len);
	uint8_t *b = talloc_zero_array(mem, uint8_t, len + 64); /* room past AclSize */
	memcpy(b, acl, len);
	assert_true(smbd_sd_acl_valid(b, len, &n));
	assert_int_equal(n, len);

	/* AclSize larger than the buffer, smaller than the header. */
	put_le16(b + 2, (uint16_t)(len + 4));
	assert_false(smbd_sd_acl_valid(b, len, &n));
	put_le16(b + 2, 4);
	assert_false(smbd_sd_acl_valid(b, len, &n));
	/* AclSize with slack after the ACEs is allowed. */
	put_le16(b + 2, (uint16_t)(len + 8));
	assert_true(smbd_sd_acl_valid(b, len + 8, &n));
	assert_int_equal(n, len + 8);
	/* AclSize cutting the last ACE. */
	put_le16(b + 2, (uint16_t)(len - 4));
	assert_false(smbd_sd_acl_valid(b, len, &n));
	put_le16(b + 2, (uint16_t)len);

	/* AceCount larger than the ACEs AclSize holds (the zeros past it do not count). */
	put_le16(b + 4, 3);
	assert_false(smbd_sd_acl_valid(b, len, &n));
	put_le16(b + 4, 0xffff);
	assert_false(smbd_sd_acl_valid(b, len, &n));
	put_le16(b + 4, 2);

	/* First ACE: AceSize 0, 2, below the minimum for its SID, not a multiple of 4, past the ACL. */
	const uint16_t sizes[] = { 0, 2, 4, 8, 12, 19, 21, 0xfffc };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		put_le16(b + 8 + 2, sizes[i]);
		assert_false(smbd_sd_acl_valid(b, len, &n));
	}
	put_le16(b + 8 + 2, 20);
	assert_true(smbd_sd_acl_valid(b, len, &n));

	/* Object ACE (second, at 28): both GUIDs claimed present, so its SID no longer fits. */
	put_le32(b + 28 + 8, 3);
	assert_false(smbd_sd_acl_valid(b, len, &n));
	put_le32(b + 28 + 8, 1);
	/* Its SID's sub-authority count runs past the ACE. */
	b[28 + 12 + 16 + 1] = 2;
	assert_false(smbd_sd_acl_valid(b, len, &n));
	b[28 + 12 + 16 + 1] = 1;
	assert_true(smbd_sd_acl_valid(b, len, &n));

	/* An unknown ACE type is kept opaque: only the sizes are checked. */
	b[28] = 0x7f;
	assert_true(smbd_sd_acl_valid(b, len, &n));
	talloc_free(mem);
}

static const uint8_t *dacl1(TALLOC_CTX *mem, size_t *len, uint32_t mask, uint8_t flags, const uint8_t *sid,
			    size_t sid_len)
{
	struct tacl a;
	const uint8_t *p;
	acl_start(&a, mem, 2);
	ace_plain(&a, SEC_ACE_ACCESS_ALLOWED, flags, mask, sid, sid_len);
	acl_done(&a, &p, len);
	return p;
}

static void test_merge(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct smbd_sd cur = { 0 }, in = { 0 }, out;
	cur.owner = SID_A, cur.owner_len = sizeof(SID_A);
	cur.group = SID_B, cur.group_len = sizeof(SID_B);
	cur.dacl = dacl1(mem, &cur.dacl_len, 0x1F01FF, 0, SID_WORLD, sizeof(SID_WORLD));
	cur.control = SE_SELF_RELATIVE | SE_DACL_PRESENT | SE_DACL_PROTECTED;
	in.owner = SID_WORLD, in.owner_len = sizeof(SID_WORLD);
	in.group = SID_AUTH_USERS, in.group_len = sizeof(SID_AUTH_USERS);
	in.dacl = dacl1(mem, &in.dacl_len, 0x120089, 0, SID_AUTH_USERS, sizeof(SID_AUTH_USERS));
	in.control = SE_SELF_RELATIVE | SE_DACL_PRESENT | SE_DACL_AUTO_INHERITED | SE_DACL_AUTO_INHERIT_REQ;

	/* OWNER only: the group and DACL stay. */
	assert_true(NT_STATUS_IS_OK(smbd_sd_merge(mem, &cur, &in, SECINFO_OWNER, &out)));
	assert_part(out.owner, out.owner_len, SID_WORLD, sizeof(SID_WORLD));
	assert_part(out.group, out.group_len, SID_B, sizeof(SID_B));
	assert_part(out.dacl, out.dacl_len, cur.dacl, cur.dacl_len);
	assert_int_equal(out.control, SE_SELF_RELATIVE | SE_DACL_PRESENT | SE_DACL_PROTECTED);

	/* GROUP only. */
	assert_true(NT_STATUS_IS_OK(smbd_sd_merge(mem, &cur, &in, SECINFO_GROUP, &out)));
	assert_part(out.owner, out.owner_len, SID_A, sizeof(SID_A));
	assert_part(out.group, out.group_len, SID_AUTH_USERS, sizeof(SID_AUTH_USERS));

	/* DACL: replaced with its control bits; AUTO_INHERITED kept (with _REQ), _REQ dropped, PROTECTED from the input. */
	assert_true(NT_STATUS_IS_OK(smbd_sd_merge(mem, &cur, &in, SECINFO_DACL, &out)));
	assert_part(out.owner, out.owner_len, SID_A, sizeof(SID_A));
	assert_part(out.dacl, out.dacl_len, in.dacl, in.dacl_len);
	assert_int_equal(out.control, SE_SELF_RELATIVE | SE_DACL_PRESENT | SE_DACL_AUTO_INHERITED);

	/* AUTO_INHERITED without _REQ is not kept (smbtorture INHERITFLAGS). */
	in.control = SE_SELF_RELATIVE | SE_DACL_PRESENT | SE_DACL_AUTO_INHERITED;
	assert_true(NT_STATUS_IS_OK(smbd_sd_merge(mem, &cur, &in, SECINFO_DACL, &out)));
	assert_int_equal(out.control, SE_SELF_RELATIVE | SE_DACL_PRESENT);

	/* PROTECTED_DACL / UNPROTECTED_DACL override the control bit. */
	assert_true(NT_STATUS_IS_OK(smbd_sd_merge(mem, &cur, &in, SECINFO_DACL | SECINFO_PROTECTED_DACL, &out)));
	assert_true(out.control & SE_DACL_PROTECTED);
	in.control |= SE_DACL_PROTECTED;
	assert_true(NT_STATUS_IS_OK(smbd_sd_merge(mem, &cur, &in, SECINFO_DACL | SECINFO_UNPROTECTED_DACL, &out)));
	assert_false(out.control & SE_DACL_PROTECTED);

	/* DACL asked for, none in the input: a NULL DACL. */
	struct smbd_sd none = { .control = SE_SELF_RELATIVE };
	assert_true(NT_STATUS_IS_OK(smbd_sd_merge(mem, &cur, &none, SECINFO_DACL, &out)));
	assert_true(out.control & SE_DACL_PRESENT);
	assert_null(out.dacl);
	assert_part(out.owner, out.owner_len, SID_A, sizeof(SID_A));

	/* OWNER / GROUP asked for and absent. */
	assert_int_equal(NT_STATUS_V(smbd_sd_merge(mem, &cur, &none, SECINFO_OWNER, &out)), 0xC000005A);
	assert_int_equal(NT_STATUS_V(smbd_sd_merge(mem, &cur, &none, SECINFO_GROUP, &out)), 0xC000005B);

	/* Nothing asked for: everything stays. */
	assert_true(NT_STATUS_IS_OK(smbd_sd_merge(mem, &cur, &in, 0, &out)));
	assert_ptr_equal(out.owner, cur.owner);
	assert_ptr_equal(out.dacl, cur.dacl);

	/* Generic rights of effective ACEs are mapped; inherit-only ACEs keep them. */
	struct smbd_sd gen = { .control = SE_DACL_PRESENT };
	gen.dacl = dacl1(mem, &gen.dacl_len, 0x80000000u, 0, SID_WORLD, sizeof(SID_WORLD)); /* GENERIC_READ */
	assert_true(NT_STATUS_IS_OK(smbd_sd_merge(mem, &cur, &gen, SECINFO_DACL, &out)));
	assert_int_equal(le32(out.dacl + 12), 0x120089);
	assert_int_equal(le32(gen.dacl + 12), 0x80000000u); /* the input is not written */
	gen.dacl = dacl1(mem, &gen.dacl_len, 0x10000000u, SEC_ACE_INHERIT_ONLY | SEC_ACE_OBJECT_INHERIT, SID_WORLD,
			 sizeof(SID_WORLD));
	assert_true(NT_STATUS_IS_OK(smbd_sd_merge(mem, &cur, &gen, SECINFO_DACL, &out)));
	assert_int_equal(le32(out.dacl + 12), 0x10000000u);
	talloc_free(mem);
}

static void test_label_and_select(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct smbd_sd full, sel, out;
	full_sd(mem, &full);

	/* DACL only: no owner, group or SACL, and only the DACL's control bits. */
	assert_true(NT_STATUS_IS_OK(smbd_sd_select(mem, &full, SECINFO_DACL, &sel)));
	assert_null(sel.owner);
	assert_null(sel.group);
	assert_null(sel.sacl);
	assert_int_equal(sel.control, SE_SELF_RELATIVE | SE_DACL_PRESENT | SE_DACL_PROTECTED);
	assert_part(sel.dacl, sel.dacl_len, full.dacl, full.dacl_len);

	/* OWNER | GROUP. */
	assert_true(NT_STATUS_IS_OK(smbd_sd_select(mem, &full, SECINFO_OWNER | SECINFO_GROUP, &sel)));
	assert_non_null(sel.owner);
	assert_non_null(sel.group);
	assert_int_equal(sel.control, SE_SELF_RELATIVE);

	/* LABEL alone: a SACL with just the label ACE. */
	assert_true(NT_STATUS_IS_OK(smbd_sd_select(mem, &full, SECINFO_LABEL, &sel)));
	assert_true(sel.control & SE_SACL_PRESENT);
	assert_int_equal(le16(sel.sacl + 4), 1);
	assert_int_equal(sel.sacl[8], SEC_ACE_SYSTEM_MANDATORY_LABEL);

	/* SET LABEL: label ACEs replaced, the audit ACE kept. */
	struct tacl s;
	struct smbd_sd in = { .control = SE_SACL_PRESENT };
	acl_start(&s, mem, 2);
	ace_plain(&s, SEC_ACE_SYSTEM_MANDATORY_LABEL, 0, 3, SID_LABEL_MEDIUM, sizeof(SID_LABEL_MEDIUM));
	acl_done(&s, &in.sacl, &in.sacl_len);
	assert_true(NT_STATUS_IS_OK(smbd_sd_merge(mem, &full, &in, SECINFO_LABEL, &out)));
	assert_int_equal(le16(out.sacl + 4), 2);
	assert_int_equal(out.sacl[8], 0x02);
	assert_int_equal(out.sacl[8 + 20], SEC_ACE_SYSTEM_MANDATORY_LABEL);
	assert_int_equal(le32(out.sacl + 8 + 20 + 4), 3);
	assert_part(out.dacl, out.dacl_len, full.dacl, full.dacl_len);

	/* LABEL on an object without a SACL, with no label given: still no SACL. */
	struct smbd_sd bare = { 0 }, nolabel = { 0 };
	assert_true(NT_STATUS_IS_OK(smbd_sd_merge(mem, &bare, &nolabel, SECINFO_LABEL, &out)));
	assert_false(out.control & SE_SACL_PRESENT);
	talloc_free(mem);
}

static void test_default(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct smbd_sd stored = { 0 }, full;
	smbd_sd_fill_default(mem, &stored, 1000, 1000, 0x1F01FF, &full);
	assert_part(full.owner, full.owner_len, SID_A, sizeof(SID_A));
	assert_part(full.group, full.group_len, SID_B, sizeof(SID_B));
	assert_true(full.control & SE_DACL_PRESENT);
	assert_int_equal(le16(full.dacl + 4), 1);
	assert_int_equal(le32(full.dacl + 12), 0x1F01FF);
	assert_memory_equal(full.dacl + 16, SID_WORLD, sizeof(SID_WORLD));
	size_t n;
	assert_true(smbd_sd_acl_valid(full.dacl, full.dacl_len, &n));

	/* A stored NULL DACL is not replaced by the default. */
	stored.control = SE_DACL_PRESENT;
	smbd_sd_fill_default(mem, &stored, 1000, 1000, 0x1F01FF, &full);
	assert_null(full.dacl);
	assert_true(full.control & SE_DACL_PRESENT);
	talloc_free(mem);
}

/* The parent ACE (CREATOR OWNER, FILE_WRITE_DATA) with 'flags', inherited by a file and a directory. */
static void inherit_one(TALLOC_CTX *mem, uint8_t flags, bool auto_inh, bool is_dir, struct smbd_sd *out, bool *any)
{
	struct smbd_sd parent = { .control = SE_DACL_PRESENT | (auto_inh ? SE_DACL_AUTO_INHERITED : 0) };
	struct tacl a;
	acl_start(&a, mem, 2);
	ace_plain(&a, SEC_ACE_ACCESS_ALLOWED, flags, 0x2, SID_CREATOR_OWNER, sizeof(SID_CREATOR_OWNER));
	ace_plain(&a, SEC_ACE_ACCESS_ALLOWED, 0, 0x1F01FF, SID_WORLD, sizeof(SID_WORLD));
	acl_done(&a, &parent.dacl, &parent.dacl_len);
	assert_true(NT_STATUS_IS_OK(
		smbd_sd_inherit(mem, &parent, is_dir, SID_A, sizeof(SID_A), SID_B, sizeof(SID_B), out, any)));
	if (*any) {
		size_t n;
		assert_true(smbd_sd_acl_valid(out->dacl, out->dacl_len, &n));
		assert_int_equal(n, out->dacl_len);
	}
}

/* ACE i of an ACL: its flags and SID. */
static const uint8_t *ace_at(const uint8_t *acl, unsigned i)
{
	size_t pos = 8;
	while (i--)
		pos += le16(acl + pos + 2);
	return acl + pos;
}

static void test_inherit(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct smbd_sd o;
	bool any;
	const uint8_t OI = SEC_ACE_OBJECT_INHERIT, CI = SEC_ACE_CONTAINER_INHERIT, NP = SEC_ACE_NO_PROPAGATE_INHERIT,
		      IO = SEC_ACE_INHERIT_ONLY;

	/* No inheritable ACE: nothing. */
	inherit_one(mem, 0, false, false, &o, &any);
	assert_false(any);
	inherit_one(mem, CI, false, false, &o, &any);
	assert_false(any);
	inherit_one(mem, IO, false, true, &o, &any);
	assert_false(any);

	/* OI: a file gets the owner with flags 0; a directory keeps it inherit-only for its files. */
	inherit_one(mem, OI, false, false, &o, &any);
	assert_true(any);
	assert_int_equal(le16(o.dacl + 4), 1);
	assert_int_equal(ace_at(o.dacl, 0)[1], 0);
	assert_memory_equal(ace_at(o.dacl, 0) + 8, SID_A, sizeof(SID_A));
	assert_int_equal(le16(ace_at(o.dacl, 0) + 2), 8 + sizeof(SID_A));
	assert_int_equal(o.control, SE_SELF_RELATIVE | SE_DACL_PRESENT);
	inherit_one(mem, OI | IO, false, true, &o, &any);
	assert_int_equal(le16(o.dacl + 4), 1);
	assert_int_equal(ace_at(o.dacl, 0)[1], OI | IO);
	assert_memory_equal(ace_at(o.dacl, 0) + 8, SID_CREATOR_OWNER, sizeof(SID_CREATOR_OWNER));

	/* CI on a directory, CREATOR OWNER: the effective owner ACE plus the inherit-only original. */
	inherit_one(mem, CI | IO, false, true, &o, &any);
	assert_int_equal(le16(o.dacl + 4), 2);
	assert_int_equal(ace_at(o.dacl, 0)[1], 0);
	assert_memory_equal(ace_at(o.dacl, 0) + 8, SID_A, sizeof(SID_A));
	assert_int_equal(ace_at(o.dacl, 1)[1], CI | IO);
	assert_memory_equal(ace_at(o.dacl, 1) + 8, SID_CREATOR_OWNER, sizeof(SID_CREATOR_OWNER));
	inherit_one(mem, OI | CI, false, true, &o, &any);
	assert_int_equal(ace_at(o.dacl, 1)[1], OI | CI | IO);

	/* NO_PROPAGATE: applies once, passes nothing on. */
	inherit_one(mem, NP | CI | OI, false, true, &o, &any);
	assert_int_equal(le16(o.dacl + 4), 1);
	assert_int_equal(ace_at(o.dacl, 0)[1], 0);
	assert_memory_equal(ace_at(o.dacl, 0) + 8, SID_A, sizeof(SID_A));
	inherit_one(mem, NP | OI, false, true, &o, &any);
	assert_false(any);
	inherit_one(mem, NP | OI | IO, false, false, &o, &any);
	assert_true(any);
	assert_int_equal(ace_at(o.dacl, 0)[1], 0);

	/* An auto-inherited parent: INHERITED_ACE on every child ACE and AUTO_INHERITED on the child. */
	inherit_one(mem, OI | CI, true, true, &o, &any);
	assert_int_equal(o.control, SE_SELF_RELATIVE | SE_DACL_PRESENT | SE_DACL_AUTO_INHERITED);
	assert_int_equal(ace_at(o.dacl, 0)[1], SEC_ACE_INHERITED);
	assert_int_equal(ace_at(o.dacl, 1)[1], OI | CI | IO | SEC_ACE_INHERITED);
	inherit_one(mem, OI, true, false, &o, &any);
	assert_int_equal(ace_at(o.dacl, 0)[1], SEC_ACE_INHERITED);

	/* A plain SID with CI is passed on as one ACE; generic rights are split and mapped. */
	struct smbd_sd parent = { .control = SE_DACL_PRESENT };
	parent.dacl = dacl1(mem, &parent.dacl_len, 0x2, OI | CI, SID_WORLD, sizeof(SID_WORLD));
	assert_true(NT_STATUS_IS_OK(smbd_sd_inherit(mem, &parent, true, SID_A, 16, SID_B, 16, &o, &any)));
	assert_int_equal(le16(o.dacl + 4), 1);
	assert_int_equal(ace_at(o.dacl, 0)[1], OI | CI);
	parent.dacl = dacl1(mem, &parent.dacl_len, 0x10000000u, OI | CI, SID_WORLD, sizeof(SID_WORLD));
	assert_true(NT_STATUS_IS_OK(smbd_sd_inherit(mem, &parent, true, SID_A, 16, SID_B, 16, &o, &any)));
	assert_int_equal(le16(o.dacl + 4), 2);
	assert_int_equal(le32(ace_at(o.dacl, 0) + 4), 0x1F01FF);
	assert_int_equal(le32(ace_at(o.dacl, 1) + 4), 0x10000000u);
	assert_int_equal(ace_at(o.dacl, 1)[1], OI | CI | IO);

	/* A NULL DACL or no DACL passes nothing on. */
	struct smbd_sd null_dacl = { .control = SE_DACL_PRESENT };
	assert_true(NT_STATUS_IS_OK(smbd_sd_inherit(mem, &null_dacl, false, SID_A, 16, SID_B, 16, &o, &any)));
	assert_false(any);
	talloc_free(mem);
}

static void test_storage(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	char path[] = "/tmp/test_security_desc.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	struct smbd_sd none;
	assert_true(NT_STATUS_IS_OK(smbd_sd_load(mem, fd, &none)));
	assert_null(none.owner);
	assert_int_equal(none.control, 0);

	struct smbd_sd sd, back;
	full_sd(mem, &sd);
	NTSTATUS st = smbd_sd_store(fd, &sd);
	if (NT_STATUS_EQUAL(st, NT_STATUS_NOT_SUPPORTED)) {
		close(fd);
		talloc_free(mem);
		skip(); /* no user xattrs on /tmp */
	}
	assert_true(NT_STATUS_IS_OK(st));
	assert_true(NT_STATUS_IS_OK(smbd_sd_load(mem, fd, &back)));
	assert_int_equal(back.control, sd.control);
	assert_part(back.owner, back.owner_len, SID_A, sizeof(SID_A));
	assert_part(back.dacl, back.dacl_len, sd.dacl, sd.dacl_len);

	/* SET through the entry point: access checks first, then merge into what is stored. */
	struct smbd_sd in = { .control = SE_DACL_PRESENT };
	in.dacl = dacl1(mem, &in.dacl_len, 0x1, 0, SID_AUTH_USERS, sizeof(SID_AUTH_USERS));
	size_t len;
	uint8_t *buf = encode(mem, &in, &len);
	assert_int_equal(NT_STATUS_V(smbd_security_desc_set(fd, 0x20000, SECINFO_DACL, buf, len)),
			 NT_STATUS_V(NT_STATUS_ACCESS_DENIED));
	assert_int_equal(NT_STATUS_V(smbd_security_desc_set(fd, 0x40000, SECINFO_OWNER, buf, len)),
			 NT_STATUS_V(NT_STATUS_ACCESS_DENIED));
	assert_int_equal(NT_STATUS_V(smbd_security_desc_set(fd, 0xFFFFFF, SECINFO_SACL, buf, len)),
			 NT_STATUS_V(NT_STATUS_ACCESS_DENIED));
	assert_int_equal(NT_STATUS_V(smbd_security_desc_set(fd, 0x40000, SECINFO_DACL, buf, len - 1)),
			 NT_STATUS_V(NT_STATUS_INVALID_PARAMETER));
	assert_true(NT_STATUS_IS_OK(smbd_security_desc_set(fd, 0x40000, SECINFO_DACL, buf, len)));
	assert_true(NT_STATUS_IS_OK(smbd_sd_load(mem, fd, &back)));
	assert_part(back.owner, back.owner_len, SID_A, sizeof(SID_A)); /* kept */
	assert_part(back.dacl, back.dacl_len, in.dacl, in.dacl_len);
	assert_false(back.control & SE_DACL_PROTECTED);

	/* QUERY through the entry point. */
	struct wire_wr w;
	wire_wr_init(&w, mem, 64);
	assert_int_equal(NT_STATUS_V(smbd_security_desc_query(mem, fd, 0, SECINFO_DACL, 0x1F01FF, &w)),
			 NT_STATUS_V(NT_STATUS_ACCESS_DENIED));
	assert_int_equal(NT_STATUS_V(smbd_security_desc_query(mem, fd, 0x20000, SECINFO_SACL, 0x1F01FF, &w)),
			 NT_STATUS_V(NT_STATUS_ACCESS_DENIED));
	assert_true(NT_STATUS_IS_OK(smbd_security_desc_query(mem, fd, 0x20000, SECINFO_DACL | 0x80000000u,
							      0x1F01FF, &w)));
	struct smbd_sd q;
	assert_true(NT_STATUS_IS_OK(smbd_sd_parse(w.buf, w.len, &q)));
	assert_null(q.owner);
	assert_part(q.dacl, q.dacl_len, in.dacl, in.dacl_len);

	/* A descriptor larger than the first read buffer. */
	struct tacl big;
	struct smbd_sd large = { .control = SE_DACL_PRESENT };
	acl_start(&big, mem, 2);
	for (unsigned i = 0; i < 100; i++) /* 2 KB: ext4 keeps at most ~4 KB per xattr */
		ace_plain(&big, SEC_ACE_ACCESS_ALLOWED, 0, i, SID_WORLD, sizeof(SID_WORLD));
	acl_done(&big, &large.dacl, &large.dacl_len);
	assert_true(NT_STATUS_IS_OK(smbd_sd_store(fd, &large)));
	assert_true(NT_STATUS_IS_OK(smbd_sd_load(mem, fd, &back)));
	assert_part(back.dacl, back.dacl_len, large.dacl, large.dacl_len);

	/* A damaged record reads as "nothing stored". */
	const uint8_t junk[12] = { 1, 0, 0, 0, 4, 0, 0, 0, 9, 9, 9, 9 };
	assert_int_equal(fsetxattr(fd, SD_XATTR_NAME, junk, sizeof(junk), 0), 0);
	assert_true(NT_STATUS_IS_OK(smbd_sd_load(mem, fd, &back)));
	assert_null(back.owner);
	assert_int_equal(back.control, 0);
	close(fd);
	talloc_free(mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_every_truncation_fails),
		cmocka_unit_test(test_null_and_absent_parts),
		cmocka_unit_test(test_lying_offsets),
		cmocka_unit_test(test_bad_revisions_and_sids),
		cmocka_unit_test(test_lying_acls),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_label_and_select),
		cmocka_unit_test(test_default),
		cmocka_unit_test(test_inherit),
		cmocka_unit_test(test_storage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
