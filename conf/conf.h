/*
 * The configuration model and its parser: one Samba-style INI file,
 * [global] then one [section] per share.
 *
 * Syntax: "key = value"; whole-line comments starting with '#' or ';'
 * (no inline comments, as in Samba: "x = yes # c" is the value "yes # c");
 * section names and keys are case-insensitive and keys ignore white space
 * ("readonly" == "Read Only"); a trailing backslash joins the next line.
 * Booleans: yes/no, true/false, on/off, 1/0.
 *
 * Loading is strict: an unknown parameter or a bad value is an error, and
 * every error in the file is collected with its line, so `--check` can show
 * them all at once. conf_load_* also stat()s each share path: a path that
 * is not an existing directory is a load error, so both `--check` and a
 * normal start report it.
 *
 * Note: this header is named like the autoconf "config.h"; files in conf/
 * must include the latter as <config.h> (angle brackets skip conf/).
 */
#ifndef PORTHOS_CONF_CONFIG_H
#define PORTHOS_CONF_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <talloc.h>

/* Limits, also used by the parser's range checks. */
#define CONF_SHARE_NAME_MAX 80      /* UTF-16 code units, as Windows counts */
#define CONF_NETBIOS_NAME_MAX 15
#define CONF_MAX_PDU_MIN 69632u      /* 64 KiB payload + 4 KiB of headers */
#define CONF_MAX_PDU_MAX 16777215u   /* 24-bit length of the TCP frame (MS-SMB2 2.1) */
#define CONF_MAX_ERRORS 1000         /* stop collecting after this many */

/* Dialect numbers (MS-SMB2 2.2.3). */
#define CONF_SMB2_02 0x0202
#define CONF_SMB2_10 0x0210
#define CONF_SMB3_00 0x0300
#define CONF_SMB3_02 0x0302
#define CONF_SMB3_11 0x0311

struct conf_name_list {
	char **v;
	size_t n;
};

struct share_config {
	char *name;            /* as written, case preserved; lookups are case-insensitive */
	char *path;            /* absolute, no trailing '/', an existing directory at load time */
	char *comment;         /* default "" */
	bool read_only;        /* "read only" (or inverse "writeable"); default yes, as Samba */
	bool guest_ok;         /* "guest ok" / "public"; default no */
	bool browseable;       /* "browseable" / "browsable"; default yes */
	bool continuous_availability; /* "continuous availability": persistent handles (smbd/durable.h); default no */
	bool durable_handles;  /* "durable handles": grant durable opens (smbd/durable.h); default yes, as Samba */
	bool encrypt_required; /* "smb encrypt = required" or "encrypt data = yes|required" */
	/* Access lists: verbatim entries, a user name or @group (smbd/share_access.c). */
	struct conf_name_list valid_users;   /* "valid users": none = every authenticated user */
	struct conf_name_list invalid_users; /* "invalid users": refused even if listed as valid */
	struct conf_name_list read_list;     /* "read list": read-only on a writable share */
	struct conf_name_list write_list;    /* "write list": writable even on a read-only share */
	int line;              /* where the section starts, for messages; 0 if added by conf_add_share */
};

/* "reply crypto": where large replies are sealed or signed (smbd/loop_load.h). */
enum porthos_reply_crypto {
	REPLY_CRYPTO_AUTO,    /* on the event loop while it has time, else on the I/O workers */
	REPLY_CRYPTO_LOOP,    /* always on the event loop */
	REPLY_CRYPTO_WORKERS, /* always on the I/O workers (given "io threads" above 0) */
};

struct porthos_config {
	char *netbios_name;    /* "netbios name", upper-cased; default: upper-case short hostname, max 15 chars */
	char *workgroup;       /* "workgroup", upper-cased; default "WORKGROUP" */
	char *server_string;   /* "server string", default "Porthos" */
	char **listen;         /* "listen": normalized "a.b.c.d:port" / "[v6]:port"; default "0.0.0.0:<smb port>", "[::]:<smb port>" */
	size_t n_listen;
	uint16_t default_port; /* "smb port", default 445 */
	char *passdb_path;     /* "passdb", default <state directory>/passdb (/var/lib/porthos/passdb) */
	char *state_dir;       /* "state directory", default /var/lib/porthos */
	char *log_level;       /* "log level": error|warn|info|debug (normalized), default info */
	bool log_syslog;       /* "log to syslog", default no */
	uint32_t max_pdu;      /* "max pdu size", default 8454144 (8 MiB data + 256 KiB headroom) */
	uint32_t idle_timeout_s;    /* "idle timeout", default 900 (0 = never) */
	uint32_t auth_timeout_s;    /* "auth timeout", default 60: session setup must finish within it */
	uint32_t max_logon_delay_s; /* "max logon delay": ceiling of the per-address back-off after failed logons; 0 = off; default 8 */
	bool allow_anonymous;  /* "allow anonymous": null sessions (they reach only guest-ok shares); default no */
	bool signing_required; /* "server signing": true only for required/mandatory; default auto (false) */
	uint16_t min_protocol, max_protocol; /* "server min/max protocol"; defaults 0x0202 and 0x0311 */
	char *server_guid_file; /* "server guid file", default <state directory>/server-guid */
	uint32_t max_connections;   /* "max connections": TCP connections at once; default 16384 */
	uint32_t max_open_files;    /* "max open files": opens per session; default 16384 */
	uint32_t max_async_requests; /* "max async requests": pending async requests per connection; default 2048 */
	uint32_t io_threads;    /* "io threads": file I/O workers; 0 = I/O on the event loop; default 4 */
	bool io_uring;          /* "io uring": reads, writes and syncs on io_uring where the kernel allows; default yes */
	bool splice_writes;     /* "splice writes": large plain WRITEs go from socket to file by splice(2); default yes */
	bool splice_reads;      /* "splice reads": large plain READs go from file to socket by splice(2); default yes */
	enum porthos_reply_crypto reply_crypto; /* "reply crypto": where large replies are sealed or signed; default auto */
	bool multi_channel;     /* "server multi channel support": sessions may bind more connections; default yes */
	bool directory_leases;  /* "smb3 directory leases": SMB 3 clients may lease directories; default yes */
	char **mc_addresses;    /* "multi channel addresses": what clients are told to bind to; default: discovered */
	size_t n_mc_addresses;
	char *kerberos_keytab;  /* "kerberos keytab": the service keytab; NULL = Kerberos off */
	char *realm;            /* "realm": the Kerberos realm, upper-cased; NULL = the keytab's */
	struct share_config **shares;
	size_t n_shares;
};

struct conf_error {
	char *file;
	int line;              /* 0 when the error is not about one line */
	char *message;
};

/*
 * Errors are appended; start from a zeroed struct. The array and its strings
 * are talloc'd on the context given to the call (on 'c' for conf_add_share);
 * conf_errors_clear() frees them early. 'errs' may be NULL.
 */
struct conf_errors {
	struct conf_error *v;
	size_t n;
};

/* 0 on success; -1 with errs filled (and *out NULL) on any error. The config is talloc'd on mem. */
int conf_load_file(TALLOC_CTX *mem, const char *path, struct porthos_config **out,
		   struct conf_errors *errs);
/* 'name' is only used in messages. */
int conf_load_string(TALLOC_CTX *mem, const char *name, const char *text,
		     struct porthos_config **out, struct conf_errors *errs);

/* All defaults and no shares (for `porthos-smbd --share NAME=PATH` quick mode). NULL on ENOMEM. */
struct porthos_config *conf_default(TALLOC_CTX *mem);
/* Adds a share with default settings after the same checks as the file's (name, path, duplicates). 0 or -1. */
int conf_add_share(struct porthos_config *c, const char *name, const char *path,
		   struct conf_errors *errs);
/* Case-insensitive (ASCII letters only); NULL if absent. */
const struct share_config *conf_find_share(const struct porthos_config *c, const char *name);

/* One "file:line: message" line per error. */
void conf_print_errors(const struct conf_errors *errs, FILE *f);
void conf_errors_clear(struct conf_errors *errs);

/*
 * Parses "a.b.c.d", "a.b.c.d:port", "[v6]", "[v6]:port" or a bare "v6"
 * (no port possible) into a numeric host for getaddrinfo(AI_NUMERICHOST)
 * (v6 without brackets, "%scope" kept) and a port (default_port if none).
 * Host names are refused: the listen set must not depend on DNS at start.
 * 0 or -1 (bad syntax, not numeric, port not 1..65535, host_len too small).
 */
int conf_parse_listen(const char *spec, uint16_t default_port, char *host_out, size_t host_len,
		      uint16_t *port_out);

/* One "multi channel addresses" entry: "addr[;rss][;speed=<bits/s>]". */
struct conf_mc_address {
	struct sockaddr_storage addr; /* AF_INET or AF_INET6 */
	bool rss;
	uint64_t speed;               /* 0: not given */
};
/* 0, or -1 if spec is not such an entry. */
int conf_parse_mc_address(const char *spec, struct conf_mc_address *out);

#endif
