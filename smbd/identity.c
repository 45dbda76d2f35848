#include "config.h"
#include "smbd/identity.h"

#include <grp.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/log.h"
#include "smbd/session.h"

/* Debian's nobody/nogroup: what anonymous and guest sessions act as. */
#define IDENTITY_NOBODY 65534

/* Enough for any real account; getgrouplist() tells us if it is not. */
#define IDENTITY_MAX_GROUPS 1024

static atomic_uint_fast64_t identity_serial;

/* What this thread's file-system ids are now: 0 = root (the start state). */
static __thread uint64_t current_serial;

struct smbd_identity *smbd_identity_new(TALLOC_CTX *mem, const char *user, uid_t uid, gid_t gid)
{
	struct smbd_identity *id = talloc_zero(mem, struct smbd_identity);
	if (id == NULL)
		return NULL;
	id->serial = atomic_fetch_add(&identity_serial, 1) + 1;
	id->uid = uid;
	id->gid = gid;
	id->user = talloc_strdup(id, user);
	if (id->user == NULL) {
		talloc_free(id);
		return NULL;
	}
	int n = 16;
	for (;;) {
		gid_t *g = talloc_realloc(id, id->groups, gid_t, n);
		if (g == NULL) {
			talloc_free(id);
			return NULL;
		}
		id->groups = g;
		int want = n;
		if (getgrouplist(user, gid, g, &want) >= 0) {
			id->n_groups = (size_t)want;
			break;
		}
		if (want <= n || want > IDENTITY_MAX_GROUPS) {
			/* Only the primary group: NSS failed or the list is absurd. */
			LOG_WARN("groups of '%s' not resolved; using gid %u only", user, (unsigned)gid);
			g[0] = gid;
			id->n_groups = 1;
			break;
		}
		n = want;
	}
	return id;
}

const struct smbd_identity *smbd_session_identity(struct smbd_session *s)
{
	bool nobody = s->anonymous || s->guest;
	uid_t uid = nobody ? IDENTITY_NOBODY : s->uid;
	gid_t gid = nobody ? IDENTITY_NOBODY : s->gid;
	const char *user = nobody || s->user == NULL ? "nobody" : s->user;
	struct smbd_identity *id = s->identity;
	if (id != NULL && id->uid == uid && id->gid == gid && strcmp(id->user, user) == 0)
		return id;
	TALLOC_FREE(s->identity);
	s->identity = smbd_identity_new(s, user, uid, gid);
	return s->identity;
}

struct smbd_identity *smbd_identity_copy(TALLOC_CTX *mem, const struct smbd_identity *id)
{
	struct smbd_identity *c = talloc_zero(mem, struct smbd_identity);
	if (c == NULL)
		return NULL;
	*c = (struct smbd_identity){ .serial = id->serial, .uid = id->uid, .gid = id->gid, .n_groups = id->n_groups };
	c->user = talloc_strdup(c, id->user);
	c->groups = talloc_memdup(c, id->groups, id->n_groups * sizeof(*id->groups));
	if (c->user == NULL || (id->n_groups > 0 && c->groups == NULL)) {
		talloc_free(c);
		return NULL;
	}
	return c;
}

bool smbd_identity_in_group(const struct smbd_identity *id, gid_t gid)
{
	if (id->gid == gid)
		return true;
	for (size_t i = 0; i < id->n_groups; i++)
		if (id->groups[i] == gid)
			return true;
	return false;
}

bool smbd_identity_can_switch(void)
{
	return geteuid() == 0;
}

/*
 * setfsuid() reports no error; asking again with an invalid id returns
 * the current one, which proves the switch took.
 */
static bool set_fs_ids(uid_t uid, gid_t gid, size_t n_groups, const gid_t *groups)
{
	if (syscall(SYS_setgroups, n_groups, groups) != 0)
		return false;
	setfsgid(gid);
	setfsuid(uid);
	return (uid_t)setfsuid((uid_t)-1) == uid && (gid_t)setfsgid((gid_t)-1) == gid;
}

bool smbd_become(const struct smbd_identity *id)
{
	if (!smbd_identity_can_switch())
		return true; /* every session acts as the server's user */
	if (id == NULL || id->uid == 0) {
		smbd_become_root();
		return true;
	}
	if (current_serial == id->serial)
		return true;
	if (!set_fs_ids(id->uid, id->gid, id->n_groups, id->groups)) {
		LOG_ERR("cannot take on uid %u gid %u: %m", (unsigned)id->uid, (unsigned)id->gid);
		smbd_become_root();
		return false;
	}
	current_serial = id->serial;
	return true;
}

void smbd_become_root(void)
{
	if (current_serial == 0 || !smbd_identity_can_switch())
		return;
	/* Going back to root cannot fail for a root process; if it did,
	 * staying as the user is the safe direction. */
	if (!set_fs_ids(0, 0, 0, NULL))
		LOG_ERR("cannot return to root file-system ids: %m");
	current_serial = 0;
}
