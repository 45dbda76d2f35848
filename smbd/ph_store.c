#include "config.h"
#include "smbd/ph_store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RECORD_MAGIC "porthos-persistent-handle 1"
#define RECORD_SUFFIX ".ph"
#define TMP_SUFFIX ".ph.tmp"
/* A record is a few hundred bytes; names are at most some KiB. */
#define RECORD_MAX (64u * 1024)

struct smbd_ph_store {
	int dir_fd;
};

static int store_destructor(struct smbd_ph_store *st)
{
	if (st->dir_fd >= 0)
		close(st->dir_fd);
	return 0;
}

struct smbd_ph_store *smbd_ph_store_open(TALLOC_CTX *mem, const char *dir)
{
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return NULL;
	struct smbd_ph_store *st = talloc_zero(mem, struct smbd_ph_store);
	if (st == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	st->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (st->dir_fd < 0) {
		int err = errno;
		talloc_free(st);
		errno = err;
		return NULL;
	}
	talloc_set_destructor(st, store_destructor);
	return st;
}

/* ------------------------------------------------------------- the text */

static char *hex_of(TALLOC_CTX *mem, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	char *s = talloc_array(mem, char, 2 * n + 1);
	if (s == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		s[2 * i] = digits[p[i] >> 4];
		s[2 * i + 1] = digits[p[i] & 0xF];
	}
	s[2 * n] = 0;
	return s;
}

static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Exactly n bytes from 2n hex digits. */
static bool bytes_from_hex(const char *s, uint8_t *out, size_t n)
{
	if (strlen(s) != 2 * n)
		return false;
	for (size_t i = 0; i < n; i++) {
		int hi = nibble(s[2 * i]), lo = nibble(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

/* A string from hex (a name: no NUL inside). */
static char *string_from_hex(TALLOC_CTX *mem, const char *s)
{
	size_t n = strlen(s) / 2;
	char *out = talloc_array(mem, char, n + 1);
	if (out == NULL || strlen(s) % 2 != 0 || !bytes_from_hex(s, (uint8_t *)out, n) || memchr(out, 0, n)) {
		talloc_free(out);
		return NULL;
	}
	out[n] = 0;
	return out;
}

static bool u64_from(const char *s, int base, uint64_t max, uint64_t *out)
{
	if (*s == 0 || *s == '-' || *s == '+')
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, base);
	if (errno != 0 || *end != 0 || v > max)
		return false;
	*out = v;
	return true;
}

char *smbd_ph_record_format(TALLOC_CTX *mem, const struct smbd_ph_record *r)
{
	TALLOC_CTX *tmp = talloc_new(mem);
	if (tmp == NULL)
		return NULL;
	char *share = hex_of(tmp, (const uint8_t *)r->share, strlen(r->share));
	char *path = hex_of(tmp, (const uint8_t *)r->rel_path, strlen(r->rel_path));
	char *name = hex_of(tmp, (const uint8_t *)r->smb_name, strlen(r->smb_name));
	char *user = hex_of(tmp, (const uint8_t *)r->user, strlen(r->user));
	char *cguid = hex_of(tmp, r->create_guid, 16);
	char *clguid = hex_of(tmp, r->client_guid, 16);
	char *text = NULL;
	if (share != NULL && path != NULL && name != NULL && user != NULL && cguid != NULL && clguid != NULL)
		text = talloc_asprintf(mem,
				       RECORD_MAGIC "\n"
						    "id %016" PRIx64 "\nshare %s\npath %s\nname %s\n"
						    "access %08" PRIx32 "\nshare_access %08" PRIx32 "\noptions %08" PRIx32 "\n"
						    "dev %" PRIu64 "\nino %" PRIu64 "\ncreate_guid %s\nclient_guid %s\n"
						    "user %s\nuid %u\ngid %u\ntimeout_ms %" PRIu32 "\noplock %u\n",
				       r->persistent_id, share, path, name, r->access, r->share_access,
				       r->create_options, r->dev, r->ino, cguid, clguid, user, (unsigned)r->uid,
				       (unsigned)r->gid, r->timeout_ms, (unsigned)r->oplock_level);
	if (text != NULL && r->has_lease) {
		char *key = hex_of(tmp, r->lease_key, 16), *parent = hex_of(tmp, r->lease_parent_key, 16);
		text = key != NULL && parent != NULL
			       ? talloc_asprintf_append(text, "lease %s %s %08" PRIx32 " %u %u\n", key, parent,
							r->lease_state, (unsigned)r->lease_epoch,
							(unsigned)r->lease_version)
			       : NULL;
	}
	for (size_t i = 0; text != NULL && i < r->n_locks; i++)
		text = talloc_asprintf_append(text, "lock %" PRIu64 " %" PRIu64 " %c\n", r->locks[i].offset,
					      r->locks[i].length, r->locks[i].exclusive ? 'x' : 's');
	if (text != NULL)
		text = talloc_asprintf_append(text, "end\n");
	/* What cannot be read back is not written. */
	if (text != NULL && strlen(text) >= RECORD_MAX)
		TALLOC_FREE(text);
	talloc_free(tmp);
	return text;
}

/* The lease line's five fields. */
static bool parse_lease(const char *v, struct smbd_ph_record *r)
{
	char key[40], parent[40], state[16];
	unsigned epoch, version;
	char extra;
	if (sscanf(v, "%39s %39s %15s %u %u %c", key, parent, state, &epoch, &version, &extra) != 5)
		return false;
	uint64_t st;
	if (!bytes_from_hex(key, r->lease_key, 16) || !bytes_from_hex(parent, r->lease_parent_key, 16) ||
	    !u64_from(state, 16, UINT32_MAX, &st) || epoch > UINT16_MAX || version < 1 || version > 2)
		return false;
	r->lease_state = (uint32_t)st;
	r->lease_epoch = (uint16_t)epoch;
	r->lease_version = (uint8_t)version;
	r->has_lease = true;
	return true;
}

enum field { F_ID, F_SHARE, F_PATH, F_NAME, F_ACCESS, F_SHARE_ACCESS, F_OPTIONS, F_DEV, F_INO, F_CREATE_GUID,
	     F_CLIENT_GUID, F_USER, F_UID, F_GID, F_TIMEOUT, F_OPLOCK, F_COUNT };
static const char *const field_keys[F_COUNT] = {
	"id", "share", "path", "name", "access", "share_access", "options", "dev", "ino", "create_guid",
	"client_guid", "user", "uid", "gid", "timeout_ms", "oplock",
};

/* A 32-bit field in hex (masks) or decimal (the rest). */
static bool u32_field(const char *v, int base, uint32_t *out)
{
	uint64_t x;
	if (!u64_from(v, base, UINT32_MAX, &x))
		return false;
	*out = (uint32_t)x;
	return true;
}

/* A "lock" line: offset, length, x (exclusive) or s (shared). */
static bool parse_lock(TALLOC_CTX *mem, const char *v, struct smbd_ph_record *r)
{
	char off[24], len[24], kind[2];
	char extra;
	uint64_t o, l;
	if (sscanf(v, "%23s %23s %1s %c", off, len, kind, &extra) != 3 || !u64_from(off, 10, UINT64_MAX, &o) ||
	    !u64_from(len, 10, UINT64_MAX, &l) || (kind[0] != 'x' && kind[0] != 's'))
		return false;
	struct smbd_ph_lock *locks = talloc_realloc(mem, r->locks, struct smbd_ph_lock, r->n_locks + 1);
	if (locks == NULL)
		return false;
	locks[r->n_locks++] = (struct smbd_ph_lock){ o, l, kind[0] == 'x' };
	r->locks = locks;
	return true;
}

/* One "key value" line into r; unknown keys are refused (a newer format). */
static bool parse_line(TALLOC_CTX *mem, const char *key, const char *v, struct smbd_ph_record *r, unsigned *seen)
{
	enum field f;
	for (f = 0; f < F_COUNT; f++)
		if (strcmp(key, field_keys[f]) == 0)
			break;
	if (f == F_COUNT && strcmp(key, "lock") == 0)
		return parse_lock(mem, v, r);
	if (f == F_COUNT)
		return strcmp(key, "lease") == 0 && !r->has_lease && parse_lease(v, r);
	if (*seen & (1u << f))
		return false;
	*seen |= 1u << f;
	uint32_t x;
	switch (f) {
	case F_ID:
		return u64_from(v, 16, UINT64_MAX, &r->persistent_id);
	case F_SHARE:
		return (r->share = string_from_hex(mem, v)) != NULL;
	case F_PATH:
		return (r->rel_path = string_from_hex(mem, v)) != NULL;
	case F_NAME:
		return (r->smb_name = string_from_hex(mem, v)) != NULL;
	case F_ACCESS:
		return u32_field(v, 16, &r->access);
	case F_SHARE_ACCESS:
		return u32_field(v, 16, &r->share_access);
	case F_OPTIONS:
		return u32_field(v, 16, &r->create_options);
	case F_DEV:
		return u64_from(v, 10, UINT64_MAX, &r->dev);
	case F_INO:
		return u64_from(v, 10, UINT64_MAX, &r->ino);
	case F_CREATE_GUID:
		return bytes_from_hex(v, r->create_guid, 16);
	case F_CLIENT_GUID:
		return bytes_from_hex(v, r->client_guid, 16);
	case F_USER:
		return (r->user = string_from_hex(mem, v)) != NULL;
	case F_UID:
		if (!u32_field(v, 10, &x))
			return false;
		r->uid = (uid_t)x;
		return true;
	case F_GID:
		if (!u32_field(v, 10, &x))
			return false;
		r->gid = (gid_t)x;
		return true;
	case F_TIMEOUT:
		return u32_field(v, 10, &r->timeout_ms);
	case F_OPLOCK:
		if (!u32_field(v, 10, &x) || x > UINT8_MAX)
			return false;
		r->oplock_level = (uint8_t)x;
		return true;
	case F_COUNT:
		break;
	}
	return false;
}

bool smbd_ph_record_parse(TALLOC_CTX *mem, const char *text, struct smbd_ph_record *r)
{
	memset(r, 0, sizeof(*r));
	char *copy = talloc_strdup(mem, text);
	if (copy == NULL)
		return false;
	unsigned seen = 0;
	bool ended = false, ok = true;
	char *save = NULL;
	char *line = strtok_r(copy, "\n", &save);
	if (line == NULL || strcmp(line, RECORD_MAGIC) != 0)
		ok = false;
	while (ok && (line = strtok_r(NULL, "\n", &save)) != NULL) {
		if (ended) {
			ok = false; /* nothing may follow "end" */
			break;
		}
		if (strcmp(line, "end") == 0) {
			ended = true;
			continue;
		}
		char *sp = strchr(line, ' ');
		if (sp == NULL) {
			ok = false;
			break;
		}
		*sp = 0;
		ok = parse_line(mem, line, sp + 1, r, &seen);
	}
	talloc_free(copy);
	/* Every field but the lease is there, and the end. */
	return ok && ended && seen == (1u << F_COUNT) - 1;
}

/* --------------------------------------------------------------- the disk */

static void record_name(char *buf, size_t len, uint64_t id, const char *suffix)
{
	snprintf(buf, len, "%016" PRIx64 "%s", id, suffix);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int smbd_ph_store_put(struct smbd_ph_store *st, const struct smbd_ph_record *r)
{
	char *text = smbd_ph_record_format(NULL, r);
	if (text == NULL)
		return ENOMEM;
	char tmp[64], final[64];
	record_name(tmp, sizeof(tmp), r->persistent_id, TMP_SUFFIX);
	record_name(final, sizeof(final), r->persistent_id, RECORD_SUFFIX);
	int err = 0;
	int fd = openat(st->dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		err = errno;
	if (err == 0)
		err = write_all(fd, text, strlen(text));
	/* The record's bytes, then its name, then the directory: after a
	 * crash there is the old record or the new one, never a part. */
	if (err == 0 && fsync(fd) != 0)
		err = errno;
	if (fd >= 0 && close(fd) != 0 && err == 0)
		err = errno;
	if (err == 0 && renameat(st->dir_fd, tmp, st->dir_fd, final) != 0)
		err = errno;
	if (err == 0 && fsync(st->dir_fd) != 0)
		err = errno;
	if (err != 0)
		unlinkat(st->dir_fd, tmp, 0);
	talloc_free(text);
	return err;
}

int smbd_ph_store_remove(struct smbd_ph_store *st, uint64_t persistent_id)
{
	char name[64];
	record_name(name, sizeof(name), persistent_id, RECORD_SUFFIX);
	if (unlinkat(st->dir_fd, name, 0) != 0)
		return errno == ENOENT ? 0 : errno;
	return fsync(st->dir_fd) == 0 ? 0 : errno;
}

void smbd_ph_store_forget(struct smbd_ph_store *st, uint64_t persistent_id)
{
	char name[64];
	record_name(name, sizeof(name), persistent_id, RECORD_SUFFIX);
	unlinkat(st->dir_fd, name, 0);
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n > m && strcmp(s + n - m, suffix) == 0;
}

/* The file's text (at most RECORD_MAX bytes), or NULL. */
static char *read_record(TALLOC_CTX *mem, int dir_fd, const char *name)
{
	int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return NULL;
	char *buf = talloc_array(mem, char, RECORD_MAX + 1);
	size_t got = 0;
	while (buf != NULL && got < RECORD_MAX) {
		ssize_t n = read(fd, buf + got, RECORD_MAX - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (buf == NULL || got == RECORD_MAX || memchr(buf, 0, got) != NULL) {
		talloc_free(buf);
		return NULL;
	}
	buf[got] = 0;
	return buf;
}

int smbd_ph_store_load(struct smbd_ph_store *st, TALLOC_CTX *mem, struct smbd_ph_record **out, size_t *n,
		       size_t *bad)
{
	*out = NULL;
	*n = *bad = 0;
	int fd = dup(st->dir_fd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (d == NULL) {
		int err = errno;
		if (fd >= 0)
			close(fd);
		return err;
	}
	rewinddir(d);
	struct smbd_ph_record *recs = NULL;
	size_t count = 0;
	int err = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (has_suffix(de->d_name, TMP_SUFFIX)) {
			/* A write cut short by a crash: its record was never promised. */
			unlinkat(st->dir_fd, de->d_name, 0);
			continue;
		}
		if (!has_suffix(de->d_name, RECORD_SUFFIX))
			continue;
		struct smbd_ph_record *grown = talloc_realloc(mem, recs, struct smbd_ph_record, count + 1);
		if (grown == NULL) {
			err = ENOMEM;
			break;
		}
		recs = grown;
		char *text = read_record(recs, st->dir_fd, de->d_name);
		if (text == NULL || !smbd_ph_record_parse(recs, text, &recs[count])) {
			(*bad)++;
			talloc_free(text);
			continue;
		}
		talloc_free(text);
		count++;
	}
	closedir(d);
	if (err != 0) {
		talloc_free(recs);
		return err;
	}
	*out = recs;
	*n = count;
	return 0;
}
