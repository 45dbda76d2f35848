/*
 * Tree connects (MS-SMB2 3.3.1.10), children of their session.
 */
#ifndef PORTHOS_SMBD_TCON_H
#define PORTHOS_SMBD_TCON_H

#include <stdbool.h>
#include <stdint.h>

struct smbd_session;
struct smbd_share;

struct smbd_tcon {
	struct smbd_session *session;
	uint32_t id;
	struct smbd_share *share;
	uint32_t maximal_access;
	bool read_only;
	bool encrypt;            /* requests on this tree must be encrypted */
};

struct smbd_tcon *smbd_tcon_new(struct smbd_session *s, struct smbd_share *share);
struct smbd_tcon *smbd_tcon_find(struct smbd_session *s, uint32_t id);
/*
 * Closes the tree's opens and frees it. keep_durable: durable opens stay
 * for their client to take back (smbd/durable.h), as when a session ends
 * however it ends; a TREE_DISCONNECT closes them (smbtorture
 * smb2.durable-open.reopen3 against reopen4, as on Windows).
 */
void smbd_tcon_destroy(struct smbd_tcon *t, bool keep_durable);

#endif
