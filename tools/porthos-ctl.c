/*
 * porthos-ctl: the administration command line.
 *
 *   porthos-ctl [--passdb PATH] user add NAME [--uid N] [--gid N] [--password-stdin|--no-password]
 *   porthos-ctl [--passdb PATH] user del NAME
 *   porthos-ctl [--passdb PATH] user list
 *   porthos-ctl [--passdb PATH] user disable|enable NAME
 *
 * Exit status: 0 success, 1 failure, 2 usage error.
 *
 * Commands are rows of ctl_commands[]: a new group ("share", "session",
 * "cluster"...) adds its rows and handlers; dispatch and usage text
 * follow from the table.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <talloc.h>

#include "lib/auth/auth.h"
#include "lib/auth/passdb.h"
#include "lib/log.h"

enum {
	CTL_OK = 0,
	CTL_FAIL = 1,
	CTL_USAGE = 2,
};

#define CTL_NOBODY 65534u
#define CTL_PASSWORD_MAX 1024

/* Options every command may use. */
struct ctl_globals {
	const char *passdb;
};

struct ctl_command {
	const char *group;
	const char *name;
	const char *args; /* for the usage text */
	const char *help;
	/* argv[0] is the command name; argv ends with NULL. */
	int (*run)(const struct ctl_globals *g, int argc, char **argv);
};

static void ctl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void ctl_err(const char *fmt, ...)
{
	va_list ap;
	fputs("porthos-ctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static bool parse_id(const char *s, uint32_t *out)
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

/* Creates the passdb's directory (0700) if it does not exist yet. */
static int ensure_parent_dir(const char *path)
{
	char *dir = talloc_strdup(NULL, path);
	if (dir == NULL)
		return ENOMEM;
	char *slash = strrchr(dir, '/');
	int ret = 0;
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		struct stat st;
		if (stat(dir, &st) < 0) {
			if (errno != ENOENT || mkdir(dir, 0700) < 0)
				ret = errno;
		} else if (!S_ISDIR(st.st_mode)) {
			ret = ENOTDIR;
		}
	}
	talloc_free(dir);
	return ret;
}

/* One line from 'f' into buf, without its newline; false on EOF or overflow. */
static bool read_line(FILE *f, char *buf, size_t size)
{
	if (fgets(buf, (int)size, f) == NULL)
		return false;
	size_t n = strlen(buf);
	if (n == size - 1 && buf[n - 1] != '\n') {
		OPENSSL_cleanse(buf, size);
		return false; /* too long: refuse rather than truncate */
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	return true;
}

static bool prompt_noecho(const char *prompt, char *buf, size_t size)
{
	struct termios old, quiet;
	fputs(prompt, stderr);
	fflush(stderr);
	if (tcgetattr(STDIN_FILENO, &old) < 0)
		return false;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	quiet.c_lflag |= ECHONL;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) < 0)
		return false;
	bool ok = read_line(stdin, buf, size);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	return ok;
}

static int get_password(bool from_stdin, char *pw, size_t size)
{
	if (from_stdin) {
		if (!read_line(stdin, pw, size)) {
			ctl_err("no password on standard input (or longer than %d bytes)",
				CTL_PASSWORD_MAX - 1);
			return CTL_FAIL;
		}
		return CTL_OK;
	}
	if (!isatty(STDIN_FILENO)) {
		ctl_err("standard input is not a terminal: use --password-stdin");
		return CTL_USAGE;
	}
	char again[CTL_PASSWORD_MAX];
	int ret = CTL_OK;
	if (!prompt_noecho("New SMB password: ", pw, size) ||
	    !prompt_noecho("Retype new SMB password: ", again, sizeof(again))) {
		ctl_err("cannot read the password");
		ret = CTL_FAIL;
	} else if (strcmp(pw, again) != 0) {
		ctl_err("passwords do not match");
		ret = CTL_FAIL;
	}
	OPENSSL_cleanse(again, sizeof(again));
	return ret;
}

static int cmd_user_add(const struct ctl_globals *g, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "uid", required_argument, NULL, 'u' },
		{ "gid", required_argument, NULL, 'g' },
		{ "password-stdin", no_argument, NULL, 'p' },
		{ "no-password", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	uint32_t uid = CTL_NOBODY, gid = CTL_NOBODY;
	bool have_uid = false, have_gid = false, from_stdin = false, no_password = false;
	int c;
	optind = 0; /* full reset of GNU getopt for the sub-argv */
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'u':
			if (!parse_id(optarg, &uid)) {
				ctl_err("bad --uid '%s'", optarg);
				return CTL_USAGE;
			}
			have_uid = true;
			break;
		case 'g':
			if (!parse_id(optarg, &gid)) {
				ctl_err("bad --gid '%s'", optarg);
				return CTL_USAGE;
			}
			have_gid = true;
			break;
		case 'p':
			from_stdin = true;
			break;
		case 'n':
			no_password = true;
			break;
		default:
			return CTL_USAGE;
		}
	}
	if (argc - optind != 1) {
		ctl_err("user add takes exactly one NAME");
		return CTL_USAGE;
	}
	if (from_stdin && no_password) {
		ctl_err("--password-stdin and --no-password exclude each other");
		return CTL_USAGE;
	}
	const char *name = argv[optind];
	if (!passdb_name_valid(name)) {
		ctl_err("invalid user name '%s'", name);
		return CTL_USAGE;
	}
	if (!have_uid || !have_gid) {
		struct passwd *pw = getpwnam(name);
		if (!have_uid)
			uid = pw ? pw->pw_uid : CTL_NOBODY;
		if (!have_gid)
			gid = pw ? pw->pw_gid : CTL_NOBODY;
		if (pw == NULL)
			fprintf(stderr, "porthos-ctl: no local account '%s': mapping to uid %u gid %u\n",
				name, uid, gid);
	}

	if (!auth_global_init()) {
		ctl_err("cannot initialise OpenSSL MD4 (is the legacy provider installed?)");
		return CTL_FAIL;
	}
	char password[CTL_PASSWORD_MAX];
	if (!no_password) {
		int ret = get_password(from_stdin, password, sizeof(password));
		if (ret != CTL_OK)
			return ret;
	}
	int err = ensure_parent_dir(g->passdb);
	/* No password: no NT hash, so only Kerberos can log the user on. */
	if (err == 0)
		err = passdb_set_password(g->passdb, name, no_password ? NULL : password, uid, gid);
	OPENSSL_cleanse(password, sizeof(password));
	if (err != 0) {
		ctl_err("cannot set the password of '%s' in %s: %s", name, g->passdb,
			err == EINVAL ? "invalid password or malformed passdb" : strerror(err));
		return CTL_FAIL;
	}
	return CTL_OK;
}

static int one_name(int argc, char **argv, const char *what, const char **name)
{
	if (argc != 2 || argv[1][0] == '-') {
		ctl_err("user %s takes exactly one NAME", what);
		return CTL_USAGE;
	}
	*name = argv[1];
	return CTL_OK;
}

static int report(int err, const char *what, const char *name, const char *path)
{
	if (err == 0)
		return CTL_OK;
	if (err == ENOENT)
		ctl_err("no user '%s' in %s", name, path);
	else
		ctl_err("cannot %s '%s' in %s: %s", what, name, path, strerror(err));
	return CTL_FAIL;
}

static int cmd_user_del(const struct ctl_globals *g, int argc, char **argv)
{
	const char *name;
	int ret = one_name(argc, argv, "del", &name);
	if (ret != CTL_OK)
		return ret;
	return report(passdb_delete(g->passdb, name), "delete", name, g->passdb);
}

static int cmd_user_disable(const struct ctl_globals *g, int argc, char **argv)
{
	const char *name;
	int ret = one_name(argc, argv, argv[0], &name);
	if (ret != CTL_OK)
		return ret;
	bool disable = strcmp(argv[0], "disable") == 0;
	return report(passdb_set_disabled(g->passdb, name, disable), argv[0], name, g->passdb);
}

static int cmd_user_list(const struct ctl_globals *g, int argc, char **argv)
{
	if (argc != 1) {
		ctl_err("user list takes no arguments");
		return CTL_USAGE;
	}
	struct passdb *db;
	int err = passdb_load(NULL, g->passdb, &db);
	if (err != 0) {
		ctl_err("cannot read %s: %s", g->passdb,
			err == EINVAL ? "malformed file" : strerror(err));
		return CTL_FAIL;
	}
	printf("%-24s %10s %10s  %s\n", "NAME", "UID", "GID", "FLAGS");
	for (size_t i = 0; i < passdb_count(db); i++) {
		const struct passdb_user *u = passdb_user_at(db, i);
		const char *flags = u->disabled ? (u->has_nt_hash ? "disabled" : "disabled,no-password")
						: (u->has_nt_hash ? "-" : "no-password");
		printf("%-24s %10u %10u  %s\n", u->name, u->uid, u->gid, flags);
	}
	talloc_free(db);
	return CTL_OK;
}

static const struct ctl_command ctl_commands[] = {
	{ "user", "add", "NAME [--uid N] [--gid N] [--password-stdin|--no-password]",
	  "add a user or set its password (--no-password: Kerberos only, no NTLM)", cmd_user_add },
	{ "user", "del", "NAME", "delete a user", cmd_user_del },
	{ "user", "list", "", "list users", cmd_user_list },
	{ "user", "disable", "NAME", "refuse logons of a user", cmd_user_disable },
	{ "user", "enable", "NAME", "allow logons of a user again", cmd_user_disable },
};
#define N_COMMANDS (sizeof(ctl_commands) / sizeof(ctl_commands[0]))

static void usage(FILE *out)
{
	fprintf(out, "usage: porthos-ctl [--passdb PATH] GROUP COMMAND [ARGS]\n\n");
	for (size_t i = 0; i < N_COMMANDS; i++) {
		const struct ctl_command *c = &ctl_commands[i];
		fprintf(out, "  %s %s %s\n      %s\n", c->group, c->name, c->args, c->help);
	}
	fprintf(out, "\n  --passdb PATH   password database (default %s)\n", PASSDB_DEFAULT_PATH);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "passdb", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl_globals g = { .passdb = PASSDB_DEFAULT_PATH };
	int c;
	plog_setup("porthos-ctl", PLOG_WARN, false);
	/* '+': stop at the group name, the command parses its own options. */
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'P':
			g.passdb = optarg;
			break;
		case 'h':
			usage(stdout);
			return CTL_OK;
		default:
			usage(stderr);
			return CTL_USAGE;
		}
	}
	if (argc - optind < 2) {
		usage(stderr);
		return CTL_USAGE;
	}
	const char *group = argv[optind], *name = argv[optind + 1];
	for (size_t i = 0; i < N_COMMANDS; i++) {
		const struct ctl_command *cmd = &ctl_commands[i];
		if (strcmp(cmd->group, group) == 0 && strcmp(cmd->name, name) == 0) {
			return cmd->run(&g, argc - optind - 1, argv + optind + 1);
		}
	}
	ctl_err("unknown command '%s %s'", group, name);
	usage(stderr);
	return CTL_USAGE;
}
