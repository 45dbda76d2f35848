/*
 * Change notification on Linux inotify (see notify.h).
 *
 * One inotify fd serves the whole server. inotify gives one watch
 * descriptor per watched inode and per inotify fd, so two opens watching
 * the same directory share it: a struct notify_watch is that descriptor,
 * with the list of subscriptions (struct notify_sub: an open's notify
 * state plus the directory's path below the watched root) it fans out to.
 * Every watch uses the same mask, so adding one never narrows another's.
 *
 * A pending CHANGE_NOTIFY is a struct notify_waiter under its request.
 * As on Windows, the first change completes the oldest pending request
 * (a rename's two names go together); later changes queue on the open.
 * Completion always happens from the waiter's own event on a later loop
 * turn, never from inside the inotify read or from a CLOSE, so finishing a
 * request (which may run the rest of its compound) never re-enters this
 * module while it walks its lists. CANCEL and session/tree teardown are
 * the exception the framework requires: they finish the call at once.
 *
 * Watches are added through "/proc/self/fd/N" of an fd the server already
 * holds for exactly that directory (the open's own fd, or a subdirectory
 * opened from it one component at a time with O_NOFOLLOW), so no path is
 * ever resolved from the share root and nothing outside the watched tree
 * can be watched by a symlink trick.
 */
#include "config.h"
#include "smbd/notify.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <talloc.h>
#include <unistd.h>

#include "lib/dlist.h"
#include "lib/log.h"
#include "lib/unicode.h"
#include "smbd/conn.h"
#include "smbd/control.h"
#include "smbd/dispatch.h"
#include "smbd/loop.h"
#include "smbd/loop_post.h"
#include "smbd/open.h"
#include "smbd/server.h"
#include "smbd/smb2_proto.h"
#include "smbd/vfs.h"

/* Subdirectories watched for one WATCH_TREE open (each costs an inotify watch). */
#define NOTIFY_MAX_WATCHES 4096
/* Deepest subdirectory watched below the root of a WATCH_TREE open. */
#define NOTIFY_MAX_DEPTH 64
/* Changes queued on an open with no request pending, whatever the buffer size. */
#define NOTIFY_MAX_QUEUED 1000
/* Largest directory scanned for subdirectories when setting up WATCH_TREE. */
#define NOTIFY_MAX_DIR_ENTRIES (1u << 20)
#define WATCH_BUCKETS 256
#define READ_BUF_SIZE 65536

#define WATCH_MASK \
	(IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_MODIFY | IN_ATTRIB | IN_ONLYDIR | IN_EXCL_UNLINK)

/* MS-FSA 2.1.4.1: which filter bits each kind of change answers to. */
#define FILTER_MODIFY (FILE_NOTIFY_CHANGE_SIZE | FILE_NOTIFY_CHANGE_LAST_WRITE)
/* IN_ATTRIB covers chmod/chown, utimes and xattrs (DOS attributes, ACLs, EAs
 * and creation time all live in xattrs): it cannot tell them apart. */
#define FILTER_ATTRIB                                                                                    \
	(FILE_NOTIFY_CHANGE_ATTRIBUTES | FILE_NOTIFY_CHANGE_LAST_WRITE | FILE_NOTIFY_CHANGE_LAST_ACCESS | \
	 FILE_NOTIFY_CHANGE_CREATION | FILE_NOTIFY_CHANGE_EA | FILE_NOTIFY_CHANGE_SECURITY)

/* Windows follows a file's rename with a MODIFIED of the new name for these
 * (not a directory's); smb2.notify.mask-change expects it. */
#define FILTER_RENAMED_FILE (FILE_NOTIFY_CHANGE_ATTRIBUTES | FILE_NOTIFY_CHANGE_CREATION)

struct smbd_notify_ctx;
struct smbd_notify;

struct notify_watch {
	struct notify_watch *prev, *next; /* hash bucket */
	int wd;
	struct notify_sub *subs;
	/* The last named event, to fold the attribute change the server makes
	 * right after creating a file (its DOS attributes) into the create. */
	uint32_t last_mask;
	char last_name[NAME_MAX + 1];
};

struct notify_sub {
	struct notify_sub *w_prev, *w_next; /* watch->subs */
	struct notify_sub *n_prev, *n_next; /* notify->subs */
	struct notify_watch *watch;
	struct smbd_notify *n;
	char *prefix; /* Linux path below the watched root; "" for the root */
};

struct notify_waiter {
	/* Its completion, posted to the call's loop: a change is seen on
	 * whichever loop reads the events. First, so the post is the waiter. */
	struct smbd_post done;
	struct smbd_loop *loop;
	struct notify_waiter *prev, *next; /* n->waiters, while still waiting */
	struct smbd_notify *n;             /* NULL once it has its result */
	struct smb2_call *call;
	uint32_t limit; /* bytes of changes the reply may carry */
	bool ready;
	NTSTATUS status;
	struct smbd_notify_change *changes;
	size_t n_changes;
};

struct smbd_notify {
	struct smbd_notify *prev, *next; /* ctx->notifies */
	struct smbd_notify_ctx *ctx;
	struct smbd_open *o;
	uint32_t filter;
	bool recursive;
	uint32_t max_buffer; /* the first request's OutputBufferLength */
	bool subtree_capped; /* NOTIFY_MAX_WATCHES reached */
	bool root_gone;      /* the watched directory was deleted */
	struct notify_sub *subs;
	size_t n_subs;
	struct notify_waiter *waiters, *waiters_tail; /* oldest first */
	struct smbd_notify_change *queue;
	size_t n_queued;
	size_t queued_bytes;
	bool overflowed;
};

struct smbd_notify_ctx {
	struct smbd_server *srv;
	int fd;
	struct event *ev;
	struct notify_watch *buckets[WATCH_BUCKETS];
	struct smbd_notify *notifies;
	uint8_t *buf;
};

static void ctx_drain(struct smbd_notify_ctx *ctx);

/* --- watches and subscriptions ------------------------------------------ */

static unsigned bucket_of(int wd)
{
	return (unsigned)wd % WATCH_BUCKETS;
}

static struct notify_watch *watch_find(struct smbd_notify_ctx *ctx, int wd)
{
	for (struct notify_watch *w = ctx->buckets[bucket_of(wd)]; w; w = w->next)
		if (w->wd == wd)
			return w;
	return NULL;
}

static void watch_free(struct smbd_notify_ctx *ctx, struct notify_watch *w)
{
	unsigned b = bucket_of(w->wd);
	DLIST_REMOVE(ctx->buckets[b], w, prev, next);
	talloc_free(w);
}

/* Drops a subscription; the last one of a watch removes the watch, from
 * the kernel too unless the kernel already dropped it (rm_watch false). */
static void sub_free(struct notify_sub *s, bool rm_watch)
{
	struct smbd_notify *n = s->n;
	struct notify_watch *w = s->watch;
	DLIST_REMOVE(w->subs, s, w_prev, w_next);
	DLIST_REMOVE(n->subs, s, n_prev, n_next);
	n->n_subs--;
	if (w->subs == NULL && n->ctx != NULL) {
		if (rm_watch)
			inotify_rm_watch(n->ctx->fd, w->wd);
		watch_free(n->ctx, w);
	}
	talloc_free(s);
}

static NTSTATUS status_from_errno(int err)
{
	switch (err) {
	case ENOSPC: /* fs.inotify.max_user_watches */
		return NT_STATUS_INSUFF_SERVER_RESOURCES;
	case ENOMEM:
		return NT_STATUS_NO_MEMORY;
	case EACCES:
		return NT_STATUS_ACCESS_DENIED;
	case ENOENT:
		return NT_STATUS_DELETE_PENDING;
	default:
		return NT_STATUS_UNSUCCESSFUL;
	}
}

/* Watches the directory held by dir_fd for n, as 'prefix' below its root. */
static NTSTATUS sub_add(struct smbd_notify *n, int dir_fd, const char *prefix)
{
	struct smbd_notify_ctx *ctx = n->ctx;
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", dir_fd);
	int wd = inotify_add_watch(ctx->fd, path, WATCH_MASK);
	if (wd < 0) {
		int err = errno;
		LOG_INFO("inotify_add_watch on %s/%s: %s", n->o->rel_path, prefix, strerror(err));
		return status_from_errno(err);
	}
	struct notify_watch *w = watch_find(ctx, wd);
	if (w == NULL) {
		w = talloc_zero(ctx, struct notify_watch);
		if (w == NULL) {
			inotify_rm_watch(ctx->fd, wd);
			return NT_STATUS_NO_MEMORY;
		}
		w->wd = wd;
		unsigned b = bucket_of(wd);
		DLIST_PUSH_FRONT(ctx->buckets[b], w, prev, next);
	}
	/* The same directory reached again (it moved within the tree): one
	 * subscription, under its newest name. */
	for (struct notify_sub *s = w->subs; s; s = s->w_next) {
		if (s->n == n) {
			char *p = talloc_strdup(s, prefix);
			if (p == NULL)
				return NT_STATUS_NO_MEMORY;
			talloc_free(s->prefix);
			s->prefix = p;
			return NT_STATUS_OK;
		}
	}
	struct notify_sub *s = talloc_zero(n, struct notify_sub);
	if (s == NULL || (s->prefix = talloc_strdup(s, prefix)) == NULL) {
		talloc_free(s);
		if (w->subs == NULL) {
			inotify_rm_watch(ctx->fd, wd);
			watch_free(ctx, w);
		}
		return NT_STATUS_NO_MEMORY;
	}
	s->watch = w;
	s->n = n;
	DLIST_PUSH_FRONT(w->subs, s, w_prev, w_next);
	DLIST_PUSH_FRONT(n->subs, s, n_prev, n_next);
	n->n_subs++;
	return NT_STATUS_OK;
}

/* One component below dir_fd, never following a symlink: the result is
 * always a real directory inside the watched tree. -1 if not. */
static int open_subdir(int dir_fd, const char *name)
{
	int fd = openat(dir_fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISDIR(st.st_mode)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The directory 'rel' (a Linux path below the open), walked from the open's fd. */
static int open_rel(struct smbd_notify *n, const char *rel)
{
	char buf[PATH_MAX];
	if (strlen(rel) >= sizeof(buf))
		return -1;
	strcpy(buf, rel);
	int fd = -1;
	char *save = NULL;
	for (char *c = strtok_r(buf, "/", &save); c != NULL; c = strtok_r(NULL, "/", &save)) {
		int next = open_subdir(fd < 0 ? n->o->fd : fd, c);
		if (fd >= 0)
			close(fd);
		if (next < 0)
			return -1;
		fd = next;
	}
	return fd;
}

static char *join(TALLOC_CTX *mem, const char *prefix, const char *name)
{
	return *prefix ? talloc_asprintf(mem, "%s/%s", prefix, name) : talloc_strdup(mem, name);
}

/* WATCH_TREE: watches every subdirectory below dir_fd, bounded in number and depth. */
static void scan_tree(struct smbd_notify *n, int dir_fd, const char *prefix, unsigned depth)
{
	if (depth >= NOTIFY_MAX_DEPTH)
		return;
	TALLOC_CTX *tmp = talloc_new(n);
	struct vfs_listing *l = NULL;
	if (tmp == NULL || !NT_STATUS_IS_OK(vfs_list_dir(tmp, dir_fd, NOTIFY_MAX_DIR_ENTRIES, &l))) {
		talloc_free(tmp);
		return;
	}
	const struct vfs_dirent *ents = l->ents;
	for (size_t i = 0; i < l->n; i++) {
		if (!S_ISDIR(ents[i].st.st_mode))
			continue;
		if (n->n_subs >= NOTIFY_MAX_WATCHES) {
			if (!n->subtree_capped)
				LOG_INFO("%s: more than %d directories below, the rest are not watched", n->o->rel_path,
					 NOTIFY_MAX_WATCHES);
			n->subtree_capped = true;
			break;
		}
		int fd = open_subdir(dir_fd, ents[i].name);
		if (fd < 0)
			continue; /* a symlink, or gone */
		char *rel = join(tmp, prefix, ents[i].name);
		if (rel != NULL && NT_STATUS_IS_OK(sub_add(n, fd, rel)))
			scan_tree(n, fd, rel, depth + 1);
		close(fd);
	}
	talloc_free(tmp);
}

/* A directory appeared at 'rel' in a WATCH_TREE open: watch it and below. */
static void add_subtree(struct smbd_notify *n, const char *rel)
{
	if (n->n_subs >= NOTIFY_MAX_WATCHES)
		return;
	unsigned depth = 1;
	for (const char *p = rel; *p; p++)
		depth += *p == '/';
	if (depth > NOTIFY_MAX_DEPTH)
		return;
	int fd = open_rel(n, rel);
	if (fd < 0)
		return;
	if (NT_STATUS_IS_OK(sub_add(n, fd, rel)))
		scan_tree(n, fd, rel, depth);
	close(fd);
}

static bool is_below(const char *prefix, const char *rel)
{
	size_t l = strlen(rel);
	return strncmp(prefix, rel, l) == 0 && (prefix[l] == '\0' || prefix[l] == '/');
}

/* A directory left the tree: its subscriptions (and those below) go. */
static void forget_subtree(struct smbd_notify *n, const char *rel)
{
	struct notify_sub *s = n->subs;
	while (s != NULL) {
		struct notify_sub *next = s->n_next;
		if (is_below(s->prefix, rel))
			sub_free(s, true);
		s = next;
	}
}

/* A directory moved within the tree: names below it change. */
static void rename_subtree(struct smbd_notify *n, const char *from, const char *to)
{
	size_t l = strlen(from);
	for (struct notify_sub *s = n->subs; s; s = s->n_next) {
		if (!is_below(s->prefix, from))
			continue;
		char *p = talloc_asprintf(s, "%s%s", to, s->prefix + l);
		if (p == NULL)
			continue;
		talloc_free(s->prefix);
		s->prefix = p;
	}
}

/* --- waiters ------------------------------------------------------------ */

static void waiter_unlink(struct notify_waiter *w)
{
	struct smbd_notify *n = w->n;
	if (n == NULL)
		return;
	DLIST_REMOVE_TAIL(n->waiters, n->waiters_tail, w, prev, next);
	w->n = NULL;
}

static int waiter_destructor(struct notify_waiter *w)
{
	waiter_unlink(w);
	smbd_unpost(w->loop->posts, &w->done);
	return 0;
}

static void waiter_done_cb(struct smbd_post *post);

/* The waiter has its answer: it goes out on the call's loop, on a later turn. */
static void waiter_ready(struct notify_waiter *w, NTSTATUS status, const struct smbd_notify_change *changes,
			 size_t count)
{
	waiter_unlink(w);
	w->ready = true;
	w->status = status;
	if (count > 0) {
		w->changes = talloc_array(w, struct smbd_notify_change, count);
		for (size_t i = 0; w->changes && i < count; i++) {
			w->changes[i].action = changes[i].action;
			w->changes[i].name = talloc_strdup(w->changes, changes[i].name);
			if (w->changes[i].name == NULL)
				w->changes = NULL; /* freed with w */
		}
		if (w->changes == NULL)
			w->status = NT_STATUS_NOTIFY_ENUM_DIR; /* the change is lost: say so */
		else
			w->n_changes = count;
	}
	smbd_post(w->loop->posts, &w->done, waiter_done_cb);
}

static void waiter_complete(struct notify_waiter *w)
{
	struct smb2_call *call = w->call;
	NTSTATUS status = w->status;
	if (NT_STATUS_IS_OK(status))
		status = smb2_notify_encode(call, w->changes, w->n_changes, w->limit);
	else if (!NT_STATUS_IS_ERR(status))
		smb2_notify_encode_empty(call); /* NOTIFY_ENUM_DIR, NOTIFY_CLEANUP */
	call->async_state = NULL;
	talloc_free(w);
	smbd_call_async_done(call, status);
}

static void waiter_done_cb(struct smbd_post *post)
{
	smbd_control_enter();
	waiter_complete((struct notify_waiter *)post); /* done comes first */
	smbd_control_leave();
}

/* Whether a CANCEL naming this call is being processed (the framework calls
 * cancel_fn for CANCEL and for session/tree teardown alike; the request with
 * the CANCEL is in conn->requests while it runs). */
static bool cancel_requested(const struct smb2_call *call)
{
	for (const struct smbd_req *r = call->req->conn->requests; r; r = r->next) {
		for (size_t i = 0; i < r->n_calls; i++) {
			const struct smb2_call *c = &r->calls[i];
			if (c->command != SMB2_CANCEL)
				continue;
			if ((c->flags & SMB2_FLAGS_ASYNC_COMMAND) ? c->async_id == call->async_id
								 : c->message_id == call->message_id)
				return true;
		}
	}
	return false;
}

static void waiter_cancel(struct smb2_call *call)
{
	struct notify_waiter *w = call->async_state;
	if (w->ready) {
		/* The answer was about to go out: it goes now. */
		waiter_complete(w);
		return;
	}
	/* MS-SMB2 3.3.5.16: CANCELLED. A tree disconnect or logoff closes the
	 * open, which completes with NOTIFY_CLEANUP (as Windows does). */
	waiter_ready(w, cancel_requested(call) ? NT_STATUS_CANCELLED : NT_STATUS_NOTIFY_CLEANUP, NULL, 0);
	waiter_complete(w);
}

/* --- changes ------------------------------------------------------------ */

static size_t entry_bytes(const char *name)
{
	size_t l = utf8_utf16le_len(name);
	if (l == SIZE_MAX)
		return 0;
	return (12 + l + 3) & ~(size_t)3;
}

static void queue_clear(struct smbd_notify *n)
{
	TALLOC_FREE(n->queue);
	n->n_queued = 0;
	n->queued_bytes = 0;
}

static void overflow(struct smbd_notify *n)
{
	queue_clear(n);
	if (n->waiters != NULL)
		waiter_ready(n->waiters, NT_STATUS_NOTIFY_ENUM_DIR, NULL, 0);
	else
		n->overflowed = true;
}

/* Changes for n: to the oldest pending request, else to the queue. */
static void deliver(struct smbd_notify *n, const struct smbd_notify_change *changes, size_t count)
{
	if (n->waiters != NULL) {
		waiter_ready(n->waiters, NT_STATUS_OK, changes, count);
		return;
	}
	if (n->overflowed)
		return;
	/* A file written in several pieces is one MODIFIED in the queue. */
	if (count == 1 && n->n_queued > 0 && changes[0].action == FILE_ACTION_MODIFIED) {
		const struct smbd_notify_change *last = &n->queue[n->n_queued - 1];
		if (last->action == FILE_ACTION_MODIFIED && strcmp(last->name, changes[0].name) == 0)
			return;
	}
	size_t bytes = 0;
	for (size_t i = 0; i < count; i++)
		bytes += entry_bytes(changes[i].name);
	if (n->n_queued + count > NOTIFY_MAX_QUEUED || n->queued_bytes + bytes > n->max_buffer) {
		overflow(n);
		return;
	}
	struct smbd_notify_change *q = talloc_realloc(n, n->queue, struct smbd_notify_change, n->n_queued + count);
	if (q == NULL) {
		overflow(n);
		return;
	}
	n->queue = q;
	for (size_t i = 0; i < count; i++) {
		q[n->n_queued].action = changes[i].action;
		q[n->n_queued].name = talloc_strdup(q, changes[i].name);
		if (q[n->n_queued].name == NULL) {
			overflow(n);
			return;
		}
		n->n_queued++;
	}
	n->queued_bytes += bytes;
}

/* The name a change has for sub's open: relative to its root, '\' separated. */
static char *smb_name(TALLOC_CTX *mem, const struct notify_sub *s, const char *name)
{
	char *full = join(mem, s->prefix, name);
	for (char *p = full; p && *p; p++)
		if (*p == '/')
			*p = '\\';
	return full;
}

static void report(struct notify_sub *s, uint32_t action, uint32_t filter, const char *name)
{
	struct smbd_notify *n = s->n;
	if (!(n->filter & filter))
		return;
	struct smbd_notify_change c = { action, smb_name(n, s, name) };
	if (c.name != NULL)
		deliver(n, &c, 1);
	talloc_free(c.name);
}

static void report_rename(struct notify_sub *s, uint32_t filter, const char *from, const char *to)
{
	struct smbd_notify *n = s->n;
	if (!(n->filter & filter))
		return;
	struct smbd_notify_change c[2] = {
		{ FILE_ACTION_RENAMED_OLD_NAME, smb_name(n, s, from) },
		{ FILE_ACTION_RENAMED_NEW_NAME, smb_name(n, s, to) },
	};
	if (c[0].name != NULL && c[1].name != NULL)
		deliver(n, c, 2);
	talloc_free(c[0].name);
	talloc_free(c[1].name);
}

/* Keeps a WATCH_TREE open's subdirectory watches in step with the tree. */
static void track_dir(struct notify_sub *s, uint32_t mask, const char *name, const char *to)
{
	struct smbd_notify *n = s->n;
	if (!n->recursive)
		return;
	char *rel = join(n, s->prefix, name);
	char *rel_to = to ? join(n, s->prefix, to) : NULL;
	if (rel == NULL || (to && rel_to == NULL)) {
		/* fall through with what we have: nothing */
	} else if (to) {
		rename_subtree(n, rel, rel_to);
	} else if (mask & (IN_CREATE | IN_MOVED_TO)) {
		add_subtree(n, rel);
	} else if (mask & IN_MOVED_FROM) {
		forget_subtree(n, rel);
	}
	talloc_free(rel);
	talloc_free(rel_to);
}

/* The watched directory itself is gone (deleted by someone else). */
static void watch_gone(struct smbd_notify_ctx *ctx, struct notify_watch *w)
{
	while (w->subs != NULL) {
		struct notify_sub *s = w->subs;
		struct smbd_notify *n = s->n;
		bool root = s->prefix[0] == '\0';
		/* The last sub frees w: stop looking at it then. */
		bool last = s->w_next == NULL;
		sub_free(s, false);
		if (root) {
			n->root_gone = true;
			queue_clear(n);
			while (n->waiters != NULL)
				waiter_ready(n->waiters, NT_STATUS_DELETE_PENDING, NULL, 0);
		}
		if (last)
			return;
	}
	watch_free(ctx, w);
}

static void handle_event(struct smbd_notify_ctx *ctx, const struct inotify_event *ev,
			 const struct inotify_event *next, bool *used_next)
{
	struct notify_watch *w = watch_find(ctx, ev->wd);
	if (w == NULL)
		return; /* removed by us; the kernel's events for it still trickle in */
	if (ev->mask & IN_IGNORED) {
		watch_gone(ctx, w);
		return;
	}
	/* Events about the watched directory itself carry no name: its parent
	 * reports them (Windows reports a change in the parent's listing). */
	if (ev->len == 0 || ev->name[0] == '\0')
		return;
	const char *name = ev->name;
	uint32_t name_filter = (ev->mask & IN_ISDIR) ? FILE_NOTIFY_CHANGE_DIR_NAME : FILE_NOTIFY_CHANGE_FILE_NAME;
	bool isdir = (ev->mask & IN_ISDIR) != 0;

	bool fold = (ev->mask & IN_ATTRIB) && (w->last_mask & (IN_CREATE | IN_MODIFY)) &&
		    strcmp(w->last_name, name) == 0;
	w->last_mask = fold ? 0 : ev->mask;
	snprintf(w->last_name, sizeof(w->last_name), "%s", name);
	if (fold)
		return;

	/* MS-FSA 2.1.5.14.11: a rename within one directory is
	 * RENAMED_OLD_NAME + RENAMED_NEW_NAME; a move between directories is
	 * REMOVED from one and ADDED to the other. */
	const char *to = NULL;
	if ((ev->mask & IN_MOVED_FROM) && next != NULL && (next->mask & IN_MOVED_TO) && next->cookie == ev->cookie &&
	    next->wd == ev->wd && next->len > 0) {
		to = next->name;
		*used_next = true;
	}
	struct notify_sub *s = w->subs;
	while (s != NULL) {
		/* Reporting never frees s or w; track_dir touches only other
		 * watches (a directory is never its own descendant). */
		struct notify_sub *s_next = s->w_next;
		if (to != NULL) {
			report_rename(s, name_filter, name, to);
			if (isdir)
				track_dir(s, ev->mask, name, to);
			else
				report(s, FILE_ACTION_MODIFIED, FILTER_RENAMED_FILE, to);
		} else if (ev->mask & (IN_CREATE | IN_MOVED_TO)) {
			report(s, FILE_ACTION_ADDED, name_filter, name);
			if (isdir)
				track_dir(s, ev->mask, name, NULL);
			else if (ev->mask & IN_MOVED_TO)
				report(s, FILE_ACTION_MODIFIED, FILTER_RENAMED_FILE, name);
		} else if (ev->mask & (IN_DELETE | IN_MOVED_FROM)) {
			report(s, FILE_ACTION_REMOVED, name_filter, name);
			if (isdir && (ev->mask & IN_MOVED_FROM))
				track_dir(s, ev->mask, name, NULL);
		} else if (ev->mask & IN_MODIFY) {
			report(s, FILE_ACTION_MODIFIED, FILTER_MODIFY, name);
		} else if (ev->mask & IN_ATTRIB) {
			report(s, FILE_ACTION_MODIFIED, FILTER_ATTRIB, name);
		}
		s = s_next;
	}
}

static void handle_overflow(struct smbd_notify_ctx *ctx)
{
	LOG_INFO("inotify queue overflow: every watcher is told to rescan");
	for (struct smbd_notify *n = ctx->notifies; n; n = n->next)
		overflow(n);
}

static void ctx_drain(struct smbd_notify_ctx *ctx)
{
	SMBD_CONTROL_HELD();
	for (;;) {
		ssize_t got = read(ctx->fd, ctx->buf, READ_BUF_SIZE);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return;
		size_t off = 0;
		while (off + sizeof(struct inotify_event) <= (size_t)got) {
			const struct inotify_event *ev = (const struct inotify_event *)(ctx->buf + off);
			size_t len = sizeof(*ev) + ev->len;
			if (off + len > (size_t)got)
				break;
			const struct inotify_event *next = NULL;
			size_t noff = off + len;
			if (noff + sizeof(struct inotify_event) <= (size_t)got) {
				next = (const struct inotify_event *)(ctx->buf + noff);
				if (noff + sizeof(*next) + next->len > (size_t)got)
					next = NULL;
			}
			bool used_next = false;
			if (ev->mask & IN_Q_OVERFLOW)
				handle_overflow(ctx);
			else
				handle_event(ctx, ev, next, &used_next);
			off = noff;
			if (used_next)
				off += sizeof(*next) + next->len;
		}
	}
}

static void ctx_read_cb(evutil_socket_t fd, short what, void *arg)
{
	smbd_control_enter();
	ctx_drain(arg);
	smbd_control_leave();
}

/* --- lifetimes ---------------------------------------------------------- */

static int notify_destructor(struct smbd_notify *n)
{
	while (n->waiters != NULL)
		waiter_ready(n->waiters, NT_STATUS_NOTIFY_CLEANUP, NULL, 0);
	while (n->subs != NULL)
		sub_free(n->subs, true);
	if (n->ctx != NULL)
		DLIST_REMOVE(n->ctx->notifies, n, prev, next);
	if (n->o->notify == n)
		n->o->notify = NULL;
	return 0;
}

static int ctx_destructor(struct smbd_notify_ctx *ctx)
{
	/* Opens may outlive this during server teardown: detach them. */
	for (struct smbd_notify *n = ctx->notifies; n; n = n->next) {
		while (n->subs != NULL)
			sub_free(n->subs, false);
		n->ctx = NULL;
	}
	if (ctx->ev)
		event_free(ctx->ev);
	if (ctx->fd >= 0)
		close(ctx->fd);
	return 0;
}

static struct smbd_notify_ctx *ctx_get(struct smbd_server *srv)
{
	/* Made at startup (smbd_notify_setup); tried again only where its
	 * event may be added, on the server's loop. */
	if (srv->notify != NULL || !smbd_loop_is_current(srv->loop))
		return srv->notify;
	struct smbd_notify_ctx *ctx = talloc_zero(srv, struct smbd_notify_ctx);
	if (ctx == NULL)
		return NULL;
	ctx->srv = srv;
	ctx->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (ctx->fd < 0) {
		LOG_ERR("inotify_init1: %s", strerror(errno));
		talloc_free(ctx);
		return NULL;
	}
	talloc_set_destructor(ctx, ctx_destructor);
	ctx->buf = talloc_size(ctx, READ_BUF_SIZE);
	ctx->ev = event_new(srv->loop->ev, ctx->fd, EV_READ | EV_PERSIST, ctx_read_cb, ctx);
	if (ctx->buf == NULL || ctx->ev == NULL || event_add(ctx->ev, NULL) != 0) {
		talloc_free(ctx);
		return NULL;
	}
	srv->notify = ctx;
	return ctx;
}

void smbd_notify_setup(struct smbd_server *srv)
{
	(void)ctx_get(srv); /* a failure is logged, and the request that needs it fails */
}

static NTSTATUS notify_start(struct smbd_notify_ctx *ctx, struct smbd_open *o, uint32_t filter, bool recursive,
			     uint32_t out_len)
{
	struct smbd_notify *n = talloc_zero(o, struct smbd_notify);
	if (n == NULL)
		return NT_STATUS_NO_MEMORY;
	n->ctx = ctx;
	n->o = o;
	n->filter = filter;
	n->recursive = recursive;
	n->max_buffer = out_len;
	DLIST_PUSH_FRONT(ctx->notifies, n, prev, next);
	talloc_set_destructor(n, notify_destructor);
	NTSTATUS status = sub_add(n, o->fd, "");
	if (!NT_STATUS_IS_OK(status)) {
		talloc_free(n);
		return status;
	}
	if (recursive)
		scan_tree(n, o->fd, "", 0);
	o->notify = n;
	return NT_STATUS_OK;
}

NTSTATUS smbd_notify_request(struct smb2_call *call, struct smbd_open *o, uint32_t filter, bool watch_tree,
			     uint32_t out_len)
{
	SMBD_CONTROL_HELD();
	struct smbd_server *srv = call->req->conn->srv;
	struct smbd_notify_ctx *ctx = ctx_get(srv);
	if (ctx == NULL)
		return NT_STATUS_INSUFF_SERVER_RESOURCES;
	/* Changes already made must be seen before deciding to wait. */
	ctx_drain(ctx);
	struct smbd_notify *n = o->notify;
	if (n == NULL) {
		NTSTATUS status = notify_start(ctx, o, filter, watch_tree, out_len);
		if (!NT_STATUS_IS_OK(status))
			return status;
		n = o->notify;
	}
	if (n->root_gone)
		return NT_STATUS_DELETE_PENDING;
	/* Windows bounds every answer on a handle by its first request's buffer. */
	uint32_t limit = out_len < n->max_buffer ? out_len : n->max_buffer;
	if (n->overflowed) {
		n->overflowed = false;
		smb2_notify_encode_empty(call);
		return NT_STATUS_NOTIFY_ENUM_DIR;
	}
	if (n->n_queued > 0) {
		NTSTATUS status = smb2_notify_encode(call, n->queue, n->n_queued, limit);
		queue_clear(n);
		return status;
	}
	if (!smbd_call_async_allowed(call))
		return NT_STATUS_INTERNAL_ERROR;
	struct notify_waiter *w = talloc_zero(call->req, struct notify_waiter);
	if (w == NULL)
		return NT_STATUS_NO_MEMORY;
	w->loop = call->req->conn->loop;
	w->call = call;
	w->limit = limit;
	w->n = n;
	/* Oldest first: the first change goes to the oldest request. */
	DLIST_PUSH_BACK(n->waiters, n->waiters_tail, w, prev, next);
	talloc_set_destructor(w, waiter_destructor);
	call->async_state = w;
	return smbd_call_go_async(call, waiter_cancel);
}

void smbd_notify_delete_pending(struct smbd_server *srv, dev_t dev, ino_t ino)
{
	struct smbd_notify_ctx *ctx = srv->notify;
	for (struct smbd_notify *n = ctx ? ctx->notifies : NULL; n; n = n->next) {
		if (n->o->dev != dev || n->o->ino != ino)
			continue;
		n->root_gone = true;
		queue_clear(n);
		while (n->waiters != NULL)
			waiter_ready(n->waiters, NT_STATUS_DELETE_PENDING, NULL, 0);
	}
}

void smbd_notify_open_closing(struct smbd_open *o)
{
	/* The destructor completes pending requests with NOTIFY_CLEANUP. */
	TALLOC_FREE(o->notify);
}
