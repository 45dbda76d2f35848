/*
 * The password database: round trip, case-insensitive lookup, deletion,
 * file mode 0600, no plaintext on disk, comments kept, malformed files
 * refused.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/auth/passdb.h"
#include "lib/log.h"

struct fixture {
	char dir[64];
	char path[96];
};

static int setup(void **state)
{
	struct fixture *f = talloc_zero(NULL, struct fixture);
	strcpy(f->dir, "/tmp/test_passdb.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/passdb", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char lock[128];
	snprintf(lock, sizeof(lock), "%s.lock", f->path);
	unlink(f->path);
	unlink(lock);
	rmdir(f->dir);
	talloc_free(f);
	return 0;
}

static char *slurp(TALLOC_CTX *mem, const char *path)
{
	FILE *fp = fopen(path, "r");
	assert_non_null(fp);
	char *buf = talloc_zero_size(mem, 65536);
	size_t n = fread(buf, 1, 65535, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void test_nt_hash(void **state)
{
	(void)state;
	/* MS-NLMP 4.2.2.1.2: NTOWFv1("Password"). */
	static const uint8_t want[16] = { 0xa4, 0xf4, 0x9c, 0x40, 0x65, 0x10, 0xbd, 0xca,
					  0xb6, 0x82, 0x4e, 0xe7, 0xc3, 0x0f, 0xd8, 0x52 };
	uint8_t h[16];
	assert_true(passdb_nt_hash("Password", h));
	assert_memory_equal(h, want, 16);
	/* Invalid UTF-8 is refused rather than hashed as something else. */
	assert_false(passdb_nt_hash("\xff\xfe", h));
}

static void test_missing_file(void **state)
{
	struct fixture *f = *state;
	struct passdb *db;
	assert_int_equal(passdb_load(NULL, f->path, &db), 0);
	assert_non_null(db);
	assert_int_equal(passdb_count(db), 0);
	assert_null(passdb_find(db, "anyone"));
	talloc_free(db);
	assert_int_equal(passdb_delete(f->path, "anyone"), ENOENT);
}

static void test_round_trip(void **state)
{
	struct fixture *f = *state;
	struct passdb *db;
	uint8_t h[16];

	assert_int_equal(passdb_set_password(f->path, "Alice", "Wonder land!", 1000, 100), 0);
	assert_int_equal(passdb_set_password(f->path, "bob", "B0b-secret", 1001, 101), 0);
	assert_int_equal(passdb_set_password(f->path, "Ärger", "pässwörd", 1002, 102), 0);

	struct stat st;
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	char *text = slurp(NULL, f->path);
	assert_null(strstr(text, "Wonder land!"));
	assert_null(strstr(text, "B0b-secret"));
	assert_null(strstr(text, "pässwörd"));
	assert_non_null(strstr(text, "Alice:1000:100:"));
	talloc_free(text);

	assert_int_equal(passdb_load(NULL, f->path, &db), 0);
	assert_int_equal(passdb_count(db), 3);
	const struct passdb_user *u = passdb_find(db, "ALICE");
	assert_non_null(u);
	assert_string_equal(u->name, "Alice");
	assert_int_equal(u->uid, 1000);
	assert_int_equal(u->gid, 100);
	assert_false(u->disabled);
	assert_true(passdb_nt_hash("Wonder land!", h));
	assert_memory_equal(u->nt_hash, h, 16);
	assert_non_null(passdb_find(db, "aLiCe"));
	assert_non_null(passdb_find(db, "BOB"));
	assert_non_null(passdb_find(db, "äRGER"));
	assert_null(passdb_find(db, "alice2"));
	assert_null(passdb_find(db, ""));
	assert_string_equal(passdb_user_at(db, 1)->name, "bob");
	assert_null(passdb_user_at(db, 3));
	talloc_free(db);

	/* Update through another case: one entry, new hash and ids, name kept. */
	assert_int_equal(passdb_set_password(f->path, "ALICE", "new one", 2000, 200), 0);
	assert_int_equal(passdb_set_disabled(f->path, "bob", true), 0);
	assert_int_equal(passdb_load(NULL, f->path, &db), 0);
	assert_int_equal(passdb_count(db), 3);
	u = passdb_find(db, "alice");
	assert_string_equal(u->name, "Alice");
	assert_int_equal(u->uid, 2000);
	assert_true(passdb_nt_hash("new one", h));
	assert_memory_equal(u->nt_hash, h, 16);
	assert_true(passdb_find(db, "bob")->disabled);
	talloc_free(db);

	/* A password change keeps the disabled flag. */
	assert_int_equal(passdb_set_password(f->path, "bob", "x", 1001, 101), 0);
	assert_int_equal(passdb_load(NULL, f->path, &db), 0);
	assert_true(passdb_find(db, "bob")->disabled);
	talloc_free(db);

	/* Delete, case-insensitively. */
	assert_int_equal(passdb_delete(f->path, "BOB"), 0);
	assert_int_equal(passdb_delete(f->path, "bob"), ENOENT);
	assert_int_equal(passdb_load(NULL, f->path, &db), 0);
	assert_int_equal(passdb_count(db), 2);
	assert_null(passdb_find(db, "bob"));
	talloc_free(db);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
}

static void test_comments_kept(void **state)
{
	struct fixture *f = *state;
	write_file(f->path, "# my comment\n\n"
			    "carol:5:6:a4f49c406510bdcab6824ee7c30fd852:\n"
			    "  # indented comment\n");
	chmod(f->path, 0644);
	assert_int_equal(passdb_set_password(f->path, "dave", "pw", 7, 8), 0);
	char *text = slurp(NULL, f->path);
	assert_non_null(strstr(text, "# my comment\n"));
	assert_non_null(strstr(text, "  # indented comment\n"));
	assert_non_null(strstr(text, "carol:5:6:a4f49c406510bdcab6824ee7c30fd852:\n"));
	assert_non_null(strstr(text, "\ndave:7:8:"));
	talloc_free(text);
	/* Rewriting tightened the mode. */
	struct stat st;
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
}

static void test_malformed(void **state)
{
	struct fixture *f = *state;
	const char *bad[] = {
		"eve:1:2:a4f49c406510bdcab6824ee7c30fd85:\n",	  /* short hash */
		"eve:1:2:a4f49c406510bdcab6824ee7c30fd85g:\n",	  /* not hex */
		"eve:x:2:a4f49c406510bdcab6824ee7c30fd852:\n",	  /* uid */
		"eve:1:99999999999:a4f49c406510bdcab6824ee7c30fd852:\n",
		"eve:1:2:a4f49c406510bdcab6824ee7c30fd852\n",	  /* missing flags field */
		"eve:1:2:a4f49c406510bdcab6824ee7c30fd852::\n",	  /* extra field */
		":1:2:a4f49c406510bdcab6824ee7c30fd852:\n",	  /* empty name */
		"eve:1:2:a4f49c406510bdcab6824ee7c30fd852:\nEVE:1:2:a4f49c406510bdcab6824ee7c30fd852:\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct passdb *db = (struct passdb *)1;
		write_file(f->path, bad[i]);
		assert_int_equal(passdb_load(NULL, f->path, &db), EINVAL);
		assert_null(db);
		/* And a write refuses to clobber what it cannot parse. */
		assert_int_equal(passdb_set_password(f->path, "zed", "pw", 1, 1), EINVAL);
	}
	write_file(f->path, "eve:1:2:A4F49C406510BDCAB6824EE7C30FD852:disabled\r\n");
	struct passdb *db;
	assert_int_equal(passdb_load(NULL, f->path, &db), 0);
	assert_true(passdb_find(db, "eve")->disabled);
	talloc_free(db);
}

/* Kerberos-only accounts: an empty hash field, kept through every edit. */
static void test_no_password(void **state)
{
	struct fixture *f = *state;
	struct passdb *db;
	uint8_t h[16];
	static const uint8_t zeros[16];

	assert_int_equal(passdb_set_password(f->path, "kerb", NULL, 3000, 300), 0);
	assert_int_equal(passdb_set_password(f->path, "pw", "secret", 3001, 301), 0);
	char *text = slurp(NULL, f->path);
	assert_non_null(strstr(text, "\nkerb:3000:300::\n"));
	talloc_free(text);
	assert_int_equal(passdb_load(NULL, f->path, &db), 0);
	const struct passdb_user *u = passdb_find(db, "KERB");
	assert_non_null(u);
	assert_false(u->has_nt_hash);
	assert_memory_equal(u->nt_hash, zeros, 16);
	assert_int_equal(u->uid, 3000);
	assert_true(passdb_find(db, "pw")->has_nt_hash);
	talloc_free(db);

	/* Disabling keeps it hash-less; a password gives it a hash; NULL drops it again. */
	assert_int_equal(passdb_set_disabled(f->path, "kerb", true), 0);
	assert_int_equal(passdb_load(NULL, f->path, &db), 0);
	assert_false(passdb_find(db, "kerb")->has_nt_hash);
	assert_true(passdb_find(db, "kerb")->disabled);
	talloc_free(db);
	assert_int_equal(passdb_set_password(f->path, "kerb", "now one", 3000, 300), 0);
	assert_int_equal(passdb_load(NULL, f->path, &db), 0);
	u = passdb_find(db, "kerb");
	assert_true(u->has_nt_hash);
	assert_true(passdb_nt_hash("now one", h));
	assert_memory_equal(u->nt_hash, h, 16);
	assert_true(u->disabled);
	talloc_free(db);
	assert_int_equal(passdb_set_password(f->path, "kerb", NULL, 3000, 300), 0);
	assert_int_equal(passdb_load(NULL, f->path, &db), 0);
	assert_false(passdb_find(db, "kerb")->has_nt_hash);
	talloc_free(db);

	/* Hand-written: an empty hash field loads; a short one still does not. */
	write_file(f->path, "solo:1:2::disabled\n");
	assert_int_equal(passdb_load(NULL, f->path, &db), 0);
	assert_false(passdb_find(db, "solo")->has_nt_hash);
	talloc_free(db);
	write_file(f->path, "solo:1:2:a4:\n");
	assert_int_equal(passdb_load(NULL, f->path, &db), EINVAL);
}

static void test_names(void **state)
{
	struct fixture *f = *state;
	assert_true(passdb_name_valid("alice"));
	assert_true(passdb_name_valid("Jean-Luc.Picard"));
	assert_true(passdb_name_valid("Ärger"));
	assert_false(passdb_name_valid(""));
	assert_false(passdb_name_valid("a:b"));
	assert_false(passdb_name_valid("a\nb"));
	assert_false(passdb_name_valid("dom\\user"));
	assert_false(passdb_name_valid("user@realm"));
	assert_false(passdb_name_valid(" lead"));
	assert_false(passdb_name_valid("\xc3"));
	assert_int_equal(passdb_set_password(f->path, "a:b", "pw", 1, 1), EINVAL);
	assert_true(passdb_name_equal("STRASSE", "strasse"));
	assert_true(passdb_name_equal("ÉCOLE", "école"));
	assert_true(passdb_name_equal("ΣΟΦΊΑ", "σοφία"));
	assert_false(passdb_name_equal("alice", "alicia"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nt_hash),
		cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_comments_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_password, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names, setup, teardown),
	};
	plog_setup("test_passdb", PLOG_ERROR, false);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
