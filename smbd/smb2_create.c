/*
 * CREATE (MS-SMB2 2.2.13, 2.2.14, 3.3.5.9; semantics from MS-FSA 2.1.5.1).
 */
#include "config.h"

#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf/conf.h"
#include "lib/fscc.h"
#include "lib/log.h"
#include "lib/rpc/rpc_server.h"
#include "lib/unicode.h"
#include "smbd/channel_sequence.h"
#include "smbd/conn.h"
#include "smbd/create.h"
#include "smbd/create_gate.h"
#include "smbd/create_guid.h"
#include "smbd/dir_lease.h"
#include "smbd/dispatch.h"
#include "smbd/file_state.h"
#include "smbd/fileinfo.h"
#include "smbd/identity.h"
#include "smbd/io_async.h"
#include "smbd/open.h"
#include "smbd/ph_store.h"
#include "smbd/posix_access.h"
#include "smbd/replay_pending.h"
#include "smbd/security_desc.h"
#include "smbd/server.h"
#include "smbd/session.h"
#include "smbd/share.h"
#include "smbd/smb2_handlers.h"
#include "smbd/smb2_proto.h"
#include "smbd/tcon.h"
#include "smbd/vfs.h"
#include "smbd/vfs_dosattr.h"

/* MS-SMB2 2.2.13: bits of DesiredAccess that must be zero. */
#define ACCESS_MASK_RESERVED 0x0CE0FE00u
/* MS-FSCC 2.6: attributes a client may set. */
#define SETTABLE_ATTRIBUTES 0x00007FB7u

/*
 * MS-SMB2 2.2.13.2.8 / 2.2.13.2.10: a lease request, v2 on 3.x only (a v2
 * context on 2.1 is read as v1, as Windows does); other sizes are ignored.
 */
static void parse_lease(const struct smb2_call *call, struct wire_rd *data, uint32_t len, struct create_in *in)
{
	bool v2 = len >= 52 && call->req->conn->dialect >= SMB2_DIALECT_300;
	if (len != 32 && len < 52)
		return;
	struct smbd_lease_request *lr = &in->lease;
	wire_copy(data, lr->key, 16);
	lr->state = wire_u32(data);
	lr->flags = wire_u32(data);
	wire_skip(data, 8); /* LeaseDuration */
	lr->v2 = v2;
	if (v2) {
		wire_copy(data, lr->parent_key, 16);
		lr->epoch = wire_u16(data);
	}
	in->want_lease = wire_ok(data);
}

/* The create contexts we act on; the rest are ignored (MS-SMB2 3.3.5.9). */
static NTSTATUS parse_contexts(struct smb2_call *call, uint32_t off, uint32_t len, struct create_in *in)
{
	struct wire_rd all;
	if (len == 0)
		return NT_STATUS_OK;
	if (!wire_slice(&call->in, off, len, &all))
		return NT_STATUS_INVALID_PARAMETER;
	size_t pos = 0;
	for (unsigned n = 0; n < 64; n++) {
		struct wire_rd c;
		if (!wire_slice(&all, pos, len - pos, &c))
			return NT_STATUS_INVALID_PARAMETER;
		uint32_t next = wire_u32(&c);
		uint16_t name_off = wire_u16(&c);
		uint16_t name_len = wire_u16(&c);
		wire_skip(&c, 2);
		uint16_t data_off = wire_u16(&c);
		uint32_t data_len = wire_u32(&c);
		size_t this_len = next ? next : len - pos;
		struct wire_rd name, data;
		if (!wire_ok(&c) || (next && (next % 8 || next > len - pos)) ||
		    !wire_slice(&c, name_off, name_len, &name) || !wire_slice(&c, data_off, data_len, &data) ||
		    (uint64_t)name_off + name_len > this_len || (data_len && (uint64_t)data_off + data_len > this_len))
			return NT_STATUS_INVALID_PARAMETER;
		/* Windows refuses tags shorter than 4 bytes (smbtorture create.blob). */
		if (name_len < 4)
			return NT_STATUS_INVALID_PARAMETER;
		const uint8_t *tag = wire_ptr(&name, name_len);
		NTSTATUS status;
		if (smbd_app_instance_parse(tag, name_len, &data, call->req->conn->dialect, &in->app, &status)) {
			if (!NT_STATUS_IS_OK(status))
				return status;
		} else if (name_len == 4 &&
		    smbd_durable_parse(tag, &data, call->req->conn->dialect, &in->durable, &status)) {
			if (!NT_STATUS_IS_OK(status))
				return status;
		} else if (name_len == 4 && memcmp(tag, "AlSi", 4) == 0) {
			/* MS-SMB2 2.2.13.2.6: applies when the file is created or overwritten. */
			in->alloc_size = wire_u64(&data);
			if (!wire_ok(&data))
				return NT_STATUS_INVALID_PARAMETER;
			in->have_alloc_size = true;
		} else if (name_len == 4 && memcmp(tag, "TWrp", 4) == 0) {
			in->timewarp = wire_u64(&data);
			if (!wire_ok(&data))
				return NT_STATUS_INVALID_PARAMETER;
		} else if (name_len == 4 && memcmp(tag, "MxAc", 4) == 0)
			in->want_mxac = true;
		else if (name_len == 4 && memcmp(tag, "QFid", 4) == 0)
			in->want_qfid = true;
		else if (name_len == 4 && memcmp(tag, "RqLs", 4) == 0)
			parse_lease(call, &data, data_len, in);
		else if (name_len == 4 && memcmp(tag, "SecD", 4) == 0) {
			struct smbd_sd sd;
			in->secd = wire_ptr(&data, data_len);
			in->secd_len = data_len;
			if (in->secd == NULL || !NT_STATUS_IS_OK(smbd_sd_parse(in->secd, data_len, &sd)))
				return NT_STATUS_INVALID_PARAMETER;
		}
		if (next == 0)
			return NT_STATUS_OK;
		pos += next;
	}
	return NT_STATUS_INVALID_PARAMETER;
}

static NTSTATUS decode(struct smb2_call *call, struct create_in *in)
{
	struct wire_rd *r = &call->in;
	wire_skip(r, 2);
	wire_skip(r, 1); /* SecurityFlags */
	in->oplock_level = wire_u8(r);
	in->impersonation = wire_u32(r);
	wire_skip(r, 16); /* SmbCreateFlags, Reserved */
	in->desired_access = wire_u32(r);
	in->file_attributes = wire_u32(r);
	in->share_access = wire_u32(r);
	in->disposition = wire_u32(r);
	in->options = wire_u32(r);
	uint16_t name_off = wire_u16(r);
	uint16_t name_len = wire_u16(r);
	uint32_t ctx_off = wire_u32(r);
	uint32_t ctx_len = wire_u32(r);
	if (!wire_ok(r))
		return NT_STATUS_INVALID_PARAMETER;
	NTSTATUS ctx_status = parse_contexts(call, ctx_off, ctx_len, in);
	if (NT_STATUS_IS_OK(ctx_status))
		ctx_status = smbd_durable_check(&in->durable);
	/* There are no leases in 2.0.2. */
	if (call->req->conn->dialect == SMB2_DIALECT_202)
		in->want_lease = false;
	/* A durable reconnect looks at its contexts, and at the name only to
	 * match a lease's: the other fields are not checked (MS-SMB2
	 * 3.3.5.9.7; smbtorture smb2.durable-open.reopen2 sends nonsense in
	 * them, reopen1a-lease a lease without the LEASE oplock level). */
	if (NT_STATUS_IS_OK(ctx_status) && in->durable.reconnect) {
		struct wire_rd nr;
		if (name_len == 0)
			in->name = talloc_strdup(call->req, "");
		else if (name_len % 2 == 0 && wire_slice(&call->in, name_off, name_len, &nr))
			in->name = utf16le_name_to_utf8(call->req, wire_ptr(&nr, name_len), name_len);
		return NT_STATUS_OK; /* a name that cannot be read matches no lease */
	}
	/* MS-SMB2 3.3.5.9.8: otherwise a lease context counts only with the
	 * LEASE oplock level. */
	if (in->oplock_level != SMB2_OPLOCK_LEVEL_LEASE)
		in->want_lease = false;
	/* MS-SMB2 3.3.5.9: parameter checks, in Windows' order. */
	if (in->impersonation > SMB2_IMPERSONATION_DELEGATE)
		return NT_STATUS_BAD_IMPERSONATION_LEVEL;
	if ((in->options & FILE_CREATE_OPTIONS_RESERVED) ||
	    ((in->options & FILE_DIRECTORY_FILE) && (in->options & FILE_NON_DIRECTORY_FILE)))
		return NT_STATUS_INVALID_PARAMETER;
	if (in->desired_access & ACCESS_MASK_RESERVED)
		return NT_STATUS_ACCESS_DENIED;
	/* Tree connections, opens by file id and oplock filters are not
	 * offered (MS-SMB2 3.3.5.9: NOT_SUPPORTED, as smbtorture create.gentest
	 * sees from Windows). */
	if (in->options & (FILE_CREATE_TREE_CONNECTION | FILE_OPEN_BY_FILE_ID | FILE_RESERVE_OPFILTER))
		return NT_STATUS_NOT_SUPPORTED;
	/* The SACL right needs SeSecurityPrivilege, which no user holds here. */
	if (in->desired_access & ACCESS_SYSTEM_SECURITY)
		return NT_STATUS_PRIVILEGE_NOT_HELD;
	if (in->disposition > FILE_OVERWRITE_IF || (in->file_attributes & ~SETTABLE_ATTRIBUTES) ||
	    in->share_access > (FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE))
		return NT_STATUS_INVALID_PARAMETER;
	if (name_len % 2)
		return NT_STATUS_INVALID_PARAMETER;
	struct wire_rd nr;
	if (name_len == 0) {
		in->name = talloc_strdup(call->req, "");
	} else {
		if (!wire_slice(&call->in, name_off, name_len, &nr))
			return NT_STATUS_INVALID_PARAMETER;
		in->name = utf16le_name_to_utf8(call->req, wire_ptr(&nr, name_len), name_len);
	}
	if (in->name == NULL)
		return NT_STATUS_OBJECT_NAME_INVALID;
	return ctx_status;
}

/* One response context header (MS-SMB2 2.2.13.2): the data follows. */
static void context_begin(struct wire_wr *w, size_t *prev, const char tag[4], uint32_t data_len)
{
	wire_put_align(w, 8);
	if (*prev != SIZE_MAX)
		wire_patch_u32(w, *prev, (uint32_t)(w->len - *prev));
	*prev = w->len;
	/* Next, NameOffset 16, NameLength 4, Reserved, DataOffset 24, DataLength, Name, pad */
	wire_put_u32(w, 0);
	wire_put_u16(w, 16);
	wire_put_u16(w, 4);
	wire_put_u16(w, 0);
	wire_put_u16(w, 24);
	wire_put_u32(w, data_len);
	wire_put_bytes(w, tag, 4);
	wire_put_u32(w, 0);
}

static void encode_contexts(struct smb2_call *call, const struct create_in *in, const struct smbd_open *o,
			    uint32_t maximal_access, uint32_t *off_out, uint32_t *len_out)
{
	struct wire_wr *w = &call->out;
	size_t prev = SIZE_MAX;
	*off_out = *len_out = 0;
	/* A grant is answered; a reconnect is not (smbtorture: no DH2Q blob). */
	const char *durable_tag = NULL;
	uint32_t durable_len = in->durable.version != 0 ? smbd_durable_response_size(o, &durable_tag) : 0;
	if (!in->want_mxac && !in->want_qfid && o->lease == NULL && durable_len == 0)
		return;
	wire_put_align(w, 8);
	size_t start = w->len;
	*off_out = smb2_call_out_offset(call);
	if (in->want_mxac) {
		context_begin(w, &prev, "MxAc", 8);
		wire_put_u32(w, 0); /* QueryStatus */
		wire_put_u32(w, maximal_access);
	}
	if (in->want_qfid) {
		context_begin(w, &prev, "QFid", 32);
		/* MS-SMB2 2.2.14.2.9: DiskFileId (8 bytes file id, 8 bytes volume id), 16 reserved. */
		wire_put_u64(w, o->file_id);
		wire_put_u64(w, (uint64_t)o->dev);
		wire_put_zeros(w, 16);
	}
	if (o->lease != NULL) {
		context_begin(w, &prev, "RqLs", (uint32_t)smbd_lease_response_size(o));
		smbd_lease_encode_response(o, w);
	}
	if (durable_len != 0) {
		context_begin(w, &prev, durable_tag, durable_len);
		smbd_durable_encode_response(o, w);
	}
	*len_out = (uint32_t)(w->len - start);
}

static NTSTATUS encode(struct smb2_call *call, const struct create_in *in, struct smbd_open *o,
		       const struct fscc_file_info *fi, uint32_t action, uint32_t maximal_access, uint8_t oplock)
{
	struct wire_wr *w = &call->out;
	wire_put_u16(w, 89);
	wire_put_u8(w, oplock);
	wire_put_u8(w, 0);
	wire_put_u32(w, action);
	wire_put_u64(w, fi->creation_time);
	wire_put_u64(w, fi->last_access_time);
	wire_put_u64(w, fi->last_write_time);
	wire_put_u64(w, fi->change_time);
	wire_put_u64(w, fi->allocation_size);
	wire_put_u64(w, fi->end_of_file);
	wire_put_u32(w, fscc_effective_attributes(fi));
	wire_put_u32(w, 0);
	wire_put_u64(w, o->persistent_id);
	wire_put_u64(w, o->volatile_id);
	size_t ctx_pos = wire_reserve(w, 8);
	uint32_t ctx_off, ctx_len;
	encode_contexts(call, in, o, maximal_access, &ctx_off, &ctx_len);
	wire_patch_u32(w, ctx_pos, ctx_off);
	wire_patch_u32(w, ctx_pos + 4, ctx_len);
	if (w->len < 89 - 1)
		wire_put_zeros(w, 1); /* the one-byte Buffer */
	return wire_wr_ok(w) ? NT_STATUS_OK : NT_STATUS_NO_MEMORY;
}

static size_t list_shares_cb(void *private_data, TALLOC_CTX *mem, struct rpc_share_info **out);

static NTSTATUS create_pipe(struct smb2_call *call, struct create_in *in)
{
	struct smbd_server *srv = call->req->conn->srv;
	struct rpc_server_info *info = talloc_zero(call->tcon, struct rpc_server_info);
	if (info == NULL)
		return NT_STATUS_NO_MEMORY;
	info->server_name = srv->cfg->netbios_name;
	info->comment = srv->cfg->server_string;
	info->list_shares = list_shares_cb;
	info->private_data = srv;
	struct smbd_open *o = smbd_open_new(call->tcon, -1);
	if (o == NULL)
		return NT_STATUS_INSUFFICIENT_RESOURCES;
	talloc_steal(o, info);
	o->pipe = rpc_pipe_open(o, in->name, info);
	if (o->pipe == NULL) {
		smbd_open_close(o);
		return NT_STATUS_OBJECT_NAME_NOT_FOUND;
	}
	o->access = create_map_generic(in->desired_access, FILE_ALL_ACCESS);
	o->smb_name = talloc_strdup(o, in->name);
	struct fscc_file_info fi = { .attributes = FILE_ATTRIBUTE_NORMAL };
	smbd_call_set_related_open(call, o->persistent_id, o->volatile_id);
	return encode(call, in, o, &fi, FILE_OPENED, 0, o->oplock_level);
}

static size_t list_shares_cb(void *private_data, TALLOC_CTX *mem, struct rpc_share_info **out)
{
	struct smbd_server *srv = private_data;
	struct rpc_share_info *v = talloc_zero_array(mem, struct rpc_share_info, srv->n_shares);
	size_t n = 0;
	if (v == NULL)
		return 0;
	for (size_t i = 0; i < srv->n_shares; i++) {
		const struct smbd_share *sh = srv->shares[i];
		if (sh->is_ipc) {
			/* MS-SRVS 2.2.2.4: STYPE_IPC | STYPE_SPECIAL */
			v[n++] = (struct rpc_share_info){ "IPC$", 0x80000003u, "IPC Service", "", 0 };
			continue;
		}
		if (!sh->cfg->browseable)
			continue;
		char *winpath = talloc_asprintf(v, "C:%s", sh->cfg->path);
		for (char *p = winpath; p && *p; p++)
			if (*p == '/')
				*p = '\\';
		v[n++] = (struct rpc_share_info){ sh->name, 0, sh->cfg->comment ? sh->cfg->comment : "", winpath, 0 };
	}
	*out = v;
	return n;
}

/* One CREATE of a file or directory between its steps (smbd/create.h). */
struct create_state {
	struct create_in *in;
	struct create_fs fs;
	struct smbd_create_gate *gate; /* held from the first step to the result */
	struct smbd_fd *held;          /* the open's fd during the overwrite */
	uint64_t fid_p, fid_v;         /* the open, registered before the overwrite */
	uint32_t action;
	bool replay_oplock;            /* a replay answered with the lower oplock it asked for */
};

/* An fd the worker opened that no open took over. */
static int create_state_destructor(struct create_state *cs)
{
	if (cs->fs.fd >= 0)
		close(cs->fs.fd);
	smbd_fd_release(cs->held);
	return 0;
}

/* The CREATE's result: the gate opens, a failure fails the rest of a chain. */
static NTSTATUS create_result(struct smb2_call *call, struct create_state *cs, NTSTATUS status)
{
	TALLOC_FREE(cs->gate);
	if (!NT_STATUS_IS_OK(status) && !NT_STATUS_EQUAL(status, NT_STATUS_PENDING))
		call->req->related_status = status;
	return status;
}

/* Whether the call's session and tree are still there to take the open
 * (and its connection to answer, or another of its session's channels
 * to replay it: replay_pending.h). */
static bool still_wanted(const struct smb2_call *call)
{
	return call->tcon != NULL && call->session != NULL &&
	       (!call->req->conn->terminating || call->outlives_conn);
}

static NTSTATUS reply_with(struct smb2_call *call, struct create_state *cs, struct smbd_open *o)
{
	smbd_create_guid_note_action(o, cs->action);
	struct fscc_file_info fi = cs->fs.fi;
	smbd_fileinfo_set_delete_pending(&fi, o->delete_on_close);
	smbd_call_set_related_open(call, o->persistent_id, o->volatile_id);
	LOG_DBG("create '%s' -> %s action %u", cs->in->name, o->rel_path, cs->action);
	uint8_t oplock = cs->replay_oplock ? cs->in->oplock_level : o->oplock_level;
	return create_result(call, cs, encode(call, cs->in, o, &fi, cs->action, cs->fs.maximal_access, oplock));
}

/* A persistent open's record, written on a worker before the reply. */
struct persist_state {
	struct create_state *cs;
	struct smbd_ph_store *store;
	struct smbd_ph_record rec;
	int err;
};

static void persist_work(void *arg)
{
	struct persist_state *ps = arg;
	ps->err = smbd_ph_store_put(ps->store, &ps->rec);
}

static NTSTATUS persisted(struct smb2_call *call, void *arg)
{
	struct persist_state *ps = arg;
	struct create_state *cs = ps->cs;
	struct smbd_open *o = smbd_open_find(call->req->conn->srv, cs->fid_p, cs->fid_v, call->session_id,
					     call->tree_id);
	if (o == NULL || !still_wanted(call)) {
		/* Gone meanwhile (its tree or connection went): its record too. */
		if (o != NULL)
			smbd_open_close(o);
		else if (ps->err == 0)
			smbd_ph_store_forget(ps->store, ps->rec.persistent_id);
		return create_result(call, cs, NT_STATUS_FILE_CLOSED);
	}
	if (ps->err != 0) {
		LOG_WARN("persistent handle of '%s' not granted: cannot write its record: %s", o->rel_path,
			 strerror(ps->err));
		smbd_durable_not_persistent(o);
	}
	return reply_with(call, cs, o);
}

/*
 * A persistent open answers once its record is on disk (MS-SMB2
 * 3.3.5.9.10: the handle state is durable before the reply): written on a
 * worker, so the loop never waits for the disk.
 */
static NTSTATUS persist_and_reply(struct smb2_call *call, struct create_state *cs, struct smbd_open *o)
{
	if (!smbd_durable_persistent(o))
		return reply_with(call, cs, o);
	struct persist_state *ps = talloc_zero(cs, struct persist_state);
	if (ps == NULL || !smbd_durable_record(o, ps, &ps->rec)) {
		smbd_open_close(o);
		return create_result(call, cs, NT_STATUS_NO_MEMORY);
	}
	ps->cs = cs;
	ps->store = call->req->conn->srv->ph_store;
	cs->fid_p = o->persistent_id;
	cs->fid_v = o->volatile_id;
	NTSTATUS status = smbd_call_offload(call, ps, persist_work, persisted);
	if (NT_STATUS_EQUAL(status, NT_STATUS_PENDING))
		return status;
	smbd_open_close(o);
	return create_result(call, cs, status);
}

/* The new open's CREATE added its entry, or cut it: the directory's leases
 * break, but the one the request names as the parent (dir_lease.h). */
static void entry_changed(struct smb2_call *call, const struct create_in *in, const struct smbd_open *o)
{
	bool named = in->want_lease && in->lease.v2 && (in->lease.flags & SMB2_LEASE_FLAG_PARENT_LEASE_KEY_SET);
	smbd_dir_lease_entry_changed(o->srv, o->share, o->rel_path, named ? in->lease.parent_key : NULL);
}

/* Back from the overwrite: the open, registered before it, answers. */
static NTSTATUS overwritten(struct smb2_call *call, void *arg)
{
	struct create_state *cs = arg;
	smbd_fd_release(cs->held);
	cs->held = NULL;
	struct smbd_open *o = smbd_open_find(call->req->conn->srv, cs->fid_p, cs->fid_v, call->session_id,
					     call->tree_id);
	if (o == NULL || !still_wanted(call)) {
		/* Its tree, session or connection went: nobody will learn of
		 * the open, so it must not stay and hold the file. */
		if (o != NULL)
			smbd_open_close(o);
		return create_result(call, cs, NT_STATUS_FILE_CLOSED);
	}
	if (!NT_STATUS_IS_OK(cs->fs.status)) {
		smbd_open_close(o);
		return create_result(call, cs, cs->fs.status);
	}
	entry_changed(call, cs->in, o);
	return persist_and_reply(call, cs, o);
}

static void overwrite_work(void *arg)
{
	struct create_state *cs = arg;
	create_fs_overwrite(&cs->fs, smbd_fd_number(cs->held));
}

/*
 * Runs the CREATE again from the start once the breaks on its file are
 * answered: this attempt's fd, gate and state go now. One waiting
 * for an oplock or lease to go ('for_caching') is noted for replays
 * (replay_pending.h); one waiting for a sharing violation's handles is
 * not: Windows takes a replay of that for a new CREATE, which meets the
 * same violation (smbtorture smb2.replay.dhv2-pending1n-vs-violation-*).
 */
static NTSTATUS wait_for_breaks(struct smb2_call *call, struct create_state *cs, bool for_caching)
{
	const struct smbd_durable_request *dh = &cs->in->durable;
	if (for_caching && dh->version == 2 && !smbd_replay_pending_note(call, dh->create_guid)) {
		create_result(call, cs, NT_STATUS_NO_MEMORY);
		talloc_free(cs);
		return NT_STATUS_NO_MEMORY;
	}
	NTSTATUS status = smbd_oplock_wait(call, cs->fs.st.st_dev, cs->fs.st.st_ino, smb2_create_retry);
	create_result(call, cs, status);
	talloc_free(cs);
	return status;
}

/*
 * On the loop, after the worker opened or created the object: the checks
 * against the other opens of the file (MS-FSA 2.1.5.1.2), then the open
 * is registered, and an overwrite goes back to a worker.
 */
static NTSTATUS opened(struct smb2_call *call, void *arg)
{
	struct create_state *cs = arg;
	struct create_fs *fs = &cs->fs;
	const struct create_in *in = cs->in;
	struct smbd_server *srv = call->req->conn->srv;
	if (!still_wanted(call))
		return create_result(call, cs, NT_STATUS_NETWORK_NAME_DELETED);
	/* A pending delete comes first, as on Windows, before what the
	 * worker found wrong with the object. */
	if (fs->exists && smbd_file_delete_pending(srv, fs->st.st_dev, fs->st.st_ino))
		return create_result(call, cs, NT_STATUS_DELETE_PENDING);
	if (!NT_STATUS_IS_OK(fs->status))
		return create_result(call, cs, fs->status);
	/* Before anything is judged against the others: an application
	 * instance started again elsewhere closes what it left behind. */
	NTSTATUS status = fs->created ? NT_STATUS_OK
				      : smbd_app_instance_take_over(call, &in->app, fs->st.st_dev, fs->st.st_ino);
	if (!NT_STATUS_IS_OK(status))
		return create_result(call, cs, status);

	uint8_t granted = SMB2_OPLOCK_LEVEL_NONE;
	bool is_dir = S_ISDIR(fs->st.st_mode);
	/* A directory's lease needs the capability (3.x, and on) and the v2
	 * context of 3.x; otherwise the request is ignored, as by a server
	 * without directory leases (smbtorture smb2.lease.request). */
	bool lease = in->want_lease &&
		     (!is_dir || (in->lease.v2 && (call->req->conn->server_capabilities &
						   SMB2_GLOBAL_CAP_DIRECTORY_LEASING)));
	const uint8_t *client_guid = call->req->conn->client_guid;
	const struct smbd_lease *mine = lease ? smbd_lease_find(srv, client_guid, in->lease.key) : NULL;
	/* Share modes first (MS-FSA 2.1.5.1.2): a conflict breaks only what
	 * caches a handle (batch oplocks, H leases), whose holder may close
	 * it, and is checked again once they answer; an exclusive oplock is
	 * not broken for an open that cannot get in (smbtorture
	 * smb2.oplock.exclusive1). A new object passes unless something
	 * reached it by another name meanwhile (the gate keeps out CREATEs
	 * of the same name). */
	status = smbd_share_mode_check(srv, fs->st.st_dev, fs->st.st_ino, fs->access, in->share_access);
	if (!NT_STATUS_IS_OK(status) && !fs->created &&
	    smbd_share_mode_break_handles(srv, fs->st.st_dev, fs->st.st_ino, fs->access, in->share_access, mine))
		return wait_for_breaks(call, cs, false);
	if (!NT_STATUS_IS_OK(status))
		return create_result(call, cs, status);
	if (fs->created) {
		if (!is_dir && in->oplock_level != SMB2_OPLOCK_LEVEL_LEASE)
			granted = in->oplock_level;
		cs->action = FILE_CREATED;
	} else {
		if (!is_dir) {
			/* Another client's exclusive or batch oplock is broken
			 * first; this CREATE then runs again (MS-SMB2 3.3.5.9). */
			status = smbd_oplock_check(srv, fs->st.st_dev, fs->st.st_ino, in->oplock_level, fs->access,
						   fs->overwrite, mine, &granted);
			if (NT_STATUS_EQUAL(status, NT_STATUS_PENDING))
				return wait_for_breaks(call, cs, true);
			if (!NT_STATUS_IS_OK(status))
				return create_result(call, cs, status);
		}
		cs->action = in->disposition == FILE_SUPERSEDE ? FILE_SUPERSEDED
			     : fs->overwrite			 ? FILE_OVERWRITTEN
								 : FILE_OPENED;
	}
	if (!fs->created) {
		status = smbd_lease_check(srv, fs->st.st_dev, fs->st.st_ino, fs->access, fs->overwrite,
					  in->options & FILE_DELETE_ON_CLOSE, mine, !call->waited_for_breaks);
		if (NT_STATUS_EQUAL(status, NT_STATUS_PENDING))
			return wait_for_breaks(call, cs, true);
	}

	struct smbd_open *o = smbd_open_new(call->tcon, fs->fd);
	fs->fd = -1; /* the open's now, or closed */
	if (o == NULL)
		return create_result(call, cs, NT_STATUS_INSUFFICIENT_RESOURCES);
	o->rel_path = talloc_steal(o, fs->ondisk);
	o->smb_name = talloc_strdup(o, in->name);
	o->access = fs->access;
	o->share_access = in->share_access;
	o->create_options = in->options;
	smbd_channel_sequence_init(o, call);
	o->delete_on_close = in->options & FILE_DELETE_ON_CLOSE;
	o->mode = in->options & (FILE_WRITE_THROUGH | FILE_SEQUENTIAL_ONLY | FILE_NO_INTERMEDIATE_BUFFERING |
				 FILE_SYNCHRONOUS_IO_ALERT | FILE_SYNCHRONOUS_IO_NONALERT | FILE_DELETE_ON_CLOSE);
	o->is_dir = fs->fi.is_directory;
	o->file_id = fs->fi.file_id;
	o->dev = fs->st.st_dev;
	o->ino = fs->st.st_ino;
	if (!smbd_file_add_open(srv, o)) {
		smbd_open_close(o);
		return create_result(call, cs, NT_STATUS_NO_MEMORY);
	}
	o->oplock_level = granted;
	if (lease) {
		status = smbd_lease_grant(o, client_guid, &in->lease, call->tcon->share, fs->rel);
		if (!NT_STATUS_IS_OK(status)) {
			smbd_open_close(o);
			return create_result(call, cs, status);
		}
	}
	smbd_durable_grant(o, &in->durable, call->session, client_guid,
			   call->req->conn->server_capabilities & SMB2_GLOBAL_CAP_PERSISTENT_HANDLES);
	if (in->durable.version == 2 && !smbd_create_guid_note(o, client_guid, in->durable.create_guid)) {
		smbd_open_close(o);
		return create_result(call, cs, NT_STATUS_NO_MEMORY);
	}
	smbd_app_instance_set(o, &in->app, client_guid);
	if (!fs->overwrite) {
		if (fs->created)
			entry_changed(call, in, o);
		return persist_and_reply(call, cs, o);
	}
	/* Registered first, so other opens see it while the file is cut. */
	cs->fid_p = o->persistent_id;
	cs->fid_v = o->volatile_id;
	cs->held = smbd_open_hold_fd(o);
	status = smbd_call_offload(call, cs, overwrite_work, overwritten);
	return NT_STATUS_EQUAL(status, NT_STATUS_PENDING) ? status : create_result(call, cs, status);
}

/* An open that was there before this CREATE answers it (a replay, a
 * durable reconnect): its state now, nothing looked up on disk again. */
static NTSTATUS reply_existing(struct smb2_call *call, struct create_state *cs, struct smbd_open *o,
			       uint32_t action)
{
	NTSTATUS status = smbd_open_fileinfo(o, &cs->fs.fi);
	if (!NT_STATUS_IS_OK(status))
		return create_result(call, cs, status);
	cs->action = action;
	cs->fs.maximal_access = o->access;
	return reply_with(call, cs, o);
}

/* A replayed CREATE whose open is still there (MS-SMB2 3.3.5.9.10): that
 * open answers again, as it first did, instead of a second open of the
 * file (which its share mode could refuse). */
static NTSTATUS create_replayed(struct smb2_call *call, struct create_state *cs, struct smbd_open *o,
				uint32_t action)
{
	struct create_in *in = cs->in;
	/* As Windows (smbtorture smb2.replay.replay-dhv2-oplock-lease,
	 * -oplock2): a replay asking for a lease where the open holds an
	 * oplock is refused; one asking for a lower oplock is answered with
	 * that level, and without the durable context such a request would
	 * not have got; the open keeps what it holds. */
	if (o->lease == NULL && in->want_lease)
		return create_result(call, cs, NT_STATUS_ACCESS_DENIED);
	/* ... and so is one naming another lease (replay-dhv2-lease3). */
	if (o->lease != NULL && in->want_lease &&
	    smbd_lease_find(o->srv, call->req->conn->client_guid, in->lease.key) != o->lease)
		return create_result(call, cs, NT_STATUS_ACCESS_DENIED);
	if (o->lease == NULL && in->oplock_level < o->oplock_level) {
		cs->replay_oplock = true;
		if (in->oplock_level != SMB2_OPLOCK_LEVEL_BATCH)
			in->durable.version = 0; /* no DH2Q context in the reply */
	}
	return reply_existing(call, cs, o, action);
}

/* DHnC / DH2C (MS-SMB2 3.3.5.9.7, 3.3.5.9.12): a durable open taken back
 * by its client, as it was; nothing on disk is looked up again. */
static NTSTATUS create_reconnect(struct smb2_call *call, struct create_state *cs)
{
	struct create_in *in = cs->in;
	struct smbd_open *o;
	NTSTATUS status =
		smbd_durable_reconnect(call, &in->durable, in->want_lease ? &in->lease : NULL, in->name, &o);
	if (!NT_STATUS_IS_OK(status))
		return create_result(call, cs, status);
	return reply_existing(call, cs, o, FILE_OPENED);
}

static void open_work(void *arg)
{
	create_fs_open(&((struct create_state *)arg)->fs);
}

static NTSTATUS create_file(struct smb2_call *call, struct create_state *cs)
{
	struct smbd_tcon *tcon = call->tcon;
	struct create_in *in = cs->in;
	char *rel;
	NTSTATUS status = vfs_path_from_smb(call->req, in->name, &rel);
	if (!NT_STATUS_IS_OK(status))
		return status;
	/* A previous version (MS-SMB2 2.2.13.2.7): no snapshot exists to open
	 * until shadow copies are served, so none is found. */
	if (in->timewarp != 0)
		return NT_STATUS_OBJECT_NAME_NOT_FOUND;
	if (in->want_lease) {
		status = smbd_lease_name_check(call->req->conn->srv, call->req->conn->client_guid, &in->lease,
					       tcon->share, tcon->share->vfs->case_sensitive, rel);
		if (!NT_STATUS_IS_OK(status))
			return status;
	}
	status = smbd_create_gate_enter(call, cs, tcon->share->vfs, rel, &cs->gate);
	if (!NT_STATUS_IS_OK(status)) {
		talloc_free(cs); /* NT_STATUS_PENDING: run again from the start when the gate opens */
		return status;
	}
	cs->fs.mem = cs;
	cs->fs.vfs = tcon->share->vfs;
	cs->fs.as = smbd_identity_copy(cs, smbd_session_identity(call->session));
	cs->fs.in = in;
	cs->fs.rel = rel;
	cs->fs.tree_access = tcon->maximal_access;
	cs->fs.read_only = tcon->read_only;
	if (cs->fs.as == NULL)
		return create_result(call, cs, NT_STATUS_NO_MEMORY);
	status = smbd_call_offload(call, cs, open_work, opened);
	return NT_STATUS_EQUAL(status, NT_STATUS_PENDING) ? status : create_result(call, cs, status);
}
void smb2_create_retry(struct smb2_call *call)
{
	/* Decode afresh: the handler is idempotent up to its first change. */
	if (!smbd_call_resume(call))
		return;
	/* Not through the dispatcher: take on the session's identity here. */
	if (!smbd_become(smbd_session_identity(call->session))) {
		smbd_call_async_done(call, NT_STATUS_ACCESS_DENIED);
		return;
	}
	NTSTATUS status = smb2_create(call);
	if (NT_STATUS_EQUAL(status, NT_STATUS_PENDING))
		return; /* waiting again */
	if (!NT_STATUS_IS_OK(status)) {
		call->out.len = 0;
		call->req->related_status = status;
	}
	smbd_become_root();
	smbd_call_async_done(call, status);
}

NTSTATUS smb2_create(struct smb2_call *call)
{
	struct create_state *cs = talloc_zero(call->req, struct create_state);
	if (cs == NULL)
		return NT_STATUS_NO_MEMORY;
	cs->fs.fd = -1;
	talloc_set_destructor(cs, create_state_destructor);
	cs->in = talloc_zero(cs, struct create_in);
	if (cs->in == NULL)
		return NT_STATUS_NO_MEMORY;
	NTSTATUS status = decode(call, cs->in);
	if (!NT_STATUS_IS_OK(status))
		return status;
	/* Before anything is created or truncated ("max open files"). */
	status = smbd_open_check_limit(call->tcon);
	if (!NT_STATUS_IS_OK(status))
		return status;
	if (cs->in->durable.reconnect)
		return create_reconnect(call, cs);
	/* CreateGuids are looked at when the CREATE arrives, not when it runs
	 * again after waiting for breaks (as Windows: a replay that waited
	 * meets the open its original made meanwhile as any other CREATE). */
	bool guid = cs->in->durable.version == 2 && !call->waited_for_breaks;
	/* A replay of a CREATE that still waits for breaks (replay_pending.h). */
	if (guid && (call->flags & SMB2_FLAGS_REPLAY_OPERATION) &&
	    smbd_replay_pending_find(call, cs->in->durable.create_guid))
		return NT_STATUS_ACCESS_DENIED;
	uint32_t action = 0;
	struct smbd_open *replayed = NULL;
	status = guid ? smbd_create_guid_replayed(call, cs->in->durable.create_guid, &replayed, &action)
		      : NT_STATUS_OK;
	if (!NT_STATUS_IS_OK(status))
		return status;
	if (replayed != NULL)
		return create_replayed(call, cs, replayed, action);
	if (call->tcon->share->is_ipc)
		return create_pipe(call, cs->in);
	return create_file(call, cs);
}
