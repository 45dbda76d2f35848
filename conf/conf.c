/*
 * Parser for porthos.conf (see conf/conf.h for the syntax and model).
 *
 * One pass over the text builds the model; checks that need the whole file
 * (required path, protocol range, listen ports, [global] share defaults)
 * run at the end. An invalid or duplicate share section is still parsed,
 * into a throwaway share, so the errors inside it are reported too.
 */
#include "config.h"
#include "conf/conf.h"

#include "lib/log.h"
#include "lib/unicode.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONF_FILE_MAX (16u * 1024 * 1024)   /* refuse to slurp /dev/zero */
#define CONF_QUOTE_MAX 64                  /* value bytes quoted in a message */
#define CONF_HOST_MAX 80                   /* v6 text + "%scope" */

#define DEF_STATE_DIR "/var/lib/porthos"
#define DEF_MAX_PDU 8454144u               /* 8 MiB of data + 256 KiB headroom */

enum conf_scope {
	SCOPE_GLOBAL,     /* only in [global] */
	SCOPE_SHARE,      /* only in a share section */
	SCOPE_BOTH,       /* share parameter; in [global] it is every share's default */
};

enum conf_param_id {
	P_NETBIOS_NAME, P_WORKGROUP, P_SERVER_STRING, P_LISTEN, P_SMB_PORT,
	P_PASSDB, P_STATE_DIR, P_LOG_LEVEL, P_LOG_SYSLOG, P_MAX_PDU,
	P_IDLE_TIMEOUT, P_AUTH_TIMEOUT, P_SIGNING, P_MIN_PROTOCOL,
	P_MAX_PROTOCOL, P_GUID_FILE, P_ANONYMOUS, P_LOGON_DELAY,
	P_MAX_CONNECTIONS, P_MAX_OPEN_FILES, P_MAX_ASYNC, P_KEYTAB, P_REALM, P_IO_THREADS, P_IO_URING, P_SPLICE_WRITES, P_SPLICE_READS, P_REPLY_CRYPTO, P_MULTI_CHANNEL, P_MC_ADDRESSES, P_DIR_LEASES,
	P_PATH, P_COMMENT, P_READ_ONLY, P_WRITEABLE, P_GUEST_OK, P_BROWSEABLE, P_DURABLE,
	P_CA, P_SMB_ENCRYPT, P_ENCRYPT_DATA, P_VALID_USERS,
	P_INVALID_USERS, P_READ_LIST, P_WRITE_LIST,
};

struct conf_param {
	const char *name;
	enum conf_param_id id;
	enum conf_scope scope;
};

/* Synonyms are the spellings Samba users carry over. */
static const struct conf_param conf_params[] = {
	{ "netbios name", P_NETBIOS_NAME, SCOPE_GLOBAL },
	{ "workgroup", P_WORKGROUP, SCOPE_GLOBAL },
	{ "server string", P_SERVER_STRING, SCOPE_GLOBAL },
	{ "listen", P_LISTEN, SCOPE_GLOBAL },
	{ "smb port", P_SMB_PORT, SCOPE_GLOBAL },
	{ "smb ports", P_SMB_PORT, SCOPE_GLOBAL },
	{ "passdb", P_PASSDB, SCOPE_GLOBAL },
	{ "state directory", P_STATE_DIR, SCOPE_GLOBAL },
	{ "log level", P_LOG_LEVEL, SCOPE_GLOBAL },
	{ "log to syslog", P_LOG_SYSLOG, SCOPE_GLOBAL },
	{ "max pdu size", P_MAX_PDU, SCOPE_GLOBAL },
	{ "idle timeout", P_IDLE_TIMEOUT, SCOPE_GLOBAL },
	{ "auth timeout", P_AUTH_TIMEOUT, SCOPE_GLOBAL },
	{ "server signing", P_SIGNING, SCOPE_GLOBAL },
	{ "server min protocol", P_MIN_PROTOCOL, SCOPE_GLOBAL },
	{ "min protocol", P_MIN_PROTOCOL, SCOPE_GLOBAL },
	{ "server max protocol", P_MAX_PROTOCOL, SCOPE_GLOBAL },
	{ "max protocol", P_MAX_PROTOCOL, SCOPE_GLOBAL },
	{ "server guid file", P_GUID_FILE, SCOPE_GLOBAL },
	{ "allow anonymous", P_ANONYMOUS, SCOPE_GLOBAL },
	{ "max logon delay", P_LOGON_DELAY, SCOPE_GLOBAL },
	{ "max connections", P_MAX_CONNECTIONS, SCOPE_GLOBAL },
	{ "max open files", P_MAX_OPEN_FILES, SCOPE_GLOBAL },
	{ "max async requests", P_MAX_ASYNC, SCOPE_GLOBAL },
	{ "kerberos keytab", P_KEYTAB, SCOPE_GLOBAL },
	{ "realm", P_REALM, SCOPE_GLOBAL },
	{ "io threads", P_IO_THREADS, SCOPE_GLOBAL },
	{ "io uring", P_IO_URING, SCOPE_GLOBAL },
	{ "splice writes", P_SPLICE_WRITES, SCOPE_GLOBAL },
	{ "splice reads", P_SPLICE_READS, SCOPE_GLOBAL },
	{ "reply crypto", P_REPLY_CRYPTO, SCOPE_GLOBAL },
	{ "server multi channel support", P_MULTI_CHANNEL, SCOPE_GLOBAL },
	{ "smb3 directory leases", P_DIR_LEASES, SCOPE_GLOBAL },
	{ "multi channel addresses", P_MC_ADDRESSES, SCOPE_GLOBAL },
	{ "path", P_PATH, SCOPE_SHARE },
	{ "comment", P_COMMENT, SCOPE_SHARE },
	{ "read only", P_READ_ONLY, SCOPE_BOTH },
	{ "writeable", P_WRITEABLE, SCOPE_BOTH },
	{ "writable", P_WRITEABLE, SCOPE_BOTH },
	{ "write ok", P_WRITEABLE, SCOPE_BOTH },
	{ "guest ok", P_GUEST_OK, SCOPE_BOTH },
	{ "public", P_GUEST_OK, SCOPE_BOTH },
	{ "browseable", P_BROWSEABLE, SCOPE_BOTH },
	{ "browsable", P_BROWSEABLE, SCOPE_BOTH },
	{ "continuous availability", P_CA, SCOPE_BOTH },
	{ "durable handles", P_DURABLE, SCOPE_BOTH },
	{ "smb encrypt", P_SMB_ENCRYPT, SCOPE_BOTH },
	{ "encrypt data", P_ENCRYPT_DATA, SCOPE_BOTH },
	{ "valid users", P_VALID_USERS, SCOPE_BOTH },
	{ "invalid users", P_INVALID_USERS, SCOPE_BOTH },
	{ "read list", P_READ_LIST, SCOPE_BOTH },
	{ "write list", P_WRITE_LIST, SCOPE_BOTH },
};

/* Share settings given explicitly; the rest come from [global] or built-ins. */
enum {
	SET_READ_ONLY = 1u << 0,
	SET_GUEST_OK = 1u << 1,
	SET_BROWSEABLE = 1u << 2,
	SET_CA = 1u << 3,
	SET_ENCRYPT = 1u << 4,
	SET_VALID_USERS = 1u << 5,
	SET_INVALID_USERS = 1u << 6,
	SET_READ_LIST = 1u << 7,
	SET_WRITE_LIST = 1u << 8,
	SET_DURABLE = 1u << 9,
};

struct conf_share_state {
	struct share_config *sc;
	unsigned set;
	int path_line;
	bool discard;     /* bad or duplicate section: parsed for errors only */
};

struct conf_parser {
	TALLOC_CTX *tmp;
	TALLOC_CTX *err_mem;
	struct conf_errors *errs;
	const char *file;
	size_t n_err;             /* counted even when errs is NULL or full */

	struct porthos_config *c;
	int global_line;          /* first [global], 0 if none */
	bool in_section;
	struct conf_share_state *cur;   /* NULL while in [global] */
	struct conf_share_state **ss;
	size_t n_ss;

	struct share_config gdef; /* share defaults, possibly set in [global] */
	unsigned gdef_set;

	int min_proto_line, max_proto_line;
	bool listen_set, passdb_set, guid_set;
	int listen_line;
};

/* ---------------------------------------------------------------- errors */

static void conf_err_add(TALLOC_CTX *mem, struct conf_errors *errs, const char *file, int line,
			 const char *msg)
{
	if (errs == NULL || errs->n >= CONF_MAX_ERRORS)
		return;
	TALLOC_CTX *parent = errs->v != NULL ? talloc_parent(errs->v) : mem;
	struct conf_error *v = talloc_realloc(parent, errs->v, struct conf_error, errs->n + 1);
	if (v == NULL)
		return;
	errs->v = v;
	struct conf_error *e = &v[errs->n];
	e->line = line;
	e->file = talloc_strdup(v, file);
	if (errs->n + 1 == CONF_MAX_ERRORS)
		e->message = talloc_strdup(v, "too many errors, giving up");
	else
		e->message = talloc_strdup(v, msg);
	if (e->file == NULL || e->message == NULL) {
		TALLOC_FREE(e->file);
		TALLOC_FREE(e->message);
		return;
	}
	errs->n++;
}

static void conf_err(struct conf_parser *p, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void conf_err(struct conf_parser *p, int line, const char *fmt, ...)
{
	va_list ap;

	p->n_err++;
	va_start(ap, fmt);
	char *msg = talloc_vasprintf(p->tmp, fmt, ap);
	va_end(ap);
	conf_err_add(p->err_mem, p->errs, p->file, line, msg != NULL ? msg : "out of memory");
	talloc_free(msg);
}

void conf_print_errors(const struct conf_errors *errs, FILE *f)
{
	if (errs == NULL)
		return;
	for (size_t i = 0; i < errs->n; i++) {
		const struct conf_error *e = &errs->v[i];
		if (e->line > 0)
			fprintf(f, "%s:%d: %s\n", e->file, e->line, e->message);
		else
			fprintf(f, "%s: %s\n", e->file, e->message);
	}
}

void conf_errors_clear(struct conf_errors *errs)
{
	if (errs == NULL)
		return;
	TALLOC_FREE(errs->v);
	errs->n = 0;
}

/* A value quoted in a message: cut long ones at a UTF-8 boundary. */
static const char *conf_q(struct conf_parser *p, const char *s)
{
	size_t len = strlen(s);
	if (len <= CONF_QUOTE_MAX)
		return s;
	size_t cut = CONF_QUOTE_MAX;
	while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
		cut--;
	char *r = talloc_asprintf(p->tmp, "%.*s...", (int)cut, s);
	return r != NULL ? r : "...";
}

static const char *conf_where(struct conf_parser *p)
{
	if (p->cur == NULL)
		return "[global]";
	char *r = talloc_asprintf(p->tmp, "[%s]", conf_q(p, p->cur->sc->name));
	return r != NULL ? r : "[?]";
}

/* ---------------------------------------------------------------- helpers */

static bool conf_isspace(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '\v' || ch == '\f';
}

static char conf_lower(char ch)
{
	return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

static char conf_upper(char ch)
{
	return ch >= 'a' && ch <= 'z' ? (char)(ch - 'a' + 'A') : ch;
}

/* Trims in place; returns the start. */
static char *conf_trim(char *s)
{
	while (conf_isspace(*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && conf_isspace(s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* Parameter names compare case-insensitively and ignoring white space, as Samba's. */
static bool conf_key_eq(const char *a, const char *b)
{
	for (;;) {
		while (conf_isspace(*a))
			a++;
		while (conf_isspace(*b))
			b++;
		if (*a == '\0' || *b == '\0')
			return *a == *b;
		if (conf_lower(*a) != conf_lower(*b))
			return false;
		a++;
		b++;
	}
}

static const struct conf_param *conf_find_param(const char *key)
{
	for (size_t i = 0; i < sizeof(conf_params) / sizeof(conf_params[0]); i++)
		if (conf_key_eq(key, conf_params[i].name))
			return &conf_params[i];
	return NULL;
}

static bool conf_parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

/* Decimal digits only (no sign, no spaces), with overflow check. */
static bool conf_parse_u64(const char *v, const char **end, uint64_t *out)
{
	uint64_t n = 0;
	const char *s = v;

	if (*s < '0' || *s > '9')
		return false;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (__builtin_mul_overflow(n, 10, &n) || __builtin_add_overflow(n, (uint64_t)(*s - '0'), &n))
			return false;
	}
	*end = s;
	*out = n;
	return true;
}

static bool conf_parse_range(const char *v, uint64_t min, uint64_t max, uint64_t *out)
{
	const char *end;
	uint64_t n;

	if (!conf_parse_u64(v, &end, &n) || *end != '\0' || n < min || n > max)
		return false;
	*out = n;
	return true;
}

/* A size with an optional binary suffix: "8454144", "8256K", "8M". */
static bool conf_parse_size(const char *v, uint64_t min, uint64_t max, uint64_t *out)
{
	const char *end;
	uint64_t n, mul = 1;

	if (!conf_parse_u64(v, &end, &n))
		return false;
	if (*end == 'k' || *end == 'K')
		mul = 1024, end++;
	else if (*end == 'm' || *end == 'M')
		mul = 1024 * 1024, end++;
	if (*end != '\0' || __builtin_mul_overflow(n, mul, &n) || n < min || n > max)
		return false;
	*out = n;
	return true;
}

static bool conf_parse_protocol(const char *v, bool is_max, uint16_t *out)
{
	static const struct {
		const char *name;
		uint16_t min, max;
	} tab[] = {
		{ "SMB2_02", CONF_SMB2_02, CONF_SMB2_02 },
		{ "SMB2_10", CONF_SMB2_10, CONF_SMB2_10 },
		{ "SMB3_00", CONF_SMB3_00, CONF_SMB3_00 },
		{ "SMB3_02", CONF_SMB3_02, CONF_SMB3_02 },
		{ "SMB3_11", CONF_SMB3_11, CONF_SMB3_11 },
		/* Samba: the family name means its lowest variant as a minimum, its usual one as a maximum. */
		{ "SMB2", CONF_SMB2_02, CONF_SMB2_10 },
		{ "SMB3", CONF_SMB3_00, CONF_SMB3_11 },
		{ "default", CONF_SMB2_02, CONF_SMB3_11 },
	};
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		if (strcasecmp(v, tab[i].name) == 0) {
			*out = is_max ? tab[i].max : tab[i].min;
			return true;
		}
	}
	return false;
}

static bool conf_is_smb1_dialect(const char *v)
{
	static const char *const smb1[] = { "NT1", "LANMAN1", "LANMAN2", "CORE", "COREPLUS" };
	for (size_t i = 0; i < sizeof(smb1) / sizeof(smb1[0]); i++)
		if (strcasecmp(v, smb1[i]) == 0)
			return true;
	return false;
}

static bool conf_in_list(const char *v, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(v, list[i]) == 0)
			return true;
	return false;
}

#define CONF_IN(v, ...) conf_in_list((v), (const char *const[]){ __VA_ARGS__ }, \
	sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(const char *))

/* "server signing": only required/mandatory force signing; the rest is negotiated. */
static bool conf_parse_signing(const char *v, bool *out)
{
	if (CONF_IN(v, "required", "mandatory")) {
		*out = true;
		return true;
	}
	if (CONF_IN(v, "auto", "default", "if_required", "disabled")) {
		*out = false;
		return true;
	}
	return false;
}

/* "smb encrypt", Samba's vocabulary; only required/mandatory/forced are enforced. */
static bool conf_parse_smb_encrypt(const char *v, bool *out)
{
	if (CONF_IN(v, "required", "mandatory", "forced")) {
		*out = true;
		return true;
	}
	if (CONF_IN(v, "default", "auto", "if_required", "desired", "enabled", "off", "disabled", "no")) {
		*out = false;
		return true;
	}
	return false;
}

/* "encrypt data", Windows' share flag: a boolean, true meaning required. */
static bool conf_parse_encrypt_data(const char *v, bool *out)
{
	if (CONF_IN(v, "required", "mandatory")) {
		*out = true;
		return true;
	}
	return conf_parse_bool(v, out);
}

/*
 * Splits a list on commas and white space; "double quotes" keep an item
 * with spaces together (valid users = "Domain Users", alice).
 */
static int conf_split_list(TALLOC_CTX *mem, const char *v, char ***out, size_t *n_out)
{
	char **arr = talloc_array(mem, char *, 0);
	size_t n = 0;

	if (arr == NULL)
		return -1;
	const char *s = v;
	for (;;) {
		while (*s == ',' || conf_isspace(*s))
			s++;
		if (*s == '\0')
			break;
		const char *start;
		size_t len;
		if (*s == '"') {
			start = ++s;
			const char *q = strchr(s, '"');
			if (q == NULL)
				goto fail;
			len = (size_t)(q - start);
			s = q + 1;
			if (*s != '\0' && *s != ',' && !conf_isspace(*s))
				goto fail;
		} else {
			start = s;
			while (*s != '\0' && *s != ',' && !conf_isspace(*s) && *s != '"')
				s++;
			if (*s == '"')
				goto fail;
			len = (size_t)(s - start);
		}
		if (len == 0)
			goto fail;
		char **na = talloc_realloc(mem, arr, char *, n + 1);
		if (na == NULL)
			goto fail;
		arr = na;
		arr[n] = talloc_strndup(arr, start, len);
		if (arr[n] == NULL)
			goto fail;
		n++;
	}
	*out = arr;
	*n_out = n;
	return 0;
fail:
	talloc_free(arr);
	return -1;
}

static char **conf_copy_list(TALLOC_CTX *mem, char *const *src, size_t n)
{
	char **arr = talloc_array(mem, char *, n);
	if (arr == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		arr[i] = talloc_strdup(arr, src[i]);
		if (arr[i] == NULL) {
			talloc_free(arr);
			return NULL;
		}
	}
	return arr;
}

/* NetBIOS names: 1..15 printable ASCII bytes without \/:*?"<>| (and '.' for a host). */
static bool conf_netbios_ok(const char *v, bool allow_dot)
{
	size_t len = strlen(v);
	if (len == 0 || len > CONF_NETBIOS_NAME_MAX)
		return false;
	for (const char *s = v; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch <= 0x20 || ch >= 0x7f || strchr("\\/:*?\"<>|", ch) != NULL)
			return false;
		if (ch == '.' && !allow_dot)
			return false;
	}
	return true;
}

static char *conf_upper_dup(TALLOC_CTX *mem, const char *v)
{
	char *r = talloc_strdup(mem, v);
	if (r != NULL)
		for (char *s = r; *s; s++)
			*s = conf_upper(*s);
	return r;
}

/* Copies an absolute path without trailing slashes ("/" stays "/"). */
static char *conf_path_dup(TALLOC_CTX *mem, const char *v)
{
	size_t len = strlen(v);
	while (len > 1 && v[len - 1] == '/')
		len--;
	return talloc_strndup(mem, v, len);
}

/* ---------------------------------------------------------------- listen */

static bool conf_port_parse(const char *s, uint16_t *port)
{
	uint64_t n;
	if (strlen(s) > 5 || !conf_parse_range(s, 1, 65535, &n))
		return false;
	*port = (uint16_t)n;
	return true;
}

/* An IPv6 literal with an optional "%scope" (interface name or index). */
static bool conf_v6_ok(const char *h)
{
	char addr[INET6_ADDRSTRLEN];
	struct in6_addr a6;
	const char *pct = strchr(h, '%');
	size_t alen = pct != NULL ? (size_t)(pct - h) : strlen(h);

	if (alen == 0 || alen >= sizeof(addr))
		return false;
	memcpy(addr, h, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET6, addr, &a6) != 1)
		return false;
	if (pct != NULL) {
		const char *scope = pct + 1;
		size_t slen = strlen(scope);
		if (slen == 0 || slen > 15)
			return false;
		for (const char *s = scope; *s; s++) {
			char ch = *s;
			if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-'))
				return false;
		}
	}
	return true;
}

int conf_parse_listen(const char *spec, uint16_t default_port, char *host_out, size_t host_len,
		      uint16_t *port_out)
{
	char host[CONF_HOST_MAX];
	uint16_t port = default_port;
	const char *h, *rest;
	size_t hlen;

	if (spec == NULL || host_out == NULL || port_out == NULL)
		return -1;
	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');
		if (close == NULL)
			return -1;
		h = spec + 1;
		hlen = (size_t)(close - h);
		rest = close + 1;
		if (*rest == ':') {
			if (!conf_port_parse(rest + 1, &port))
				return -1;
		} else if (*rest != '\0') {
			return -1;
		}
		if (hlen == 0 || hlen >= sizeof(host))
			return -1;
		memcpy(host, h, hlen);
		host[hlen] = '\0';
		if (!conf_v6_ok(host))
			return -1;
	} else {
		const char *colon = strchr(spec, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL) {
			/* Two colons or more: a bare IPv6 literal, which cannot carry a port. */
			hlen = strlen(spec);
			if (hlen >= sizeof(host))
				return -1;
			memcpy(host, spec, hlen + 1);
			if (!conf_v6_ok(host))
				return -1;
		} else {
			struct in_addr a4;
			hlen = colon != NULL ? (size_t)(colon - spec) : strlen(spec);
			if (hlen == 0 || hlen >= sizeof(host))
				return -1;
			memcpy(host, spec, hlen);
			host[hlen] = '\0';
			if (colon != NULL && !conf_port_parse(colon + 1, &port))
				return -1;
			/* inet_pton, unlike inet_aton, takes dotted quads only. */
			if (inet_pton(AF_INET, host, &a4) != 1)
				return -1;
		}
	}
	if (port == 0 || strlen(host) >= host_len)
		return -1;
	strcpy(host_out, host);
	*port_out = port;
	return 0;
}

int conf_parse_mc_address(const char *spec, struct conf_mc_address *out)
{
	char buf[CONF_HOST_MAX + 64];
	if (spec == NULL || strlen(spec) >= sizeof(buf))
		return -1;
	strcpy(buf, spec);
	memset(out, 0, sizeof(*out));
	char *save = NULL;
	char *host = strtok_r(buf, ";", &save);
	if (host == NULL)
		return -1;
	struct sockaddr_in *in = (struct sockaddr_in *)&out->addr;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&out->addr;
	if (inet_pton(AF_INET, host, &in->sin_addr) == 1)
		in->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1)
		in6->sin6_family = AF_INET6;
	else
		return -1;
	for (char *opt; (opt = strtok_r(NULL, ";", &save)) != NULL;) {
		char *end;
		if (strcasecmp(opt, "rss") == 0) {
			out->rss = true;
		} else if (strncasecmp(opt, "speed=", 6) == 0 && opt[6] >= '0' && opt[6] <= '9') {
			errno = 0;
			unsigned long long speed = strtoull(opt + 6, &end, 10);
			if (errno != 0 || *end != '\0' || speed == 0)
				return -1;
			out->speed = speed;
		} else {
			return -1;
		}
	}
	return 0;
}

/* "host:port" with brackets for v6, so the server can hand it back to conf_parse_listen. */
static char *conf_listen_normalize(TALLOC_CTX *mem, const char *spec, uint16_t port)
{
	char host[CONF_HOST_MAX];
	uint16_t p;

	if (conf_parse_listen(spec, port, host, sizeof(host), &p) != 0)
		return NULL;
	if (strchr(host, ':') != NULL)
		return talloc_asprintf(mem, "[%s]:%u", host, (unsigned)p);
	return talloc_asprintf(mem, "%s:%u", host, (unsigned)p);
}

static int conf_default_listen(struct porthos_config *c)
{
	TALLOC_FREE(c->listen);
	c->n_listen = 0;
	c->listen = talloc_array(c, char *, 2);
	if (c->listen == NULL)
		return -1;
	c->listen[0] = talloc_asprintf(c->listen, "0.0.0.0:%u", (unsigned)c->default_port);
	c->listen[1] = talloc_asprintf(c->listen, "[::]:%u", (unsigned)c->default_port);
	if (c->listen[0] == NULL || c->listen[1] == NULL)
		return -1;
	c->n_listen = 2;
	return 0;
}

/* ---------------------------------------------------------------- defaults */

static void conf_share_defaults(struct share_config *sc)
{
	sc->read_only = true;   /* Samba's default: a share is writable only when asked */
	sc->guest_ok = false;
	sc->browseable = true;
	sc->continuous_availability = false;
	sc->durable_handles = true;
	sc->encrypt_required = false;
	sc->valid_users = (struct conf_name_list){ 0 };
	sc->invalid_users = (struct conf_name_list){ 0 };
	sc->read_list = (struct conf_name_list){ 0 };
	sc->write_list = (struct conf_name_list){ 0 };
}

/* The upper-cased first label of the host name, cut to 15, as Samba does. */
static char *conf_default_netbios(TALLOC_CTX *mem)
{
	char host[256];
	char nb[CONF_NETBIOS_NAME_MAX + 1];
	size_t n = 0;

	if (gethostname(host, sizeof(host)) != 0)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	for (const char *s = host; *s && *s != '.' && n < CONF_NETBIOS_NAME_MAX; s++)
		nb[n++] = conf_upper(*s);
	nb[n] = '\0';
	if (!conf_netbios_ok(nb, false))
		return talloc_strdup(mem, "PORTHOS");
	return talloc_strdup(mem, nb);
}

struct porthos_config *conf_default(TALLOC_CTX *mem)
{
	struct porthos_config *c = talloc_zero(mem, struct porthos_config);
	if (c == NULL)
		return NULL;
	c->netbios_name = conf_default_netbios(c);
	c->workgroup = talloc_strdup(c, "WORKGROUP");
	c->server_string = talloc_strdup(c, "Porthos");
	c->default_port = 445;
	c->state_dir = talloc_strdup(c, DEF_STATE_DIR);
	c->passdb_path = talloc_strdup(c, DEF_STATE_DIR "/passdb");
	c->server_guid_file = talloc_strdup(c, DEF_STATE_DIR "/server-guid");
	c->log_level = talloc_strdup(c, "info");
	c->log_syslog = false;
	c->max_pdu = DEF_MAX_PDU;
	c->idle_timeout_s = 900;
	c->auth_timeout_s = 60;
	c->max_logon_delay_s = 8;
	c->max_connections = 16384;
	c->max_open_files = 16384;
	c->max_async_requests = 2048;
	c->io_threads = 4;
	c->io_uring = true;
	c->splice_writes = true;
	c->splice_reads = true;
	c->reply_crypto = REPLY_CRYPTO_AUTO;
	c->multi_channel = true;
	c->directory_leases = true;
	c->signing_required = false;
	c->min_protocol = CONF_SMB2_02;
	c->max_protocol = CONF_SMB3_11;
	c->shares = talloc_array(c, struct share_config *, 0);
	if (c->netbios_name == NULL || c->workgroup == NULL || c->server_string == NULL ||
	    c->state_dir == NULL || c->passdb_path == NULL || c->server_guid_file == NULL ||
	    c->log_level == NULL || c->shares == NULL || conf_default_listen(c) != 0) {
		talloc_free(c);
		return NULL;
	}
	return c;
}

/* ---------------------------------------------------------------- shares */

static bool conf_name_eq(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

/* Share name rules; on failure *why says which. */
static bool conf_share_name_ok(const char *name, const char **why)
{
	size_t u16 = utf8_utf16le_len(name);

	if (name[0] == '\0') {
		*why = "empty share name";
		return false;
	}
	if (u16 == SIZE_MAX) {
		*why = "share name is not valid UTF-8";
		return false;
	}
	if (u16 / 2 > CONF_SHARE_NAME_MAX) {
		*why = "share name longer than 80 characters";
		return false;
	}
	for (const char *s = name; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch < 0x20 || ch == 0x7f) {
			*why = "control character in share name";
			return false;
		}
		if (strchr("\\/:*?\"<>|", ch) != NULL) {
			*why = "share name contains one of \\ / : * ? \" < > |";
			return false;
		}
	}
	if (conf_name_eq(name, "IPC$")) {
		*why = "IPC$ is reserved";
		return false;
	}
	if (conf_name_eq(name, "homes") || conf_name_eq(name, "printers")) {
		*why = "Samba's special sections [homes] and [printers] are not supported";
		return false;
	}
	return true;
}

/* Why 'path' cannot be a share's root, or NULL if it can. */
static const char *conf_share_path_problem(TALLOC_CTX *mem, const char *path)
{
	struct stat st;

	if (path[0] != '/')
		return "is not absolute";
	if (stat(path, &st) != 0)
		return talloc_asprintf(mem, "cannot be used: %s", strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return "is not a directory";
	return NULL;
}

static int conf_append_share(struct porthos_config *c, struct share_config *sc)
{
	struct share_config **v = talloc_realloc(c, c->shares, struct share_config *, c->n_shares + 1);
	if (v == NULL)
		return -1;
	c->shares = v;
	c->shares[c->n_shares++] = talloc_steal(c->shares, sc);
	return 0;
}

const struct share_config *conf_find_share(const struct porthos_config *c, const char *name)
{
	if (c == NULL || name == NULL)
		return NULL;
	for (size_t i = 0; i < c->n_shares; i++)
		if (conf_name_eq(c->shares[i]->name, name))
			return c->shares[i];
	return NULL;
}

int conf_add_share(struct porthos_config *c, const char *name, const char *path,
		   struct conf_errors *errs)
{
	static const char *const who = "command line";
	const char *why;
	int rc = 0;

	if (!conf_share_name_ok(name, &why)) {
		char *m = talloc_asprintf(c, "share '%s': %s", name, why);
		conf_err_add(c, errs, who, 0, m != NULL ? m : why);
		talloc_free(m);
		rc = -1;
	} else if (conf_find_share(c, name) != NULL) {
		char *m = talloc_asprintf(c, "duplicate share name '%s' (share names are case-insensitive)", name);
		conf_err_add(c, errs, who, 0, m != NULL ? m : "duplicate share name");
		talloc_free(m);
		rc = -1;
	}
	TALLOC_CTX *tmp = talloc_new(NULL);
	const char *pp = tmp != NULL ? conf_share_path_problem(tmp, path) : "cannot be checked: out of memory";
	if (pp != NULL) {
		char *m = talloc_asprintf(tmp, "path '%s' %s", path, pp);
		conf_err_add(c, errs, who, 0, m != NULL ? m : pp);
		rc = -1;
	}
	talloc_free(tmp);
	if (rc != 0)
		return rc;

	struct share_config *sc = talloc_zero(c, struct share_config);
	if (sc == NULL)
		goto oom;
	conf_share_defaults(sc);
	sc->name = talloc_strdup(sc, name);
	sc->path = conf_path_dup(sc, path);
	sc->comment = talloc_strdup(sc, "");
	if (sc->name == NULL || sc->path == NULL || sc->comment == NULL || conf_append_share(c, sc) != 0) {
		talloc_free(sc);
		goto oom;
	}
	return 0;
oom:
	conf_err_add(c, errs, who, 0, "out of memory");
	return -1;
}

/* ---------------------------------------------------------------- parser */

static void conf_oom(struct conf_parser *p, int line)
{
	conf_err(p, line, "out of memory");
}

static void conf_bad_value(struct conf_parser *p, int line, const char *key, const char *value,
			   const char *expected)
{
	conf_err(p, line, "bad value '%s' for '%s' in %s: expected %s", conf_q(p, value), key,
		 conf_where(p), expected);
}

static void conf_set_str(struct conf_parser *p, int line, TALLOC_CTX *owner, char **slot,
			 const char *v)
{
	char *n = talloc_strdup(owner, v);
	if (n == NULL) {
		conf_oom(p, line);
		return;
	}
	talloc_free(*slot);
	*slot = n;
}

static void conf_set_abs_path(struct conf_parser *p, int line, const char *key, char **slot,
			      const char *v)
{
	if (v[0] != '/') {
		conf_bad_value(p, line, key, v, "an absolute path");
		return;
	}
	char *n = conf_path_dup(p->c, v);
	if (n == NULL) {
		conf_oom(p, line);
		return;
	}
	talloc_free(*slot);
	*slot = n;
}

static void conf_set_global(struct conf_parser *p, int line, const char *key,
			    enum conf_param_id id, const char *v)
{
	struct porthos_config *c = p->c;
	uint64_t n;
	bool b;

	switch (id) {
	case P_NETBIOS_NAME:
		if (!conf_netbios_ok(v, false)) {
			conf_bad_value(p, line, key, v,
				       "1 to 15 ASCII characters without spaces or \\ / : * ? \" < > | .");
			return;
		}
		TALLOC_FREE(c->netbios_name);
		c->netbios_name = conf_upper_dup(c, v);
		if (c->netbios_name == NULL)
			conf_oom(p, line);
		return;
	case P_WORKGROUP:
		if (!conf_netbios_ok(v, true)) {
			conf_bad_value(p, line, key, v,
				       "1 to 15 ASCII characters without spaces or \\ / : * ? \" < > |");
			return;
		}
		TALLOC_FREE(c->workgroup);
		c->workgroup = conf_upper_dup(c, v);
		if (c->workgroup == NULL)
			conf_oom(p, line);
		return;
	case P_SERVER_STRING:
		conf_set_str(p, line, c, &c->server_string, v);
		return;
	case P_LISTEN: {
		char **arr;
		size_t cnt;
		char host[CONF_HOST_MAX];
		uint16_t port;
		if (conf_split_list(p->tmp, v, &arr, &cnt) != 0 || cnt == 0) {
			conf_bad_value(p, line, key, v, "a list of addresses");
			return;
		}
		bool ok = true;
		for (size_t i = 0; i < cnt; i++) {
			if (conf_parse_listen(arr[i], 445, host, sizeof(host), &port) != 0) {
				conf_err(p, line, "invalid listen address '%s' in [global]: expected "
					 "a.b.c.d[:port], [v6][:port] or a bare v6 address",
					 conf_q(p, arr[i]));
				ok = false;
			}
		}
		if (!ok)
			return;
		talloc_free(c->listen);
		c->listen = talloc_steal(c, arr);
		c->n_listen = cnt;
		p->listen_set = true;
		p->listen_line = line;
		return;
	}
	case P_SMB_PORT:
		if (!conf_parse_range(v, 1, 65535, &n)) {
			conf_bad_value(p, line, key, v, "a port number from 1 to 65535");
			return;
		}
		c->default_port = (uint16_t)n;
		return;
	case P_PASSDB:
		conf_set_abs_path(p, line, key, &c->passdb_path, v);
		p->passdb_set = true;
		return;
	case P_STATE_DIR:
		conf_set_abs_path(p, line, key, &c->state_dir, v);
		return;
	case P_GUID_FILE:
		conf_set_abs_path(p, line, key, &c->server_guid_file, v);
		p->guid_set = true;
		return;
	case P_LOG_LEVEL: {
		static const char *const names[] = { "error", "warn", "info", "debug" };
		enum plog_level lvl;
		if (!plog_parse_level(v, &lvl) || (unsigned)lvl > PLOG_DEBUG) {
			conf_bad_value(p, line, key, v, "error, warn, info or debug");
			return;
		}
		conf_set_str(p, line, c, &c->log_level, names[lvl]);
		return;
	}
	case P_LOG_SYSLOG:
		if (!conf_parse_bool(v, &b)) {
			conf_bad_value(p, line, key, v, "yes or no");
			return;
		}
		c->log_syslog = b;
		return;
	case P_LOGON_DELAY:
		if (!conf_parse_range(v, 0, 60, &n)) {
			conf_bad_value(p, line, key, v, "seconds from 0 to 60");
			return;
		}
		c->max_logon_delay_s = (uint32_t)n;
		return;
	case P_MAX_CONNECTIONS:
	case P_MAX_OPEN_FILES:
	case P_MAX_ASYNC: {
		uint32_t *dst = id == P_MAX_CONNECTIONS ? &c->max_connections
				: id == P_MAX_OPEN_FILES ? &c->max_open_files : &c->max_async_requests;
		if (!conf_parse_range(v, 1, 1000000, &n)) {
			conf_bad_value(p, line, key, v, "a number from 1 to 1000000");
			return;
		}
		*dst = (uint32_t)n;
		return;
	}
	case P_IO_THREADS:
		if (!conf_parse_range(v, 0, 256, &n)) {
			conf_bad_value(p, line, key, v, "a number of threads from 0 to 256");
			return;
		}
		c->io_threads = (uint32_t)n;
		return;
	case P_IO_URING:
		if (!conf_parse_bool(v, &b)) {
			conf_bad_value(p, line, key, v, "yes or no");
			return;
		}
		c->io_uring = b;
		return;
	case P_SPLICE_WRITES:
		if (!conf_parse_bool(v, &b)) {
			conf_bad_value(p, line, key, v, "yes or no");
			return;
		}
		c->splice_writes = b;
		return;
	case P_SPLICE_READS:
		if (!conf_parse_bool(v, &b)) {
			conf_bad_value(p, line, key, v, "yes or no");
			return;
		}
		c->splice_reads = b;
		return;
	case P_MULTI_CHANNEL:
		if (!conf_parse_bool(v, &b)) {
			conf_bad_value(p, line, key, v, "yes or no");
			return;
		}
		c->multi_channel = b;
		return;
	case P_REPLY_CRYPTO:
		if (CONF_IN(v, "auto"))
			c->reply_crypto = REPLY_CRYPTO_AUTO;
		else if (CONF_IN(v, "loop"))
			c->reply_crypto = REPLY_CRYPTO_LOOP;
		else if (CONF_IN(v, "workers"))
			c->reply_crypto = REPLY_CRYPTO_WORKERS;
		else
			conf_bad_value(p, line, key, v, "auto, loop or workers");
		return;
	case P_DIR_LEASES:
		if (!conf_parse_bool(v, &b)) {
			conf_bad_value(p, line, key, v, "yes or no");
			return;
		}
		c->directory_leases = b;
		return;
	case P_MC_ADDRESSES: {
		char **arr;
		size_t cnt;
		if (conf_split_list(p->tmp, v, &arr, &cnt) != 0) {
			conf_bad_value(p, line, key, v, "a list of addresses");
			return;
		}
		for (size_t i = 0; i < cnt; i++) {
			struct conf_mc_address a;
			if (conf_parse_mc_address(arr[i], &a) != 0) {
				conf_err(p, line, "invalid entry '%s' in \"%s\": expected an IPv4 or IPv6 address, "
					 "optionally followed by ;rss and ;speed=<bits per second>",
					 conf_q(p, arr[i]), key);
				return;
			}
		}
		talloc_free(c->mc_addresses);
		c->mc_addresses = talloc_steal(c, arr);
		c->n_mc_addresses = cnt;
		return;
	}
	case P_KEYTAB:
		conf_set_abs_path(p, line, key, &c->kerberos_keytab, v);
		return;
	case P_REALM:
		if (v[0] == '\0' || strpbrk(v, " \t/@") != NULL) {
			conf_bad_value(p, line, key, v, "a Kerberos realm such as EXAMPLE.COM");
			return;
		}
		TALLOC_FREE(c->realm);
		c->realm = conf_upper_dup(c, v);
		if (c->realm == NULL)
			conf_oom(p, line);
		return;
	case P_ANONYMOUS:
		if (!conf_parse_bool(v, &b)) {
			conf_bad_value(p, line, key, v, "yes or no");
			return;
		}
		c->allow_anonymous = b;
		return;
	case P_MAX_PDU:
		if (!conf_parse_size(v, CONF_MAX_PDU_MIN, CONF_MAX_PDU_MAX, &n)) {
			conf_bad_value(p, line, key, v,
				       "a size from 69632 (68K) to 16777215 bytes, optionally with K or M");
			return;
		}
		c->max_pdu = (uint32_t)n;
		return;
	case P_IDLE_TIMEOUT:
		if (!conf_parse_range(v, 0, INT32_MAX, &n)) {
			conf_bad_value(p, line, key, v, "seconds (0 = never)");
			return;
		}
		c->idle_timeout_s = (uint32_t)n;
		return;
	case P_AUTH_TIMEOUT:
		if (!conf_parse_range(v, 1, 3600, &n)) {
			conf_bad_value(p, line, key, v, "seconds from 1 to 3600");
			return;
		}
		c->auth_timeout_s = (uint32_t)n;
		return;
	case P_SIGNING:
		if (!conf_parse_signing(v, &b)) {
			conf_bad_value(p, line, key, v, "auto, if_required, disabled, required or mandatory");
			return;
		}
		c->signing_required = b;
		return;
	case P_MIN_PROTOCOL:
	case P_MAX_PROTOCOL: {
		bool is_max = id == P_MAX_PROTOCOL;
		uint16_t d;
		if (conf_is_smb1_dialect(v)) {
			conf_err(p, line, "bad value '%s' for '%s': SMB1 is not supported", conf_q(p, v), key);
			return;
		}
		if (!conf_parse_protocol(v, is_max, &d)) {
			conf_bad_value(p, line, key, v, "SMB2_02, SMB2_10, SMB3_00, SMB3_02, SMB3_11, SMB2 or SMB3");
			return;
		}
		if (is_max) {
			c->max_protocol = d;
			p->max_proto_line = line;
		} else {
			c->min_protocol = d;
			p->min_proto_line = line;
		}
		return;
	}
	default:
		return;
	}
}

/* The access list a list parameter sets, and its SET_ flag added to *set. */
static struct conf_name_list *conf_share_list(struct share_config *sc, enum conf_param_id id,
					      unsigned *set)
{
	switch (id) {
	case P_INVALID_USERS:
		*set |= SET_INVALID_USERS;
		return &sc->invalid_users;
	case P_READ_LIST:
		*set |= SET_READ_LIST;
		return &sc->read_list;
	case P_WRITE_LIST:
		*set |= SET_WRITE_LIST;
		return &sc->write_list;
	default:
		*set |= SET_VALID_USERS;
		return &sc->valid_users;
	}
}

/* A share parameter, into a share or (from [global]) into the share defaults. */
static void conf_set_share(struct conf_parser *p, int line, const char *key,
			   enum conf_param_id id, const char *v, struct share_config *sc,
			   unsigned *set, int *path_line)
{
	/* The [global] defaults live in the parser, not on the talloc tree. */
	TALLOC_CTX *owner = sc == &p->gdef ? p->tmp : sc;
	bool b;

	switch (id) {
	case P_PATH:
		if (v[0] == '\0') {
			conf_bad_value(p, line, key, v, "an absolute path");
			return;
		}
		conf_set_str(p, line, owner, &sc->path, v);
		*path_line = line;
		return;
	case P_COMMENT:
		conf_set_str(p, line, owner, &sc->comment, v);
		return;
	case P_READ_ONLY:
	case P_WRITEABLE:
		if (!conf_parse_bool(v, &b)) {
			conf_bad_value(p, line, key, v, "yes or no");
			return;
		}
		sc->read_only = id == P_READ_ONLY ? b : !b;
		*set |= SET_READ_ONLY;
		return;
	case P_GUEST_OK:
		if (!conf_parse_bool(v, &b)) {
			conf_bad_value(p, line, key, v, "yes or no");
			return;
		}
		sc->guest_ok = b;
		*set |= SET_GUEST_OK;
		return;
	case P_BROWSEABLE:
		if (!conf_parse_bool(v, &b)) {
			conf_bad_value(p, line, key, v, "yes or no");
			return;
		}
		sc->browseable = b;
		*set |= SET_BROWSEABLE;
		return;
	case P_CA:
		if (!conf_parse_bool(v, &b)) {
			conf_bad_value(p, line, key, v, "yes or no");
			return;
		}
		sc->continuous_availability = b;
		*set |= SET_CA;
		return;
	case P_DURABLE:
		if (!conf_parse_bool(v, &b)) {
			conf_bad_value(p, line, key, v, "yes or no");
			return;
		}
		sc->durable_handles = b;
		*set |= SET_DURABLE;
		return;
	case P_SMB_ENCRYPT:
		if (!conf_parse_smb_encrypt(v, &b)) {
			conf_bad_value(p, line, key, v, "required, desired, auto or off");
			return;
		}
		sc->encrypt_required = b;
		*set |= SET_ENCRYPT;
		return;
	case P_ENCRYPT_DATA:
		if (!conf_parse_encrypt_data(v, &b)) {
			conf_bad_value(p, line, key, v, "yes (required) or no");
			return;
		}
		sc->encrypt_required = b;
		*set |= SET_ENCRYPT;
		return;
	case P_VALID_USERS:
	case P_INVALID_USERS:
	case P_READ_LIST:
	case P_WRITE_LIST: {
		struct conf_name_list *dst = conf_share_list(sc, id, set);
		char **arr;
		size_t cnt;
		if (conf_split_list(owner, v, &arr, &cnt) != 0) {
			conf_bad_value(p, line, key, v, "a list of user or @group names");
			return;
		}
		talloc_free(dst->v);
		dst->v = arr;
		dst->n = cnt;
		return;
	}
	default:
		return;
	}
}

static void conf_key_value(struct conf_parser *p, int line, char *text)
{
	char *eq = strchr(text, '=');

	if (eq == NULL) {
		conf_err(p, line, "expected 'key = value' or '[section]', got '%s'", conf_q(p, text));
		return;
	}
	*eq = '\0';
	const char *key = conf_trim(text);
	const char *v = conf_trim(eq + 1);
	if (key[0] == '\0') {
		conf_err(p, line, "missing parameter name before '='");
		return;
	}
	if (!p->in_section) {
		conf_err(p, line, "parameter '%s' outside of any section", conf_q(p, key));
		return;
	}
	const struct conf_param *par = conf_find_param(key);
	if (par == NULL) {
		conf_err(p, line, "unknown parameter '%s' in %s", conf_q(p, key), conf_where(p));
		return;
	}
	if (p->cur == NULL) {
		if (par->scope == SCOPE_SHARE) {
			conf_err(p, line, "share parameter '%s' is not allowed in [global]", par->name);
			return;
		}
		if (par->scope == SCOPE_BOTH) {
			int unused = 0;
			conf_set_share(p, line, key, par->id, v, &p->gdef, &p->gdef_set, &unused);
			return;
		}
		conf_set_global(p, line, key, par->id, v);
		return;
	}
	if (par->scope == SCOPE_GLOBAL) {
		conf_err(p, line, "global parameter '%s' is not allowed in %s", par->name, conf_where(p));
		return;
	}
	conf_set_share(p, line, key, par->id, v, p->cur->sc, &p->cur->set, &p->cur->path_line);
}

static struct conf_share_state *conf_find_state(struct conf_parser *p, const char *name)
{
	for (size_t i = 0; i < p->n_ss; i++)
		if (!p->ss[i]->discard && conf_name_eq(p->ss[i]->sc->name, name))
			return p->ss[i];
	return NULL;
}

static void conf_section(struct conf_parser *p, int line, char *text)
{
	char *close = strchr(text, ']');

	p->in_section = true;
	p->cur = NULL;
	if (close == NULL) {
		conf_err(p, line, "missing ']' in section header");
		/* Parse what follows into a throwaway share rather than into [global]. */
		*text = '\0';
	} else {
		*close = '\0';
		char *rest = conf_trim(close + 1);
		if (rest[0] != '\0' && rest[0] != '#' && rest[0] != ';')
			conf_err(p, line, "unexpected text after section header: '%s'", conf_q(p, rest));
	}
	const char *name = close != NULL ? conf_trim(text + 1) : "";

	if (close != NULL && conf_name_eq(name, "global")) {
		if (p->global_line != 0)
			conf_err(p, line, "duplicate section [global] (first at line %d)", p->global_line);
		else
			p->global_line = line;
		return;
	}

	struct conf_share_state *st = talloc_zero(p->tmp, struct conf_share_state);
	struct conf_share_state **v = talloc_realloc(p->tmp, p->ss, struct conf_share_state *, p->n_ss + 1);
	if (st == NULL || v == NULL) {
		conf_oom(p, line);
		return;
	}
	p->ss = v;
	st->sc = talloc_zero(p->tmp, struct share_config);
	if (st->sc == NULL) {
		conf_oom(p, line);
		return;
	}
	conf_share_defaults(st->sc);
	st->sc->name = talloc_strdup(st->sc, name);
	st->sc->comment = talloc_strdup(st->sc, "");
	st->sc->line = line;
	if (st->sc->name == NULL || st->sc->comment == NULL) {
		conf_oom(p, line);
		return;
	}

	const char *why;
	struct conf_share_state *prev;
	if (close == NULL) {
		st->discard = true;
	} else if (!conf_share_name_ok(name, &why)) {
		conf_err(p, line, "invalid share name [%s]: %s", conf_q(p, name), why);
		st->discard = true;
	} else if ((prev = conf_find_state(p, name)) != NULL) {
		if (strcmp(prev->sc->name, name) == 0)
			conf_err(p, line, "duplicate section [%s] (first at line %d)", conf_q(p, name),
				 prev->sc->line);
		else
			conf_err(p, line, "duplicate share name [%s]: same as [%s] at line %d "
				 "(share names are case-insensitive)", conf_q(p, name),
				 conf_q(p, prev->sc->name), prev->sc->line);
		st->discard = true;
	}
	p->ss[p->n_ss++] = st;
	p->cur = st;
}

/* A logical line: starting line number, continuation already joined. */
static void conf_line(struct conf_parser *p, int line, char *text)
{
	size_t u16 = utf8_utf16le_len(text);

	if (u16 == SIZE_MAX) {
		conf_err(p, line, "invalid UTF-8");
		return;
	}
	for (const char *s = text; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if ((ch < 0x20 && ch != '\t' && ch != '\r') || ch == 0x7f) {
			conf_err(p, line, "control character 0x%02x", ch);
			return;
		}
	}
	char *t = conf_trim(text);
	if (t[0] == '\0')
		return;
	if (t[0] == '[')
		conf_section(p, line, t);
	else
		conf_key_value(p, line, t);
}

/* A growable buffer for joining continuation lines in linear time. */
struct conf_buf {
	char *s;
	size_t len, cap;
};

static bool conf_buf_add(TALLOC_CTX *mem, struct conf_buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1) {
			if (cap > SIZE_MAX / 2)
				return false;
			cap *= 2;
		}
		char *ns = talloc_realloc(mem, b->s, char, cap);
		if (ns == NULL)
			return false;
		b->s = ns;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
	return true;
}

/* Splits into physical lines, joins continuations, skips comments. */
static void conf_parse_text(struct conf_parser *p, const char *text, size_t len)
{
	struct conf_buf b = { 0 };
	size_t pos = 0;
	int lineno = 0;

	while (pos < len) {
		int start_line = lineno + 1;
		bool first = true, has_nul = false, more = true;
		b.len = 0;
		if (b.s != NULL)
			b.s[0] = '\0';
		while (more && pos < len) {
			const char *ls = text + pos;
			const char *nl = memchr(ls, '\n', len - pos);
			size_t n = nl != NULL ? (size_t)(nl - ls) : len - pos;
			pos += n + (nl != NULL ? 1 : 0);
			lineno++;
			if (memchr(ls, '\0', n) != NULL)
				has_nul = true;
			/* Drop trailing white space (and the '\r' of CRLF). */
			while (n > 0 && conf_isspace(ls[n - 1]))
				n--;
			if (first) {
				size_t i = 0;
				while (i < n && conf_isspace(ls[i]))
					i++;
				/* Comments end at the newline, even after a backslash, as in Samba. */
				if (i < n && (ls[i] == '#' || ls[i] == ';'))
					n = 0;
				first = false;
			}
			more = n > 0 && ls[n - 1] == '\\';
			if (more)
				n--;
			if (!has_nul && !conf_buf_add(p->tmp, &b, ls, n)) {
				conf_oom(p, start_line);
				has_nul = true;   /* skip this line, keep going */
			}
		}
		if (has_nul) {
			conf_err(p, start_line, "NUL byte in line");
			continue;
		}
		if (b.len > 0)
			conf_line(p, start_line, b.s);
	}
	talloc_free(b.s);
}

/* Whole-file checks, then [global] share defaults into each share. */
static void conf_finish(struct conf_parser *p)
{
	struct porthos_config *c = p->c;

	if (c->min_protocol > c->max_protocol) {
		int line = p->min_proto_line > p->max_proto_line ? p->min_proto_line : p->max_proto_line;
		conf_err(p, line, "server min protocol (0x%04x) is above server max protocol (0x%04x)",
			 c->min_protocol, c->max_protocol);
	}

	/* Ports are resolved only now: "smb port" may follow "listen". */
	if (p->listen_set) {
		for (size_t i = 0; i < c->n_listen; i++) {
			char *norm = conf_listen_normalize(c->listen, c->listen[i], c->default_port);
			if (norm == NULL) {
				conf_oom(p, p->listen_line);
				break;
			}
			talloc_free(c->listen[i]);
			c->listen[i] = norm;
		}
	} else if (conf_default_listen(c) != 0) {
		conf_oom(p, 0);
	}

	/* Files under the state directory follow it unless given explicitly. */
	if (!p->passdb_set) {
		talloc_free(c->passdb_path);
		c->passdb_path = talloc_asprintf(c, "%s%spassdb", c->state_dir,
						 strcmp(c->state_dir, "/") == 0 ? "" : "/");
	}
	if (!p->guid_set) {
		talloc_free(c->server_guid_file);
		c->server_guid_file = talloc_asprintf(c, "%s%sserver-guid", c->state_dir,
						      strcmp(c->state_dir, "/") == 0 ? "" : "/");
	}
	if (c->passdb_path == NULL || c->server_guid_file == NULL)
		conf_oom(p, 0);

	for (size_t i = 0; i < p->n_ss; i++) {
		struct conf_share_state *st = p->ss[i];
		struct share_config *sc = st->sc;
		if (st->discard)
			continue;
		if (sc->path == NULL) {
			conf_err(p, sc->line, "share [%s] has no 'path'", conf_q(p, sc->name));
		} else {
			const char *why = conf_share_path_problem(p->tmp, sc->path);
			if (why != NULL) {
				conf_err(p, st->path_line, "path '%s' of share [%s] %s", conf_q(p, sc->path),
					 conf_q(p, sc->name), why);
			} else {
				char *np = conf_path_dup(sc, sc->path);
				if (np == NULL) {
					conf_oom(p, st->path_line);
				} else {
					talloc_free(sc->path);
					sc->path = np;
				}
			}
		}
		if (!(st->set & SET_READ_ONLY))
			sc->read_only = p->gdef.read_only;
		if (!(st->set & SET_GUEST_OK))
			sc->guest_ok = p->gdef.guest_ok;
		if (!(st->set & SET_BROWSEABLE))
			sc->browseable = p->gdef.browseable;
		if (!(st->set & SET_CA))
			sc->continuous_availability = p->gdef.continuous_availability;
		if (!(st->set & SET_DURABLE))
			sc->durable_handles = p->gdef.durable_handles;
		if (!(st->set & SET_ENCRYPT))
			sc->encrypt_required = p->gdef.encrypt_required;
		for (enum conf_param_id lid = P_VALID_USERS; lid <= P_WRITE_LIST; lid++) {
			unsigned flag = 0;
			struct conf_name_list *dst = conf_share_list(sc, lid, &flag);
			const struct conf_name_list *def = conf_share_list(&p->gdef, lid, &flag);
			if ((st->set & flag) || def->n == 0)
				continue;
			dst->v = conf_copy_list(sc, def->v, def->n);
			dst->n = dst->v != NULL ? def->n : 0;
			if (dst->v == NULL)
				conf_oom(p, sc->line);
		}
		if (conf_append_share(c, sc) != 0)
			conf_oom(p, sc->line);
	}
}

static int conf_load_buf(TALLOC_CTX *mem, const char *name, const char *text, size_t len,
			 struct porthos_config **out, struct conf_errors *errs)
{
	struct conf_parser p = {
		.err_mem = mem,
		.errs = errs,
		.file = name != NULL ? name : "(config)",
	};

	*out = NULL;
	p.tmp = talloc_new(NULL);
	p.c = conf_default(mem);
	if (p.tmp == NULL || p.c == NULL) {
		conf_err_add(mem, errs, p.file, 0, "out of memory");
		talloc_free(p.tmp);
		talloc_free(p.c);
		return -1;
	}
	conf_share_defaults(&p.gdef);

	conf_parse_text(&p, text, len);
	conf_finish(&p);

	talloc_free(p.tmp);
	if (p.n_err > 0) {
		talloc_free(p.c);
		return -1;
	}
	*out = p.c;
	return 0;
}

int conf_load_string(TALLOC_CTX *mem, const char *name, const char *text,
		     struct porthos_config **out, struct conf_errors *errs)
{
	return conf_load_buf(mem, name, text != NULL ? text : "", text != NULL ? strlen(text) : 0, out, errs);
}

int conf_load_file(TALLOC_CTX *mem, const char *path, struct porthos_config **out,
		   struct conf_errors *errs)
{
	char *buf = NULL;
	size_t len = 0;
	const char *problem = NULL;
	int fd;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		problem = strerror(errno);
		goto fail;
	}
	struct stat st;
	if (fstat(fd, &st) != 0) {
		problem = strerror(errno);
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		problem = "is a directory";
		goto fail;
	}
	/* Read in chunks up to the cap: st_size is 0 for pipes and /proc files. */
	size_t cap = 0;
	for (;;) {
		if (len == cap) {
			if (cap >= CONF_FILE_MAX) {
				problem = "file too large (over 16 MiB)";
				goto fail;
			}
			cap = cap ? cap * 2 : 8192;
			char *nb = talloc_realloc(mem, buf, char, cap + 1);
			if (nb == NULL) {
				problem = "out of memory";
				goto fail;
			}
			buf = nb;
		}
		ssize_t r = read(fd, buf + len, cap - len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			problem = strerror(errno);
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	int rc = conf_load_buf(mem, path, buf, len, out, errs);
	talloc_free(buf);
	return rc;
fail:
	if (fd >= 0)
		close(fd);
	talloc_free(buf);
	char *m = talloc_asprintf(NULL, "cannot read: %s", problem);
	conf_err_add(mem, errs, path, 0, m != NULL ? m : problem);
	talloc_free(m);
	return -1;
}
