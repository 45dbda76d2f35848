#include "config.h"
#include "lib/auth/passdb.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "lib/auth/ntlm_crypto.h"
#include "lib/log.h"
#include "lib/unicode.h"

struct passdb {
	struct passdb_user *users;
	size_t n;
};

static const char passdb_header[] =
	"# Porthos password database: name:uid:gid:nthash:flags\n"
	"# nthash = MD4(UTF-16LE(password)), which is password-equivalent for NTLM;\n"
	"# empty for an account that only Kerberos can log on.\n"
	"# Manage it with porthos-ctl; keep it mode 0600.\n";

bool passdb_nt_hash(const char *password, uint8_t out[16])
{
	return ntlm_nt_hash(password, out);
}

bool passdb_name_valid(const char *name)
{
	size_t len = strlen(name);
	if (len == 0 || len > PASSDB_NAME_MAX || utf8_utf16le_len(name) == SIZE_MAX)
		return false;
	if (name[0] == ' ' || name[len - 1] == ' ' || name[len - 1] == '.')
		return false;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		/* ':' is our separator; the rest Windows forbids in account names. */
		if (*p < 0x20 || *p == 0x7f || strchr("\":/\\[];|=,+*?<>@", *p))
			return false;
	}
	return true;
}

static bool is_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

bool passdb_name_equal(const char *a, const char *b)
{
	if (is_ascii(a) && is_ascii(b))
		return strcasecmp(a, b) == 0;
	size_t la, lb;
	uint8_t *ua = ntlm_utf16_upper(NULL, a, &la);
	uint8_t *ub = ntlm_utf16_upper(NULL, b, &lb);
	bool eq = ua != NULL && ub != NULL && la == lb && memcmp(ua, ub, la) == 0;
	talloc_free(ua);
	talloc_free(ub);
	return eq;
}

static bool parse_u32(const char *s, uint32_t *out)
{
	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool is_user_line(const char *line)
{
	const char *p = line;
	while (*p == ' ' || *p == '\t')
		p++;
	return *p != '\0' && *p != '#';
}

/* "name:uid:gid:nthash:flags"; 'line' is modified. */
static bool parse_line(TALLOC_CTX *mem, char *line, struct passdb_user *u)
{
	char *field[5];
	char *p = line;
	for (int i = 0; i < 5; i++) {
		field[i] = p;
		char *colon = strchr(p, ':');
		if (i < 4) {
			if (colon == NULL)
				return false;
			*colon = '\0';
			p = colon + 1;
		} else if (colon != NULL) {
			return false;
		}
	}
	memset(u, 0, sizeof(*u));
	size_t hash_len = strlen(field[3]);
	if (!passdb_name_valid(field[0]) || !parse_u32(field[1], &u->uid) ||
	    !parse_u32(field[2], &u->gid) || (hash_len != 32 && hash_len != 0))
		return false;
	u->has_nt_hash = hash_len == 32;
	for (int i = 0; i < 16 && u->has_nt_hash; i++) {
		int hi = hexval(field[3][2 * i]), lo = hexval(field[3][2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		u->nt_hash[i] = (uint8_t)(hi << 4 | lo);
	}
	char *save = NULL;
	for (char *f = strtok_r(field[4], ",", &save); f; f = strtok_r(NULL, ",", &save)) {
		if (strcmp(f, "disabled") == 0)
			u->disabled = true;
		else
			LOG_WARN("ignoring unknown passdb flag '%s'", f);
	}
	u->name = talloc_strdup(mem, field[0]);
	return u->name != NULL;
}

static void strip_eol(char *line)
{
	size_t n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
}

int passdb_load(TALLOC_CTX *mem, const char *path, struct passdb **out)
{
	*out = NULL;
	struct passdb *db = talloc_zero(mem, struct passdb);
	if (db == NULL)
		return ENOMEM;
	FILE *f = fopen(path, "re");
	if (f == NULL) {
		int err = errno;
		if (err == ENOENT) {
			*out = db;
			return 0;
		}
		talloc_free(db);
		return err;
	}
	struct stat st;
	if (fstat(fileno(f), &st) == 0 && (st.st_mode & 077))
		LOG_WARN("%s is readable by others (mode %03o): it holds password hashes",
			 path, (unsigned)(st.st_mode & 0777));

	char *line = NULL;
	size_t cap = 0;
	unsigned lineno = 0;
	int ret = 0;
	while (getline(&line, &cap, f) >= 0) {
		lineno++;
		strip_eol(line);
		if (!is_user_line(line))
			continue;
		struct passdb_user u;
		if (!parse_line(db, line, &u)) {
			LOG_ERR("%s:%u: malformed entry", path, lineno);
			ret = EINVAL;
			break;
		}
		if (passdb_find(db, u.name) != NULL) {
			LOG_ERR("%s:%u: duplicate user '%s'", path, lineno, u.name);
			ret = EINVAL;
			break;
		}
		struct passdb_user *nu = talloc_realloc(db, db->users, struct passdb_user, db->n + 1);
		if (nu == NULL) {
			ret = ENOMEM;
			break;
		}
		db->users = nu;
		db->users[db->n++] = u;
	}
	if (ret == 0 && ferror(f))
		ret = EIO;
	if (line != NULL) {
		OPENSSL_cleanse(line, cap);
		free(line);
	}
	fclose(f);
	if (ret != 0) {
		talloc_free(db);
		return ret;
	}
	*out = db;
	return 0;
}

const struct passdb_user *passdb_find(const struct passdb *db, const char *name)
{
	if (db == NULL || name == NULL)
		return NULL;
	for (size_t i = 0; i < db->n; i++)
		if (passdb_name_equal(db->users[i].name, name))
			return &db->users[i];
	return NULL;
}

size_t passdb_count(const struct passdb *db)
{
	return db ? db->n : 0;
}

const struct passdb_user *passdb_user_at(const struct passdb *db, size_t i)
{
	return (db && i < db->n) ? &db->users[i] : NULL;
}

enum passdb_op {
	PASSDB_OP_SET,
	PASSDB_OP_DELETE,
	PASSDB_OP_FLAGS,
};

struct passdb_edit {
	enum passdb_op op;
	const char *name;
	uint32_t uid, gid;
	uint8_t nt_hash[16];
	bool has_nt_hash;
	bool disabled;
};

static char *format_user(TALLOC_CTX *mem, const struct passdb_user *u)
{
	char hex[33] = "";
	for (int i = 0; i < 16 && u->has_nt_hash; i++)
		snprintf(hex + 2 * i, 3, "%02x", u->nt_hash[i]);
	char *s = talloc_asprintf(mem, "%s:%u:%u:%s:%s\n", u->name, u->uid, u->gid, hex,
				  u->disabled ? "disabled" : "");
	OPENSSL_cleanse(hex, sizeof(hex));
	return s;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Replaces 'path' with 'data': temp file in the same directory, fsync, rename. */
static int replace_file(const char *path, const char *data, size_t len)
{
	char *tmp = talloc_asprintf(NULL, "%s.tmpXXXXXX", path);
	char *dir = talloc_strdup(tmp, path);
	if (tmp == NULL || dir == NULL) {
		talloc_free(tmp);
		return ENOMEM;
	}
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		int err = errno;
		talloc_free(tmp);
		return err;
	}
	int err = fchmod(fd, 0600) < 0 ? errno : 0;
	if (err == 0)
		err = write_all(fd, data, len);
	if (err == 0 && fsync(fd) < 0)
		err = errno;
	if (close(fd) < 0 && err == 0)
		err = errno;
	if (err == 0 && rename(tmp, path) < 0)
		err = errno;
	if (err != 0) {
		unlink(tmp);
	} else {
		/* Make the rename itself durable. */
		int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			(void)fsync(dfd);
			close(dfd);
		}
	}
	talloc_free(tmp);
	return err;
}

/*
 * Read-modify-write under an exclusive lock on "<path>.lock": comments
 * and other users' lines are kept as they are.
 */
static int passdb_rewrite(const char *path, const struct passdb_edit *e)
{
	TALLOC_CTX *tmp = talloc_new(NULL);
	char *lockpath = talloc_asprintf(tmp, "%s.lock", path);
	char *outbuf = talloc_strdup(tmp, "");
	if (lockpath == NULL || outbuf == NULL) {
		talloc_free(tmp);
		return ENOMEM;
	}
	int lfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lfd < 0) {
		int err = errno;
		talloc_free(tmp);
		return err;
	}
	int ret = 0;
	while (flock(lfd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			ret = errno;
			goto out;
		}
	}

	/* Never rewrite a file the loader would refuse (e.g. duplicates). */
	struct passdb *check;
	ret = passdb_load(tmp, path, &check);
	if (ret != 0)
		goto out;

	FILE *f = fopen(path, "re");
	if (f == NULL && errno != ENOENT) {
		ret = errno;
		goto out;
	}
	bool found = false;
	if (f == NULL) {
		outbuf = talloc_strdup_append(outbuf, passdb_header);
	} else {
		char *line = NULL;
		size_t cap = 0;
		/* A failed append leaves outbuf NULL: stop rather than lose lines. */
		while (ret == 0 && outbuf != NULL && getline(&line, &cap, f) >= 0) {
			strip_eol(line);
			if (!is_user_line(line)) {
				outbuf = talloc_asprintf_append(outbuf, "%s\n", line);
				continue;
			}
			char *copy = talloc_strdup(tmp, line);
			struct passdb_user u;
			if (copy == NULL || !parse_line(tmp, copy, &u)) {
				LOG_ERR("%s: malformed entry, not rewriting it", path);
				ret = EINVAL;
				break;
			}
			if (found || !passdb_name_equal(u.name, e->name)) {
				outbuf = talloc_asprintf_append(outbuf, "%s\n", line);
				continue;
			}
			found = true;
			if (e->op == PASSDB_OP_DELETE)
				continue;
			if (e->op == PASSDB_OP_SET) {
				u.uid = e->uid;
				u.gid = e->gid;
				memcpy(u.nt_hash, e->nt_hash, 16);
				u.has_nt_hash = e->has_nt_hash;
			} else {
				u.disabled = e->disabled;
			}
			char *nl = format_user(tmp, &u);
			OPENSSL_cleanse(u.nt_hash, 16);
			outbuf = nl ? talloc_strdup_append(outbuf, nl) : NULL;
			if (outbuf == NULL)
				ret = ENOMEM;
		}
		if (ret == 0 && ferror(f))
			ret = EIO;
		if (line != NULL) {
			OPENSSL_cleanse(line, cap);
			free(line);
		}
		fclose(f);
	}
	if (ret != 0)
		goto out;
	if (outbuf == NULL) {
		ret = ENOMEM;
		goto out;
	}
	if (!found) {
		if (e->op != PASSDB_OP_SET) {
			ret = ENOENT;
			goto out;
		}
		struct passdb_user u = { .name = (char *)e->name, .uid = e->uid, .gid = e->gid,
					 .has_nt_hash = e->has_nt_hash };
		memcpy(u.nt_hash, e->nt_hash, 16);
		char *nl = format_user(tmp, &u);
		OPENSSL_cleanse(u.nt_hash, 16);
		outbuf = nl ? talloc_strdup_append(outbuf, nl) : NULL;
		if (outbuf == NULL) {
			ret = ENOMEM;
			goto out;
		}
	}
	ret = replace_file(path, outbuf, strlen(outbuf));
out:
	if (outbuf != NULL)
		OPENSSL_cleanse(outbuf, strlen(outbuf));
	close(lfd); /* releases the lock */
	talloc_free(tmp);
	return ret;
}

int passdb_set_password(const char *path, const char *name, const char *password,
			uint32_t uid, uint32_t gid)
{
	if (!passdb_name_valid(name))
		return EINVAL;
	struct passdb_edit e = { .op = PASSDB_OP_SET, .name = name, .uid = uid, .gid = gid,
				 .has_nt_hash = password != NULL };
	if (password != NULL && !passdb_nt_hash(password, e.nt_hash))
		return EINVAL;
	int ret = passdb_rewrite(path, &e);
	OPENSSL_cleanse(e.nt_hash, sizeof(e.nt_hash));
	return ret;
}

int passdb_delete(const char *path, const char *name)
{
	struct passdb_edit e = { .op = PASSDB_OP_DELETE, .name = name };
	return passdb_rewrite(path, &e);
}

int passdb_set_disabled(const char *path, const char *name, bool disabled)
{
	struct passdb_edit e = { .op = PASSDB_OP_FLAGS, .name = name, .disabled = disabled };
	return passdb_rewrite(path, &e);
}
