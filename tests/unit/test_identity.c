/*
 * Identities, share access lists and the POSIX-to-NT access mapping.
 * The identity switch itself needs root (CI runs as root); without it
 * those cases are reported as skipped by cmocka, never as passed.
 */
#include "config.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <talloc.h>

#include "conf/conf.h"
#include "smbd/identity.h"
#include "smbd/posix_access.h"
#include "smbd/session.h"
#include "smbd/share_access.h"
#include "smbd/smb2_proto.h"
#include "smbd/vfs.h"

#define ALICE 4101
#define BOB 4102
#define USERS_GID 100 /* Debian's "users" */

static void test_identity_groups(void **state)
{
	struct smbd_identity *id = smbd_identity_new(NULL, "porthos-no-such-user", ALICE, USERS_GID);
	assert_non_null(id);
	assert_int_equal(id->uid, ALICE);
	assert_true(smbd_identity_in_group(id, USERS_GID));
	assert_false(smbd_identity_in_group(id, 0));
	struct smbd_identity *other = smbd_identity_new(NULL, "porthos-no-such-user", ALICE, USERS_GID);
	assert_true(other->serial != id->serial);
	talloc_free(other);
	talloc_free(id);
}

static void test_become(void **state)
{
	if (!smbd_identity_can_switch())
		skip();
	struct smbd_identity *id = smbd_identity_new(NULL, "porthos-no-such-user", ALICE, USERS_GID);
	assert_true(smbd_become(id));
	assert_int_equal(setfsuid((uid_t)-1), ALICE);
	assert_int_equal(setfsgid((gid_t)-1), USERS_GID);
	assert_true(smbd_become(id)); /* cached: still the same */
	assert_int_equal(setfsuid((uid_t)-1), ALICE);
	smbd_become_root();
	assert_int_equal(setfsuid((uid_t)-1), 0);
	assert_int_equal(setfsgid((gid_t)-1), 0);
	/* After root, the same identity is taken on again, not assumed. */
	assert_true(smbd_become(id));
	assert_int_equal(setfsuid((uid_t)-1), ALICE);
	smbd_become_root();
	talloc_free(id);
}

static struct smbd_session *session(TALLOC_CTX *mem, const char *user, uint32_t uid, uint32_t gid)
{
	struct smbd_session *s = talloc_zero(mem, struct smbd_session);
	s->user = talloc_strdup(s, user);
	s->uid = uid;
	s->gid = gid;
	return s;
}

static void set_list(struct conf_name_list *l, const char **v, size_t n)
{
	l->v = (char **)v;
	l->n = n;
}

static void test_share_lists(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct smbd_session *alice = session(mem, "alice", ALICE, USERS_GID);
	struct smbd_session *bob = session(mem, "bob", BOB, BOB);
	struct share_config sc = { .read_only = false };

	/* No lists: everyone authenticated, as the share says. */
	assert_int_equal(smbd_share_access(&sc, alice), SMBD_SHARE_WRITE);
	sc.read_only = true;
	assert_int_equal(smbd_share_access(&sc, bob), SMBD_SHARE_READ);

	/* valid users by name (any case) and by @group. */
	const char *valid[] = { "ALICE" };
	set_list(&sc.valid_users, valid, 1);
	assert_int_equal(smbd_share_access(&sc, alice), SMBD_SHARE_READ);
	assert_int_equal(smbd_share_access(&sc, bob), SMBD_SHARE_DENIED);
	const char *valid_grp[] = { "@users" };
	set_list(&sc.valid_users, valid_grp, 1);
	assert_int_equal(smbd_share_access(&sc, alice), SMBD_SHARE_READ);
	assert_int_equal(smbd_share_access(&sc, bob), SMBD_SHARE_DENIED);
	const char *unknown_grp[] = { "@porthos-no-such-group" };
	set_list(&sc.valid_users, unknown_grp, 1);
	assert_int_equal(smbd_share_access(&sc, alice), SMBD_SHARE_DENIED);

	/* invalid users wins over valid users. */
	const char *both[] = { "alice", "bob" };
	set_list(&sc.valid_users, both, 2);
	const char *inval[] = { "+users" };
	set_list(&sc.invalid_users, inval, 1);
	assert_int_equal(smbd_share_access(&sc, alice), SMBD_SHARE_DENIED);
	assert_int_equal(smbd_share_access(&sc, bob), SMBD_SHARE_READ);
	set_list(&sc.invalid_users, NULL, 0);

	/* read list, then write list, over "read only". */
	const char *wl[] = { "alice" };
	set_list(&sc.write_list, wl, 1);
	assert_int_equal(smbd_share_access(&sc, alice), SMBD_SHARE_WRITE);
	const char *rl[] = { "@users" };
	set_list(&sc.read_list, rl, 1);
	assert_int_equal(smbd_share_access(&sc, alice), SMBD_SHARE_WRITE); /* write list last */
	set_list(&sc.write_list, NULL, 0);
	sc.read_only = false;
	assert_int_equal(smbd_share_access(&sc, alice), SMBD_SHARE_READ);
	assert_int_equal(smbd_share_access(&sc, bob), SMBD_SHARE_WRITE);

	/* Anonymous: only where guest ok. */
	struct smbd_session *anon = session(mem, "", 0, 0);
	anon->anonymous = true;
	set_list(&sc.read_list, NULL, 0);
	set_list(&sc.valid_users, NULL, 0);
	assert_int_equal(smbd_share_access(&sc, anon), SMBD_SHARE_DENIED);
	sc.guest_ok = true;
	assert_int_equal(smbd_share_access(&sc, anon), SMBD_SHARE_WRITE);
	talloc_free(mem);
}

/* A share with files of several owners and modes; rights as alice. */
static void test_posix_access(void **state)
{
	if (!smbd_identity_can_switch())
		skip();
	char root[] = "/tmp/porthos-unit-identity.XXXXXX";
	assert_non_null(mkdtemp(root));
	char path[256];
	chmod(root, 0755);
#define MK(name, mode, uid, gid)                                          \
	do {                                                              \
		snprintf(path, sizeof(path), "%s/%s", root, name);        \
		int fd_ = open(path, O_CREAT | O_WRONLY, 0600);           \
		assert_true(fd_ >= 0);                                    \
		close(fd_);                                               \
		assert_int_equal(chown(path, uid, gid), 0);               \
		assert_int_equal(chmod(path, mode), 0);                   \
	} while (0)
	snprintf(path, sizeof(path), "%s/sticky", root);
	assert_int_equal(mkdir(path, 0777), 0);
	chmod(path, 01777);
	MK("mine", 0644, ALICE, USERS_GID);
	MK("roots", 0644, 0, 0);
	MK("secret", 0600, 0, 0);
	MK("grpw", 0664, 0, USERS_GID);
	MK("sticky/bobs", 0666, BOB, BOB);

	struct vfs_share *vfs;
	assert_true(NT_STATUS_IS_OK(vfs_share_open(NULL, root, &vfs)));
	struct smbd_identity *id = smbd_identity_new(NULL, "porthos-no-such-user", ALICE, USERS_GID);
	assert_true(smbd_become(id));
	uint32_t r;

	assert_true(NT_STATUS_IS_OK(smbd_posix_access(vfs, "mine", ALICE, &r)));
	assert_true(r & FILE_READ_DATA);
	assert_true(r & FILE_WRITE_DATA);
	assert_true(r & WRITE_DAC);       /* the owner */
	assert_false(r & DELETE_ACCESS);  /* the root-owned 0755 parent */

	assert_true(NT_STATUS_IS_OK(smbd_posix_access(vfs, "roots", ALICE, &r)));
	assert_true(r & FILE_READ_DATA);
	assert_false(r & (FILE_WRITE_DATA | FILE_APPEND_DATA | WRITE_DAC));
	assert_true(r & FILE_READ_ATTRIBUTES);

	assert_true(NT_STATUS_IS_OK(smbd_posix_access(vfs, "secret", ALICE, &r)));
	assert_false(r & (FILE_READ_DATA | FILE_WRITE_DATA));
	assert_true(r & FILE_READ_ATTRIBUTES);

	assert_true(NT_STATUS_IS_OK(smbd_posix_access(vfs, "grpw", ALICE, &r)));
	assert_true(r & FILE_WRITE_DATA); /* through group 100 */

	assert_true(NT_STATUS_IS_OK(smbd_posix_access(vfs, "sticky/bobs", ALICE, &r)));
	assert_true(r & FILE_WRITE_DATA);
	assert_false(r & DELETE_ACCESS); /* sticky: not hers */

	assert_true(NT_STATUS_IS_OK(smbd_posix_access(vfs, "sticky", ALICE, &r)));
	assert_true(r & FILE_ADD_FILE);
	assert_true(r & FILE_LIST_DIRECTORY);

	smbd_become_root();
	assert_true(NT_STATUS_IS_OK(smbd_posix_access(vfs, "secret", 0, &r)));
	assert_int_equal(r, FILE_ALL_ACCESS);

	talloc_free(id);
	talloc_free(vfs);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity_groups),
		cmocka_unit_test(test_become),
		cmocka_unit_test(test_share_lists),
		cmocka_unit_test(test_posix_access),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
