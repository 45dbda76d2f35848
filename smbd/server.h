/*
 * The server: the root of all protocol state, owned by the event loop.
 */
#ifndef PORTHOS_SMBD_SERVER_H
#define PORTHOS_SMBD_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <talloc.h>

#include "lib/auth/auth.h"

struct event_base;
struct smbd_loop;
struct smbd_shared_timers;
struct porthos_config;
struct passdb;
struct smbd_conn;
struct smbd_share;
struct idtable;
struct smbd_create_gate;
struct smbd_lease_table;
struct file_table;
struct smbd_backoff;
struct smbd_notify_ctx;
struct smbd_tcp_state;
struct smbd_durable;
struct smbd_dir_watch;

struct smbd_server {
	struct smbd_loop *loop;     /* the server's loop: accepts connections, runs the events of shared state (loop.h) */
	struct smbd_shared_timers *timers; /* shared objects' time-outs, run on loop (shared_timer.h) */
	struct porthos_config *cfg;
	struct passdb *passdb;
	uint8_t server_guid[16];
	uint64_t start_time; /* NT time, for NEGOTIATE's ServerStartTime */

	struct idtable *sessions; /* session id -> struct smbd_session */
	struct idtable *opens;    /* volatile file id -> struct smbd_open */
	struct idtable *conns;    /* connection id -> struct smbd_conn */

	struct smbd_backoff *backoff;  /* failed logons per address */
	struct file_table *files;  /* (dev, ino) -> struct smbd_file, file_state.c */
	struct smbd_lease_table *leases; /* (client guid, lease key) -> lease, lease.c */
	unsigned dir_leases;        /* leases on directories (dir_lease.h): none, nothing to break */
	struct smbd_dir_watch *dir_watch; /* fanotify marks on leased directories (dir_lease_watch.h) */
	struct smbd_notify_ctx *notify; /* the inotify fd, notify.c; made on first use */
	struct smbd_tcp_state *tcp; /* what TCP connections share (limits, budgets), transport_tcp.c */
	struct smbd_create_gate *create_gates; /* names a CREATE is working on, create_gate.c */

	bool stopping;              /* being freed: nothing is kept for later (durable opens) */
	struct smbd_ph_store *ph_store; /* persistent handles (ph_store.h); NULL: no share is continuously available */
	unsigned n_disconnected;    /* durable opens waiting for their clients (durable.c) */
	struct smbd_create_guid *create_guids[256]; /* opens by CreateGuid, for replays (create_guid.c) */
	struct smbd_replay_pending *replay_pending; /* CREATEs with a CreateGuid waiting for breaks */

	struct smbd_share **shares; /* runtime shares, IPC$ included */
	size_t n_shares;

	struct auth_server_config auth_cfg; /* outlives every auth context */
	uint8_t *negotiate_blob; /* the SPNEGO hint in NEGOTIATE responses */
	size_t negotiate_blob_len;
};

/* Builds the server from a loaded config; NULL with a logged reason on failure. */
struct smbd_server *smbd_server_new(TALLOC_CTX *mem, struct event_base *ev, struct porthos_config *cfg);
/* Opens every listener of the config; 0 or errno (logged). */
/* Frees srv with what it still holds (connections, sessions, opens). */
void smbd_server_free(struct smbd_server *srv);
int smbd_server_listen(struct smbd_server *srv);
struct smbd_share *smbd_server_find_share(struct smbd_server *srv, const char *name);

#endif
