#include "config.h"
#include "smbd/share_access.h"

#include <errno.h>
#include <grp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <strings.h>
#include <unistd.h>

#include "conf/conf.h"
#include "lib/log.h"
#include "smbd/identity.h"
#include "smbd/session.h"

/* getgrnam_r's buffer: enough for any group with a sane member list. */
#define GROUP_BUF_MAX (1024 * 1024)

/* Resolves a group name to its gid through NSS; false if unknown. */
static bool group_gid(const char *name, gid_t *out)
{
	size_t len = 16384;
	for (;;) {
		char *buf = malloc(len);
		if (buf == NULL)
			return false;
		struct group gr, *res = NULL;
		int rc = getgrnam_r(name, &gr, buf, len, &res);
		if (rc == 0 && res != NULL)
			*out = gr.gr_gid;
		free(buf);
		if (rc == ERANGE && len < GROUP_BUF_MAX) {
			len *= 2;
			continue;
		}
		return rc == 0 && res != NULL;
	}
}

/*
 * One list entry against the session: "name" (case-insensitive, as
 * Windows account names are) or "@group" / "+group" (Samba's spellings
 * for a Unix group).
 */
static bool entry_matches(const char *entry, struct smbd_session *s)
{
	if (entry[0] == '@' || entry[0] == '+') {
		const struct smbd_identity *id = smbd_session_identity(s);
		gid_t gid;
		if (id == NULL || !group_gid(entry + 1, &gid)) {
			LOG_DBG("group '%s' in an access list does not resolve", entry + 1);
			return false;
		}
		return smbd_identity_in_group(id, gid);
	}
	return s->user != NULL && strcasecmp(entry, s->user) == 0;
}

static bool listed(const struct conf_name_list *l, struct smbd_session *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (entry_matches(l->v[i], s))
			return true;
	return false;
}

enum smbd_share_grant smbd_share_access(const struct share_config *sc, struct smbd_session *s)
{
	if (s->anonymous || s->guest) {
		if (!sc->guest_ok)
			return SMBD_SHARE_DENIED;
		return sc->read_only ? SMBD_SHARE_READ : SMBD_SHARE_WRITE;
	}
	if (listed(&sc->invalid_users, s))
		return SMBD_SHARE_DENIED;
	if (sc->valid_users.n > 0 && !listed(&sc->valid_users, s))
		return SMBD_SHARE_DENIED;
	bool read_only = sc->read_only;
	if (listed(&sc->read_list, s))
		read_only = true;
	if (listed(&sc->write_list, s))
		read_only = false;
	return read_only ? SMBD_SHARE_READ : SMBD_SHARE_WRITE;
}
