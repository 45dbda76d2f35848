#include "config.h"
#include "tests/fuzz/auth_env.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/auth/passdb.h"
#include "lib/log.h"
#include "tests/fuzz/fz_dup.h"

const struct auth_server_config *fz_auth_config(bool guest_ok)
{
	static struct auth_server_config cfg[2];
	static struct passdb *db;
	if (db == NULL) {
		plog_setup("fuzz", PLOG_ERROR, false);
		const char *tmp = getenv("TMPDIR");
		char dir[512], path[600];
		snprintf(dir, sizeof(dir), "%s/porthos-fuzz.XXXXXX", tmp && *tmp ? tmp : "/tmp");
		if (!auth_global_init() || mkdtemp(dir) == NULL) {
			fprintf(stderr, "fuzz harness: cannot set up authentication\n");
			abort();
		}
		snprintf(path, sizeof(path), "%s/passdb", dir);
		int err = passdb_set_password(path, FZ_USER, FZ_PASSWORD, 1000, 1000);
		if (err == 0)
			err = passdb_load(NULL, path, &db);
		/* The database is in memory now: no file needs to outlive the setup. */
		(void)unlink(path);
		snprintf(path, sizeof(path), "%s/passdb.lock", dir);
		(void)unlink(path);
		(void)rmdir(dir);
		if (err != 0 || db == NULL) {
			fprintf(stderr, "fuzz harness: cannot make the passdb\n");
			abort();
		}
		for (int i = 0; i < 2; i++)
			cfg[i] = (struct auth_server_config){
				.netbios_name = "FUZZ",
				.domain = FZ_DOMAIN,
				.dns_name = "fuzz",
				.dns_domain = "",
				.db = db,
				.guest_ok = i == 1,
			};
	}
	return &cfg[guest_ok ? 1 : 0];
}

bool fz_next_token(const uint8_t **data, size_t *size, const uint8_t **tok, size_t *len)
{
	if (*size < 2)
		return false;
	size_t n = (size_t)(*data)[0] | (size_t)(*data)[1] << 8;
	if (n > *size - 2)
		n = *size - 2;
	*tok = *data + 2;
	*len = n;
	*data += 2 + n;
	*size -= 2 + n;
	return true;
}

void fz_auth_feed(TALLOC_CTX *mem, const struct auth_server_config *cfg, const uint8_t *data, size_t size)
{
	struct auth_server *a = auth_server_new(mem, cfg);
	const uint8_t *tok;
	size_t len;
	while (a != NULL && fz_next_token(&data, &size, &tok, &len)) {
		/* A private copy: reads past the token are caught, not hidden by the input's tail. */
		uint8_t *copy = fz_dup(mem, tok, len);
		uint8_t *out = NULL;
		size_t out_len = 0;
		NTSTATUS st = auth_server_update(a, mem, copy, len, &out, &out_len);
		talloc_free(copy);
		if (NT_STATUS_EQUAL(st, NT_STATUS_MORE_PROCESSING_REQUIRED))
			continue;
		const struct auth_info *info = auth_server_info(a);
		if (NT_STATUS_IS_OK(st) && (info == NULL || info->user == NULL || info->domain == NULL ||
					    info->session_key_len > sizeof(info->session_key)))
			__builtin_trap(); /* OK promises a complete auth_info */
		if (!NT_STATUS_IS_OK(st) && out != NULL)
			__builtin_trap(); /* errors come without a token */
		break;
	}
}
