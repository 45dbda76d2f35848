/*
 * srvsvc (MS-SRVS): what share browsing needs, i.e. "smbclient -L",
 * "net view" and Windows Explorer.
 *   15 NetrShareEnum       levels 0, 1, 2, 501, 502
 *   16 NetrShareGetInfo    levels 0, 1, 2, 501, 502, 1005
 *   21 NetrServerGetInfo   levels 100, 101, 102
 * Every other opnum faults with nca_s_op_rng_error.
 */
#include "config.h"
#include "lib/rpc/rpc_iface.h"

#include <string.h>
#include <strings.h>

/* MS-SRVS 2.2.2.x constants. */
#define SRVSVC_PLATFORM_ID_NT		500
#define SRVSVC_SV_TYPE			0x00009003u	/* workstation|server|nt|server_nt */
#define SRVSVC_VERSION_MAJOR		10
#define SRVSVC_VERSION_MINOR		0
#define SRVSVC_SHI_USES_UNLIMITED	0xFFFFFFFFu
#define SRVSVC_MAX_PREFERRED_LENGTH	0xFFFFFFFFu

/* The fields of the SHARE_INFO_x structures (MS-SRVS 2.2.4.22-2.2.4.29). */
enum srvsvc_field {
	F_END = 0,
	F_NETNAME,
	F_TYPE,
	F_REMARK,
	F_PERMISSIONS,
	F_MAX_USES,
	F_CURRENT_USES,
	F_PATH,
	F_PASSWD,
	F_FLAGS,
	F_SD_SIZE,
	F_SD,
};

struct srvsvc_share_level {
	uint32_t level;
	bool in_enum;			/* NetrShareEnum offers this level */
	uint8_t fields[11];
};

static const struct srvsvc_share_level srvsvc_share_levels[] = {
	{ 0, true, { F_NETNAME } },
	{ 1, true, { F_NETNAME, F_TYPE, F_REMARK } },
	{ 2, true, { F_NETNAME, F_TYPE, F_REMARK, F_PERMISSIONS, F_MAX_USES,
		     F_CURRENT_USES, F_PATH, F_PASSWD } },
	{ 501, true, { F_NETNAME, F_TYPE, F_REMARK, F_FLAGS } },
	{ 502, true, { F_NETNAME, F_TYPE, F_REMARK, F_PERMISSIONS, F_MAX_USES,
		       F_CURRENT_USES, F_PATH, F_PASSWD, F_SD_SIZE, F_SD } },
	{ 1005, false, { F_FLAGS } },
};

static const struct srvsvc_share_level *srvsvc_share_level(uint32_t level)
{
	for (size_t i = 0; i < sizeof(srvsvc_share_levels) / sizeof(srvsvc_share_levels[0]); i++)
		if (srvsvc_share_levels[i].level == level)
			return &srvsvc_share_levels[i];
	return NULL;
}

/* The fixed part of one SHARE_INFO_x; string pointees are deferred. */
static void srvsvc_push_share(struct ndr_push *o, const struct srvsvc_share_level *l,
			      const struct rpc_share_info *s)
{
	for (const uint8_t *f = l->fields; *f != F_END; f++) {
		switch (*f) {
		case F_NETNAME:
		case F_REMARK:
		case F_PATH:
			ndr_push_ptr(o, true);
			break;
		case F_PASSWD:
		case F_SD:
			/* No share passwords; no security descriptor returned. */
			ndr_push_ptr(o, false);
			break;
		case F_TYPE:
			ndr_push_u32(o, s->type);
			break;
		case F_PERMISSIONS:	/* share-level security only */
		case F_CURRENT_USES:
		case F_SD_SIZE:
			ndr_push_u32(o, 0);
			break;
		case F_MAX_USES:
			ndr_push_u32(o, SRVSVC_SHI_USES_UNLIMITED);
			break;
		case F_FLAGS:
			ndr_push_u32(o, s->flags);
			break;
		}
	}
}

/* C706 14.3.12.3: embedded pointees follow, in field order. */
static void srvsvc_push_share_deferred(struct ndr_push *o,
				       const struct srvsvc_share_level *l,
				       const struct rpc_share_info *s)
{
	for (const uint8_t *f = l->fields; *f != F_END; f++) {
		if (*f == F_NETNAME)
			ndr_push_wstring(o, s->name);
		else if (*f == F_REMARK)
			ndr_push_wstring(o, s->comment);
		else if (*f == F_PATH)
			ndr_push_wstring(o, s->path);
	}
}

/* What the client's buffer would need for one entry (NetrShareEnum's
 * PreferedMaximumLength is counted in those bytes). */
static size_t srvsvc_share_size(const struct srvsvc_share_level *l,
				const struct rpc_share_info *s)
{
	size_t n = 0;
	for (const uint8_t *f = l->fields; *f != F_END; f++) {
		const char *str = NULL;
		if (*f == F_NETNAME)
			str = s->name;
		else if (*f == F_REMARK)
			str = s->comment;
		else if (*f == F_PATH)
			str = s->path;
		n += sizeof(uint32_t);
		if (str)
			n += (strlen(str) + 1) * 2;
	}
	return n;
}

/* The configured shares, plus IPC$ (MS-SRVS 3.1.1.1: it always exists). */
static size_t srvsvc_shares(struct rpc_call *call, struct rpc_share_info **out)
{
	const struct rpc_server_info *info = call->info;
	struct rpc_share_info *list = NULL;
	size_t n = 0;
	if (info->list_shares)
		n = info->list_shares(info->private_data, call->mem, &list);
	if (list == NULL)
		n = 0;
	for (size_t i = 0; i < n; i++) {
		if (list[i].name && strcasecmp(list[i].name, "IPC$") == 0) {
			*out = list;
			return n;
		}
	}
	struct rpc_share_info *all = talloc_zero_array(call->mem, struct rpc_share_info, n + 1);
	if (all == NULL) {
		*out = list;
		return n;
	}
	if (n)
		memcpy(all, list, n * sizeof(*all));
	all[n] = (struct rpc_share_info){
		.name = "IPC$",
		.type = RPC_STYPE_IPC | RPC_STYPE_SPECIAL,
		.comment = "Remote IPC",
		.path = "",
	};
	*out = all;
	return n + 1;
}

/* The optional [in, string, unique] ServerName of every method: ignored. */
static void srvsvc_pull_server_name(struct ndr_pull *in)
{
	if (ndr_pull_ptr(in) != 0)
		(void)ndr_pull_wstring(in, NDR_MAX_STRING);
}

/* MS-SRVS 3.1.4.8 NetrShareEnum (opnum 15). */
static uint32_t srvsvc_share_enum(struct rpc_call *call)
{
	struct ndr_pull *in = call->in;
	struct ndr_push *o = call->out;

	srvsvc_pull_server_name(in);
	/* SHARE_ENUM_STRUCT: Level, then the union (its switch, its arm). */
	uint32_t level = ndr_pull_u32(in);
	uint32_t sw = ndr_pull_u32(in);
	/* MS-SRVS 2.2.4.38: every arm is a pointer to a container. */
	const struct srvsvc_share_level *l = srvsvc_share_level(level);
	if (l && !l->in_enum)
		l = NULL;
	bool has_arm = l != NULL || level == 503;
	if (has_arm && ndr_pull_ptr(in) != 0) {
		(void)ndr_pull_u32(in);		/* EntriesRead */
		/* Clients send an empty container; anything else is refused. */
		if (ndr_pull_ptr(in) != 0)
			ndr_pull_fail(in);
	}
	uint32_t pref_max = ndr_pull_u32(in);
	uint32_t resume_ptr = ndr_pull_ptr(in);
	uint32_t resume = resume_ptr ? ndr_pull_u32(in) : 0;
	if (!ndr_pull_ok(in) || sw != level)
		return RPC_FAULT_BAD_STUB_DATA;

	ndr_push_u32(o, level);
	ndr_push_u32(o, level);
	if (l == NULL) {
		if (has_arm) {			/* 503: an empty container */
			ndr_push_ptr(o, true);
			ndr_push_u32(o, 0);
			ndr_push_ptr(o, false);
		}
		ndr_push_u32(o, 0);		/* TotalEntries */
		ndr_push_ptr(o, resume_ptr != 0);
		if (resume_ptr)
			ndr_push_u32(o, 0);
		ndr_push_u32(o, RPC_WERR_INVALID_LEVEL);
		return RPC_FAULT_OK;
	}

	struct rpc_share_info *shares;
	size_t total = srvsvc_shares(call, &shares);
	size_t first = resume < total ? resume : total;
	size_t count = total - first;
	/* Without a resume handle the client could not continue: send all. */
	if (resume_ptr && pref_max != SRVSVC_MAX_PREFERRED_LENGTH) {
		size_t used = 0;
		for (count = 0; first + count < total; count++) {
			used += srvsvc_share_size(l, &shares[first + count]);
			if (count > 0 && used > pref_max)
				break;
		}
	}
	bool more = first + count < total;

	ndr_push_ptr(o, true);			/* SHARE_INFO_x_CONTAINER */
	ndr_push_u32(o, (uint32_t)count);	/* EntriesRead */
	ndr_push_ptr(o, count > 0);
	if (count > 0) {
		ndr_push_u32(o, (uint32_t)count);	/* conformance */
		for (size_t i = 0; i < count; i++)
			srvsvc_push_share(o, l, &shares[first + i]);
		for (size_t i = 0; i < count; i++)
			srvsvc_push_share_deferred(o, l, &shares[first + i]);
	}
	ndr_push_u32(o, (uint32_t)total);
	ndr_push_ptr(o, resume_ptr != 0);
	if (resume_ptr)
		ndr_push_u32(o, more ? (uint32_t)(first + count) : 0);
	ndr_push_u32(o, more ? RPC_WERR_MORE_DATA : RPC_WERR_OK);
	return RPC_FAULT_OK;
}

/* MS-SRVS 3.1.4.10 NetrShareGetInfo (opnum 16). */
static uint32_t srvsvc_share_get_info(struct rpc_call *call)
{
	struct ndr_pull *in = call->in;
	struct ndr_push *o = call->out;

	srvsvc_pull_server_name(in);
	/* [in, string] WCHAR *NetName: a top-level ref pointer, no id. */
	char *name = ndr_pull_wstring(in, NDR_MAX_STRING);
	uint32_t level = ndr_pull_u32(in);
	if (!ndr_pull_ok(in))
		return RPC_FAULT_BAD_STUB_DATA;

	/* [out, switch_is(Level)] LPSHARE_INFO: the switch, then the arm. */
	ndr_push_u32(o, level);
	const struct srvsvc_share_level *l = srvsvc_share_level(level);
	if (l == NULL) {
		/* The other arms MS-SRVS 2.2.3.6 defines are pointers too. */
		if (level == 503 || level == 1004 || level == 1006 ||
		    level == 1007 || level == 1501)
			ndr_push_ptr(o, false);
		ndr_push_u32(o, RPC_WERR_INVALID_LEVEL);
		return RPC_FAULT_OK;
	}

	struct rpc_share_info *shares;
	size_t total = srvsvc_shares(call, &shares);
	const struct rpc_share_info *s = NULL;
	for (size_t i = 0; i < total && s == NULL; i++)
		if (shares[i].name && strcasecmp(shares[i].name, name) == 0)
			s = &shares[i];
	if (s == NULL) {
		ndr_push_ptr(o, false);
		ndr_push_u32(o, RPC_WERR_NET_NAME_NOT_FOUND);
		return RPC_FAULT_OK;
	}
	ndr_push_ptr(o, true);
	srvsvc_push_share(o, l, s);
	srvsvc_push_share_deferred(o, l, s);
	ndr_push_u32(o, RPC_WERR_OK);
	return RPC_FAULT_OK;
}

/* MS-SRVS 3.1.4.17 NetrServerGetInfo (opnum 21). */
static uint32_t srvsvc_server_get_info(struct rpc_call *call)
{
	struct ndr_pull *in = call->in;
	struct ndr_push *o = call->out;
	const struct rpc_server_info *info = call->info;

	srvsvc_pull_server_name(in);
	uint32_t level = ndr_pull_u32(in);
	if (!ndr_pull_ok(in))
		return RPC_FAULT_BAD_STUB_DATA;

	ndr_push_u32(o, level);
	if (level != 100 && level != 101 && level != 102) {
		/* Every arm of SERVER_INFO (MS-SRVS 2.2.3.7) is a pointer. */
		ndr_push_ptr(o, false);
		ndr_push_u32(o, RPC_WERR_INVALID_LEVEL);
		return RPC_FAULT_OK;
	}
	ndr_push_ptr(o, true);
	/* SERVER_INFO_100/101/102, MS-SRVS 2.2.4.40-2.2.4.42. */
	ndr_push_u32(o, SRVSVC_PLATFORM_ID_NT);
	ndr_push_ptr(o, true);			/* name */
	if (level >= 101) {
		ndr_push_u32(o, SRVSVC_VERSION_MAJOR);
		ndr_push_u32(o, SRVSVC_VERSION_MINOR);
		ndr_push_u32(o, SRVSVC_SV_TYPE);
		ndr_push_ptr(o, true);		/* comment */
	}
	if (level == 102) {
		ndr_push_u32(o, 0xFFFFFFFFu);	/* users: no limit */
		ndr_push_u32(o, 15);		/* disc: autodisconnect minutes */
		ndr_push_u32(o, 0);		/* hidden: SV_VISIBLE */
		ndr_push_u32(o, 240);		/* announce, seconds */
		ndr_push_u32(o, 3000);		/* anndelta, milliseconds */
		ndr_push_u32(o, 0);		/* licenses */
		ndr_push_ptr(o, true);		/* userpath */
	}
	ndr_push_wstring(o, info->server_name);
	if (level >= 101)
		ndr_push_wstring(o, info->comment);
	if (level == 102)
		ndr_push_wstring(o, "C:\\");
	ndr_push_u32(o, RPC_WERR_OK);
	return RPC_FAULT_OK;
}

static const struct rpc_op srvsvc_ops[] = {
	[15] = { "NetrShareEnum", srvsvc_share_enum },
	[16] = { "NetrShareGetInfo", srvsvc_share_get_info },
	[21] = { "NetrServerGetInfo", srvsvc_server_get_info },
};

/* MS-SRVS 1.9: 4b324fc8-1670-01d3-1278-5a47bf6ee188 version 3.0. */
const struct rpc_iface rpc_iface_srvsvc = {
	.name = "srvsvc",
	.syntax = {
		RPC_UUID(0x4b324fc8, 0x1670, 0x01d3, 0x12, 0x78, 0x5a, 0x47, 0xbf, 0x6e, 0xe1, 0x88),
		3, 0,
	},
	.ops = srvsvc_ops,
	.n_ops = sizeof(srvsvc_ops) / sizeof(srvsvc_ops[0]),
};
