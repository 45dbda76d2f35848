/*
 * Who may use a share, and how: "valid users", "invalid users",
 * "read list" and "write list" against the session's user and groups,
 * with Samba's precedence so a Samba admin's lists mean the same here.
 */
#ifndef PORTHOS_SMBD_SHARE_ACCESS_H
#define PORTHOS_SMBD_SHARE_ACCESS_H

struct share_config;
struct smbd_session;

enum smbd_share_grant {
	SMBD_SHARE_DENIED,
	SMBD_SHARE_READ,
	SMBD_SHARE_WRITE,
};

/*
 * Anonymous and guest sessions get in only where "guest ok" (read-only
 * unless the share is writable). Otherwise: a user in "invalid users" is
 * refused; with "valid users" set, only those listed get in; then the
 * share's "read only", overridden by "read list" (read only) and then by
 * "write list" (writable), in that order.
 */
enum smbd_share_grant smbd_share_access(const struct share_config *sc, struct smbd_session *s);

#endif
