/*
 * The security descriptor Porthos reports (MS-DTYP 2.4.6), until ACLs are
 * mapped: owner and group as Unix-identity SIDs (S-1-22-1-uid and
 * S-1-22-2-gid, the convention Samba uses so that Windows tools show
 * them consistently) and a DACL that grants what the share grants to Everyone.
 */
#ifndef PORTHOS_SMBD_SECURITY_DESC_H
#define PORTHOS_SMBD_SECURITY_DESC_H

#include <stdint.h>
#include <sys/types.h>

#include "lib/wire.h"

#define SECINFO_OWNER 0x00000001
#define SECINFO_GROUP 0x00000002
#define SECINFO_DACL 0x00000004
#define SECINFO_SACL 0x00000008

/* Appends a self-relative descriptor with the parts 'secinfo' asks for. */
void smbd_security_desc_encode(struct wire_wr *w, uint32_t secinfo, uid_t uid, gid_t gid, uint32_t everyone_access);

#endif
