/*
 * The password database: NT hashes of local SMB users.
 *
 * File format (text, UTF-8), one user per line:
 *
 *     # comment
 *     name:uid:gid:nthash:flags
 *
 * nthash is 32 hex digits (MD4 of the UTF-16LE password; never the
 * password itself), or empty for an account with no SMB password, which
 * only Kerberos can log on (NTLM refuses it); flags is a comma-separated
 * list, empty or "disabled".
 * Names may not contain ':', control characters or leading/trailing
 * blanks. The file is mode 0600 and every change is written atomically
 * (temporary file, fsync, rename) under an flock on "<path>.lock".
 * The NT hash is password-equivalent for NTLM: guard the file like one.
 */
#ifndef PORTHOS_AUTH_PASSDB_H
#define PORTHOS_AUTH_PASSDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <talloc.h>

#define PASSDB_DEFAULT_PATH "/var/lib/porthos/passdb"
#define PASSDB_NAME_MAX 256

struct passdb_user {
	char *name;
	uint32_t uid;
	uint32_t gid;
	uint8_t nt_hash[16];   /* all zeros when !has_nt_hash */
	bool has_nt_hash;      /* false: Kerberos only, NTLM logons are refused */
	bool disabled;
};

struct passdb;

/* 0 or an errno (EINVAL for a malformed file); a missing file = empty db. */
int passdb_load(TALLOC_CTX *mem, const char *path, struct passdb **out);
/* Case-insensitive, as Windows compares account names. */
const struct passdb_user *passdb_find(const struct passdb *db, const char *name);
size_t passdb_count(const struct passdb *db);
/* Users in file order; NULL past the end. */
const struct passdb_user *passdb_user_at(const struct passdb *db, size_t i);

/*
 * Adds or updates; keeps the user's flags on update. A NULL password
 * stores no NT hash (dropping any old one): a Kerberos-only account.
 * 0 or an errno.
 */
int passdb_set_password(const char *path, const char *name, const char *password,
			uint32_t uid, uint32_t gid);
/* 0, ENOENT if there is no such user, or another errno. */
int passdb_delete(const char *path, const char *name);
/* 0, ENOENT if there is no such user, or another errno. */
int passdb_set_disabled(const char *path, const char *name, bool disabled);

/* MD4(UTF-16LE(password)); false on invalid UTF-8 or a crypto failure. */
bool passdb_nt_hash(const char *password, uint8_t out[16]);
/* Whether 'name' is acceptable as an account name. */
bool passdb_name_valid(const char *name);
/* Case-insensitive account name comparison (Windows upper-casing). */
bool passdb_name_equal(const char *a, const char *b);

#endif
