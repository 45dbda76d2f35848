/* Changes around the server break directory leases (smbd/dir_lease_watch.h). */
#include "config.h"
#include "smbd/dir_lease_watch.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/statfs.h>
#include <talloc.h>
#include <unistd.h>

#include "lib/dlist.h"
#include "lib/log.h"
#include "smbd/control.h"
#include "smbd/lease.h"
#include "smbd/loop.h"
#include "smbd/server.h"

/* What changes a listing: entries (directories too: FAN_ONDIR) created,
 * deleted, renamed in or out, their attributes or times set, a file
 * closed after writing (Windows breaks at that CLOSE, not at each WRITE). */
#define WATCH_MASK \
	(FAN_CREATE | FAN_DELETE | FAN_MOVED_FROM | FAN_MOVED_TO | FAN_ATTRIB | FAN_CLOSE_WRITE | FAN_ONDIR | \
	 FAN_EVENT_ON_CHILD)

/* One watched directory, as fanotify names it in events: its file system
 * id and file handle. */
struct watched {
	struct watched *prev, *next;
	dev_t dev;
	ino_t ino;
	unsigned refs;
	int fd; /* O_PATH: what the mark is removed through */
	unsigned char fsid[8];
	unsigned handle_len; /* of handle: struct file_handle and its bytes */
	unsigned char handle[sizeof(struct file_handle) + MAX_HANDLE_SZ];
};

struct smbd_dir_watch {
	struct smbd_server *srv;
	int fd; /* -1: fanotify is not available */
	struct event *ev;
	struct watched *dirs;
	pid_t self;
};

/* What fd names, as a path: fanotify_mark() takes no O_PATH fd itself. */
static void fd_path(int fd, char *path, size_t len)
{
	snprintf(path, len, "/proc/self/fd/%d", fd);
}

static int watched_destructor(struct watched *d)
{
	if (d->fd >= 0)
		close(d->fd);
	return 0;
}

static struct watched *find(struct smbd_dir_watch *w, dev_t dev, ino_t ino)
{
	for (struct watched *d = w->dirs; d != NULL; d = d->next)
		if (d->dev == dev && d->ino == ino)
			return d;
	return NULL;
}

/*
 * The directory an event's info records name (the parent of the entry).
 * Events carry names, so they and their records are not aligned: read
 * through copies.
 */
static struct watched *named(struct smbd_dir_watch *w, const unsigned char *ev, size_t metadata_len,
			     size_t event_len)
{
	size_t off = metadata_len;
	while (off + sizeof(struct fanotify_event_info_header) <= event_len) {
		struct fanotify_event_info_header h;
		memcpy(&h, ev + off, sizeof(h));
		if (h.len < sizeof(h) || off + h.len > event_len)
			return NULL;
		size_t fh_at = off + sizeof(struct fanotify_event_info_fid);
		if ((h.info_type == FAN_EVENT_INFO_TYPE_DFID_NAME || h.info_type == FAN_EVENT_INFO_TYPE_DFID ||
		     h.info_type == FAN_EVENT_INFO_TYPE_FID) &&
		    fh_at + sizeof(struct file_handle) <= off + h.len) {
			uint32_t handle_bytes;
			memcpy(&handle_bytes, ev + fh_at + offsetof(struct file_handle, handle_bytes),
			       sizeof(handle_bytes));
			size_t len = sizeof(struct file_handle) + handle_bytes;
			if (fh_at + len > off + h.len)
				return NULL;
			const unsigned char *fsid = ev + off + offsetof(struct fanotify_event_info_fid, fsid);
			for (struct watched *d = w->dirs; d != NULL; d = d->next)
				if (d->handle_len == len && memcmp(d->handle, ev + fh_at, len) == 0 &&
				    memcmp(d->fsid, fsid, sizeof(d->fsid)) == 0)
					return d;
			return NULL;
		}
		off += h.len;
	}
	return NULL;
}

static void break_all(struct smbd_dir_watch *w)
{
	for (struct watched *d = w->dirs; d != NULL; d = d->next)
		smbd_lease_break_listing(w->srv, d->dev, d->ino, NULL);
}

static void read_events(int fd, struct smbd_dir_watch *w)
{
	unsigned char buf[8192];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		size_t off = 0;
		struct fanotify_event_metadata m;
		while (off + sizeof(m) <= (size_t)n) {
			memcpy(&m, buf + off, sizeof(m));
			if (m.vers != FANOTIFY_METADATA_VERSION || m.event_len < sizeof(m) ||
			    off + m.event_len > (size_t)n || m.metadata_len > m.event_len)
				return;
			if (m.mask & FAN_Q_OVERFLOW) {
				/* Changes were lost: every watched listing may be stale. */
				break_all(w);
			} else if (m.pid != w->self) { /* the server's own: broken where made (dir_lease.h) */
				struct watched *d = named(w, buf + off, m.metadata_len, m.event_len);
				if (d != NULL)
					smbd_lease_break_listing(w->srv, d->dev, d->ino, NULL);
			}
			off += m.event_len;
		}
	}
}

static void events_cb(evutil_socket_t fd, short what, void *arg)
{
	smbd_control_enter();
	read_events(fd, arg);
	smbd_control_leave();
}

static int watch_destructor(struct smbd_dir_watch *w)
{
	w->srv->dir_watch = NULL; /* leases freed after it find nothing to remove */
	if (w->ev != NULL)
		event_free(w->ev);
	if (w->fd >= 0)
		close(w->fd);
	return 0;
}

static struct smbd_dir_watch *get(struct smbd_server *srv)
{
	/* Made at startup (smbd_dir_watch_setup); tried again only where its
	 * event may be added, on the server's loop. */
	if (srv->dir_watch != NULL || !smbd_loop_is_current(srv->loop))
		return srv->dir_watch;
	struct smbd_dir_watch *w = talloc_zero(srv, struct smbd_dir_watch);
	if (w == NULL)
		return NULL;
	w->srv = srv;
	w->self = getpid();
	talloc_set_destructor(w, watch_destructor);
	w->fd = fanotify_init(FAN_CLASS_NOTIF | FAN_REPORT_DFID_NAME | FAN_NONBLOCK | FAN_CLOEXEC, O_RDONLY);
	if (w->fd < 0) {
		LOG_WARN("fanotify: %s: directory leases do not see changes made around the server", strerror(errno));
	} else if ((w->ev = event_new(srv->loop->ev, w->fd, EV_READ | EV_PERSIST, events_cb, w)) == NULL ||
		   event_add(w->ev, NULL) != 0) {
		talloc_free(w);
		return NULL;
	}
	srv->dir_watch = w;
	return w;
}

void smbd_dir_watch_setup(struct smbd_server *srv)
{
	(void)get(srv); /* without fanotify, said once: leases then see only the server's own changes */
}

bool smbd_dir_watch_add(struct smbd_server *srv, int dir_fd, dev_t dev, ino_t ino, bool *held)
{
	*held = false;
	struct smbd_dir_watch *w = get(srv);
	if (w == NULL)
		return false;
	if (w->fd < 0)
		return true; /* said once, at get() */
	struct watched *d = find(w, dev, ino);
	if (d != NULL) {
		d->refs++;
		*held = true;
		return true;
	}
	d = talloc_zero(w, struct watched);
	if (d == NULL)
		return false;
	d->fd = -1;
	talloc_set_destructor(d, watched_destructor);
	char path[64];
	fd_path(dir_fd, path, sizeof(path));
	struct file_handle *fh = (struct file_handle *)d->handle;
	fh->handle_bytes = MAX_HANDLE_SZ;
	int mount_id;
	struct statfs sf;
	if ((d->fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    name_to_handle_at(d->fd, "", fh, &mount_id, AT_EMPTY_PATH) != 0 || fstatfs(d->fd, &sf) != 0) {
		LOG_INFO("directory lease not granted: cannot name the directory for fanotify: %s", strerror(errno));
		talloc_free(d);
		return false;
	}
	memcpy(d->fsid, &sf.f_fsid, sizeof(d->fsid));
	d->handle_len = (unsigned)(sizeof(*fh) + fh->handle_bytes);
	fd_path(d->fd, path, sizeof(path));
	if (fanotify_mark(w->fd, FAN_MARK_ADD, WATCH_MASK, AT_FDCWD, path) != 0) {
		LOG_INFO("directory lease not granted: fanotify_mark: %s", strerror(errno));
		talloc_free(d);
		return false;
	}
	d->dev = dev;
	d->ino = ino;
	d->refs = 1;
	DLIST_PUSH_FRONT(w->dirs, d, prev, next);
	*held = true;
	return true;
}

void smbd_dir_watch_remove(struct smbd_server *srv, dev_t dev, ino_t ino)
{
	struct smbd_dir_watch *w = srv->dir_watch;
	struct watched *d = w != NULL ? find(w, dev, ino) : NULL;
	if (d == NULL || --d->refs > 0)
		return;
	char path[64];
	fd_path(d->fd, path, sizeof(path));
	/* Fails harmlessly for a directory since deleted: its mark went with it. */
	fanotify_mark(w->fd, FAN_MARK_REMOVE, WATCH_MASK, AT_FDCWD, path);
	DLIST_REMOVE(w->dirs, d, prev, next);
	talloc_free(d);
}
