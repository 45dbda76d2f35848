/*
 * Who a request acts as on the file system.
 *
 * The server runs as root; work done on behalf of a session that touches
 * names (open, create, rename, link) runs with the session's mapped Unix
 * identity as the thread's file-system ids (setfsuid/setfsgid and the
 * supplementary groups), so the kernel checks permissions and new files
 * belong to the user. Everything else runs as root: it acts on handles
 * whose access was checked when they were opened.
 *
 * The switch is per thread (raw syscalls: glibc's setgroups() would change
 * every thread), so a future I/O worker can take on a request's identity.
 * Switching back is cheap and idempotent; callers bracket the work with
 * smbd_become_user() ... smbd_become_root().
 */
#ifndef PORTHOS_SMBD_IDENTITY_H
#define PORTHOS_SMBD_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <talloc.h>

struct smbd_identity {
	uint64_t serial;  /* unique per object: what the per-thread cache compares */
	char *user;       /* the passdb name it was built for */
	uid_t uid;
	gid_t gid;
	gid_t *groups;    /* supplementary groups, primary included */
	size_t n_groups;
};

/*
 * The identity for a passdb user: its uid and gid, and the groups that
 * list the name as a member (getgrouplist). NULL on ENOMEM.
 */
struct smbd_identity *smbd_identity_new(TALLOC_CTX *mem, const char *user, uid_t uid, gid_t gid);

/*
 * The session's identity, built on first use and rebuilt when a
 * re-authentication changed the user. Anonymous and guest sessions act
 * as nobody (65534). NULL on ENOMEM.
 */
struct smbd_session;
const struct smbd_identity *smbd_session_identity(struct smbd_session *s);

/*
 * A copy for work that may outlive the session (a job on an I/O worker):
 * the same ids and groups, and the same serial, so a thread that is
 * already that user switches nothing. NULL on ENOMEM.
 */
struct smbd_identity *smbd_identity_copy(TALLOC_CTX *mem, const struct smbd_identity *id);

/* Whether the identity is in group 'gid' (primary or supplementary). */
bool smbd_identity_in_group(const struct smbd_identity *id, gid_t gid);

/*
 * Whether the process can switch identities at all (it runs as root).
 * When it cannot, every session acts as the server's own user; the
 * server logs that once at start.
 */
bool smbd_identity_can_switch(void);

/*
 * Takes on the identity for file-system access (root for uid 0). false if
 * the kernel refused: the caller must then refuse the request rather than
 * go on as root.
 */
bool smbd_become(const struct smbd_identity *id);
void smbd_become_root(void);

#endif
