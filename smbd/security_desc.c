#include "config.h"
#include "smbd/security_desc.h"

/* MS-DTYP 2.4.6 control bits */
#define SE_DACL_PRESENT 0x0004
#define SE_SELF_RELATIVE 0x8000
#define ACCESS_ALLOWED_ACE_TYPE 0x00

static void put_unix_sid(struct wire_wr *w, uint32_t kind, uint32_t id)
{
	/* S-1-22-kind-id: revision 1, two sub-authorities, authority 22. */
	static const uint8_t auth22[6] = { 0, 0, 0, 0, 0, 22 };
	wire_put_u8(w, 1);
	wire_put_u8(w, 2);
	wire_put_bytes(w, auth22, 6);
	wire_put_u32(w, kind);
	wire_put_u32(w, id);
}

static void put_everyone_sid(struct wire_wr *w)
{
	/* S-1-1-0 */
	static const uint8_t auth1[6] = { 0, 0, 0, 0, 0, 1 };
	wire_put_u8(w, 1);
	wire_put_u8(w, 1);
	wire_put_bytes(w, auth1, 6);
	wire_put_u32(w, 0);
}

void smbd_security_desc_encode(struct wire_wr *w, uint32_t secinfo, uid_t uid, gid_t gid, uint32_t everyone_access)
{
	size_t base = w->len;
	wire_put_u8(w, 1); /* Revision */
	wire_put_u8(w, 0);
	wire_put_u16(w, SE_SELF_RELATIVE | ((secinfo & SECINFO_DACL) ? SE_DACL_PRESENT : 0));
	size_t offs = wire_reserve(w, 16); /* Owner, Group, Sacl, Dacl */
	if (secinfo & SECINFO_OWNER) {
		wire_patch_u32(w, offs, (uint32_t)(w->len - base));
		put_unix_sid(w, 1, (uint32_t)uid);
	}
	if (secinfo & SECINFO_GROUP) {
		wire_patch_u32(w, offs + 4, (uint32_t)(w->len - base));
		put_unix_sid(w, 2, (uint32_t)gid);
	}
	if (secinfo & SECINFO_DACL) {
		wire_patch_u32(w, offs + 12, (uint32_t)(w->len - base));
		/* ACL header (8) + one ACE: header 4, mask 4, SID 12. */
		wire_put_u8(w, 2); /* AclRevision */
		wire_put_u8(w, 0);
		wire_put_u16(w, 8 + 20);
		wire_put_u16(w, 1); /* AceCount */
		wire_put_u16(w, 0);
		wire_put_u8(w, ACCESS_ALLOWED_ACE_TYPE);
		wire_put_u8(w, 0); /* AceFlags */
		wire_put_u16(w, 20);
		wire_put_u32(w, everyone_access);
		put_everyone_sid(w);
	}
}
