/* The store of persistent handles (smbd/ph_store.h). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <talloc.h>

#include "smbd/ph_store.h"

static struct smbd_ph_record sample(TALLOC_CTX *mem, uint64_t id, bool lease)
{
	struct smbd_ph_record r = {
		.persistent_id = id,
		.share = talloc_strdup(mem, "vms"),
		/* Any byte but NUL survives: spaces, a newline, UTF-8. */
		.rel_path = talloc_strdup(mem, "dir with space/new\nline/\xc3\xa9t\xc3\xa9.vhdx"),
		.smb_name = talloc_strdup(mem, "dir with space\\new\nline\\\xc3\xa9t\xc3\xa9.vhdx"),
		.access = 0x0012019f,
		.share_access = 0x7,
		.create_options = 0x40,
		.dev = 2049,
		.ino = 123456789012ull,
		.user = talloc_strdup(mem, "hyperv$"),
		.uid = 1000,
		.gid = 100,
		.timeout_ms = 60000,
		.oplock_level = lease ? 0xFF : 0x09,
		.has_lease = lease,
		.lease_state = 0x7,
		.lease_epoch = 3,
		.lease_version = 2,
	};
	for (int i = 0; i < 16; i++) {
		r.create_guid[i] = (uint8_t)(i + 1);
		r.client_guid[i] = (uint8_t)(0xF0 - i);
		r.lease_key[i] = lease ? (uint8_t)(0x40 + i) : 0;
		r.lease_parent_key[i] = lease ? (uint8_t)(0x80 + i) : 0;
	}
	if (!lease) {
		r.lease_state = r.lease_epoch = r.lease_version = 0;
	} else {
		r.n_locks = 3;
		r.locks = talloc_array(mem, struct smbd_ph_lock, 3);
		r.locks[0] = (struct smbd_ph_lock){ 0, 1, true };
		r.locks[1] = (struct smbd_ph_lock){ 4096, 0, false }; /* zero-byte */
		r.locks[2] = (struct smbd_ph_lock){ UINT64_MAX - 9, 10, true };
	}
	return r;
}

static void assert_same(const struct smbd_ph_record *a, const struct smbd_ph_record *b)
{
	assert_int_equal(a->persistent_id, b->persistent_id);
	assert_string_equal(a->share, b->share);
	assert_string_equal(a->rel_path, b->rel_path);
	assert_string_equal(a->smb_name, b->smb_name);
	assert_int_equal(a->access, b->access);
	assert_int_equal(a->share_access, b->share_access);
	assert_int_equal(a->create_options, b->create_options);
	assert_int_equal(a->dev, b->dev);
	assert_int_equal(a->ino, b->ino);
	assert_memory_equal(a->create_guid, b->create_guid, 16);
	assert_memory_equal(a->client_guid, b->client_guid, 16);
	assert_string_equal(a->user, b->user);
	assert_int_equal(a->uid, b->uid);
	assert_int_equal(a->gid, b->gid);
	assert_int_equal(a->timeout_ms, b->timeout_ms);
	assert_int_equal(a->oplock_level, b->oplock_level);
	assert_int_equal(a->has_lease, b->has_lease);
	assert_memory_equal(a->lease_key, b->lease_key, 16);
	assert_memory_equal(a->lease_parent_key, b->lease_parent_key, 16);
	assert_int_equal(a->lease_state, b->lease_state);
	assert_int_equal(a->lease_epoch, b->lease_epoch);
	assert_int_equal(a->lease_version, b->lease_version);
	assert_int_equal(a->n_locks, b->n_locks);
	for (size_t i = 0; i < a->n_locks; i++) {
		assert_int_equal(a->locks[i].offset, b->locks[i].offset);
		assert_int_equal(a->locks[i].length, b->locks[i].length);
		assert_int_equal(a->locks[i].exclusive, b->locks[i].exclusive);
	}
}

static void test_round_trip(void **state)
{
	(void)state;
	TALLOC_CTX *mem = talloc_new(NULL);
	for (int lease = 0; lease < 2; lease++) {
		struct smbd_ph_record r = sample(mem, 0x1234567890abcdefull, lease), back;
		char *text = smbd_ph_record_format(mem, &r);
		assert_non_null(text);
		assert_true(smbd_ph_record_parse(mem, text, &back));
		assert_same(&r, &back);
	}
	talloc_free(mem);
}

/* The text with the first occurrence of 'from' replaced by 'to'. */
static char *edited(TALLOC_CTX *mem, const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	assert_non_null(at);
	return talloc_asprintf(mem, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
}

static void test_damaged_records_refused(void **state)
{
	(void)state;
	TALLOC_CTX *mem = talloc_new(NULL);
	struct smbd_ph_record r = sample(mem, 7, true), back;
	char *text = smbd_ph_record_format(mem, &r);
	const char *bad[] = {
		edited(mem, text, "end\n", ""),                         /* cut short */
		edited(mem, text, "porthos-persistent-handle 1", "porthos-persistent-handle 2"),
		edited(mem, text, "uid 1000\n", ""),                    /* a field missing */
		edited(mem, text, "uid 1000\n", "uid 1000\nuid 1000\n"), /* twice */
		edited(mem, text, "uid 1000\n", "uid 1000\ncolour blue\n"), /* unknown */
		edited(mem, text, "end\n", "end\nid 0000000000000008\n"), /* after the end */
		edited(mem, text, "share 766d73", "share 766d7"),       /* odd hex */
		edited(mem, text, "share 766d73", "share 76006d"),      /* a NUL in a name */
		edited(mem, text, "uid 1000", "uid -1"),
		edited(mem, text, "uid 1000", "uid 99999999999"),
		edited(mem, text, "oplock 255", "oplock 256"),
		edited(mem, text, "timeout_ms 60000", "timeout_ms 6e4"),
		edited(mem, text, "lease ", "lease zz"),
		edited(mem, text, "lock 0 1 x", "lock 0 1 y"),
		edited(mem, text, "lock 0 1 x", "lock 0 1"),
		edited(mem, text, "lock 0 1 x", "lock -1 1 x"),
		"",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (smbd_ph_record_parse(mem, bad[i], &back))
			fail_msg("damaged record %zu accepted", i);
	talloc_free(mem);
}

/* A record too large to read back (locks by the thousand) is not written. */
static void test_oversized_record_refused(void **state)
{
	(void)state;
	TALLOC_CTX *mem = talloc_new(NULL);
	struct smbd_ph_record r = sample(mem, 9, false);
	r.n_locks = 4000;
	r.locks = talloc_zero_array(mem, struct smbd_ph_lock, r.n_locks);
	for (size_t i = 0; i < r.n_locks; i++)
		r.locks[i] = (struct smbd_ph_lock){ UINT64_MAX / 2 + i, 1000000, true };
	assert_null(smbd_ph_record_format(mem, &r));
	talloc_free(mem);
}

static void test_store_on_disk(void **state)
{
	(void)state;
	TALLOC_CTX *mem = talloc_new(NULL);
	char dir[] = "/tmp/porthos-ph-test.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *sub = talloc_asprintf(mem, "%s/persistent", dir);
	struct smbd_ph_store *st = smbd_ph_store_open(mem, sub);
	assert_non_null(st);
	struct stat sb;
	assert_int_equal(stat(sub, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);

	struct smbd_ph_record a = sample(mem, 1, false), b = sample(mem, 2, true);
	assert_int_equal(smbd_ph_store_put(st, &a), 0);
	assert_int_equal(smbd_ph_store_put(st, &b), 0);
	b.timeout_ms = 1000; /* replaced in place */
	assert_int_equal(smbd_ph_store_put(st, &b), 0);
	/* A damaged record and a write cut short by a crash. */
	char *p = talloc_asprintf(mem, "%s/00000000000000ff.ph", sub);
	FILE *f = fopen(p, "w");
	fputs("porthos-persistent-handle 1\nid 00000000000000ff\n", f);
	fclose(f);
	char *t = talloc_asprintf(mem, "%s/0000000000000003.ph.tmp", sub);
	f = fopen(t, "w");
	fputs("partial", f);
	fclose(f);

	struct smbd_ph_record *recs;
	size_t n, bad;
	assert_int_equal(smbd_ph_store_load(st, mem, &recs, &n, &bad), 0);
	assert_int_equal(n, 2);
	assert_int_equal(bad, 1);
	assert_int_equal(access(t, F_OK), -1); /* the cut-short write is gone */
	for (size_t i = 0; i < n; i++)
		assert_same(recs[i].persistent_id == 1 ? &a : &b, &recs[i]);

	assert_int_equal(smbd_ph_store_remove(st, 1), 0);
	assert_int_equal(smbd_ph_store_remove(st, 1), 0); /* gone already: no error */
	assert_int_equal(smbd_ph_store_load(st, mem, &recs, &n, &bad), 0);
	assert_int_equal(n, 1);
	assert_int_equal(recs[0].persistent_id, 2);
	assert_int_equal(recs[0].timeout_ms, 1000);

	unlink(p);
	assert_int_equal(smbd_ph_store_remove(st, 2), 0);
	talloc_free(mem);
	assert_int_equal(rmdir(sub), 0); /* nothing left behind */
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_damaged_records_refused),
		cmocka_unit_test(test_oversized_record_refused),
		cmocka_unit_test(test_store_on_disk),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
