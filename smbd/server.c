#include "config.h"
#include "smbd/server.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "conf/conf.h"
#include "lib/auth/auth.h"
#include "lib/auth/passdb.h"
#include "lib/crypto/random.h"
#include "lib/fscc.h"
#include "lib/idtable.h"
#include "lib/log.h"
#include "smbd/control.h"
#include "smbd/dir_lease_watch.h"
#include "smbd/durable.h"
#include "smbd/iopool.h"
#include "smbd/ioctl.h"
#include "smbd/logon_backoff.h"
#include "smbd/loop.h"
#include "smbd/notify.h"
#include "smbd/ph_store.h"
#include "smbd/session.h"
#include "smbd/share.h"
#include "smbd/shared_timer.h"
#include "smbd/transport_tcp.h"
#include "smbd/vfs.h"

/*
 * The server GUID identifies this server to clients across restarts
 * (MS-SMB2 3.3.1.5: clients match it on reconnect and multichannel), so it
 * is kept in the state directory.
 */
static void load_server_guid(struct smbd_server *srv)
{
	const char *path = srv->cfg->server_guid_file;
	int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	if (fd >= 0) {
		ssize_t n = read(fd, srv->server_guid, sizeof(srv->server_guid));
		close(fd);
		if (n == (ssize_t)sizeof(srv->server_guid))
			return;
	}
	crypto_random(srv->server_guid, sizeof(srv->server_guid));
	if (path == NULL)
		return;
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, srv->server_guid, 16) != 16 || fsync(fd) != 0 || rename(tmp, path) != 0) {
		LOG_WARN("cannot store the server GUID in %s (%s): it will change at restart", path,
			 strerror(errno));
	}
	if (fd >= 0)
		close(fd);
}

static struct smbd_share *share_new(struct smbd_server *srv, const char *name, const struct share_config *sc)
{
	struct smbd_share *sh = talloc_zero(srv, struct smbd_share);
	if (sh == NULL)
		return NULL;
	sh->name = talloc_strdup(sh, name);
	sh->cfg = sc;
	sh->is_ipc = (sc == NULL);
	if (sc != NULL) {
		NTSTATUS st = vfs_share_open(sh, sc->path, &sh->vfs);
		if (!NT_STATUS_IS_OK(st)) {
			LOG_ERR("share [%s]: cannot open %s: %s", name, sc->path, nt_errstr(st));
			talloc_free(sh);
			return NULL;
		}
		/* Advertise block cloning only where the file system does it. */
		sh->can_reflink = smbd_probe_reflink(sh->vfs->root_fd);
	}
	return sh;
}

static void free_cb(uint64_t id, void *obj, void *arg)
{
	talloc_free(obj);
}

static void destroy_session_cb(uint64_t id, void *obj, void *arg)
{
	smbd_session_destroy(obj);
}

/*
 * The workers go first, while everything they report to is alive: their
 * last transfers complete into live requests and connections. Then, with
 * clients still there, connections go, and with them their sessions and
 * opens, then what is left of those (disconnected durable opens), while
 * the tables and files those destructors reach are all still there; left
 * to talloc's order, an open could outlive the fd or file state it lets
 * go of. Persistent handles keep their records (srv->stopping).
 */
static int server_destructor(struct smbd_server *srv)
{
	srv->stopping = true;
	smbd_loop_stop_io(srv->loop);
	idtable_foreach(srv->conns, free_cb, NULL);
	idtable_foreach(srv->sessions, destroy_session_cb, NULL);
	idtable_foreach(srv->opens, free_cb, NULL);
	return 0;
}

/*
 * With a continuously available share, persistent handles are offered and
 * kept in <state directory>/persistent: those a killed server left are
 * read back and wait for their clients again. Records that cannot be
 * restored (the file is gone, the share is no longer there) are removed.
 */
static bool load_persistent_handles(struct smbd_server *srv)
{
	const struct porthos_config *cfg = srv->cfg;
	bool any_ca = false;
	for (size_t i = 0; i < cfg->n_shares; i++)
		any_ca |= cfg->shares[i]->continuous_availability;
	if (!any_ca)
		return true;
	char *dir = talloc_asprintf(srv, "%s/persistent", cfg->state_dir);
	srv->ph_store = dir != NULL ? smbd_ph_store_open(srv, dir) : NULL;
	if (srv->ph_store == NULL) {
		LOG_ERR("cannot open the store of persistent handles %s: %s", dir != NULL ? dir : "",
			strerror(errno));
		return false;
	}
	TALLOC_CTX *tmp = talloc_new(srv);
	struct smbd_ph_record *recs;
	size_t n, bad, restored = 0;
	int err = tmp != NULL ? smbd_ph_store_load(srv->ph_store, tmp, &recs, &n, &bad) : ENOMEM;
	if (err != 0) {
		LOG_ERR("cannot read the store of persistent handles %s: %s", dir, strerror(err));
		talloc_free(tmp);
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (smbd_durable_restore(srv, &recs[i]))
			restored++;
		else /* before the loop runs: the removal may wait for the disk */
			smbd_ph_store_remove(srv->ph_store, recs[i].persistent_id);
	}
	if (n > 0 || bad > 0)
		LOG_INFO("persistent handles: %zu restored from %s, %zu dropped, %zu unreadable record(s) left there",
			 restored, dir, n - restored, bad);
	talloc_free(tmp);
	return true;
}

static struct smbd_server *server_new(TALLOC_CTX *mem, struct event_base *ev, struct porthos_config *cfg)
{
	struct smbd_server *srv = talloc_zero(mem, struct smbd_server);
	if (srv == NULL)
		return NULL;
	srv->cfg = cfg;
	srv->sessions = idtable_new(srv, UINT64_MAX - 1);
	srv->opens = idtable_new(srv, UINT64_MAX - 1);
	srv->conns = idtable_new(srv, UINT64_MAX - 1);
	srv->backoff = smbd_backoff_new(srv, cfg->max_logon_delay_s * 1000);
	if (srv->sessions == NULL || srv->opens == NULL || srv->conns == NULL || srv->backoff == NULL)
		goto fail;

	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	srv->start_time = fscc_nttime_from_timespec(&now);
	load_server_guid(srv);

	int err = passdb_load(srv, cfg->passdb_path, &srv->passdb);
	if (err != 0) {
		LOG_ERR("cannot read the password database %s: %s", cfg->passdb_path, strerror(err));
		goto fail;
	}

	srv->shares = talloc_zero_array(srv, struct smbd_share *, cfg->n_shares + 1);
	if (srv->shares == NULL)
		goto fail;
	for (size_t i = 0; i < cfg->n_shares; i++) {
		struct smbd_share *sh = share_new(srv, cfg->shares[i]->name, cfg->shares[i]);
		if (sh == NULL)
			goto fail;
		srv->shares[srv->n_shares++] = sh;
	}
	struct smbd_share *ipc = share_new(srv, "IPC$", NULL);
	if (ipc == NULL)
		goto fail;
	srv->shares[srv->n_shares++] = ipc;

	if (!auth_global_init()) {
		LOG_ERR("cannot initialise the authentication crypto (OpenSSL legacy provider?)");
		goto fail;
	}
	bool any_guest = false;
	for (size_t i = 0; i < cfg->n_shares; i++)
		any_guest |= cfg->shares[i]->guest_ok;
	srv->auth_cfg = (struct auth_server_config){
		.netbios_name = cfg->netbios_name,
		.domain = cfg->workgroup,
		.dns_name = cfg->netbios_name,
		.dns_domain = "",
		.db = srv->passdb,
		.guest_ok = any_guest || cfg->allow_anonymous,
		.krb5_keytab = cfg->kerberos_keytab,
		.krb5_realm = cfg->realm,
	};
	if (!auth_check_config(&srv->auth_cfg))
		goto fail;
	srv->negotiate_blob = auth_negotiate_blob(srv, &srv->auth_cfg, &srv->negotiate_blob_len);
	if (srv->negotiate_blob == NULL)
		goto fail;
	srv->loop = smbd_loop_new(srv, ev);
	if (srv->loop == NULL || (srv->timers = smbd_shared_timers_new(srv->loop)) == NULL)
		goto fail;
	/* Their events are the server's loop's: made here, not by the first
	 * request that needs them, which may run on another loop. */
	smbd_notify_setup(srv);
	smbd_dir_watch_setup(srv);
	if (cfg->io_threads == 0)
		LOG_INFO("file I/O: on the event loop (io threads = 0)");
	else
		LOG_INFO("file I/O: %s, %u worker thread(s)", srv->loop->uring ? "io_uring for reads, writes and syncs" : "on the worker threads",
			 cfg->io_threads);
	talloc_set_destructor(srv, server_destructor);
	if (!load_persistent_handles(srv))
		goto fail;
	return srv;
fail:
	talloc_free(srv);
	return NULL;
}

/*
 * Descriptors the server needs beside one per connection: listeners,
 * share roots, the inotify fd, the password database, logs.
 */
#define FD_RESERVE 64

/*
 * Each connection holds a descriptor (and each open file another), so the
 * soft limit on descriptors, often 1024, would cap connections long before
 * "max connections" does: raise it to the hard limit, which only the
 * administrator (ulimit, LimitNOFILE= in the unit) can move.
 */
static void raise_fd_limit(const struct porthos_config *cfg)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_cur != rl.rlim_max) {
		rlim_t soft = rl.rlim_cur;
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
			LOG_WARN("cannot raise the file descriptor limit from %llu to %llu: %s",
				 (unsigned long long)soft, (unsigned long long)rl.rlim_max, strerror(errno));
			rl.rlim_cur = soft;
		}
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)cfg->max_connections + FD_RESERVE)
		LOG_WARN("max connections = %u cannot be reached: the file descriptor limit is %llu "
			 "(raise it with ulimit -n or LimitNOFILE=)",
			 cfg->max_connections, (unsigned long long)rl.rlim_cur);
}

struct smbd_server *smbd_server_new(TALLOC_CTX *mem, struct event_base *ev, struct porthos_config *cfg)
{
	/* Persistent handles read back are opens, files and leases. */
	smbd_control_enter();
	struct smbd_server *srv = server_new(mem, ev, cfg);
	smbd_control_leave();
	return srv;
}

void smbd_server_free(struct smbd_server *srv)
{
	/* Its destructor and its children's close what is still open. */
	smbd_control_enter();
	talloc_free(srv);
	smbd_control_leave();
}

int smbd_server_listen(struct smbd_server *srv)
{
	raise_fd_limit(srv->cfg);
	for (size_t i = 0; i < srv->cfg->n_listen; i++) {
		char host[128];
		uint16_t port;
		if (conf_parse_listen(srv->cfg->listen[i], srv->cfg->default_port, host, sizeof(host), &port) != 0) {
			LOG_ERR("invalid listen address '%s'", srv->cfg->listen[i]);
			return EINVAL;
		}
		int err = smbd_tcp_listen(srv, host, port);
		if (err != 0) {
			LOG_ERR("cannot listen on %s: %s", srv->cfg->listen[i], strerror(err));
			return err;
		}
		LOG_INFO("listening on %s", srv->cfg->listen[i]);
	}
	return 0;
}

struct smbd_share *smbd_server_find_share(struct smbd_server *srv, const char *name)
{
	for (size_t i = 0; i < srv->n_shares; i++) {
		if (strcasecmp(srv->shares[i]->name, name) == 0)
			return srv->shares[i];
	}
	return NULL;
}
