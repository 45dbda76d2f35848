#include "config.h"
#include "conf/conf.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

/* A scratch tree: dir/a and dir/b are directories, dir/file is a regular file. */
struct fixture {
	TALLOC_CTX *mem;
	char dir[64];
	char *a, *b, *file;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->mem = talloc_new(NULL);
	strcpy(f->dir, "/tmp/test_conf.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->a = talloc_asprintf(f->mem, "%s/a", f->dir);
	f->b = talloc_asprintf(f->mem, "%s/b", f->dir);
	f->file = talloc_asprintf(f->mem, "%s/file", f->dir);
	assert_int_equal(mkdir(f->a, 0700), 0);
	assert_int_equal(mkdir(f->b, 0700), 0);
	int fd = open(f->file, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	unlink(f->file);
	rmdir(f->a);
	rmdir(f->b);
	rmdir(f->dir);
	talloc_free(f->mem);
	free(f);
	return 0;
}

/* Loads text expecting failure; returns the errors (on f->mem). */
static struct conf_errors load_bad(struct fixture *f, const char *text)
{
	struct conf_errors errs = { 0 };
	struct porthos_config *c = (void *)1;
	assert_int_equal(conf_load_string(f->mem, "porthos.conf", text, &c, &errs), -1);
	assert_null(c);
	assert_true(errs.n > 0);
	return errs;
}

static struct porthos_config *load_ok(struct fixture *f, const char *text)
{
	struct conf_errors errs = { 0 };
	struct porthos_config *c = NULL;
	int rc = conf_load_string(f->mem, "porthos.conf", text, &c, &errs);
	if (rc != 0)
		conf_print_errors(&errs, stderr);
	assert_int_equal(rc, 0);
	assert_int_equal(errs.n, 0);
	assert_non_null(c);
	return c;
}

/* Asserts one error at 'line' whose message contains 'needle'. */
static void expect_one(struct fixture *f, const char *text, int line, const char *needle)
{
	struct conf_errors errs = load_bad(f, text);
	if (errs.n != 1 || errs.v[0].line != line || strstr(errs.v[0].message, needle) == NULL)
		conf_print_errors(&errs, stderr);
	assert_int_equal(errs.n, 1);
	assert_int_equal(errs.v[0].line, line);
	assert_non_null(strstr(errs.v[0].message, needle));
	assert_string_equal(errs.v[0].file, "porthos.conf");
	conf_errors_clear(&errs);
}

static void test_full_file(void **state)
{
	struct fixture *f = *state;
	char *text = talloc_asprintf(f->mem,
		"# Porthos test\n"
		"; another comment\n"
		"[global]\n"
		"   netbios name = fileserv\n"
		"   workgroup = corp\n"
		"   server string = Porthos test box\n"
		"   listen = 127.0.0.1:4455, [::1]:4455 0.0.0.0\n"
		"   smb port = 4450\n"
		"   passdb = /etc/porthos/passdb\n"
		"   state directory = /srv/state/\n"
		"   log level = debug\n"
		"   log to syslog = yes\n"
		"   max pdu size = 1M\n"
		"   idle timeout = 0\n"
		"   auth timeout = 30\n"
		"   server signing = mandatory\n"
		"   server min protocol = SMB3\n"
		"   server max protocol = SMB3_02\n"
		"\n"
		"[vms]\n"
		"   path = %s/\n"
		"   comment = Virtual machines\n"
		"   read only = no\n"
		"   guest ok = yes\n"
		"   browseable = no\n"
		"   continuous availability = yes\n"
		"   smb encrypt = required\n"
		"   valid users = alice, @admins \"Domain Users\"\n"
		"[Data]\n"
		"   path = %s\n"
		"   encrypt data = yes\n"
		"   durable handles = no\n",
		f->a, f->b);
	struct porthos_config *c = load_ok(f, text);

	assert_string_equal(c->netbios_name, "FILESERV");
	assert_string_equal(c->workgroup, "CORP");
	assert_string_equal(c->server_string, "Porthos test box");
	assert_int_equal(c->n_listen, 3);
	assert_string_equal(c->listen[0], "127.0.0.1:4455");
	assert_string_equal(c->listen[1], "[::1]:4455");
	assert_string_equal(c->listen[2], "0.0.0.0:4450");   /* smb port, even though set later */
	assert_int_equal(c->default_port, 4450);
	assert_string_equal(c->passdb_path, "/etc/porthos/passdb");
	assert_string_equal(c->state_dir, "/srv/state");
	assert_string_equal(c->server_guid_file, "/srv/state/server-guid");
	assert_string_equal(c->log_level, "debug");
	assert_true(c->log_syslog);
	assert_int_equal(c->max_pdu, 1048576);
	assert_int_equal(c->idle_timeout_s, 0);
	assert_int_equal(c->auth_timeout_s, 30);
	assert_true(c->signing_required);
	assert_int_equal(c->min_protocol, 0x0300);
	assert_int_equal(c->max_protocol, 0x0302);

	assert_int_equal(c->n_shares, 2);
	const struct share_config *s = c->shares[0];
	assert_string_equal(s->name, "vms");
	assert_string_equal(s->path, f->a);            /* trailing slash dropped */
	assert_string_equal(s->comment, "Virtual machines");
	assert_false(s->read_only);
	assert_true(s->guest_ok);
	assert_false(s->browseable);
	assert_true(s->continuous_availability);
	assert_true(s->durable_handles);
	assert_true(s->encrypt_required);
	assert_int_equal(s->valid_users.n, 3);
	assert_string_equal(s->valid_users.v[0], "alice");
	assert_string_equal(s->valid_users.v[1], "@admins");
	assert_string_equal(s->valid_users.v[2], "Domain Users");
	assert_int_equal(s->line, 20);

	s = c->shares[1];
	assert_string_equal(s->name, "Data");
	assert_true(s->encrypt_required);
	assert_false(s->durable_handles);
	assert_true(s->read_only);
	assert_ptr_equal(conf_find_share(c, "DATA"), s);
	assert_ptr_equal(conf_find_share(c, "data"), s);
	assert_null(conf_find_share(c, "nope"));
	assert_ptr_equal(talloc_parent(c), f->mem);
	talloc_free(c);
}

static void test_defaults(void **state)
{
	struct fixture *f = *state;
	char *text = talloc_asprintf(f->mem, "[global]\n[s]\npath = %s\n", f->a);
	struct porthos_config *c = load_ok(f, text);

	assert_true(strlen(c->netbios_name) >= 1 && strlen(c->netbios_name) <= 15);
	for (const char *p = c->netbios_name; *p; p++)
		assert_false(*p >= 'a' && *p <= 'z');
	assert_string_equal(c->workgroup, "WORKGROUP");
	assert_string_equal(c->server_string, "Porthos");
	assert_int_equal(c->n_listen, 2);
	assert_string_equal(c->listen[0], "0.0.0.0:445");
	assert_string_equal(c->listen[1], "[::]:445");
	assert_int_equal(c->default_port, 445);
	assert_string_equal(c->passdb_path, "/var/lib/porthos/passdb");
	assert_string_equal(c->state_dir, "/var/lib/porthos");
	assert_string_equal(c->server_guid_file, "/var/lib/porthos/server-guid");
	assert_string_equal(c->log_level, "info");
	assert_false(c->log_syslog);
	assert_int_equal(c->max_pdu, 8454144);
	assert_int_equal(c->idle_timeout_s, 900);
	assert_int_equal(c->auth_timeout_s, 60);
	assert_false(c->signing_required);
	assert_int_equal(c->min_protocol, 0x0202);
	assert_int_equal(c->max_protocol, 0x0311);

	assert_int_equal(c->n_shares, 1);
	const struct share_config *s = c->shares[0];
	assert_string_equal(s->comment, "");
	assert_true(s->read_only);
	assert_false(s->guest_ok);
	assert_true(s->browseable);
	assert_false(s->continuous_availability);
	assert_true(s->durable_handles);
	assert_false(s->encrypt_required);
	assert_int_equal(s->valid_users.n, 0);

	/* Default listen follows "smb port"; an empty file is a valid config. */
	c = load_ok(f, "[global]\nsmb port = 4455\n");
	assert_string_equal(c->listen[0], "0.0.0.0:4455");
	assert_string_equal(c->listen[1], "[::]:4455");
	c = load_ok(f, "");
	assert_int_equal(c->n_shares, 0);
}

static void test_error_unknown_param(void **state)
{
	struct fixture *f = *state;
	char *text = talloc_asprintf(f->mem,
		"[global]\n\n\n\n\n\n\n\n\n\n[vms]\npath = %s\nraed only = yes\n", f->a);
	struct conf_errors errs = load_bad(f, text);
	assert_int_equal(errs.n, 1);

	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	assert_non_null(m);
	conf_print_errors(&errs, m);
	fclose(m);
	assert_string_equal(buf, "porthos.conf:13: unknown parameter 'raed only' in [vms]\n");
	free(buf);

	expect_one(f, "[global]\nfoo = bar\n", 2, "unknown parameter 'foo' in [global]");
}

static void test_error_kinds(void **state)
{
	struct fixture *f = *state;
	char *t;

	/* Syntax */
	expect_one(f, "[global]\njust words\n", 2, "expected 'key = value'");
	expect_one(f, "[global]\n = x\n", 2, "missing parameter name");
	expect_one(f, "workgroup = X\n[global]\n", 1, "outside of any section");
	expect_one(f, "[global\n", 1, "missing ']'");
	expect_one(f, "[global] junk\n", 1, "unexpected text after section header");
	/* Bad values */
	expect_one(f, "[global]\nlog to syslog = maybe\n", 2, "bad value 'maybe' for 'log to syslog'");
	expect_one(f, "[global]\nidle timeout = ten\n", 2, "bad value 'ten'");
	expect_one(f, "[global]\nidle timeout = -1\n", 2, "bad value '-1'");
	expect_one(f, "[global]\nidle timeout = 99999999999999999999999\n", 2, "bad value");
	expect_one(f, "[global]\nauth timeout = 0\n", 2, "bad value '0'");
	expect_one(f, "[global]\nsmb port = 65536\n", 2, "bad value '65536'");
	expect_one(f, "[global]\nsmb port = 0\n", 2, "bad value '0'");
	expect_one(f, "[global]\nmax pdu size = 1000\n", 2, "bad value '1000'");
	expect_one(f, "[global]\nmax pdu size = 17M\n", 2, "bad value '17M'");
	expect_one(f, "[global]\nlog level = verbose\n", 2, "bad value 'verbose'");
	expect_one(f, "[global]\nserver signing = sometimes\n", 2, "bad value 'sometimes'");
	expect_one(f, "[global]\nreply crypto = gpu\n", 2, "bad value 'gpu' for 'reply crypto'");
	expect_one(f, "[global]\nserver min protocol = NT1\n", 2, "SMB1 is not supported");
	expect_one(f, "[global]\nserver max protocol = SMB4\n", 2, "bad value 'SMB4'");
	expect_one(f, "[global]\nnetbios name = WAYTOOLONGNETBIOSNAME\n", 2, "bad value");
	expect_one(f, "[global]\nnetbios name = a.b\n", 2, "bad value");
	expect_one(f, "[global]\npassdb = relative/passdb\n", 2, "an absolute path");
	expect_one(f, "[global]\nstate directory = var\n", 2, "an absolute path");
	expect_one(f, "[global]\nlisten = 1.2.3.4:99999\n", 2, "invalid listen address '1.2.3.4:99999'");
	expect_one(f, "[global]\nlisten = fileserver.example.com\n", 2, "invalid listen address");
	expect_one(f, "[global]\nlisten =\n", 2, "bad value");
	expect_one(f, "[global]\nmulti channel addresses = nas.example.com\n", 2, "invalid entry 'nas.example.com'");
	expect_one(f, "[global]\nmulti channel addresses = 192.0.2.1;fast\n", 2, "invalid entry");
	expect_one(f, "[global]\nmulti channel addresses = 192.0.2.1;speed=0\n", 2, "invalid entry");
	expect_one(f, "[global]\nmulti channel addresses = 192.0.2.1;speed=1e9\n", 2, "invalid entry");
	expect_one(f, "[global]\nvalid users = \"unterminated\n", 2, "bad value");
	/* Protocol range */
	expect_one(f, "[global]\nserver max protocol = SMB2_10\nserver min protocol = SMB3_00\n", 3,
		   "above server max protocol");
	/* Wrong section */
	t = talloc_asprintf(f->mem, "[s]\npath = %s\nworkgroup = X\n", f->a);
	expect_one(f, t, 3, "global parameter 'workgroup' is not allowed in [s]");
	expect_one(f, "[global]\npath = /srv\n", 2, "share parameter 'path' is not allowed in [global]");
	/* Sections and share names */
	expect_one(f, "[global]\n[global]\n", 2, "duplicate section [global] (first at line 1)");
	t = talloc_asprintf(f->mem, "[s]\npath = %s\n[s]\npath = %s\n", f->a, f->b);
	expect_one(f, t, 3, "duplicate section [s] (first at line 1)");
	t = talloc_asprintf(f->mem, "[Data]\npath = %s\n[DATA]\npath = %s\n", f->a, f->b);
	expect_one(f, t, 3, "duplicate share name [DATA]: same as [Data] at line 1");
	t = talloc_asprintf(f->mem, "[ipc$]\npath = %s\n", f->a);
	expect_one(f, t, 1, "IPC$ is reserved");
	t = talloc_asprintf(f->mem, "[a:b]\npath = %s\n", f->a);
	expect_one(f, t, 1, "invalid share name [a:b]");
	t = talloc_asprintf(f->mem, "[a*b]\npath = %s\n", f->a);
	expect_one(f, t, 1, "invalid share name");
	expect_one(f, "[]\n", 1, "empty share name");
	expect_one(f, "[homes]\n", 1, "not supported");
	char longname[90];
	memset(longname, 'x', 81);
	longname[81] = '\0';
	t = talloc_asprintf(f->mem, "[%s]\npath = %s\n", longname, f->a);
	expect_one(f, t, 1, "longer than 80");
	longname[80] = '\0';
	t = talloc_asprintf(f->mem, "[%s]\npath = %s\n", longname, f->a);
	load_ok(f, t);
	expect_one(f, "[global]\n\nserver string = a\x01y\n", 3, "control character 0x01");
	expect_one(f, "[global]\nserver string = \xff\xfe\n", 2, "invalid UTF-8");
	/* Paths */
	expect_one(f, "[s]\ncomment = no path\n", 1, "share [s] has no 'path'");
	expect_one(f, "[s]\n\npath = srv/data\n", 3, "is not absolute");
	expect_one(f, "[s]\npath = /nonexistent/porthos/dir\n", 2, "No such file or directory");
	t = talloc_asprintf(f->mem, "[s]\npath = %s\n", f->file);
	expect_one(f, t, 2, "is not a directory");
	/* Bad values inside a share */
	t = talloc_asprintf(f->mem, "[s]\npath = %s\nread only = perhaps\n", f->a);
	expect_one(f, t, 3, "bad value 'perhaps' for 'read only' in [s]");
	t = talloc_asprintf(f->mem, "[s]\npath = %s\nsmb encrypt = yes\n", f->a);
	expect_one(f, t, 3, "bad value 'yes' for 'smb encrypt'");
	/* Samba has no inline comments: the comment is part of the value. */
	t = talloc_asprintf(f->mem, "[s]\npath = %s\nread only = no # why\n", f->a);
	expect_one(f, t, 3, "bad value 'no # why'");
}

static void test_all_errors_collected(void **state)
{
	struct fixture *f = *state;
	char *text = talloc_asprintf(f->mem,
		"[global]\n"                        /* 1 */
		"smb port = 70000\n"                /* 2 */
		"bogus = 1\n"                       /* 3 */
		"server min protocol = SMB3_11\n"   /* 4 */
		"server max protocol = SMB2_02\n"   /* 5: min > max, reported at end */
		"[IPC$]\n"                          /* 6 */
		"raed only = yes\n"                 /* 7: still checked in a bad section */
		"[vms]\n"                           /* 8: no path */
		"guest ok = perhaps\n"              /* 9 */
		"[VMS]\n"                           /* 10: duplicate */
		"path = %s\n"                       /* 11 */
		"[ok]\n"                            /* 12 */
		"path = %s\n"                       /* 13 */
		"listen = 1.2.3.4\n",               /* 14: global in share */
		f->a, f->a);
	struct conf_errors errs = load_bad(f, text);
	static const int lines[] = { 2, 3, 6, 7, 9, 10, 14, 5, 8 };
	if (errs.n != sizeof(lines) / sizeof(lines[0]))
		conf_print_errors(&errs, stderr);
	assert_int_equal(errs.n, sizeof(lines) / sizeof(lines[0]));
	for (size_t i = 0; i < errs.n; i++)
		assert_int_equal(errs.v[i].line, lines[i]);
	assert_non_null(strstr(errs.v[3].message, "unknown parameter 'raed only' in [IPC$]"));

	/* Appending: a second failed load adds to the same list. */
	struct porthos_config *c;
	assert_int_equal(conf_load_string(f->mem, "other.conf", "x\n", &c, &errs), -1);
	assert_int_equal(errs.n, 10);
	assert_string_equal(errs.v[9].file, "other.conf");
	conf_errors_clear(&errs);
	assert_null(errs.v);
	assert_int_equal(errs.n, 0);

	/* A failed load leaves nothing behind on mem once the errors are cleared. */
	size_t blocks = talloc_total_blocks(f->mem);
	assert_int_equal(conf_load_string(f->mem, "x", text, &c, &errs), -1);
	assert_true(talloc_total_blocks(f->mem) > blocks);
	conf_errors_clear(&errs);
	assert_int_equal(talloc_total_blocks(f->mem), blocks);
	c = load_ok(f, "[global]\nlisten = 1.2.3.4\n");
	talloc_free(c);
	assert_int_equal(talloc_total_blocks(f->mem), blocks);

	/* NULL errs: still fails. */
	assert_int_equal(conf_load_string(f->mem, "x", "junk\n", &c, NULL), -1);
	assert_null(c);
}

static void test_continuation(void **state)
{
	struct fixture *f = *state;
	char *text = talloc_asprintf(f->mem,
		"[global]\n"                        /* 1 */
		"server string = Porthos \\\n"      /* 2 */
		"on Linux\n"                        /* 3 */
		"# a comment ending in a backslash \\\n"   /* 4: does not continue */
		"workgroup = WG\n"                  /* 5 */
		"[s]\n"                             /* 6 */
		"valid users = alice, \\\n"         /* 7 */
		"   bob, \\   \n"                   /* 8: spaces after the backslash */
		"   carol\n"                        /* 9 */
		"pa\\\n"                            /* 10: even inside a key */
		"th = %s\n",                        /* 11 */
		f->a);
	struct porthos_config *c = load_ok(f, text);
	assert_string_equal(c->server_string, "Porthos on Linux");
	assert_string_equal(c->workgroup, "WG");
	assert_int_equal(c->shares[0]->valid_users.n, 3);
	assert_string_equal(c->shares[0]->valid_users.v[2], "carol");
	assert_string_equal(c->shares[0]->path, f->a);

	/* An error in a continued line is reported at its first line; lines after count on. */
	struct conf_errors errs = load_bad(f, "[global]\nlog to syslog = \\\n maybe\nbad key = 1\n");
	assert_int_equal(errs.n, 2);
	assert_int_equal(errs.v[0].line, 2);
	assert_non_null(strstr(errs.v[0].message, "bad value 'maybe'"));
	assert_int_equal(errs.v[1].line, 4);
	/* A backslash on the last line just ends the file. */
	load_ok(f, "[global]\nworkgroup = WG\\");
	/* CRLF files */
	c = load_ok(f, "[global]\r\nworkgroup = crlf\r\nserver string = a \\\r\nb\r\n");
	assert_string_equal(c->workgroup, "CRLF");
	assert_string_equal(c->server_string, "a b");
}

static void test_case_insensitive(void **state)
{
	struct fixture *f = *state;
	char *text = talloc_asprintf(f->mem,
		"[GLOBAL]\n"
		"NetBIOS Name = Box\n"
		"SERVER  STRING = x\n"
		"[Media]\n"
		"PATH = %s\n"
		"ReadOnly = NO\n"
		"Guest OK = True\n"
		"BROWSABLE = off\n",
		f->a);
	struct porthos_config *c = load_ok(f, text);
	assert_string_equal(c->netbios_name, "BOX");
	assert_string_equal(c->server_string, "x");
	const struct share_config *s = conf_find_share(c, "mEDIA");
	assert_non_null(s);
	assert_string_equal(s->name, "Media");
	assert_false(s->read_only);
	assert_true(s->guest_ok);
	assert_false(s->browseable);

	/* "writeable" is the inverse of "read only" */
	text = talloc_asprintf(f->mem, "[m]\npath = %s\nwriteable = yes\n", f->a);
	c = load_ok(f, text);
	assert_false(c->shares[0]->read_only);
}

static void test_global_share_defaults(void **state)
{
	struct fixture *f = *state;
	/* [global] comes last: its defaults still apply to every share. */
	char *text = talloc_asprintf(f->mem,
		"[one]\n"
		"path = %s\n"
		"[two]\n"
		"path = %s\n"
		"read only = yes\n"
		"guest ok = no\n"
		"browseable = yes\n"
		"valid users = carol\n"
		"smb encrypt = off\n"
		"[global]\n"
		"read only = no\n"
		"guest ok = yes\n"
		"browseable = no\n"
		"valid users = alice bob\n"
		"smb encrypt = required\n",
		f->a, f->b);
	struct porthos_config *c = load_ok(f, text);
	const struct share_config *one = conf_find_share(c, "one");
	const struct share_config *two = conf_find_share(c, "two");
	assert_false(one->read_only);
	assert_true(one->guest_ok);
	assert_false(one->browseable);
	assert_true(one->encrypt_required);
	assert_int_equal(one->valid_users.n, 2);
	assert_string_equal(one->valid_users.v[1], "bob");
	assert_true(two->read_only);
	assert_false(two->guest_ok);
	assert_true(two->browseable);
	assert_false(two->encrypt_required);
	assert_int_equal(two->valid_users.n, 1);
	assert_string_equal(two->valid_users.v[0], "carol");
	/* The lists are separate copies. */
	assert_ptr_not_equal(one->valid_users.v, two->valid_users.v);
	assert_ptr_equal(talloc_parent(one->valid_users.v), one);
}

static void test_access_lists_and_limits(void **state)
{
	struct fixture *f = *state;
	char *text = talloc_asprintf(f->mem,
		"[global]\n"
		"write list = admin\n"
		"max connections = 100\n"
		"max open files = 50\n"
		"max async requests = 7\n"
		"io threads = 0\n"
		"io uring = no\n"
		"splice writes = no\n"
		"splice reads = no\n"
		"reply crypto = workers\n"
		"server multi channel support = no\n"
		"smb3 directory leases = no\n"
		"multi channel addresses = 192.0.2.1;rss;speed=25000000000, 2001:db8::1\n"
		"kerberos keytab = /etc/porthos/krb5.keytab\n"
		"realm = example.test\n"
		"[one]\n"
		"path = %s\n"
		"invalid users = mallory @blocked\n"
		"read list = @auditors\n"
		"[two]\n"
		"path = %s\n"
		"write list = bob\n",
		f->a, f->b);
	struct porthos_config *c = load_ok(f, text);
	assert_int_equal(c->max_connections, 100);
	assert_int_equal(c->max_open_files, 50);
	assert_int_equal(c->max_async_requests, 7);
	assert_int_equal(c->io_threads, 0);
	assert_false(c->io_uring);
	assert_false(c->splice_writes);
	assert_false(c->splice_reads);
	assert_int_equal(c->reply_crypto, REPLY_CRYPTO_WORKERS);
	assert_false(c->multi_channel);
	assert_false(c->directory_leases);
	assert_int_equal(c->n_mc_addresses, 2);
	struct conf_mc_address mc;
	assert_int_equal(conf_parse_mc_address(c->mc_addresses[0], &mc), 0);
	assert_int_equal(mc.addr.ss_family, AF_INET);
	assert_true(mc.rss);
	assert_true(mc.speed == 25000000000ull);
	assert_int_equal(conf_parse_mc_address(c->mc_addresses[1], &mc), 0);
	assert_int_equal(mc.addr.ss_family, AF_INET6);
	assert_false(mc.rss);
	assert_true(mc.speed == 0);
	assert_string_equal(c->kerberos_keytab, "/etc/porthos/krb5.keytab");
	assert_string_equal(c->realm, "EXAMPLE.TEST");
	const struct share_config *one = conf_find_share(c, "one");
	const struct share_config *two = conf_find_share(c, "two");
	assert_int_equal(one->invalid_users.n, 2);
	assert_string_equal(one->invalid_users.v[1], "@blocked");
	assert_int_equal(one->read_list.n, 1);
	assert_int_equal(one->write_list.n, 1); /* from [global] */
	assert_string_equal(one->write_list.v[0], "admin");
	assert_int_equal(two->write_list.n, 1); /* its own replaces the default */
	assert_string_equal(two->write_list.v[0], "bob");
	assert_int_equal(two->invalid_users.n, 0);

	/* Defaults. */
	c = load_ok(f, "");
	assert_int_equal(c->max_connections, 16384);
	assert_int_equal(c->max_open_files, 16384);
	assert_int_equal(c->max_async_requests, 2048);
	assert_int_equal(c->io_threads, 4);
	assert_true(c->io_uring);
	assert_true(c->splice_writes);
	assert_true(c->splice_reads);
	assert_int_equal(c->reply_crypto, REPLY_CRYPTO_AUTO);
	/* in any case, as every word here */
	assert_int_equal(load_ok(f, "[global]\nreply crypto = Loop\n")->reply_crypto, REPLY_CRYPTO_LOOP);
	assert_true(c->multi_channel);
	assert_true(c->directory_leases);
	assert_int_equal(c->n_mc_addresses, 0);
	assert_null(c->kerberos_keytab);
	assert_null(c->realm);

	expect_one(f, "[global]\nmax open files = 0\n", 2, "bad value");
	expect_one(f, "[global]\nio threads = 257\n", 2, "bad value");
	expect_one(f, "[global]\nrealm = EXAMPLE.TEST/x\n", 2, "bad value");
	expect_one(f, "[global]\nkerberos keytab = relative.keytab\n", 2, "relative.keytab");
}

static void test_parse_listen(void **state)
{
	char host[80];
	uint16_t port;

	assert_int_equal(conf_parse_listen("127.0.0.1:4455", 445, host, sizeof(host), &port), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 4455);
	assert_int_equal(conf_parse_listen("0.0.0.0", 445, host, sizeof(host), &port), 0);
	assert_string_equal(host, "0.0.0.0");
	assert_int_equal(port, 445);
	assert_int_equal(conf_parse_listen("[::1]:4455", 445, host, sizeof(host), &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 4455);
	assert_int_equal(conf_parse_listen("[::]", 139, host, sizeof(host), &port), 0);
	assert_string_equal(host, "::");
	assert_int_equal(port, 139);
	assert_int_equal(conf_parse_listen("fe80::1%eth0", 445, host, sizeof(host), &port), 0);
	assert_string_equal(host, "fe80::1%eth0");
	assert_int_equal(conf_parse_listen("[2001:db8::5]:65535", 445, host, sizeof(host), &port), 0);
	assert_int_equal(port, 65535);

	static const char *const bad[] = {
		"", ":445", "1.2.3.4:", "1.2.3.4:0", "1.2.3.4:65536", "1.2.3.4:44a",
		"1.2.3.4:+44", "1.2.3.4:-1", "1.2.3.4: 44", "1.2.3.4:000000445", "1.2.3", "127.1",
		"256.1.1.1", "localhost", "host:445", "[::1", "[::1]x", "[::1]:", "[1.2.3.4]:445",
		"[]:445", "::1:445x", "::g", "fe80::1%", "fe80::1%a/b", "\xff\xfe", " 1.2.3.4",
		"[::1]:445:1", "1.2.3.4:445:1",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (conf_parse_listen(bad[i], 445, host, sizeof(host), &port) == 0)
			fail_msg("accepted '%s'", bad[i]);
	}
	/* Port 0 as a default is refused too, and so is a too-small buffer. */
	assert_int_equal(conf_parse_listen("1.2.3.4", 0, host, sizeof(host), &port), -1);
	assert_int_equal(conf_parse_listen("10.0.0.1", 445, host, 8, &port), -1);
	assert_int_equal(conf_parse_listen("10.0.0.1", 445, host, 9, &port), 0);
	assert_int_equal(conf_parse_listen(NULL, 445, host, sizeof(host), &port), -1);
}

static void test_default_and_add_share(void **state)
{
	struct fixture *f = *state;
	struct conf_errors errs = { 0 };
	struct porthos_config *c = conf_default(f->mem);

	assert_non_null(c);
	assert_int_equal(c->n_shares, 0);
	assert_int_equal(c->n_listen, 2);
	assert_int_equal(conf_add_share(c, "quick", f->a, &errs), 0);
	assert_int_equal(c->n_shares, 1);
	assert_string_equal(c->shares[0]->path, f->a);
	assert_true(c->shares[0]->read_only);
	assert_int_equal(c->shares[0]->line, 0);
	assert_int_equal(errs.n, 0);

	assert_int_equal(conf_add_share(c, "QUICK", f->b, &errs), -1);
	assert_int_equal(conf_add_share(c, "IPC$", f->b, &errs), -1);
	assert_int_equal(conf_add_share(c, "other", "relative", &errs), -1);
	assert_int_equal(conf_add_share(c, "other", f->file, &errs), -1);
	assert_int_equal(conf_add_share(c, "a/b", "/nonexistent/x", &errs), -1);
	assert_int_equal(errs.n, 6);   /* the last call reports both name and path */
	assert_int_equal(c->n_shares, 1);
	assert_int_equal(errs.v[0].line, 0);

	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	conf_print_errors(&errs, m);
	fclose(m);
	assert_non_null(strstr(buf, "command line: duplicate share name 'QUICK'"));
	free(buf);
	conf_errors_clear(&errs);
	talloc_free(c);
}

static void test_load_file(void **state)
{
	struct fixture *f = *state;
	struct conf_errors errs = { 0 };
	struct porthos_config *c;
	char *path = talloc_asprintf(f->mem, "%s/porthos.conf", f->dir);
	char *text = talloc_asprintf(f->mem, "[global]\nworkgroup = filewg\n[s]\npath = %s\n", f->a);

	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	assert_int_equal(conf_load_file(f->mem, path, &c, &errs), 0);
	assert_string_equal(c->workgroup, "FILEWG");

	/* Binary junk with NUL bytes: errors, no crash. */
	fp = fopen(path, "w");
	static const char junk[] = "[global]\nwork\0group = x\nnetbios name = ok\n\0\0\0\n\x01\x02[\n";
	fwrite(junk, 1, sizeof(junk) - 1, fp);
	fclose(fp);
	assert_int_equal(conf_load_file(f->mem, path, &c, &errs), -1);
	assert_null(c);
	assert_int_equal(errs.n, 3);
	assert_int_equal(errs.v[0].line, 2);
	assert_non_null(strstr(errs.v[0].message, "NUL byte"));
	assert_int_equal(errs.v[1].line, 4);
	assert_int_equal(errs.v[2].line, 5);
	conf_errors_clear(&errs);
	unlink(path);

	assert_int_equal(conf_load_file(f->mem, path, &c, &errs), -1);
	assert_int_equal(errs.n, 1);
	assert_int_equal(errs.v[0].line, 0);
	assert_non_null(strstr(errs.v[0].message, "cannot read"));
	conf_errors_clear(&errs);
	assert_int_equal(conf_load_file(f->mem, f->dir, &c, &errs), -1);
	conf_errors_clear(&errs);
}

static void test_huge_and_junk(void **state)
{
	struct fixture *f = *state;
	struct conf_errors errs = { 0 };
	struct porthos_config *c;

	/* One 4 MiB line: one error, and the quoted value is cut. */
	size_t n = 4u << 20;
	char *big = talloc_size(f->mem, n + 32);
	strcpy(big, "[global]\nworkgroup = ");
	size_t off = strlen(big);
	memset(big + off, 'W', n);
	big[off + n] = '\0';
	assert_int_equal(conf_load_string(f->mem, "big", big, &c, &errs), -1);
	assert_int_equal(errs.n, 1);
	assert_true(strlen(errs.v[0].message) < 300);
	conf_errors_clear(&errs);

	/* 200,000 continuation lines join in linear time. */
	size_t lines = 200000;
	char *cont = talloc_size(f->mem, lines * 3 + 64);
	strcpy(cont, "[global]\nserver string = ");
	off = strlen(cont);
	for (size_t i = 0; i < lines; i++) {
		memcpy(cont + off, "x\\\n", 3);
		off += 3;
	}
	strcpy(cont + off, "y\n");
	assert_int_equal(conf_load_string(f->mem, "cont", cont, &c, &errs), 0);
	assert_int_equal(strlen(c->server_string), lines + 1);

	/* Pseudo-random bytes (no NUL, as a C string): no crash, bounded errors. */
	size_t jn = 1u << 20;
	char *junk = talloc_size(f->mem, jn + 1);
	uint32_t x = 12345;
	for (size_t i = 0; i < jn; i++) {
		x = x * 1103515245u + 12345u;
		char ch = (char)(x >> 16);
		junk[i] = ch != 0 ? ch : '\n';
	}
	junk[jn] = '\0';
	assert_int_equal(conf_load_string(f->mem, "junk", junk, &c, &errs), -1);
	assert_true(errs.n > 0 && errs.n <= CONF_MAX_ERRORS);
	conf_errors_clear(&errs);

	/* Many errors: collection stops at the cap, with a last word. */
	char *many = talloc_strdup(f->mem, "[global]\n");
	for (int i = 0; i < 3000; i++)
		many = talloc_asprintf_append_buffer(many, "bad%d = 1\n", i);
	assert_int_equal(conf_load_string(f->mem, "many", many, &c, &errs), -1);
	assert_int_equal(errs.n, CONF_MAX_ERRORS);
	assert_string_equal(errs.v[CONF_MAX_ERRORS - 1].message, "too many errors, giving up");
	conf_errors_clear(&errs);

	/* Brackets, equals signs and quotes in odd places. */
	static const char *const odd[] = {
		"[", "]", "[[]]", "=", "==", "[global]\n=\n", "[global]\nlisten = [\n",
		"[global]\nlisten = [::1]]\n", "[global]\nvalid users = \"\"\n", "\\", "\\\n\\\n",
		"[global]\nvalid users = a\"b\n", "[ \t ]\n", "[global]]\n",
	};
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		c = NULL;
		int rc = conf_load_string(f->mem, "odd", odd[i], &c, &errs);
		assert_true(rc == 0 || rc == -1);
		assert_true((rc == 0) == (c != NULL));
		conf_errors_clear(&errs);
	}
}

/* The sample, with every ';' setting enabled, is valid and shows the defaults. */
static void test_sample(void **state)
{
	struct fixture *f = *state;
	const char *srcdir = getenv("srcdir");
	char *path = talloc_asprintf(f->mem, "%s/conf/porthos.conf.sample", srcdir ? srcdir : ".");
	FILE *fp = fopen(path, "r");
	if (fp == NULL)
		skip();
	char *text = talloc_strdup(f->mem, "");
	char line[1024];
	while (fgets(line, sizeof(line), fp) != NULL) {
		const char *l = line[0] == ';' ? line + 1 : line;
		if (strstr(l, "/srv/porthos/public") != NULL)
			text = talloc_asprintf_append_buffer(text, "path = %s\n", f->a);
		else
			text = talloc_strdup_append_buffer(text, l);
	}
	fclose(fp);

	struct porthos_config *c = load_ok(f, text);
	struct porthos_config *d = conf_default(f->mem);
	assert_string_equal(c->workgroup, d->workgroup);
	assert_string_equal(c->server_string, d->server_string);
	assert_int_equal(c->n_listen, d->n_listen);
	for (size_t i = 0; i < c->n_listen; i++)
		assert_string_equal(c->listen[i], d->listen[i]);
	assert_int_equal(c->default_port, d->default_port);
	assert_string_equal(c->passdb_path, d->passdb_path);
	assert_string_equal(c->state_dir, d->state_dir);
	assert_string_equal(c->server_guid_file, d->server_guid_file);
	assert_string_equal(c->log_level, d->log_level);
	assert_int_equal(c->log_syslog, d->log_syslog);
	assert_int_equal(c->max_pdu, d->max_pdu);
	assert_int_equal(c->idle_timeout_s, d->idle_timeout_s);
	assert_int_equal(c->auth_timeout_s, d->auth_timeout_s);
	assert_int_equal(c->signing_required, d->signing_required);
	assert_int_equal(c->min_protocol, d->min_protocol);
	assert_int_equal(c->max_protocol, d->max_protocol);
	assert_int_equal(c->n_shares, 1);
	assert_true(c->shares[0]->read_only);
	assert_false(c->shares[0]->guest_ok);
	assert_true(c->shares[0]->browseable);
	assert_false(c->shares[0]->encrypt_required);
	assert_false(c->shares[0]->continuous_availability);
	assert_int_equal(c->shares[0]->valid_users.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_full_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_unknown_param, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_kinds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_all_errors_collected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_continuation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_case_insensitive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_global_share_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_access_lists_and_limits, setup, teardown),
		cmocka_unit_test(test_parse_listen),
		cmocka_unit_test_setup_teardown(test_default_and_add_share, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_huge_and_junk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sample, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
