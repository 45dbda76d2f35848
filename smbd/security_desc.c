/*
 * NT security descriptors: parse, encode, merge, inherit, store.
 * Storage only: see the warning at the top of security_desc.h.
 */
#include "config.h"
#include "smbd/security_desc.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "lib/log.h"
#include "smbd/vfs.h"

/* MS-ERREF: not (yet) in lib/ntstatus.h's table. */
#define SD_STATUS_INVALID_OWNER NT_STATUS(0xC000005A)
#define SD_STATUS_INVALID_PRIMARY_GROUP NT_STATUS(0xC000005B)

/* MS-DTYP 2.4.3 / MS-SMB2 2.2.13.1.1: access bits this module needs. */
#define SD_READ_CONTROL 0x00020000u
#define SD_WRITE_DAC 0x00040000u
#define SD_WRITE_OWNER 0x00080000u
#define SD_ACCESS_SYSTEM_SECURITY 0x01000000u
#define SD_GENERIC_ALL 0x10000000u
#define SD_GENERIC_EXECUTE 0x20000000u
#define SD_GENERIC_WRITE 0x40000000u
#define SD_GENERIC_READ 0x80000000u
#define SD_FILE_ALL_ACCESS 0x001F01FFu
#define SD_FILE_GENERIC_READ 0x00120089u
#define SD_FILE_GENERIC_WRITE 0x00120116u
#define SD_FILE_GENERIC_EXECUTE 0x001200A0u

#define SD_DACL_BITS (SE_DACL_PRESENT | SE_DACL_DEFAULTED | SE_DACL_AUTO_INHERITED | SE_DACL_PROTECTED)
#define SD_SACL_BITS (SE_SACL_PRESENT | SE_SACL_DEFAULTED | SE_SACL_AUTO_INHERITED | SE_SACL_PROTECTED)

#define ACL_HEADER_LEN 8
#define ACL_MAX_SIZE 0xFFFFu

/* S-1-3-0 and S-1-3-1 (MS-DTYP 2.4.2.4) */
static const uint8_t sid_creator_owner[12] = { 1, 1, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0 };
static const uint8_t sid_creator_group[12] = { 1, 1, 0, 0, 0, 0, 0, 3, 1, 0, 0, 0 };

/* ---- validation ------------------------------------------------------ */

bool smbd_sd_sid_valid(const uint8_t *p, size_t len, size_t *sid_len)
{
	/* MS-DTYP 2.4.2.2: Revision 1, at most 15 sub-authorities. */
	if (len < 8 || p[0] != 1 || p[1] > SD_MAX_SUB_AUTHORITIES)
		return false;
	size_t n = 8 + 4 * (size_t)p[1];
	if (n > len)
		return false;
	*sid_len = n;
	return true;
}

static bool ace_is_object(uint8_t type)
{
	switch (type) {
	case 0x05: /* ACCESS_ALLOWED_OBJECT */
	case 0x06: /* ACCESS_DENIED_OBJECT */
	case 0x07: /* SYSTEM_AUDIT_OBJECT */
	case 0x08: /* SYSTEM_ALARM_OBJECT */
	case 0x0B: /* ACCESS_ALLOWED_CALLBACK_OBJECT */
	case 0x0C: /* ACCESS_DENIED_CALLBACK_OBJECT */
	case 0x0F: /* SYSTEM_AUDIT_CALLBACK_OBJECT */
	case 0x10: /* SYSTEM_ALARM_CALLBACK_OBJECT */
		return true;
	default:
		return false;
	}
}

static bool ace_is_plain(uint8_t type)
{
	switch (type) {
	case 0x00: /* ACCESS_ALLOWED */
	case 0x01: /* ACCESS_DENIED */
	case 0x02: /* SYSTEM_AUDIT */
	case 0x03: /* SYSTEM_ALARM */
	case 0x09: /* ACCESS_ALLOWED_CALLBACK */
	case 0x0A: /* ACCESS_DENIED_CALLBACK */
	case 0x0D: /* SYSTEM_AUDIT_CALLBACK */
	case 0x0E: /* SYSTEM_ALARM_CALLBACK (reserved) */
	case 0x11: /* SYSTEM_MANDATORY_LABEL */
	case 0x12: /* SYSTEM_RESOURCE_ATTRIBUTE */
	case 0x13: /* SYSTEM_SCOPED_POLICY_ID */
		return true;
	default:
		return false;
	}
}

/* The ACE types a DACL grants or denies with (their masks get generic mapping). */
static bool ace_is_access(uint8_t type)
{
	return type == 0x00 || type == 0x01 || type == 0x05 || type == 0x06 || type == 0x09 || type == 0x0A ||
	       type == 0x0B || type == 0x0C;
}

/*
 * Where the SID of an ACE starts (MS-DTYP 2.4.4.2-2.4.4.17), given an ACE
 * already known to be 'size' bytes; 0 for types kept opaque.
 */
static size_t ace_sid_offset(const uint8_t *ace, size_t size)
{
	if (ace_is_plain(ace[0]))
		return 8;
	if (ace_is_object(ace[0])) {
		if (size < 12)
			return SIZE_MAX;
		uint32_t flags = le32(ace + 8);
		return 12 + ((flags & 1) ? 16 : 0) + ((flags & 2) ? 16 : 0);
	}
	return 0;
}

static bool ace_valid(const uint8_t *ace, size_t size)
{
	size_t off = ace_sid_offset(ace, size);
	if (off == 0)
		return true; /* opaque (compound, unknown): the size checks suffice */
	size_t sid_len;
	return off < size && smbd_sd_sid_valid(ace + off, size - off, &sid_len);
}

bool smbd_sd_acl_valid(const uint8_t *p, size_t len, size_t *acl_len)
{
	/* MS-DTYP 2.4.5: AclRevision 2 (ACL_REVISION) or 4 (ACL_REVISION_DS). */
	if (len < ACL_HEADER_LEN || (p[0] != 2 && p[0] != 4))
		return false;
	size_t size = le16(p + 2);
	unsigned count = le16(p + 4);
	if (size < ACL_HEADER_LEN || size > len)
		return false;
	size_t pos = ACL_HEADER_LEN;
	for (unsigned i = 0; i < count; i++) {
		if (size - pos < 4)
			return false;
		size_t ace_size = le16(p + pos + 2);
		/* MS-DTYP 2.4.4.1: AceSize is a multiple of 4. */
		if (ace_size < 4 || ace_size % 4 || ace_size > size - pos)
			return false;
		if (!ace_valid(p + pos, ace_size))
			return false;
		pos += ace_size;
	}
	*acl_len = size;
	return true;
}

/* Carves the part at 'off' out of the descriptor: the rest of the buffer. */
static bool part_at(const struct wire_rd *whole, uint32_t off, const uint8_t **p, size_t *rest)
{
	struct wire_rd part;
	if (off < SD_HEADER_LEN || off >= whole->len || !wire_slice(whole, off, whole->len - off, &part))
		return false;
	*rest = whole->len - off;
	*p = wire_ptr(&part, *rest);
	return *p != NULL;
}

NTSTATUS smbd_sd_parse(const uint8_t *buf, size_t len, struct smbd_sd *out)
{
	struct wire_rd r;
	memset(out, 0, sizeof(*out));
	wire_rd_init(&r, buf, len);
	uint8_t revision = wire_u8(&r);
	wire_skip(&r, 1); /* Sbz1 (resource-manager control bits: not kept) */
	uint16_t control = wire_u16(&r);
	uint32_t off_owner = wire_u32(&r);
	uint32_t off_group = wire_u32(&r);
	uint32_t off_sacl = wire_u32(&r);
	uint32_t off_dacl = wire_u32(&r);
	if (!wire_ok(&r) || revision != 1)
		return NT_STATUS_INVALID_PARAMETER;
	out->control = control;
	const uint8_t *p;
	size_t rest;
	if (off_owner != 0) {
		if (!part_at(&r, off_owner, &p, &rest) || !smbd_sd_sid_valid(p, rest, &out->owner_len))
			return NT_STATUS_INVALID_PARAMETER;
		out->owner = p;
	}
	if (off_group != 0) {
		if (!part_at(&r, off_group, &p, &rest) || !smbd_sd_sid_valid(p, rest, &out->group_len))
			return NT_STATUS_INVALID_PARAMETER;
		out->group = p;
	}
	/* An ACL offset counts only with its _PRESENT bit; present with offset 0 is a NULL ACL. */
	if ((control & SE_SACL_PRESENT) && off_sacl != 0) {
		if (!part_at(&r, off_sacl, &p, &rest) || !smbd_sd_acl_valid(p, rest, &out->sacl_len))
			return NT_STATUS_INVALID_PARAMETER;
		out->sacl = p;
	}
	if ((control & SE_DACL_PRESENT) && off_dacl != 0) {
		if (!part_at(&r, off_dacl, &p, &rest) || !smbd_sd_acl_valid(p, rest, &out->dacl_len))
			return NT_STATUS_INVALID_PARAMETER;
		out->dacl = p;
	}
	return NT_STATUS_OK;
}

/* ---- encoding -------------------------------------------------------- */

static void put_part(struct wire_wr *w, size_t base, size_t slot, const uint8_t *p, size_t n)
{
	if (p == NULL)
		return;
	while ((w->len - base) % 4)
		wire_put_u8(w, 0);
	wire_patch_u32(w, slot, (uint32_t)(w->len - base));
	wire_put_bytes(w, p, n);
}

void smbd_sd_encode(struct wire_wr *w, const struct smbd_sd *sd)
{
	size_t base = w->len;
	uint16_t control = (uint16_t)((sd->control | SE_SELF_RELATIVE) & ~SE_RM_CONTROL_VALID);
	wire_put_u8(w, 1); /* Revision */
	wire_put_u8(w, 0); /* Sbz1 */
	wire_put_u16(w, control);
	size_t slots = wire_reserve(w, 16); /* OffsetOwner, OffsetGroup, OffsetSacl, OffsetDacl */
	put_part(w, base, slots, sd->owner, sd->owner_len);
	put_part(w, base, slots + 4, sd->group, sd->group_len);
	if (control & SE_SACL_PRESENT)
		put_part(w, base, slots + 8, sd->sacl, sd->sacl_len);
	if (control & SE_DACL_PRESENT)
		put_part(w, base, slots + 12, sd->dacl, sd->dacl_len);
}

/* ---- ACL building ---------------------------------------------------- */

struct acl_builder {
	struct wire_wr w;
	unsigned count;
};

static void acl_begin(struct acl_builder *b, TALLOC_CTX *mem, uint8_t revision)
{
	wire_wr_init(&b->w, mem, 128);
	b->count = 0;
	wire_put_u8(&b->w, revision);
	wire_put_u8(&b->w, 0);
	wire_put_u16(&b->w, 0); /* AclSize, patched */
	wire_put_u16(&b->w, 0); /* AceCount, patched */
	wire_put_u16(&b->w, 0);
}

static void acl_add(struct acl_builder *b, const uint8_t *ace, size_t n)
{
	wire_put_bytes(&b->w, ace, n);
	b->count++;
}

static NTSTATUS acl_end(struct acl_builder *b, const uint8_t **p, size_t *n)
{
	if (!wire_wr_ok(&b->w))
		return NT_STATUS_NO_MEMORY;
	if (b->w.len > ACL_MAX_SIZE || b->count > 0xFFFF)
		return NT_STATUS_INVALID_PARAMETER;
	wire_patch_u16(&b->w, 2, (uint16_t)b->w.len);
	wire_patch_u16(&b->w, 4, (uint16_t)b->count);
	*p = b->w.buf;
	*n = b->w.len;
	return NT_STATUS_OK;
}

/* Calls fn for each ACE of a validated ACL. */
#define FOR_EACH_ACE(acl, ace, ace_size)                                                                      \
	for (size_t pos_ = ACL_HEADER_LEN, i_ = 0, n_ = le16((acl) + 4);                                      \
	     i_ < n_ && ((ace) = (acl) + pos_, (ace_size) = le16((acl) + pos_ + 2), 1); pos_ += (ace_size), i_++)

/* MS-DTYP 2.4.3 with the file mapping of MS-SMB2 2.2.13.1.1. */
static uint32_t map_generic(uint32_t m)
{
	if (m & SD_GENERIC_READ)
		m |= SD_FILE_GENERIC_READ;
	if (m & SD_GENERIC_WRITE)
		m |= SD_FILE_GENERIC_WRITE;
	if (m & SD_GENERIC_EXECUTE)
		m |= SD_FILE_GENERIC_EXECUTE;
	if (m & SD_GENERIC_ALL)
		m |= SD_FILE_ALL_ACCESS;
	return m & ~(SD_GENERIC_READ | SD_GENERIC_WRITE | SD_GENERIC_EXECUTE | SD_GENERIC_ALL);
}

#define SD_GENERIC_MASK (SD_GENERIC_READ | SD_GENERIC_WRITE | SD_GENERIC_EXECUTE | SD_GENERIC_ALL)

/*
 * Windows stores generic rights of effective DACL ACEs mapped to file
 * rights (smbtorture smb2.acls.GENERIC); inherit-only ACEs keep them.
 */
static NTSTATUS map_acl_generic(TALLOC_CTX *mem, const uint8_t *acl, size_t len, const uint8_t **out)
{
	const uint8_t *ace;
	size_t ace_size;
	bool needed = false;
	*out = acl;
	FOR_EACH_ACE(acl, ace, ace_size) {
		if (ace_is_access(ace[0]) && !(ace[1] & SEC_ACE_INHERIT_ONLY) && ace_size >= 8 &&
		    (le32(ace + 4) & SD_GENERIC_MASK))
			needed = true;
	}
	if (!needed)
		return NT_STATUS_OK;
	uint8_t *copy = talloc_memdup(mem, acl, len);
	if (copy == NULL)
		return NT_STATUS_NO_MEMORY;
	uint8_t *a;
	FOR_EACH_ACE(copy, a, ace_size) {
		if (ace_is_access(a[0]) && !(a[1] & SEC_ACE_INHERIT_ONLY) && ace_size >= 8)
			put_le32(a + 4, map_generic(le32(a + 4)));
	}
	*out = copy;
	return NT_STATUS_OK;
}

/* Appends the ACEs of 'acl' (may be NULL) that are (labels) or are not (!labels) mandatory labels. */
static void add_filtered(struct acl_builder *b, const uint8_t *acl, bool labels)
{
	const uint8_t *ace;
	size_t ace_size;
	if (acl == NULL)
		return;
	FOR_EACH_ACE(acl, ace, ace_size) {
		if ((ace[0] == SEC_ACE_SYSTEM_MANDATORY_LABEL) == labels)
			acl_add(b, ace, ace_size);
	}
}

/* ---- merge and select ------------------------------------------------ */

/* The control bits one ACL part keeps when a client sets it (MS-DTYP 2.4.6; smbtorture INHERITFLAGS). */
static uint16_t acl_bits_from_client(uint16_t in, bool dacl)
{
	uint16_t present = dacl ? SE_DACL_PRESENT : SE_SACL_PRESENT;
	uint16_t defaulted = dacl ? SE_DACL_DEFAULTED : SE_SACL_DEFAULTED;
	uint16_t prot = dacl ? SE_DACL_PROTECTED : SE_SACL_PROTECTED;
	uint16_t ai = dacl ? SE_DACL_AUTO_INHERITED : SE_SACL_AUTO_INHERITED;
	uint16_t req = dacl ? SE_DACL_AUTO_INHERIT_REQ : SE_SACL_AUTO_INHERIT_REQ;
	uint16_t c = present | (in & (defaulted | prot));
	/* Windows keeps AUTO_INHERITED only when the setter also asked for it with _REQ. */
	if ((in & (ai | req)) == (ai | req))
		c |= ai;
	return c;
}

NTSTATUS smbd_sd_merge(TALLOC_CTX *mem, const struct smbd_sd *cur, const struct smbd_sd *in, uint32_t secinfo,
		       struct smbd_sd *out)
{
	NTSTATUS status;
	struct smbd_sd r = *cur;
	uint16_t c = cur->control;

	if (secinfo & SECINFO_OWNER) {
		if (in->owner == NULL)
			return SD_STATUS_INVALID_OWNER;
		r.owner = in->owner;
		r.owner_len = in->owner_len;
		c = (uint16_t)((c & ~SE_OWNER_DEFAULTED) | (in->control & SE_OWNER_DEFAULTED));
	}
	if (secinfo & SECINFO_GROUP) {
		if (in->group == NULL)
			return SD_STATUS_INVALID_PRIMARY_GROUP;
		r.group = in->group;
		r.group_len = in->group_len;
		c = (uint16_t)((c & ~SE_GROUP_DEFAULTED) | (in->control & SE_GROUP_DEFAULTED));
	}
	if (secinfo & SECINFO_DACL) {
		c = (uint16_t)((c & ~SD_DACL_BITS) | acl_bits_from_client(in->control, true));
		r.dacl = NULL;
		r.dacl_len = 0;
		/* No DACL in the input: a NULL DACL (smbtorture smb2.create.nulldacl). */
		if ((in->control & SE_DACL_PRESENT) && in->dacl != NULL) {
			status = map_acl_generic(mem, in->dacl, in->dacl_len, &r.dacl);
			if (!NT_STATUS_IS_OK(status))
				return status;
			r.dacl_len = in->dacl_len;
		}
	}
	if (secinfo & SECINFO_SACL) {
		c = (uint16_t)((c & ~SD_SACL_BITS) | acl_bits_from_client(in->control, false));
		r.sacl = (in->control & SE_SACL_PRESENT) ? in->sacl : NULL;
		r.sacl_len = r.sacl ? in->sacl_len : 0;
	} else if (secinfo & SECINFO_LABEL) {
		/* Only the mandatory-label ACEs change; the rest of the SACL stays. */
		struct acl_builder b;
		acl_begin(&b, mem, r.sacl ? r.sacl[0] : 2);
		add_filtered(&b, (c & SE_SACL_PRESENT) ? r.sacl : NULL, false);
		add_filtered(&b, (in->control & SE_SACL_PRESENT) ? in->sacl : NULL, true);
		if (b.count > 0 || (c & SE_SACL_PRESENT)) {
			status = acl_end(&b, &r.sacl, &r.sacl_len);
			if (!NT_STATUS_IS_OK(status))
				return status;
			c |= SE_SACL_PRESENT;
		}
	}
	if (secinfo & SECINFO_PROTECTED_DACL)
		c |= SE_DACL_PROTECTED;
	else if (secinfo & SECINFO_UNPROTECTED_DACL)
		c &= (uint16_t)~SE_DACL_PROTECTED;
	if (secinfo & SECINFO_PROTECTED_SACL)
		c |= SE_SACL_PROTECTED;
	else if (secinfo & SECINFO_UNPROTECTED_SACL)
		c &= (uint16_t)~SE_SACL_PROTECTED;
	/* Requests and server-side bits are never stored. */
	c &= (uint16_t) ~(SE_DACL_AUTO_INHERIT_REQ | SE_SACL_AUTO_INHERIT_REQ | SE_RM_CONTROL_VALID |
			  SE_SERVER_SECURITY | SE_DACL_TRUSTED);
	r.control = c | SE_SELF_RELATIVE;
	*out = r;
	return NT_STATUS_OK;
}

NTSTATUS smbd_sd_select(TALLOC_CTX *mem, const struct smbd_sd *full, uint32_t secinfo, struct smbd_sd *out)
{
	struct smbd_sd r = { .control = SE_SELF_RELATIVE };
	if (secinfo & SECINFO_OWNER) {
		r.owner = full->owner;
		r.owner_len = full->owner_len;
		r.control |= full->control & SE_OWNER_DEFAULTED;
	}
	if (secinfo & SECINFO_GROUP) {
		r.group = full->group;
		r.group_len = full->group_len;
		r.control |= full->control & SE_GROUP_DEFAULTED;
	}
	if (secinfo & SECINFO_DACL) {
		r.dacl = full->dacl;
		r.dacl_len = full->dacl_len;
		r.control |= full->control & SD_DACL_BITS;
	}
	if (secinfo & SECINFO_SACL) {
		r.sacl = full->sacl;
		r.sacl_len = full->sacl_len;
		r.control |= full->control & SD_SACL_BITS;
	} else if ((secinfo & SECINFO_LABEL) && (full->control & SE_SACL_PRESENT) && full->sacl != NULL) {
		struct acl_builder b;
		acl_begin(&b, mem, full->sacl[0]);
		add_filtered(&b, full->sacl, true);
		if (b.count > 0) {
			NTSTATUS status = acl_end(&b, &r.sacl, &r.sacl_len);
			if (!NT_STATUS_IS_OK(status))
				return status;
			r.control |= SE_SACL_PRESENT | (full->control & (SE_SACL_AUTO_INHERITED | SE_SACL_PROTECTED));
		}
	}
	*out = r;
	return NT_STATUS_OK;
}

/* ---- defaults -------------------------------------------------------- */

static uint8_t *unix_sid(TALLOC_CTX *mem, uint32_t kind, uint32_t id)
{
	/* S-1-22-kind-id: revision 1, two sub-authorities, authority 22. */
	uint8_t *s = talloc_zero_array(mem, uint8_t, 16);
	if (s == NULL)
		return NULL;
	s[0] = 1;
	s[1] = 2;
	s[7] = 22;
	put_le32(s + 8, kind);
	put_le32(s + 12, id);
	return s;
}

static uint8_t *everyone_dacl(TALLOC_CTX *mem, uint32_t access)
{
	/* ACL header (8) + one ACCESS_ALLOWED ACE: header 4, mask 4, S-1-1-0 (12). */
	uint8_t *a = talloc_zero_array(mem, uint8_t, 28);
	if (a == NULL)
		return NULL;
	a[0] = 2;
	put_le16(a + 2, 28);
	put_le16(a + 4, 1);
	a[8] = SEC_ACE_ACCESS_ALLOWED;
	put_le16(a + 10, 20);
	put_le32(a + 12, access);
	a[16] = 1;
	a[17] = 1;
	a[23] = 1;
	return a;
}

void smbd_sd_fill_default(TALLOC_CTX *mem, const struct smbd_sd *stored, uid_t uid, gid_t gid,
			  uint32_t everyone_access, struct smbd_sd *out)
{
	*out = *stored;
	out->control |= SE_SELF_RELATIVE;
	if (out->owner == NULL && (out->owner = unix_sid(mem, 1, (uint32_t)uid)) != NULL)
		out->owner_len = 16;
	if (out->group == NULL && (out->group = unix_sid(mem, 2, (uint32_t)gid)) != NULL)
		out->group_len = 16;
	if (!(out->control & SE_DACL_PRESENT) && (out->dacl = everyone_dacl(mem, everyone_access)) != NULL) {
		out->dacl_len = 28;
		out->control |= SE_DACL_PRESENT;
	}
}

/* ---- inheritance ----------------------------------------------------- */

/* Appends 'ace' with a new flags byte, and optionally a new SID and mapped rights. */
static void add_ace_as(struct acl_builder *b, const uint8_t *ace, size_t ace_size, uint8_t flags,
		       const uint8_t *sid, size_t sid_len, bool map)
{
	size_t off = ace_sid_offset(ace, ace_size);
	size_t old_sid_len = 0;
	if (off == 0 || off >= ace_size || !smbd_sd_sid_valid(ace + off, ace_size - off, &old_sid_len))
		sid = NULL; /* opaque ACE: copied as it is */
	size_t start = b->w.len;
	if (sid == NULL) {
		wire_put_bytes(&b->w, ace, ace_size);
	} else {
		wire_put_bytes(&b->w, ace, off);
		wire_put_bytes(&b->w, sid, sid_len);
		wire_put_bytes(&b->w, ace + off + old_sid_len, ace_size - off - old_sid_len);
		wire_patch_u16(&b->w, start + 2, (uint16_t)(b->w.len - start));
	}
	if (!wire_wr_ok(&b->w))
		return;
	b->w.buf[start + 1] = flags;
	if (map && ace_is_access(ace[0]) && ace_size >= 8)
		put_le32(b->w.buf + start + 4, map_generic(le32(b->w.buf + start + 4)));
	b->count++;
}

static bool sid_is(const uint8_t *sid, size_t len, const uint8_t *want)
{
	return len == 12 && memcmp(sid, want, 12) == 0;
}

NTSTATUS smbd_sd_inherit(TALLOC_CTX *mem, const struct smbd_sd *parent, bool is_dir, const uint8_t *owner_sid,
			 size_t owner_len, const uint8_t *group_sid, size_t group_len, struct smbd_sd *out,
			 bool *any)
{
	memset(out, 0, sizeof(*out));
	*any = false;
	if (!(parent->control & SE_DACL_PRESENT) || parent->dacl == NULL)
		return NT_STATUS_OK;
	bool auto_inherit = parent->control & SE_DACL_AUTO_INHERITED;
	uint8_t inh = auto_inherit ? SEC_ACE_INHERITED : 0;
	struct acl_builder b;
	acl_begin(&b, mem, parent->dacl[0]);
	const uint8_t *ace;
	size_t ace_size;
	FOR_EACH_ACE(parent->dacl, ace, ace_size) {
		uint8_t f = ace[1];
		bool oi = f & SEC_ACE_OBJECT_INHERIT, ci = f & SEC_ACE_CONTAINER_INHERIT;
		bool np = f & SEC_ACE_NO_PROPAGATE_INHERIT;
		/* The effective ACE on the child: CREATOR OWNER/GROUP become the owner/group. */
		const uint8_t *sid = NULL;
		size_t sid_len = 0;
		size_t off = ace_sid_offset(ace, ace_size);
		bool creator = false;
		if (off != 0 && off < ace_size) {
			size_t l;
			if (smbd_sd_sid_valid(ace + off, ace_size - off, &l)) {
				if (sid_is(ace + off, l, sid_creator_owner)) {
					sid = owner_sid, sid_len = owner_len, creator = true;
				} else if (sid_is(ace + off, l, sid_creator_group)) {
					sid = group_sid, sid_len = group_len, creator = true;
				}
			}
		}
		bool generic = ace_is_access(ace[0]) && ace_size >= 8 && (le32(ace + 4) & SD_GENERIC_MASK);
		if (!is_dir) {
			if (oi)
				add_ace_as(&b, ace, ace_size, inh, sid, sid_len, true);
			continue;
		}
		if (np) {
			/* Stops here: only directories it applies to get it, as an effective ACE. */
			if (ci)
				add_ace_as(&b, ace, ace_size, inh, sid, sid_len, true);
		} else if (ci) {
			uint8_t pass_on = (uint8_t)((f & (SEC_ACE_OBJECT_INHERIT | SEC_ACE_CONTAINER_INHERIT)) | inh);
			if (creator || generic) {
				/* MS-DTYP 2.5.3.4.4: an effective copy, and the original kept for descendants. */
				add_ace_as(&b, ace, ace_size, inh, sid, sid_len, true);
				add_ace_as(&b, ace, ace_size, pass_on | SEC_ACE_INHERIT_ONLY, NULL, 0, false);
			} else {
				add_ace_as(&b, ace, ace_size, pass_on, NULL, 0, false);
			}
		} else if (oi) {
			/* For files below this directory only. */
			add_ace_as(&b, ace, ace_size,
				   (uint8_t)(SEC_ACE_OBJECT_INHERIT | SEC_ACE_INHERIT_ONLY | inh), NULL, 0, false);
		}
	}
	if (b.count == 0)
		return wire_wr_ok(&b.w) ? NT_STATUS_OK : NT_STATUS_NO_MEMORY;
	NTSTATUS status = acl_end(&b, &out->dacl, &out->dacl_len);
	if (!NT_STATUS_IS_OK(status))
		return status;
	out->control = SE_SELF_RELATIVE | SE_DACL_PRESENT | (auto_inherit ? SE_DACL_AUTO_INHERITED : 0);
	*any = true;
	return NT_STATUS_OK;
}

/* ---- storage --------------------------------------------------------- */

/*
 * The xattr record: Version (2), Reserved (2), Length (4) of the
 * descriptor that follows. This is storage glue beside vfs_dosattr.c: its
 * errno conversions stay in this section.
 */
NTSTATUS smbd_sd_load(TALLOC_CTX *mem, int fd, struct smbd_sd *out)
{
	memset(out, 0, sizeof(*out));
	size_t cap = 1024; /* most descriptors; larger ones cost a second call */
	uint8_t *buf = talloc_size(mem, cap);
	if (buf == NULL)
		return NT_STATUS_NO_MEMORY;
	ssize_t n = fgetxattr(fd, SD_XATTR_NAME, buf, cap);
	if (n < 0 && errno == ERANGE) {
		cap = 65536; /* the Linux maximum for one xattr value */
		buf = talloc_realloc_size(mem, buf, cap);
		if (buf == NULL)
			return NT_STATUS_NO_MEMORY;
		n = fgetxattr(fd, SD_XATTR_NAME, buf, cap);
	}
	if (n < 0) {
		int err = errno;
		talloc_free(buf);
		if (err == ENODATA || err == ENOTSUP || err == EOPNOTSUPP)
			return NT_STATUS_OK; /* nothing stored: the default applies */
		return ntstatus_from_errno(err);
	}
	if (n < SD_XATTR_HEADER_LEN || le16(buf) != SD_XATTR_VERSION || le32(buf + 4) != (size_t)n - SD_XATTR_HEADER_LEN ||
	    !NT_STATUS_IS_OK(smbd_sd_parse(buf + SD_XATTR_HEADER_LEN, (size_t)n - SD_XATTR_HEADER_LEN, out))) {
		/* Unreadable (a newer version, damage): the default is shown, the record left alone. */
		LOG_WARN("ignoring an unreadable %s record (%zd bytes)", SD_XATTR_NAME, n);
		memset(out, 0, sizeof(*out));
		talloc_free(buf);
	}
	return NT_STATUS_OK;
}

NTSTATUS smbd_sd_store(int fd, const struct smbd_sd *sd)
{
	TALLOC_CTX *tmp = talloc_new(NULL);
	if (tmp == NULL)
		return NT_STATUS_NO_MEMORY;
	struct wire_wr w;
	wire_wr_init(&w, tmp, 256);
	wire_put_u16(&w, SD_XATTR_VERSION);
	wire_put_u16(&w, 0);
	wire_put_u32(&w, 0);
	smbd_sd_encode(&w, sd);
	wire_patch_u32(&w, 4, (uint32_t)(w.len - SD_XATTR_HEADER_LEN));
	NTSTATUS status = NT_STATUS_OK;
	if (!wire_wr_ok(&w)) {
		status = NT_STATUS_NO_MEMORY;
	} else if (fsetxattr(fd, SD_XATTR_NAME, w.buf, w.len, 0) != 0) {
		int err = errno;
		/* No user xattrs here: refusing is honest, accepting would lie. */
		if (err == ENOTSUP || err == EOPNOTSUPP)
			status = NT_STATUS_NOT_SUPPORTED;
		else if (err == E2BIG || err == ENOSPC)
			status = NT_STATUS_INSUFFICIENT_RESOURCES; /* larger than the file system keeps in an xattr */
		else
			status = ntstatus_from_errno(err);
		LOG_WARN("cannot store a security descriptor of %zu bytes: %s", w.len, strerror(err));
	}
	talloc_free(tmp);
	return status;
}

/* ---- the server's entry points --------------------------------------- */

NTSTATUS smbd_security_desc_query(TALLOC_CTX *mem, int fd, uint32_t granted, uint32_t secinfo,
				  uint32_t everyone_access, struct wire_wr *out)
{
	/* MS-SMB2 3.3.5.20.3: flags not defined in 2.2.37 are ignored. */
	secinfo &= SECINFO_OWNER | SECINFO_GROUP | SECINFO_DACL | SECINFO_SACL | SECINFO_LABEL;
	if ((secinfo & ~SECINFO_SACL) || secinfo == 0) {
		if (!(granted & SD_READ_CONTROL))
			return NT_STATUS_ACCESS_DENIED;
	}
	if ((secinfo & SECINFO_SACL) && !(granted & SD_ACCESS_SYSTEM_SECURITY))
		return NT_STATUS_ACCESS_DENIED;
	struct stat st = { 0 };
	if (fd >= 0)
		vfs_fstat(fd, &st);
	struct smbd_sd stored = { 0 }, full, sel;
	if (fd >= 0) {
		NTSTATUS status = smbd_sd_load(mem, fd, &stored);
		if (!NT_STATUS_IS_OK(status))
			return status;
	}
	smbd_sd_fill_default(mem, &stored, st.st_uid, st.st_gid, everyone_access, &full);
	NTSTATUS status = smbd_sd_select(mem, &full, secinfo, &sel);
	if (!NT_STATUS_IS_OK(status))
		return status;
	smbd_sd_encode(out, &sel);
	return wire_wr_ok(out) ? NT_STATUS_OK : NT_STATUS_NO_MEMORY;
}

NTSTATUS smbd_security_desc_set(int fd, uint32_t granted, uint32_t secinfo, const uint8_t *buf, size_t len)
{
	/* MS-SMB2 3.3.5.21.3, in its order. */
	if ((secinfo & SECINFO_SACL) && !(granted & SD_ACCESS_SYSTEM_SECURITY))
		return NT_STATUS_ACCESS_DENIED;
	if ((secinfo & SECINFO_DACL) && !(granted & SD_WRITE_DAC))
		return NT_STATUS_ACCESS_DENIED;
	if ((secinfo & (SECINFO_LABEL | SECINFO_GROUP | SECINFO_OWNER)) && !(granted & SD_WRITE_OWNER))
		return NT_STATUS_ACCESS_DENIED;
	struct smbd_sd in;
	NTSTATUS status = smbd_sd_parse(buf, len, &in);
	if (!NT_STATUS_IS_OK(status))
		return status;
	if (fd < 0)
		return NT_STATUS_INVALID_HANDLE;
	TALLOC_CTX *tmp = talloc_new(NULL);
	if (tmp == NULL)
		return NT_STATUS_NO_MEMORY;
	struct smbd_sd cur, merged;
	status = smbd_sd_load(tmp, fd, &cur);
	if (NT_STATUS_IS_OK(status))
		status = smbd_sd_merge(tmp, &cur, &in, secinfo, &merged);
	if (NT_STATUS_IS_OK(status))
		status = smbd_sd_store(fd, &merged);
	talloc_free(tmp);
	return status;
}

/* The descriptor stored on rel's parent directory (*out empty if none or unreadable). */
static void load_parent(TALLOC_CTX *mem, struct vfs_share *vfs, const char *rel, struct smbd_sd *out)
{
	memset(out, 0, sizeof(*out));
	const char *slash = strrchr(rel, '/');
	char *parent = slash ? talloc_strndup(mem, rel, (size_t)(slash - rel)) : talloc_strdup(mem, ".");
	int pfd = -1;
	if (parent == NULL || !NT_STATUS_IS_OK(vfs_open(vfs, parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0, &pfd)))
		return;
	if (!NT_STATUS_IS_OK(smbd_sd_load(mem, pfd, out)))
		memset(out, 0, sizeof(*out));
	close(pfd);
}

NTSTATUS smbd_security_desc_on_create(struct vfs_share *vfs, const char *rel, int fd, bool is_dir,
				      const uint8_t *secd, size_t secd_len)
{
	TALLOC_CTX *tmp = talloc_new(NULL);
	if (tmp == NULL)
		return NT_STATUS_NO_MEMORY;
	struct smbd_sd creator = { 0 }, empty = { 0 }, sd = { 0 };
	NTSTATUS status = NT_STATUS_OK;
	if (secd != NULL) {
		status = smbd_sd_parse(secd, secd_len, &creator);
		uint32_t parts = (creator.owner ? SECINFO_OWNER : 0) | (creator.group ? SECINFO_GROUP : 0) |
				 ((creator.control & SE_DACL_PRESENT) ? SECINFO_DACL : 0) |
				 ((creator.control & SE_SACL_PRESENT) ? SECINFO_SACL : 0);
		if (NT_STATUS_IS_OK(status))
			status = smbd_sd_merge(tmp, &empty, &creator, parts, &sd);
		if (!NT_STATUS_IS_OK(status))
			goto out;
	}
	/* MS-DTYP 2.5.3.4.1: an explicit, non-defaulted DACL of the creator wins over inheritance. */
	if (!(creator.control & SE_DACL_PRESENT) || (creator.control & SE_DACL_DEFAULTED)) {
		struct smbd_sd parent, inherited;
		load_parent(tmp, vfs, rel, &parent);
		struct stat st = { 0 };
		vfs_fstat(fd, &st);
		const uint8_t *owner = sd.owner ? sd.owner : unix_sid(tmp, 1, (uint32_t)st.st_uid);
		const uint8_t *group = sd.group ? sd.group : unix_sid(tmp, 2, (uint32_t)st.st_gid);
		if (owner == NULL || group == NULL) {
			status = NT_STATUS_NO_MEMORY;
			goto out;
		}
		bool any = false;
		status = smbd_sd_inherit(tmp, &parent, is_dir, owner, sd.owner ? sd.owner_len : 16, group,
					 sd.group ? sd.group_len : 16, &inherited, &any);
		if (!NT_STATUS_IS_OK(status))
			goto out;
		if (any) {
			sd.control = (uint16_t)((sd.control & ~SD_DACL_BITS) | inherited.control | SE_SELF_RELATIVE);
			sd.dacl = inherited.dacl;
			sd.dacl_len = inherited.dacl_len;
		}
	}
	if (sd.owner || sd.group || (sd.control & (SE_DACL_PRESENT | SE_SACL_PRESENT)))
		status = smbd_sd_store(fd, &sd);
out:
	talloc_free(tmp);
	return status;
}
