#include "config.h"
#include "smbd/vfs_path.h"

#include <limits.h>
#include <string.h>
#include <strings.h>

/* The default data stream, MS-FSCC 2.1.5.1 / 5.1; the type is case-blind. */
static const char vfs_default_stream[] = "::$DATA";

/* MS-FSCC 2.1.5.2: characters that may never appear in a name. '\' cannot
 * reach here (it is the separator) and ':' is handled as the stream
 * delimiter before this is called. */
static bool vfs_path_char_invalid(unsigned char c)
{
	if (c < 0x20)
		return true;
	switch (c) {
	case '"':
	case '*':
	case '/':
	case ':':
	case '<':
	case '>':
	case '?':
	case '|':
		return true;
	}
	return false;
}

/*
 * A previous-version token, "@GMT-YYYY.MM.DD-HH.MM.SS", as a whole
 * component: what Samba's shadow copies and SMB1 clients put in a path to
 * name a snapshot (SMB2 Windows clients send the TWrp context instead).
 * "@GMT" in any case: a later snapshot layer must not find that names it
 * would read as tokens were created as plain ones meanwhile.
 */
static bool vfs_path_is_gmt_token(const char *comp, size_t n)
{
	static const char form[] = "@GMT-9999.99.99-99.99.99";

	if (n != sizeof(form) - 1 || strncasecmp(comp, "@GMT-", 5) != 0)
		return false;
	for (size_t i = 5; i < n; i++) {
		bool digit = comp[i] >= '0' && comp[i] <= '9';

		if (form[i] == '9' ? !digit : comp[i] != form[i])
			return false;
	}
	return true;
}

/*
 * Check one component of len bytes at comp. For the last one a trailing
 * "::$DATA" is cut off in place (*len shrinks).
 */
static NTSTATUS vfs_path_check_component(char *comp, size_t *len, bool last)
{
	size_t n = *len;
	char *colon;

	if (n == 0)
		return NT_STATUS_OBJECT_NAME_INVALID;

	colon = memchr(comp, ':', n);
	if (colon != NULL) {
		size_t base = (size_t)(colon - comp);
		size_t slen = sizeof(vfs_default_stream) - 1;

		/* Named streams are not supported yet; only "name::$DATA". */
		if (!last || base == 0 || n - base != slen ||
		    strncasecmp(colon, vfs_default_stream, slen) != 0)
			return NT_STATUS_OBJECT_NAME_INVALID;
		*colon = '\0';
		n = base;
		*len = n;
	}

	if (n == 2 && comp[0] == '.' && comp[1] == '.')
		return NT_STATUS_OBJECT_PATH_SYNTAX_BAD;
	if (n == 1 && comp[0] == '.')
		return last ? NT_STATUS_OBJECT_NAME_INVALID : NT_STATUS_OBJECT_PATH_NOT_FOUND;
	if (n > VFS_PATH_COMPONENT_MAX)
		return NT_STATUS_OBJECT_NAME_INVALID;
	for (size_t i = 0; i < n; i++) {
		if (vfs_path_char_invalid((unsigned char)comp[i]))
			return NT_STATUS_OBJECT_NAME_INVALID;
	}
	return NT_STATUS_OK;
}

NTSTATUS vfs_path_from_smb(TALLOC_CTX *mem, const char *smb_path, char **rel_out)
{
	NTSTATUS status;
	size_t len;
	char *rel, *comp;
	bool gmt = false;

	*rel_out = NULL;
	if (smb_path == NULL)
		return NT_STATUS_INVALID_PARAMETER;

	/* MS-SMB2 3.3.5.9: a CREATE name never starts with a separator. */
	if (smb_path[0] == '\\')
		return NT_STATUS_INVALID_PARAMETER;

	len = strnlen(smb_path, PATH_MAX);
	if (len >= PATH_MAX)
		return NT_STATUS_NAME_TOO_LONG;

	if (len == 0) {
		rel = talloc_strdup(mem, ".");
		if (rel == NULL)
			return NT_STATUS_NO_MEMORY;
		*rel_out = rel;
		return NT_STATUS_OK;
	}

	rel = talloc_strndup(mem, smb_path, len);
	if (rel == NULL)
		return NT_STATUS_NO_MEMORY;

	/* "dir\\" names "dir"; only one separator may trail. */
	if (rel[len - 1] == '\\')
		rel[--len] = '\0';

	comp = rel;
	for (;;) {
		char *sep = strchr(comp, '\\');
		bool last = sep == NULL;
		size_t clen = last ? strlen(comp) : (size_t)(sep - comp);

		status = vfs_path_check_component(comp, &clen, last);
		if (!NT_STATUS_IS_OK(status)) {
			talloc_free(rel);
			return status;
		}
		gmt |= vfs_path_is_gmt_token(comp, clen);
		if (last)
			break;
		*sep = '/';
		comp = sep + 1;
	}
	/* After the syntax checks, which still win: a snapshot of a bad path
	 * is a bad path. No snapshot is served yet, so none is found, as for
	 * the TWrp context (smb2_create.c). */
	if (gmt) {
		talloc_free(rel);
		return NT_STATUS_OBJECT_NAME_NOT_FOUND;
	}

	*rel_out = rel;
	return NT_STATUS_OK;
}

static bool vfs_path_leaf_ok(const char *leaf)
{
	return leaf[0] != '\0' && strcmp(leaf, ".") != 0 && strcmp(leaf, "..") != 0;
}

NTSTATUS vfs_path_split_buf(char *buf, const char **parent_out, const char **leaf_out)
{
	char *slash;

	*parent_out = NULL;
	*leaf_out = NULL;
	if (buf == NULL || buf[0] == '\0')
		return NT_STATUS_OBJECT_NAME_INVALID;

	slash = strrchr(buf, '/');
	if (slash == NULL) {
		if (!vfs_path_leaf_ok(buf))
			return NT_STATUS_OBJECT_NAME_INVALID;
		*parent_out = ".";
		*leaf_out = buf;
		return NT_STATUS_OK;
	}
	if (!vfs_path_leaf_ok(slash + 1))
		return NT_STATUS_OBJECT_NAME_INVALID;
	*leaf_out = slash + 1;
	/*
	 * "/x" is absolute: hand the kernel "/" so that the RESOLVE_BENEATH
	 * walk refuses it, rather than quietly turning it into "x".
	 */
	if (slash == buf) {
		*parent_out = "/";
	} else {
		*slash = '\0';
		*parent_out = buf;
	}
	return NT_STATUS_OK;
}

NTSTATUS vfs_path_split(TALLOC_CTX *mem, const char *rel, char **parent_out, char **leaf_out)
{
	NTSTATUS status;
	const char *parent, *leaf;
	char *buf, *p, *l;

	*parent_out = NULL;
	*leaf_out = NULL;
	if (rel == NULL)
		return NT_STATUS_INVALID_PARAMETER;

	buf = talloc_strdup(mem, rel);
	if (buf == NULL)
		return NT_STATUS_NO_MEMORY;
	status = vfs_path_split_buf(buf, &parent, &leaf);
	if (!NT_STATUS_IS_OK(status)) {
		talloc_free(buf);
		return status;
	}
	p = talloc_strdup(mem, parent);
	l = talloc_strdup(mem, leaf);
	talloc_free(buf);
	if (p == NULL || l == NULL) {
		talloc_free(p);
		talloc_free(l);
		return NT_STATUS_NO_MEMORY;
	}
	*parent_out = p;
	*leaf_out = l;
	return NT_STATUS_OK;
}
