/*
 * NT security descriptors (MS-DTYP 2.4.6 SECURITY_DESCRIPTOR, 2.4.5 ACL,
 * 2.4.4 ACEs, 2.4.2 SID): parsing, encoding, the SET/QUERY merge rules,
 * inheritance at create, and their storage.
 *
 * =====================================================================
 * STORAGE ONLY, NOT ENFORCEMENT.
 * Porthos stores the descriptors that clients set (SET_INFO security,
 * the "SecD" create context, inheritance from the parent directory) and
 * returns them faithfully, because Windows tools, Hyper-V and backup
 * software set ACLs and expect to read them back. Porthos does NOT
 * evaluate them: nothing in this module decides access. Access is
 * decided by the share's permissions (smbd_tcon maximal_access) and,
 * later, by the POSIX identity the session maps to. An ACE that denies
 * someone everything changes nothing about what that someone can open.
 * Do not read a stored DACL as a guarantee to anyone.
 * =====================================================================
 *
 * Storage: the extended attribute "user.porthos.ntacl" holds a small
 * versioned header and a canonical self-relative descriptor that carries
 * only the parts a client set explicitly (or that were inherited). Parts
 * absent from it are synthesized when queried: owner S-1-22-1-uid and
 * group S-1-22-2-gid from the file's POSIX owner (the convention Samba
 * uses, so Windows tools show them consistently), and a DACL granting
 * Everyone what the tree connect grants.
 */
#ifndef PORTHOS_SMBD_SECURITY_DESC_H
#define PORTHOS_SMBD_SECURITY_DESC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <talloc.h>

#include "lib/ntstatus.h"
#include "lib/wire.h"

struct vfs_share;

/* MS-DTYP 2.4.7 SECURITY_INFORMATION (AdditionalInformation) */
#define SECINFO_OWNER 0x00000001
#define SECINFO_GROUP 0x00000002
#define SECINFO_DACL 0x00000004
#define SECINFO_SACL 0x00000008
#define SECINFO_LABEL 0x00000010
#define SECINFO_ATTRIBUTE 0x00000020
#define SECINFO_SCOPE 0x00000040
#define SECINFO_BACKUP 0x00010000
#define SECINFO_UNPROTECTED_SACL 0x10000000
#define SECINFO_UNPROTECTED_DACL 0x20000000
#define SECINFO_PROTECTED_SACL 0x40000000
#define SECINFO_PROTECTED_DACL 0x80000000

/* MS-DTYP 2.4.6 Control */
#define SE_OWNER_DEFAULTED 0x0001
#define SE_GROUP_DEFAULTED 0x0002
#define SE_DACL_PRESENT 0x0004
#define SE_DACL_DEFAULTED 0x0008
#define SE_SACL_PRESENT 0x0010
#define SE_SACL_DEFAULTED 0x0020
#define SE_DACL_TRUSTED 0x0040
#define SE_SERVER_SECURITY 0x0080
#define SE_DACL_AUTO_INHERIT_REQ 0x0100
#define SE_SACL_AUTO_INHERIT_REQ 0x0200
#define SE_DACL_AUTO_INHERITED 0x0400
#define SE_SACL_AUTO_INHERITED 0x0800
#define SE_DACL_PROTECTED 0x1000
#define SE_SACL_PROTECTED 0x2000
#define SE_RM_CONTROL_VALID 0x4000
#define SE_SELF_RELATIVE 0x8000

/* MS-DTYP 2.4.4.1 AceFlags */
#define SEC_ACE_OBJECT_INHERIT 0x01
#define SEC_ACE_CONTAINER_INHERIT 0x02
#define SEC_ACE_NO_PROPAGATE_INHERIT 0x04
#define SEC_ACE_INHERIT_ONLY 0x08
#define SEC_ACE_INHERITED 0x10

/* MS-DTYP 2.4.4.1 AceType (the ones this module looks into) */
#define SEC_ACE_ACCESS_ALLOWED 0x00
#define SEC_ACE_ACCESS_DENIED 0x01
#define SEC_ACE_SYSTEM_MANDATORY_LABEL 0x11

#define SD_HEADER_LEN 20
#define SD_MAX_SUB_AUTHORITIES 15

/* The xattr and the version of the record in it. */
#define SD_XATTR_NAME "user.porthos.ntacl"
#define SD_XATTR_VERSION 1
#define SD_XATTR_HEADER_LEN 8

/*
 * A view of a descriptor: each part points into a buffer (the request,
 * a stored record, or memory the function that made it allocated).
 * owner/group NULL: absent. SE_DACL_PRESENT clear: no DACL part;
 * SE_DACL_PRESENT set with dacl NULL: a NULL DACL (MS-DTYP 2.4.6: grants
 * everyone everything). Likewise for the SACL.
 */
struct smbd_sd {
	uint16_t control;
	const uint8_t *owner;
	size_t owner_len;
	const uint8_t *group;
	size_t group_len;
	const uint8_t *sacl;
	size_t sacl_len;
	const uint8_t *dacl;
	size_t dacl_len;
};

/*
 * Validates a self-relative descriptor and fills *out with views into
 * buf. Rejects (INVALID_PARAMETER, as Windows' SMB server does for a
 * malformed descriptor) a Revision other than 1, offsets into the header
 * or outside buf, SIDs with a revision other than 1 or more than 15
 * sub-authorities or that run past buf, ACLs whose revision is not 2 or
 * 4, whose AclSize runs past buf or whose AceCount ACEs do not fit in
 * AclSize, and ACEs whose AceSize is below the minimum of their type, not
 * a multiple of 4, or whose SID does not fit inside them. Object and
 * callback ACEs are checked for size and SID; their data stays opaque.
 */
NTSTATUS smbd_sd_parse(const uint8_t *buf, size_t len, struct smbd_sd *out);

/* The same checks, for one SID or one ACL (exposed for tests). */
bool smbd_sd_sid_valid(const uint8_t *p, size_t len, size_t *sid_len);
bool smbd_sd_acl_valid(const uint8_t *p, size_t len, size_t *acl_len);

/*
 * Appends a canonical self-relative descriptor: header, then owner,
 * group, SACL, DACL, each 4-byte aligned. SE_SELF_RELATIVE is always set
 * and SE_RM_CONTROL_VALID always clear (Sbz1 is written as 0).
 */
void smbd_sd_encode(struct wire_wr *w, const struct smbd_sd *sd);

/*
 * SET_INFO merge (MS-FSA 2.1.5.17, MS-DTYP 2.4.6 control rules): the
 * parts of 'in' named by 'secinfo' replace those of 'cur', the rest of
 * 'cur' is kept. OWNER without an owner in 'in' is INVALID_OWNER, GROUP
 * without a group INVALID_PRIMARY_GROUP; DACL without SE_DACL_PRESENT
 * stores a NULL DACL. Generic rights in effective (not inherit-only)
 * DACL ACEs are mapped to file rights, as Windows does.
 * SE_DACL_AUTO_INHERITED is kept only when the client also set
 * SE_DACL_AUTO_INHERIT_REQ; the _REQ bits are never stored;
 * SECINFO_PROTECTED_DACL / UNPROTECTED_DACL override SE_DACL_PROTECTED.
 * LABEL replaces only the mandatory-label ACEs of the SACL.
 * Memory for rewritten ACLs comes from 'mem'; 'out' may point into
 * 'cur' and 'in'.
 */
NTSTATUS smbd_sd_merge(TALLOC_CTX *mem, const struct smbd_sd *cur, const struct smbd_sd *in, uint32_t secinfo,
		       struct smbd_sd *out);

/*
 * The parts 'secinfo' asks for, as QUERY_INFO returns them (control bits
 * of parts not asked for are dropped; LABEL alone gives a SACL holding
 * only the mandatory-label ACEs).
 */
NTSTATUS smbd_sd_select(TALLOC_CTX *mem, const struct smbd_sd *full, uint32_t secinfo, struct smbd_sd *out);

/*
 * The inherited DACL of a new object (MS-DTYP 2.5.3.4, simplified to
 * what NTFS does for files): from the parent's DACL, ACEs with
 * OBJECT_INHERIT apply to files, CONTAINER_INHERIT to directories;
 * NO_PROPAGATE_INHERIT stops them at the child; CREATOR OWNER/GROUP
 * (S-1-3-0, S-1-3-1) and generic rights are replaced by the owner/group
 * and file rights in the effective ACE, the original being kept as an
 * INHERIT_ONLY ACE on directories that pass it on. INHERITED_ACE is set
 * and the child gets SE_DACL_AUTO_INHERITED only when the parent has
 * SE_DACL_AUTO_INHERITED (what Windows does; smbtorture
 * smb2.acls.INHERITFLAGS). *out gets only a DACL part; *any false
 * (and *out empty) when nothing is inherited.
 */
NTSTATUS smbd_sd_inherit(TALLOC_CTX *mem, const struct smbd_sd *parent, bool is_dir, const uint8_t *owner_sid,
			 size_t owner_len, const uint8_t *group_sid, size_t group_len, struct smbd_sd *out,
			 bool *any);

/* Fills the parts 'stored' lacks with the synthesized default. */
void smbd_sd_fill_default(TALLOC_CTX *mem, const struct smbd_sd *stored, uid_t uid, gid_t gid,
			  uint32_t everyone_access, struct smbd_sd *out);

/* Storage: the stored descriptor of fd (*out empty when none is stored). */
NTSTATUS smbd_sd_load(TALLOC_CTX *mem, int fd, struct smbd_sd *out);
/* Storage: replaces the stored descriptor of fd. */
NTSTATUS smbd_sd_store(int fd, const struct smbd_sd *sd);

/*
 * QUERY_INFO SMB2_0_INFO_SECURITY (MS-SMB2 3.3.5.20.3): appends the
 * requested parts to 'out' after the access checks (READ_CONTROL for
 * owner, group, DACL, label; ACCESS_SYSTEM_SECURITY for the SACL, which
 * no open holds, so ACCESS_DENIED, MS-SMB2 3.3.5.21.3 / MS-FSA).
 */
NTSTATUS smbd_security_desc_query(TALLOC_CTX *mem, int fd, uint32_t granted, uint32_t secinfo,
				  uint32_t everyone_access, struct wire_wr *out);

/*
 * SET_INFO SMB2_0_INFO_SECURITY (MS-SMB2 3.3.5.21.3, MS-FSA 2.1.5.17):
 * access checks on 'granted', validation, merge, store.
 */
NTSTATUS smbd_security_desc_set(int fd, uint32_t granted, uint32_t secinfo, const uint8_t *buf, size_t len);

/*
 * After CREATE made a new file or directory (fd open on it, rel its
 * share-relative path): stores the "SecD" create context's descriptor if
 * one was sent (already validated with smbd_sd_parse; the creator's
 * access does not matter, as on Windows) and the DACL inherited from the
 * parent directory's stored descriptor when the context brings none.
 */
NTSTATUS smbd_security_desc_on_create(struct vfs_share *vfs, const char *rel, int fd, bool is_dir,
				      const uint8_t *secd, size_t secd_len);

#endif
