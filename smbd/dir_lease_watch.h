/*
 * Changes made to a leased directory around the server (a local program,
 * a backup tool, an administrator's shell) break its leases too, as
 * changes made through the server do (dir_lease.h): a fanotify mark on
 * each leased directory reports entries created, deleted, renamed in or
 * out, their attributes changed, or a file closed after writing, with the
 * process that did it. The server's own changes are ignored there: they
 * break leases where they are made, sparing the lease a CREATE names as
 * its parent, which a later event could not tell.
 *
 * fanotify needs CAP_SYS_ADMIN: without it (a server not run as root),
 * directory leases are granted as before and such changes go unseen, which
 * the log says once. A directory that cannot be marked (the marks limit,
 * fs.fanotify.max_user_marks) gets no directory lease. Changes made on
 * another node of a cluster are not seen here.
 */
#ifndef PORTHOS_SMBD_DIR_LEASE_WATCH_H
#define PORTHOS_SMBD_DIR_LEASE_WATCH_H

#include <stdbool.h>
#include <sys/types.h>

struct smbd_server;

/* The fanotify descriptor and its event, on the server's loop, at startup. */
void smbd_dir_watch_setup(struct smbd_server *srv);

/* Watches directory (dev, ino), open as dir_fd, for one more lease: false
 * if it cannot be watched though fanotify works (the lease then caches
 * nothing); *held says whether the lease took a reference, to give back
 * with smbd_dir_watch_remove(). */
bool smbd_dir_watch_add(struct smbd_server *srv, int dir_fd, dev_t dev, ino_t ino, bool *held);
/* A lease that held (dev, ino) lets go: the last one removes the mark. */
void smbd_dir_watch_remove(struct smbd_server *srv, dev_t dev, ino_t ino);

#endif
