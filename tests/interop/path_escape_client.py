#!/usr/bin/python3
"""Path confinement through the SMB protocol: raw requests built with
impacket's SMB3 layer (its high-level calls normalise paths, which would
hide exactly what we want to send) that try every known way out of a share.

Run by path_escape.sh, which lays out the fixture on disk first:

  SRV_DIR/outside/            secret (3333 bytes), hardlinked, sub/deep.txt
  SRV_DIR/share/  (share "test")
      inside.txt, mv_src.txt, realdir/file_in_real.txt, sub/
      link_abs   -> SRV_DIR/outside          (absolute, escapes)
      link_rel   -> ../outside               (relative, climbs out)
      link_etc   -> /etc
      link_proc  -> /proc/self/root          (a magic link's path)
      link_secret -> ../outside/secret       (file symlink, escapes)
      link_abs_file -> SRV_DIR/outside/secret
      link_file_in -> inside.txt             (must work)
      dir_link_in -> realdir                 (must work)
      sub/up_link -> ../realdir              (must work: climbs, stays in)
      link_del   -> ../outside               (deleted as a link at the end)
      hl_admin   hard link to SRV_DIR/outside/hardlinked (admin's choice)

Every attempt to leave must fail; the status is checked against what
Windows (or, where Windows would not get that far, Samba) returns, and the
table of all statuses is printed. The shell script then checks on disk
that nothing outside the share changed.

argv: host port share user password srv_dir
"""
import os
import struct
import sys

from impacket import nt_errors
from impacket import smb3structs as s3

from smb2raw import Session, request

host, port, share, user, password, srv_dir = sys.argv[1:7]
share_dir = srv_dir + "/share"
outside_dir = srv_dir + "/outside"

OK = 0
STOPPED_ON_SYMLINK = 0x8000002D
INVALID_PARAMETER = 0xC000000D
ACCESS_DENIED = 0xC0000022
OBJECT_NAME_INVALID = 0xC0000033
OBJECT_NAME_NOT_FOUND = 0xC0000034
OBJECT_NAME_COLLISION = 0xC0000035
OBJECT_PATH_INVALID = 0xC0000039
OBJECT_PATH_NOT_FOUND = 0xC000003A
OBJECT_PATH_SYNTAX_BAD = 0xC000003B
FILE_IS_A_DIRECTORY = 0xC00000BA
BAD_NETWORK_NAME = 0xC00000CC
NOT_SAME_DEVICE = 0xC00000D4
NOT_A_DIRECTORY = 0xC0000103
NAME_TOO_LONG = 0xC0000106

# What a walk through a symlink that leaves the share may give. Porthos:
# ACCESS_DENIED (openat2 EXDEV), OBJECT_PATH_NOT_FOUND (ELOOP, magic
# links); Samba with "wide links = no" gives ACCESS_DENIED or
# OBJECT_PATH_NOT_FOUND; Windows would answer STOPPED_ON_SYMLINK and let
# the client resolve the target on its own side, which is no escape either.
ESCAPE = {ACCESS_DENIED, OBJECT_PATH_NOT_FOUND, STOPPED_ON_SYMLINK}
# ".." in a name: Windows resolves it lexically and answers
# OBJECT_PATH_SYNTAX_BAD when it climbs above the share root (Samba's
# raw.chkpath, run against Windows, expects this); Porthos refuses every "..".
DOTDOT = {OBJECT_PATH_SYNTAX_BAD}
# A leading separator: MS-SMB2 3.3.5.9 (Windows) gives INVALID_PARAMETER.
LEADING_SEP = {INVALID_PARAMETER}
# A character NTFS never allows in a name ('/', ':', NUL, '?'...).
BAD_NAME = {OBJECT_NAME_INVALID}
BAD_TREE = {BAD_NETWORK_NAME}

GENERIC_READ = 0x80000000
GENERIC_WRITE = 0x40000000
FILE_READ_DATA = 0x1
FILE_WRITE_DATA = 0x2
FILE_LIST_DIRECTORY = 0x1
FILE_ADD_FILE = 0x2
FILE_READ_ATTRIBUTES = 0x80
DELETE = 0x10000
SYNCHRONIZE = 0x100000
FILE_SUPERSEDE, FILE_OPEN, FILE_CREATE, FILE_OPEN_IF, FILE_OVERWRITE, FILE_OVERWRITE_IF = range(6)
FILE_DIRECTORY_FILE = 0x1
FILE_NON_DIRECTORY_FILE = 0x40
FILE_DELETE_ON_CLOSE = 0x1000
FILE_OPEN_REPARSE_POINT = 0x200000
SHARE_ALL = 7
FILE_ID_BOTH_DIR_INFO = 0x25
FILE_RENAME_INFO = 10
FILE_LINK_INFO = 11
FILE_DISPOSITION_INFO = 13

failures = []
table = []


def status_name(st):
    if st == OK:
        return "SUCCESS"
    return nt_errors.ERROR_MESSAGES.get(st, ("0x%08x" % st,))[0]


def u16(s):
    """UTF-16LE of s; surrogatepass lets a test send lone surrogates."""
    return s.encode("utf-16le", "surrogatepass")


def show(b):
    """A printable form of a name's UTF-16LE bytes, for the table."""
    s = b.decode("utf-16le", "surrogatepass")
    out = s.encode("unicode_escape").decode("ascii")
    return out if len(out) <= 70 else "%s...(%d chars)" % (out[:40], len(s))


def expect(what, st, allowed, on_success="ESCAPE?"):
    table.append((what, status_name(st)))
    if st == OK:
        failures.append("%s %s: succeeded (expected %s)" % (on_success, what, "/".join(status_name(a) for a in allowed)))
    elif st not in allowed:
        failures.append("%s: %s, expected %s" % (what, status_name(st), "/".join(status_name(a) for a in allowed)))


def check(cond, what):
    table.append((what, "ok" if cond else "WRONG"))
    if not cond:
        failures.append(what)


class Client(Session):
    """One session on SMB 3.0 with signing, plus raw request helpers that
    return the status instead of raising."""

    def __init__(self):
        super().__init__(host, port, user, password, share, s3.SMB2_DIALECT_30)

    def xchg(self, command, data, tid=None, credit_charge=None, flags=0):
        pkt = request(self.smb, self.tid if tid is None else tid, command, data, charge=credit_charge, flags=flags)
        ans = self.smb.recvSMB(self.smb.sendSMB(pkt))
        return ans["Status"], ans

    def create(self, name, access=GENERIC_READ, disposition=FILE_OPEN, options=0, raw=None, flags=0, ctx=b""):
        """CREATE with the name sent exactly as given (str, or raw bytes),
        and optionally create contexts (ctx: their bytes, already chained)."""
        nb = raw if raw is not None else u16(name)
        req = s3.SMB2Create()
        req["SecurityFlags"] = 0
        req["RequestedOplockLevel"] = s3.SMB2_OPLOCK_LEVEL_NONE
        req["ImpersonationLevel"] = s3.SMB2_IL_IMPERSONATION
        req["DesiredAccess"] = access
        req["FileAttributes"] = 0
        req["ShareAccess"] = SHARE_ALL
        req["CreateDisposition"] = disposition
        req["CreateOptions"] = options
        req["NameLength"] = len(nb)
        req["Buffer"] = nb if nb else b"\x00"
        req["CreateContextsOffset"] = 0
        req["CreateContextsLength"] = 0
        if ctx:
            pad = b"\x00" * ((-len(nb)) % 8)
            req["Buffer"] = nb + pad + ctx
            req["CreateContextsOffset"] = 64 + 56 + len(nb) + len(pad)
            req["CreateContextsLength"] = len(ctx)
        # A frame over 64 KiB needs a credit charge of 2 (MS-SMB2 3.1.5.2).
        st, ans = self.xchg(s3.SMB2_CREATE, req, credit_charge=1 + (len(nb) + 120) // 65536, flags=flags)
        if st != OK:
            return st, None
        return st, s3.SMB2Create_Response(ans["Data"])["FileID"].getData()

    def close(self, fid):
        req = s3.SMB2Close()
        req["Flags"] = 0
        req["FileID"] = fid
        return self.xchg(s3.SMB2_CLOSE, req)[0]

    def read(self, fid, length=65536):
        req = s3.SMB2Read()
        req["Padding"] = 0x50
        req["FileID"] = fid
        req["Length"] = length
        req["Offset"] = 0
        st, ans = self.xchg(s3.SMB2_READ, req)
        if st != OK:
            return st, b""
        return st, s3.SMB2Read_Response(ans["Data"])["Buffer"]

    def set_info(self, fid, info_class, blob):
        req = s3.SMB2SetInfo()
        req["InfoType"] = s3.SMB2_0_INFO_FILE
        req["FileInfoClass"] = info_class
        req["BufferLength"] = len(blob)
        req["AdditionalInformation"] = 0
        req["FileID"] = fid
        req["Buffer"] = blob
        return self.xchg(s3.SMB2_SET_INFO, req)[0]

    def rename(self, fid, target, link=False, replace=False, raw=None):
        """FileRenameInformation / FileLinkInformation (MS-FSCC 2.4.37, 2.4.27)
        with the SMB2 layout: 8-byte RootDirectory."""
        nb = raw if raw is not None else u16(target)
        blob = struct.pack("<B7xQI", 1 if replace else 0, 0, len(nb)) + nb
        return self.set_info(fid, FILE_LINK_INFO if link else FILE_RENAME_INFO, blob)

    def list_dir(self, fid, pattern="*", raw=None):
        """All entries (name -> (end_of_file, attributes, file_id)) or a status."""
        nb = raw if raw is not None else u16(pattern)
        entries = {}
        flags = s3.SMB2_RESTART_SCANS
        while True:
            req = s3.SMB2QueryDirectory()
            req["FileInformationClass"] = FILE_ID_BOTH_DIR_INFO
            req["Flags"] = flags
            req["FileIndex"] = 0
            req["FileID"] = fid
            req["OutputBufferLength"] = 65536
            req["FileNameLength"] = len(nb)
            req["Buffer"] = nb
            st, ans = self.xchg(s3.SMB2_QUERY_DIRECTORY, req)
            if st == 0x80000006 and not flags:  # STATUS_NO_MORE_FILES
                return OK, entries
            if st != OK:
                return st, entries
            buf = s3.SMB2QueryDirectory_Response(ans["Data"])["Buffer"]
            off = 0
            while True:
                nxt, = struct.unpack_from("<I", buf, off)
                eof, = struct.unpack_from("<Q", buf, off + 40)
                attrs, nlen = struct.unpack_from("<II", buf, off + 56)
                file_id, = struct.unpack_from("<Q", buf, off + 96)
                name = buf[off + 104:off + 104 + nlen].decode("utf-16le")
                entries[name] = (eof, attrs, file_id)
                if nxt == 0:
                    break
                off += nxt
            flags = 0

    def ioctl(self, fid, ctl_code, blob):
        return self.ioctl_out(fid, ctl_code, blob)[0]

    def ioctl_out(self, fid, ctl_code, blob):
        """An FSCTL; (status, output bytes)."""
        req = s3.SMB2Ioctl()
        req["FileID"] = fid
        req["CtlCode"] = ctl_code
        req["MaxInputResponse"] = 0
        req["MaxOutputResponse"] = 4096
        req["InputCount"] = len(blob)
        req["Buffer"] = blob if blob else b"\x00"
        req["OutputOffset"] = 0
        req["Flags"] = 1  # SMB2_0_IOCTL_IS_FSCTL
        st, ans = self.xchg(s3.SMB2_IOCTL, req)
        if st != OK:
            return st, b""
        return st, s3.SMB2Ioctl_Response(ans["Data"])["Buffer"]

    def query_info(self, fid, info_class):
        req = s3.SMB2QueryInfo()
        req["FileID"] = fid
        req["InfoType"] = s3.SMB2_0_INFO_FILE
        req["FileInfoClass"] = info_class
        req["OutputBufferLength"] = 65535
        req["AdditionalInformation"] = 0
        req["InputBufferOffset"] = 0
        req["Buffer"] = b"\x00"
        req["Flags"] = 0
        st, ans = self.xchg(s3.SMB2_QUERY_INFO, req)
        if st != OK:
            return st, b""
        return st, s3.SMB2QueryInfo_Response(ans["Data"])["Buffer"]

    def tree_connect(self, raw_path):
        req = s3.SMB2TreeConnect()
        req["Buffer"] = raw_path
        req["PathLength"] = len(raw_path)
        st, ans = self.xchg(s3.SMB2_TREE_CONNECT, req, tid=0)
        return st, ans["TreeID"]

    def tree_disconnect(self, tid):
        self.xchg(s3.SMB2_TREE_DISCONNECT, s3.SMB2TreeDisconnect(), tid=tid)


def read_file(c, name):
    st, fid = c.create(name, GENERIC_READ)
    if st != OK:
        return st, b""
    st, data = c.read(fid)
    c.close(fid)
    return st, data


def on_disk(path):
    with open(path, "rb") as f:
        return f.read()


c = Client()
SECRET = on_disk(outside_dir + "/secret")
INSIDE = on_disk(share_dir + "/inside.txt")
REAL = on_disk(share_dir + "/realdir/file_in_real.txt")
secret_st = os.stat(outside_dir + "/secret")
srv_dir_st = os.stat(srv_dir)
share_st = os.stat(share_dir)

# ---------------------------------------------------------------- positive
# In-share symlinks must work, or the refusals below prove nothing.
st, data = read_file(c, "inside.txt")
check(st == OK and data == INSIDE, "control: read inside.txt")
st, data = read_file(c, "link_file_in")
check(st == OK and data == INSIDE, "in-share file symlink link_file_in reads inside.txt (%s)" % status_name(st))
st, data = read_file(c, "dir_link_in\\file_in_real.txt")
check(st == OK and data == REAL, "in-share dir symlink dir_link_in\\file_in_real.txt (%s)" % status_name(st))
st, data = read_file(c, "sub\\up_link\\file_in_real.txt")
check(st == OK and data == REAL, "in-share climbing symlink sub\\up_link\\file_in_real.txt (%s)" % status_name(st))
st, fid = c.create("dir_link_in", FILE_LIST_DIRECTORY | FILE_READ_ATTRIBUTES, options=FILE_DIRECTORY_FILE)
if st == OK:
    st, ents = c.list_dir(fid)
    c.close(fid)
    check(st == OK and "file_in_real.txt" in ents, "QUERY_DIRECTORY of dir_link_in lists realdir (%s)" % status_name(st))
else:
    check(False, "open dir_link_in as a directory: %s" % status_name(st))
st, fid = c.create("dir_link_in\\pesc_via_link.txt", GENERIC_WRITE | DELETE, FILE_CREATE)
check(st == OK and os.path.exists(share_dir + "/realdir/pesc_via_link.txt"),
      "create through dir_link_in lands in realdir (%s)" % status_name(st))
if st == OK:
    check(c.set_info(fid, FILE_DISPOSITION_INFO, b"\x01") == OK, "delete pesc_via_link.txt")
    c.close(fid)
    check(not os.path.exists(share_dir + "/realdir/pesc_via_link.txt"), "pesc_via_link.txt deleted")

# ------------------------------------------------------- names with tricks
for name, allowed in [
    ("..\\outside\\secret", DOTDOT),
    ("..", DOTDOT),
    ("..\\", DOTDOT),
    ("realdir\\..\\..\\outside\\secret", DOTDOT),
    ("realdir\\..\\inside.txt", DOTDOT),  # stays inside; Porthos refuses every ".." (documented)
    ("sub\\..\\..\\..\\..\\..\\..\\..\\..\\etc\\passwd", DOTDOT),
    ("\\..\\secret", LEADING_SEP),
    ("\\..\\outside\\secret", LEADING_SEP),
    ("\\inside.txt", LEADING_SEP),
    ("\\\\?\\C:\\etc", LEADING_SEP),
    ("\\\\127.0.0.1\\test\\..\\outside\\secret", LEADING_SEP),
    ("\\??\\C:\\etc\\passwd", LEADING_SEP),
    (".", BAD_NAME),
    ("realdir\\.\\file_in_real.txt", {OBJECT_PATH_NOT_FOUND, OBJECT_NAME_INVALID}),
    ("../outside/secret", BAD_NAME),
    ("..\\outside/secret", DOTDOT),
    ("realdir/../../outside/secret", BAD_NAME),
    ("/etc/passwd", BAD_NAME),
    ("link_rel/secret", BAD_NAME),
    ("C:\\etc\\passwd", BAD_NAME),
    ("C:..\\outside\\secret", BAD_NAME),
    ("inside.txt:..\\..\\outside\\secret", BAD_NAME),
    ("inside.txt::$DATA\\..\\..\\outside", BAD_NAME),
    ("..::$DATA", DOTDOT),
    ("outside", {OBJECT_NAME_NOT_FOUND}),  # no such name in the share
]:
    st, fid = c.create(name, GENERIC_READ)
    if fid:
        c.close(fid)
    expect("CREATE open %r" % name, st, allowed)
    st, fid = c.create(name, GENERIC_READ | GENERIC_WRITE, FILE_OPEN_IF)
    if fid:
        c.close(fid)
    if name == "outside":  # creating "outside" in the share is legitimate
        check(st == OK and os.path.isfile(share_dir + "/outside"), "CREATE 'outside' makes it inside the share")
        os.unlink(share_dir + "/outside")
        continue
    expect("CREATE open_if %r" % name, st, allowed)

# Embedded NUL: NTFS never allows U+0000 in a name, and a server that cut
# the name at the NUL would open or create a different file than asked.
for name in ["inside.txt\0..\\..\\outside\\secret", "pesc_nul\0tail", "link_rel\0", "..\0"]:
    st, fid = c.create(None, GENERIC_READ | GENERIC_WRITE, FILE_OPEN_IF, raw=u16(name))
    if fid:
        c.close(fid)
    expect("CREATE open_if %s" % show(u16(name)), st, BAD_NAME, "NAME CUT AT NUL:")
check(not os.path.exists(share_dir + "/pesc_nul"), "no file 'pesc_nul' created by a name cut at its NUL")
if os.path.exists(share_dir + "/pesc_nul"):
    os.unlink(share_dir + "/pesc_nul")
# Lone surrogates cannot become UTF-8 without changing the name.
for name in ["pesc_\ud800x", "pesc_\udc00", "pesc_x\ud800", "..\\\ud800", "\udfff\\..\\..\\outside"]:
    st, fid = c.create(None, GENERIC_READ | GENERIC_WRITE, FILE_OPEN_IF, raw=u16(name))
    if fid:
        c.close(fid)
    expect("CREATE open_if %s" % show(u16(name)), st, BAD_NAME)
# An odd NameLength cannot be UTF-16 (MS-SMB2 3.3.5.9: INVALID_PARAMETER).
st, fid = c.create(None, GENERIC_READ, FILE_OPEN, raw=b"..\x00")
if fid:
    c.close(fid)
expect("CREATE odd-length name '..\\x00'", st, {INVALID_PARAMETER})

# Long names: a path over PATH_MAX (4096) and components over NAME_MAX.
# A 5000-char path of missing directories is OBJECT_PATH_NOT_FOUND on
# Windows (its limit is 32767); refusing it as too long is fine too.
LONG = {NAME_TOO_LONG, OBJECT_NAME_INVALID, OBJECT_PATH_NOT_FOUND}
for name in [
    "a\\" * 2500 + "x",
    "realdir\\" * 600 + "..\\" * 700 + "outside\\secret",
    "x" * 5000,
    "dir_link_in\\" * 400 + "file_in_real.txt",
    "y" * 32000,
    "..\\" * 1400 + "etc\\passwd",
]:
    st, fid = c.create(name, GENERIC_READ | GENERIC_WRITE, FILE_OPEN_IF)
    if fid:
        c.close(fid)
    expect("CREATE open_if %s" % show(u16(name)), st, LONG | DOTDOT)
for n in (256, 300, 1000):
    st, fid = c.create("c" * n, GENERIC_READ | GENERIC_WRITE, FILE_OPEN_IF)
    if fid:
        c.close(fid)
    expect("CREATE open_if component of %d chars" % n, st, BAD_NAME)
st, fid = c.create("c" * 255, GENERIC_READ | GENERIC_WRITE | DELETE, FILE_CREATE, FILE_DELETE_ON_CLOSE)
check(st == OK, "control: a 255-char component is allowed (%s)" % status_name(st))
if fid:
    c.close(fid)


# Names that only look like "..": trailing spaces or dots, full-width or
# one-dot-leader dots, a DFS-style or @GMT prefix. A server that trimmed or
# folded them after its ".." check would climb out; on Linux they are
# ordinary names that do not exist here.
for name, allowed in [
    (".. \\outside\\secret", {OBJECT_PATH_NOT_FOUND, OBJECT_NAME_INVALID}),
    ("..  \\outside\\secret", {OBJECT_PATH_NOT_FOUND, OBJECT_NAME_INVALID}),
    ("...\\outside\\secret", {OBJECT_PATH_NOT_FOUND, OBJECT_NAME_INVALID}),
    (". .\\outside\\secret", {OBJECT_PATH_NOT_FOUND, OBJECT_NAME_INVALID}),
    ("\uff0e\uff0e\\outside\\secret", {OBJECT_PATH_NOT_FOUND, OBJECT_NAME_INVALID}),
    ("\u2025\\outside\\secret", {OBJECT_PATH_NOT_FOUND, OBJECT_NAME_INVALID}),
    ("..\u200b\\outside\\secret", {OBJECT_PATH_NOT_FOUND, OBJECT_NAME_INVALID}),
    ("..\t\\outside\\secret", BAD_NAME),
    ("@GMT-2024.01.01-00.00.00\\..\\..\\outside\\secret", DOTDOT),
]:
    st, fid = c.create(name, GENERIC_READ)
    if fid:
        c.close(fid)
    expect("CREATE open %s" % show(u16(name)), st, allowed)
# With SMB2_FLAGS_DFS_OPERATIONS the name may carry "server\share\";
# "test" is no DFS share, and no form of it may climb out.
for name in ["127.0.0.1\\test\\..\\outside\\secret", "127.0.0.1\\test\\link_rel\\secret",
             "\\127.0.0.1\\test\\..\\outside\\secret"]:
    st, fid = c.create(name, GENERIC_READ, flags=s3.SMB2_FLAGS_DFS_OPERATIONS)
    if fid:
        c.close(fid)
    expect("CREATE (DFS flag) open %s" % show(u16(name)), st,
           ESCAPE | DOTDOT | LEADING_SEP | {OBJECT_NAME_NOT_FOUND, OBJECT_PATH_NOT_FOUND})

# FILE_OPEN_BY_FILE_ID with the inode number of a file outside the share
# (and of /etc/passwd): the classic way around path checks. Samba answers
# NOT_SUPPORTED; a server that supports it must still confine the result.
BY_ID = {0xC00000BB, INVALID_PARAMETER, OBJECT_NAME_INVALID, OBJECT_NAME_NOT_FOUND, OBJECT_PATH_NOT_FOUND,
         ACCESS_DENIED}
for label, ino in [("outside/secret", secret_st.st_ino), ("/etc/passwd", os.stat("/etc/passwd").st_ino),
                   ("outside/", os.stat(outside_dir).st_ino)]:
    st, fid = c.create(None, GENERIC_READ, FILE_OPEN, 0x2000, raw=struct.pack("<Q", ino))
    if fid:
        st2, data = c.read(fid)
        c.close(fid)
        failures.append("ESCAPE: FILE_OPEN_BY_FILE_ID %s opened; read %s %r" % (label, status_name(st2), data[:40]))
    expect("CREATE FILE_OPEN_BY_FILE_ID inode of %s" % label, st, BY_ID)

# A client cannot make its own symlink or junction (FSCTL_SET_REPARSE_POINT)
# to leave the share.
def reparse_symlink(target, relative):
    t = u16(target)
    body = struct.pack("<HHHHI", 0, len(t), len(t), len(t), 1 if relative else 0) + t + t
    return struct.pack("<IHH", 0xA000000C, len(body), 0) + body


def reparse_mount_point(target):
    t = u16(target) + b"\0\0"
    body = struct.pack("<HHHH", 0, len(t) - 2, len(t), 0) + t + b"\0\0"
    return struct.pack("<IHH", 0xA0000003, len(body), 0) + body


for name, blob in [("pesc_rp_rel", reparse_symlink("..\\outside", True)),
                   ("pesc_rp_abs", reparse_symlink("\\??\\C:\\etc", False)),
                   ("pesc_rp_mnt", reparse_mount_point("\\??\\" + outside_dir.replace("/", "\\")))]:
    st, fid = c.create(name, GENERIC_READ | GENERIC_WRITE | DELETE, FILE_CREATE, FILE_DIRECTORY_FILE)
    check(st == OK, "mkdir %s (%s)" % (name, status_name(st)))
    if fid is None:
        continue
    st = c.ioctl(fid, 0x000900A4, blob)  # FSCTL_SET_REPARSE_POINT
    expect("FSCTL_SET_REPARSE_POINT on %s" % name, st,
           {0xC0000010, 0xC00000BB, ACCESS_DENIED, INVALID_PARAMETER, 0xC0000275})
    check(not os.path.islink(share_dir + "/" + name), "%s is not a symlink on disk" % name)
    c.set_info(fid, FILE_DISPOSITION_INFO, b"\x01")
    c.close(fid)
    st, data = read_file(c, name + "\\secret")
    if st == OK:
        failures.append("ESCAPE: %s\\secret read %r" % (name, data[:40]))
    if os.path.isdir(share_dir + "/" + name):
        os.rmdir(share_dir + "/" + name)

# What the server says about names never shows where the share lives.
for name in ("", "dir_link_in\\file_in_real.txt", "link_file_in"):
    st, fid = c.create(name, GENERIC_READ, options=FILE_DIRECTORY_FILE if name == "" else 0)
    if fid is None:
        check(False, "open %r for QUERY_INFO (%s)" % (name, status_name(st)))
        continue
    for cls in (9, 18, 48):  # FileName, FileAll, FileNormalizedName
        st, buf = c.query_info(fid, cls)
        leaked = [w for w in (srv_dir, share_dir, "porthos-test", "/tmp", "outside") if u16(w) in buf or w.encode() in buf]
        check(not leaked, "QUERY_INFO class %d of %r reveals no server path (%s%s)" % (cls, name, status_name(st),
                                                                                     ", leaks %s" % leaked if leaked else ""))
    c.close(fid)

# ------------------------------------------------------ escaping symlinks
ESC_DIRS = ["link_abs", "link_rel", "link_etc", "link_proc"]
# Inside each, a name that exists there (to prove a read) and a marker name
# that must never appear anywhere (to prove no write). Through link_etc and
# link_proc only marker names are ever created or deleted: the server runs
# as root, and an escape must not be allowed to harm the machine.
EXISTING = {
    "link_abs": "secret",
    "link_rel": "secret",
    "link_etc": "hostname",
    "link_proc": outside_dir.lstrip("/").replace("/", "\\") + "\\secret",
}
for d in ESC_DIRS:
    ex = EXISTING[d]
    for name in (d, d + "\\"):
        st, fid = c.create(name, FILE_LIST_DIRECTORY | FILE_READ_ATTRIBUTES, options=FILE_DIRECTORY_FILE)
        if fid:
            st2, ents = c.list_dir(fid)
            c.close(fid)
            failures.append("ESCAPE: %s opened as a directory; listing %s: %s" % (name, status_name(st2), sorted(ents)[:10]))
        expect("CREATE open dir %r" % name, st, ESCAPE)
    st, data = read_file(c, d + "\\" + ex)
    if st == OK:
        failures.append("ESCAPE: read %s\\%s gave %r" % (d, ex, data[:40]))
    expect("CREATE+READ %s\\%s" % (d, ex), st, ESCAPE)
    st, fid = c.create(d + "\\pesc_new.txt", GENERIC_WRITE, FILE_CREATE)
    if fid:
        c.close(fid)
    expect("CREATE new file %s\\pesc_new.txt" % d, st, ESCAPE)
    st, fid = c.create(d + "\\pesc_newdir", FILE_LIST_DIRECTORY, FILE_CREATE, FILE_DIRECTORY_FILE)
    if fid:
        c.close(fid)
    expect("mkdir %s\\pesc_newdir" % d, st, ESCAPE)
    target_del = ex if d in ("link_abs", "link_rel", "link_proc") else "pesc_absent"
    st, fid = c.create(d + "\\" + target_del, DELETE, FILE_OPEN, FILE_DELETE_ON_CLOSE)
    if fid:
        c.close(fid)
    expect("delete-on-close %s\\%s" % (d, target_del), st, ESCAPE)
    st, fid = c.create(d + "\\" + target_del, DELETE | GENERIC_READ, FILE_OPEN)
    if fid:
        c.set_info(fid, FILE_DISPOSITION_INFO, b"\x01")
        c.close(fid)
    expect("open for SET_INFO disposition %s\\%s" % (d, target_del), st, ESCAPE)
    # Rename a file from inside it (needs an open of it: refused above).
    st, fid = c.create(d + "\\" + ex, DELETE | GENERIC_READ, FILE_OPEN)
    if fid:
        c.rename(fid, "pesc_stolen")
        c.close(fid)
    expect("open %s\\%s for rename out" % (d, ex), st, ESCAPE)
    # Overwrite / supersede through it.
    for disp in (FILE_OVERWRITE, FILE_OVERWRITE_IF, FILE_SUPERSEDE):
        if d in ("link_etc",):
            continue
        st, fid = c.create(d + "\\" + ex, GENERIC_WRITE, disp)
        if fid:
            c.close(fid)
        expect("CREATE disposition %d %s\\%s" % (disp, d, ex), st, ESCAPE)

for f in ["link_secret", "link_abs_file"]:
    st, data = read_file(c, f)
    if st == OK:
        failures.append("ESCAPE: read %s gave %r" % (f, data[:40]))
    expect("CREATE+READ file symlink %s" % f, st, ESCAPE)
    st, fid = c.create(f, GENERIC_WRITE, FILE_OVERWRITE_IF)
    if fid:
        c.close(fid)
    expect("CREATE overwrite_if file symlink %s" % f, st, ESCAPE)
    st, fid = c.create(f, GENERIC_WRITE, FILE_OPEN)
    if fid:
        c.close(fid)
    expect("CREATE open for write file symlink %s" % f, st, ESCAPE)

# QUERY_DIRECTORY patterns are names within the directory, never paths.
st, root = c.create("", FILE_LIST_DIRECTORY | FILE_READ_ATTRIBUTES, options=FILE_DIRECTORY_FILE)
check(st == OK, "open the share root (%s)" % status_name(st))
st, ents = c.list_dir(root)
check(st == OK, "list the share root (%s)" % status_name(st))
for link in ("link_secret", "link_abs_file", "link_rel", "link_abs"):
    e = ents.get(link)
    check(e is not None, "root listing shows %s (Windows lists reparse points)" % link)
    if e is not None:
        check(e[2] != secret_st.st_ino and e[0] != len(SECRET),
              "root listing of %s does not leak the target's size/file id (eof %d id %d)" % (link, e[0], e[2]))
e = ents.get("link_file_in")
check(e is not None and e[0] == len(INSIDE), "root listing of link_file_in shows inside.txt's size")
e = ents.get("..")
check(e is not None and e[2] != srv_dir_st.st_ino,
      "root's '..' entry does not describe the share's parent (id %s)" % (e and e[2]))
for pat in ["..\\*", "..\\outside", "link_rel\\*", "link_abs\\secret", "../*", "..\\outside\\secret"]:
    st, e2 = c.list_dir(root, pat)
    leaked = [n for n in e2 if n not in ents]
    if leaked:
        failures.append("ESCAPE: QUERY_DIRECTORY pattern %r listed %s" % (pat, leaked))
    expect("QUERY_DIRECTORY pattern %r" % pat, st, BAD_NAME)
st, e2 = c.list_dir(root, "..")
check(st == OK and list(e2) == [".."] and e2[".."][2] == share_st.st_ino,
      "QUERY_DIRECTORY pattern '..' gives only the root's own '..' (%s)" % status_name(st))
c.close(root)

# ---------------------------------------------------- rename and link out
RENAME_TARGETS = [
    ("..\\pesc_x", DOTDOT),
    ("\\..\\pesc_x", DOTDOT),  # a leading '\' is accepted in targets, then ".."
    ("realdir\\..\\..\\pesc_x", DOTDOT),
    ("../pesc_x", BAD_NAME),
    ("/tmp/pesc_x", BAD_NAME),
    ("C:\\pesc_x", BAD_NAME),
    ("link_abs\\pesc_x", ESCAPE),
    ("link_rel\\pesc_x", ESCAPE),
    ("link_etc\\pesc_x", ESCAPE),
    ("link_proc\\tmp\\pesc_x", ESCAPE),
    ("link_proc\\" + outside_dir.lstrip("/").replace("/", "\\") + "\\pesc_x", ESCAPE),
    ("link_rel\\secret", ESCAPE),  # with replace: would overwrite the secret
    ("link_secret", None),  # replacing the link itself is legal; checked below
]
for link in (False, True):
    kind = "FileLinkInformation" if link else "FileRenameInformation"
    for target, allowed in RENAME_TARGETS:
        if allowed is None:
            continue
        for replace in (False, True):
            st, fid = c.create("mv_src.txt", DELETE | GENERIC_READ | GENERIC_WRITE, FILE_OPEN)
            check(st == OK, "open mv_src.txt (%s)" % status_name(st))
            if fid is None:
                continue
            st = c.rename(fid, target, link=link, replace=replace)
            c.close(fid)
            expect("%s mv_src.txt -> %r replace=%d" % (kind, target, replace), st, allowed)
            if st == OK and not link and os.path.exists(share_dir + "/" + target.replace("\\", "/")):
                os.rename(share_dir + "/" + target.replace("\\", "/"), share_dir + "/mv_src.txt")
    # Embedded NUL and lone surrogate in the target.
    for bad in ["pesc_t\0..\\..\\x", "..\\\ud800", "pesc_\udc00"]:
        st, fid = c.create("mv_src.txt", DELETE | GENERIC_READ, FILE_OPEN)
        if fid is None:
            continue
        st = c.rename(fid, None, link=link, raw=u16(bad))
        c.close(fid)
        expect("%s mv_src.txt -> %s" % (kind, show(u16(bad))), st, BAD_NAME)
    # A long target.
    st, fid = c.create("mv_src.txt", DELETE | GENERIC_READ, FILE_OPEN)
    if fid is not None:
        st = c.rename(fid, "..\\" * 1500 + "pesc_x", link=link)
        c.close(fid)
        expect("%s mv_src.txt -> '..\\' * 1500" % kind, st, LONG | DOTDOT)
check(os.path.isfile(share_dir + "/mv_src.txt"), "mv_src.txt is still in place")
check(os.stat(share_dir + "/mv_src.txt").st_nlink == 1, "mv_src.txt gained no hard link")

# A directory renamed into an escaping symlink.
st, fid = c.create("mvdir", DELETE | FILE_LIST_DIRECTORY, FILE_OPEN_IF, FILE_DIRECTORY_FILE)
if fid is not None:
    for target in ("link_rel\\pesc_mvdir", "link_abs\\pesc_mvdir", "..\\pesc_mvdir", "link_etc\\pesc_mvdir"):
        st2 = c.rename(fid, target)
        expect("FileRenameInformation dir mvdir -> %r" % target, st2, ESCAPE | DOTDOT)
    st2 = c.set_info(fid, FILE_DISPOSITION_INFO, b"\x01")
    c.close(fid)
check(not os.path.exists(share_dir + "/mvdir"), "mvdir removed")

# Controls: a rename and a link that stay inside (through the in-share
# directory symlink) work, so the refusals above are not blanket ones.
st, fid = c.create("mv_src.txt", DELETE | GENERIC_READ, FILE_OPEN)
if fid is not None:
    st = c.rename(fid, "dir_link_in\\pesc_hl.txt", link=True)
    c.close(fid)
    check(st == OK and os.path.samefile(share_dir + "/mv_src.txt", share_dir + "/realdir/pesc_hl.txt"),
          "control: FileLinkInformation mv_src.txt -> dir_link_in\\pesc_hl.txt (%s)" % status_name(st))
    if st == OK:
        os.unlink(share_dir + "/realdir/pesc_hl.txt")
# A link over an existing file inside replaces it, found whatever the
# case of the name sent (MS-FSA 2.1.5.15.6), with no temporary left; not
# while another handle has that file open (Windows allows it only with
# FILE_LINK_POSIX_SEMANTICS).
old_path = share_dir + "/realdir/pesc_old.txt"
with open(old_path, "wb") as f:
    f.write(b"old contents")
st_o, held = c.create("realdir\\pesc_old.txt", GENERIC_READ, FILE_OPEN)
st, fid = c.create("mv_src.txt", DELETE | GENERIC_READ, FILE_OPEN)
if fid is not None and held is not None:
    st = c.rename(fid, "dir_link_in\\PESC_OLD.TXT", link=True, replace=True)
    check(st == ACCESS_DENIED and not os.path.samefile(share_dir + "/mv_src.txt", old_path),
          "FileLinkInformation with replace over a file open elsewhere is refused (%s)" % status_name(st))
    c.close(held)
    st = c.rename(fid, "dir_link_in\\PESC_OLD.TXT", link=True, replace=True)
    c.close(fid)
    names = os.listdir(share_dir + "/realdir")
    check(st == OK and os.path.samefile(share_dir + "/mv_src.txt", old_path) and "PESC_OLD.TXT" not in names
          and not [n for n in names if n.startswith(".porthos-link-")],
          "control: FileLinkInformation with replace mv_src.txt -> dir_link_in\\PESC_OLD.TXT replaces "
          "pesc_old.txt (%s)" % status_name(st))
else:
    check(False, "opening mv_src.txt and pesc_old.txt for the link checks (%s, %s)"
          % (status_name(st), status_name(st_o)))
os.unlink(old_path)
st, fid = c.create("mv_src.txt", DELETE | GENERIC_READ, FILE_OPEN)
if fid is not None:
    st = c.rename(fid, "sub\\up_link\\pesc_mv.txt")
    c.close(fid)
    check(st == OK and os.path.isfile(share_dir + "/realdir/pesc_mv.txt"),
          "control: FileRenameInformation mv_src.txt -> sub\\up_link\\pesc_mv.txt (%s)" % status_name(st))
    if st == OK:
        os.rename(share_dir + "/realdir/pesc_mv.txt", share_dir + "/mv_src.txt")

# The admin's hard link: it IS the outside file (a hard link has no
# "target"), so reading it is by construction allowed. The client must not
# be able to make such a link itself (FileLinkInformation above), nor
# use it to reach the outside directory's other names.
st, data = read_file(c, "hl_admin")
check(st == OK, "admin-made hard link hl_admin is readable (the admin's choice) (%s)" % status_name(st))

# A symlink as the last component of a delete/rename acts on the link, not
# its target: deleting link_del (-> ../outside) must remove only the link.
st, fid = c.create("link_del", DELETE | FILE_READ_ATTRIBUTES, FILE_OPEN, FILE_OPEN_REPARSE_POINT | FILE_DELETE_ON_CLOSE)
if fid is not None:
    c.close(fid)
table.append(("delete-on-close link_del with FILE_OPEN_REPARSE_POINT", status_name(st)))
if st == OK:
    check(not os.path.lexists(share_dir + "/link_del"), "link_del (the link itself) deleted")
check(os.path.isdir(outside_dir) and os.path.isfile(outside_dir + "/secret"), "outside dir and secret still there")

# ----------------------------------------------------------------- streams
# Named streams are not served. A volume without them (FAT) refuses a name
# with a stream part as OBJECT_NAME_INVALID (':' is not a name character
# there), and so does Porthos: never as a file whose name contains ':'.
# Only the default data stream, "name::$DATA" (any case), names the file.
STREAM = BAD_NAME
for name in ["inside.txt:pesc_stream", "inside.txt:pesc_stream:$DATA", "inside.txt:pesc_stream:$data",
             "inside.txt:", "inside.txt::", "inside.txt:::$DATA", "inside.txt::$DATA:x", "inside.txt::$DATA::$DATA",
             "inside.txt::$INDEX_ALLOCATION", "inside.txt:$I30:$INDEX_ALLOCATION", "inside.txt::$DATAx",
             "realdir:pesc_stream", "realdir::$INDEX_ALLOCATION", "realdir:$I30:$INDEX_ALLOCATION",
             "realdir\\:pesc_stream", ":pesc_stream", "::$DATA", ":",
             "inside.txt:..", "inside.txt:..:$DATA", "inside.txt:../../outside/secret",
             "inside.txt:..\\..\\outside\\secret", "inside.txt:pesc/x", "inside.txt:\\pesc",
             "realdir:..\\..\\outside\\secret", "link_rel:secret", "link_rel:..\\secret", "link_secret:pesc",
             "pesc_new:pesc_stream", "pesc_new:pesc_stream:$DATA", "..:pesc", "..::$DATA\\x"]:
    allowed = DOTDOT | STREAM if name.startswith("..") else STREAM
    for disp, access in ((FILE_OPEN, GENERIC_READ), (FILE_OPEN_IF, GENERIC_READ | GENERIC_WRITE),
                         (FILE_CREATE, GENERIC_READ | GENERIC_WRITE)):
        st, fid = c.create(name, access, disp)
        if fid:
            st2, data = c.read(fid)
            c.close(fid)
            if data == SECRET:
                failures.append("ESCAPE: %r read the outside secret" % name)
        expect("CREATE disposition %d %r" % (disp, name), st, allowed)
    st, fid = c.create(name, FILE_LIST_DIRECTORY, FILE_CREATE, FILE_DIRECTORY_FILE)
    if fid:
        c.close(fid)
    expect("mkdir %r" % name, st, allowed)
colon_names = [n for n in os.listdir(share_dir) if ":" in n]
check(not colon_names, "no name with ':' created in the share (%s)" % colon_names)
check(not os.path.exists(share_dir + "/pesc_new"), "no 'pesc_new' created for a name with a stream part")
# The default stream is the file, in any case; through an escaping link it
# escapes no more than the link does.
st, data = read_file(c, "inside.txt::$DATA")
check(st == OK and data == INSIDE, "control: inside.txt::$DATA reads inside.txt (%s)" % status_name(st))
st, data = read_file(c, "INSIDE.TXT::$data")
check(st == OK and data == INSIDE, "control: INSIDE.TXT::$data reads inside.txt (%s)" % status_name(st))
st, data = read_file(c, "dir_link_in\\file_in_real.txt::$DATA")
check(st == OK and data == REAL, "control: dir_link_in\\file_in_real.txt::$DATA (%s)" % status_name(st))
for name in ["link_secret::$DATA", "link_abs_file::$DATA", "link_rel\\secret::$DATA", "LINK_REL\\secret::$DATA",
             "link_etc\\hostname::$DATA"]:
    st, data = read_file(c, name)
    if st == OK:
        failures.append("ESCAPE: %r read %r" % (name, data[:40]))
    expect("CREATE+READ %r" % name, st, ESCAPE)
    st, fid = c.create(name, GENERIC_WRITE, FILE_OVERWRITE_IF)
    if fid:
        c.close(fid)
    expect("CREATE overwrite_if %r" % name, st, ESCAPE)
st, fid = c.create("pesc_dflt::$DATA", GENERIC_WRITE | DELETE, FILE_CREATE)
check(st == OK and os.path.isfile(share_dir + "/pesc_dflt"),
      "control: creating pesc_dflt::$DATA makes the file pesc_dflt (%s)" % status_name(st))
if fid:
    c.set_info(fid, FILE_DISPOSITION_INFO, b"\x01")
    c.close(fid)
# Stream syntax in rename and link targets (":name" renames a stream on NTFS).
for target in [":pesc_stream", "pesc_t:pesc_stream", "pesc_t:pesc_stream:$DATA", "realdir\\pesc_t:x",
               "link_rel:pesc", "..:pesc", "pesc_t::$INDEX_ALLOCATION"]:
    for link in (False, True):
        st, fid = c.create("mv_src.txt", DELETE | GENERIC_READ, FILE_OPEN)
        if fid is None:
            continue
        st = c.rename(fid, target, link=link)
        c.close(fid)
        expect("%s mv_src.txt -> %r" % ("FileLinkInformation" if link else "FileRenameInformation", target), st,
               STREAM | DOTDOT)
check(os.path.isfile(share_dir + "/mv_src.txt") and os.stat(share_dir + "/mv_src.txt").st_nlink == 1,
      "mv_src.txt unmoved and unlinked after the stream renames")
# Stream syntax in a QUERY_DIRECTORY pattern: a name pattern, never a stream listing.
st, root = c.create("", FILE_LIST_DIRECTORY | FILE_READ_ATTRIBUTES, options=FILE_DIRECTORY_FILE)
for pat in ["inside.txt:*", "*:*", "*::$DATA", "link_rel:*"]:
    st, e2 = c.list_dir(root, pat)
    expect("QUERY_DIRECTORY pattern %r" % pat, st, BAD_NAME | {0xC000000F})  # or NO_SUCH_FILE
c.close(root)

# ------------------------------------------------------------ @GMT tokens
# "@GMT-YYYY.MM.DD-HH.MM.SS" as a whole component asks for a previous
# version (Samba's shadow copies read it anywhere in the path; Windows
# clients send the TWrp context instead). No snapshot is served yet, so
# none is found (OBJECT_NAME_NOT_FOUND, as for TWrp), wherever the token
# stands, and nothing of that name is ever created. Syntax errors (such
# as "..") still win, as in any path.
GMT = "@GMT-2026.01.01-00.00.00"
NOSNAP = {OBJECT_NAME_NOT_FOUND}
for name, allowed in [
    (GMT, NOSNAP),
    (GMT + "\\", NOSNAP),
    (GMT + "\\inside.txt", NOSNAP),
    (GMT + "\\pesc_gmt.txt", NOSNAP),
    ("realdir\\" + GMT, NOSNAP),
    ("realdir\\" + GMT + "\\file_in_real.txt", NOSNAP),
    ("inside.txt\\" + GMT, NOSNAP | {OBJECT_PATH_NOT_FOUND}),
    ("pesc_nodir\\" + GMT + "\\x", NOSNAP | {OBJECT_PATH_NOT_FOUND}),
    ("@gmt-2026.01.01-00.00.00\\inside.txt", NOSNAP),
    (GMT + "\\..\\outside\\secret", DOTDOT),
    (GMT + "\\..\\..\\outside\\secret", DOTDOT),
    ("realdir\\" + GMT + "\\..\\..\\outside\\secret", DOTDOT),
    ("..\\" + GMT + "\\outside\\secret", DOTDOT),
    (GMT + "\\link_rel\\secret", NOSNAP),
    ("link_rel\\" + GMT + "\\secret", NOSNAP | ESCAPE),
    ("link_abs\\" + GMT, NOSNAP | ESCAPE),
    (GMT + "\\" + GMT + "\\inside.txt", NOSNAP),
    (GMT + "::$DATA", NOSNAP),
    (GMT + ":pesc_stream", STREAM),
]:
    for disp, access, options in ((FILE_OPEN, GENERIC_READ, 0), (FILE_OPEN_IF, GENERIC_READ | GENERIC_WRITE, 0),
                                  (FILE_CREATE, FILE_LIST_DIRECTORY, FILE_DIRECTORY_FILE)):
        st, fid = c.create(name, access, disp, options)
        if fid:
            st2, data = c.read(fid)
            c.close(fid)
            if data == SECRET:
                failures.append("ESCAPE: %r read the outside secret" % name)
        expect("CREATE disposition %d %s" % (disp, show(u16(name))), st, allowed)
# Not tokens: plain names (the control shows they are not refused blindly).
for name in ["@GMT-2026.01.01-00.00.0", "@GMT-2026.01.01-00.00.000", "x@GMT-2026.01.01-00.00.00", "@GMT-20260101"]:
    st, fid = c.create("pesc_" + name if name[0] == "x" else name, GENERIC_READ)
    if fid:
        c.close(fid)
    expect("CREATE open non-token %r" % name, st, {OBJECT_NAME_NOT_FOUND})
gmt_names = [n for n in os.listdir(share_dir) if "gmt" in n.lower()]
check(not gmt_names, "no @GMT name created in the share (%s)" % gmt_names)
for target in [GMT, GMT + "\\pesc_x", "realdir\\" + GMT]:
    st, fid = c.create("mv_src.txt", DELETE | GENERIC_READ, FILE_OPEN)
    if fid is None:
        continue
    st = c.rename(fid, target)
    c.close(fid)
    expect("FileRenameInformation mv_src.txt -> %r" % target, st, NOSNAP | {OBJECT_PATH_NOT_FOUND})
check(os.path.isfile(share_dir + "/mv_src.txt"), "mv_src.txt not renamed into a snapshot")


def twrp(nttime):
    """SMB2_CREATE_TIMEWARP_TOKEN (MS-SMB2 2.2.13.2.7)."""
    return struct.pack("<IHHHHI", 0, 16, 4, 0, 24, 8) + b"TWrp" + b"\0" * 4 + struct.pack("<Q", nttime)


TW = 133800000000000000  # 2025
for name, disp, options, allowed in [
    ("inside.txt", FILE_OPEN, 0, NOSNAP),
    ("", FILE_OPEN, FILE_DIRECTORY_FILE, NOSNAP),
    ("realdir\\file_in_real.txt", FILE_OPEN, 0, NOSNAP),
    ("pesc_twrp.txt", FILE_CREATE, 0, NOSNAP),
    ("pesc_twrp.txt", FILE_OPEN_IF, 0, NOSNAP),
    ("pesc_twrp_dir", FILE_CREATE, FILE_DIRECTORY_FILE, NOSNAP),
    ("inside.txt", FILE_OVERWRITE_IF, 0, NOSNAP),
    ("..\\outside\\secret", FILE_OPEN, 0, DOTDOT),
    ("link_rel\\secret", FILE_OPEN, 0, NOSNAP | ESCAPE),
    ("link_secret", FILE_OPEN, 0, NOSNAP | ESCAPE),
    (GMT + "\\inside.txt", FILE_OPEN, 0, NOSNAP),
    ("inside.txt:pesc_stream", FILE_OPEN_IF, 0, STREAM),
]:
    st, fid = c.create(name, GENERIC_READ | (GENERIC_WRITE if disp != FILE_OPEN else 0), disp, options,
                       ctx=twrp(TW))
    if fid:
        c.close(fid)
    expect("CREATE with TWrp, disposition %d %r" % (disp, name), st, allowed)
check(not os.path.exists(share_dir + "/pesc_twrp.txt") and not os.path.exists(share_dir + "/pesc_twrp_dir"),
      "a CREATE with TWrp created nothing")
check(on_disk(share_dir + "/inside.txt") == INSIDE, "an overwrite with TWrp left inside.txt as it was")

# --------------------------------------------------------- reparse points
# The escaping symlinks again, now asked for as reparse points: with
# FILE_OPEN_REPARSE_POINT (Windows then opens the link itself), through
# FSCTL_GET_REPARSE_POINT (which must not tell where the share lives), and
# FSCTL_SET/DELETE_REPARSE_POINT (which must not retarget or remove them).
FSCTL_GET_REPARSE_POINT, FSCTL_SET_REPARSE_POINT, FSCTL_DELETE_REPARSE_POINT = 0x000900A8, 0x000900A4, 0x000900AC


def share_links():
    return {n: os.readlink(share_dir + "/" + n) for n in os.listdir(share_dir) if os.path.islink(share_dir + "/" + n)}


links_before = share_links()
for name in ["link_abs", "link_rel", "link_etc", "link_proc", "link_secret", "link_abs_file", "LINK_ABS",
             "Link_Secret"]:
    for access, options, what in [
        (GENERIC_READ, FILE_OPEN_REPARSE_POINT, "read"),
        (FILE_LIST_DIRECTORY | FILE_READ_ATTRIBUTES, FILE_OPEN_REPARSE_POINT | FILE_DIRECTORY_FILE, "list"),
        (FILE_READ_ATTRIBUTES, FILE_OPEN_REPARSE_POINT, "attributes"),
        (GENERIC_READ | GENERIC_WRITE, FILE_OPEN_REPARSE_POINT | FILE_NON_DIRECTORY_FILE, "write"),
    ]:
        st, fid = c.create(name, access, FILE_OPEN, options)
        table.append(("CREATE %s %r with FILE_OPEN_REPARSE_POINT" % (what, name), status_name(st)))
        if fid is None:
            if st not in ESCAPE | {OBJECT_NAME_INVALID, 0xC00000BB, 0xC0000275, FILE_IS_A_DIRECTORY, NOT_A_DIRECTORY}:
                failures.append("CREATE %s %r with FILE_OPEN_REPARSE_POINT: %s" % (what, name, status_name(st)))
            continue
        # Opened: it must be the link, not its target.
        st2, data = c.read(fid)
        if data == SECRET or (data and b"deep outside" in data):
            failures.append("ESCAPE: %r opened as a reparse point reads the outside: %r" % (name, data[:40]))
        st2, ents = c.list_dir(fid)
        if st2 == OK and ({"secret", "hostname", "passwd", "sub"} & set(ents)):
            failures.append("ESCAPE: %r opened as a reparse point lists %s" % (name, sorted(ents)[:10]))
        st2, out = c.ioctl_out(fid, FSCTL_GET_REPARSE_POINT, b"")
        leaked = [w for w in (srv_dir, outside_dir, "porthos-test") if u16(w) in out or w.encode() in out]
        check(not leaked, "FSCTL_GET_REPARSE_POINT on %r does not reveal the server's paths (%s%s)" %
              (name, status_name(st2), ", leaks %s" % leaked if leaked else ""))
        st2 = c.ioctl(fid, FSCTL_SET_REPARSE_POINT, reparse_symlink("inside.txt", True))
        expect("FSCTL_SET_REPARSE_POINT over %r" % name, st2,
               {0xC0000010, 0xC00000BB, ACCESS_DENIED, INVALID_PARAMETER, 0xC0000275}, "RETARGETED:")
        st2 = c.ioctl(fid, FSCTL_DELETE_REPARSE_POINT, struct.pack("<IHH", 0xA000000C, 0, 0))
        expect("FSCTL_DELETE_REPARSE_POINT on %r" % name, st2,
               {0xC0000010, 0xC00000BB, ACCESS_DENIED, INVALID_PARAMETER, 0xC0000275}, "REMOVED:")
        c.close(fid)
    # Write and truncate through the link with FILE_OPEN_REPARSE_POINT.
    for disp in (FILE_OVERWRITE, FILE_OVERWRITE_IF, FILE_SUPERSEDE):
        if "etc" in name.lower() or "proc" in name.lower():
            continue
        st, fid = c.create(name, GENERIC_WRITE, disp, FILE_OPEN_REPARSE_POINT)
        if fid:
            c.close(fid)
        table.append(("CREATE disposition %d %r with FILE_OPEN_REPARSE_POINT" % (disp, name), status_name(st)))
# FSCTL_GET_REPARSE_POINT on ordinary opens: files, directories, in-share links.
for name, opts in [("inside.txt", 0), ("realdir", FILE_DIRECTORY_FILE), ("link_file_in", 0),
                   ("dir_link_in", FILE_DIRECTORY_FILE)]:
    st, fid = c.create(name, GENERIC_READ if not opts else FILE_LIST_DIRECTORY, FILE_OPEN, opts)
    if fid is None:
        check(False, "open %r (%s)" % (name, status_name(st)))
        continue
    st, out = c.ioctl_out(fid, FSCTL_GET_REPARSE_POINT, b"")
    leaked = [w for w in (srv_dir, "porthos-test") if u16(w) in out or w.encode() in out]
    check(not leaked, "FSCTL_GET_REPARSE_POINT on %r reveals no server path (%s)" % (name, status_name(st)))
    c.close(fid)
links_after = share_links()
check(links_before == links_after, "no symlink in the share was retargeted, made or removed (%s)" %
      sorted(set(links_before.items()) ^ set(links_after.items())))
check(on_disk(outside_dir + "/secret") == SECRET, "the outside secret is intact")

# ------------------------------------------------------- case-insensitive
# Case variants resolve to the name on disk, and so to what it is: an
# escaping link in any case escapes no more than in its own. Unicode
# case folding (Kelvin sign K, long s) counts as case too.
for name in ["LINK_REL\\secret", "Link_Rel\\SECRET", "LINK_ABS\\Secret", "LINK_ETC\\HOSTNAME", "Link_Proc\\etc",
             "lin\u212a_rel\\secret", "link_rel\\\u017fecret", "LINK_SECRET", "Link_Abs_File",
             "SUB\\UP_LINK\\..\\..\\outside\\secret", "REALDIR\\..\\..\\outside\\secret",
             "ESC\\secret", "Esc\\secret", "esc\\SECRET"]:
    st, data = read_file(c, name)
    if st == OK:
        failures.append("ESCAPE?: case variant %s opened, read %r" % (show(u16(name)), data[:40]))
    allowed = DOTDOT if ".." in name else ESCAPE | {OBJECT_NAME_NOT_FOUND}
    expect("CREATE+READ case variant %s" % show(u16(name)), st, allowed)
    if ".." in name or name.lower().startswith("esc") or "\\" not in name:
        continue
    new = name.rsplit("\\", 1)[0] + "\\pesc_case"
    st, fid = c.create(new, GENERIC_WRITE, FILE_CREATE)
    if fid:
        c.close(fid)
    expect("CREATE new %s" % show(u16(new)), st, ESCAPE)
# "esc" (a link out) and "ESC" (a directory inside) differ only by case:
# their own spellings are exact; any other finds one of them, and through
# the link it still escapes nothing.
st, data = read_file(c, "ESC\\inner.txt")
check(st == OK and data == b"inner\n", "exact spelling ESC\\inner.txt reads the inside directory (%s)" %
      status_name(st))
st, data = read_file(c, "esc\\secret")
expect("exact spelling esc\\secret (the escaping link)", st, ESCAPE)
st, data = read_file(c, "eSc\\inner.txt")
check(st in ESCAPE | {OK} and (st != OK or data == b"inner\n"),
      "eSc\\inner.txt finds ESC or the link, nothing else (%s)" % status_name(st))
# A name in two cases: each spelling gets its own file, another spelling one of them.
st, data = read_file(c, "twin")
check(st == OK and data == b"twin lower", "exact 'twin' reads its own file (%s %r)" % (status_name(st), data))
st, data = read_file(c, "TWIN")
check(st == OK and data == b"twin upper", "exact 'TWIN' reads its own file (%s %r)" % (status_name(st), data))
st, data = read_file(c, "Twin")
check(st == OK and data in (b"twin lower", b"twin upper"), "'Twin' reads one of the two (%s %r)" %
      (status_name(st), data))
st, fid = c.create("tWIN", GENERIC_READ | GENERIC_WRITE, FILE_CREATE)
if fid:
    c.close(fid)
expect("FILE_CREATE 'tWIN' beside twin and TWIN", st, {OBJECT_NAME_COLLISION}, "DUPLICATE CASE:")
check(sorted(n for n in os.listdir(share_dir) if n.lower() == "twin") == ["TWIN", "twin"],
      "no third case variant of twin created")

# ---------------------------------------------------------------- Unicode
# Names are taken as sent (no normalisation, as NTFS): NFC and NFD spellings
# are different names, and characters that look like '.', '/' or '\' are
# ordinary name characters, never separators or dots.
NFC, NFD = "caf\u00e9", "cafe\u0301"
st, data = read_file(c, NFC)
check(st == OK and data == b"nfc", "NFC 'caf\\u00e9' reads the NFC file (%s)" % status_name(st))
st, data = read_file(c, NFD)
expect("NFD 'cafe\\u0301' (not on disk)", st, {OBJECT_NAME_NOT_FOUND}, "NORMALISED:")
st, fid = c.create(NFD, GENERIC_WRITE | DELETE, FILE_CREATE)
check(st == OK and os.path.exists(share_dir + "/" + NFD) and on_disk(share_dir + "/" + NFC) == b"nfc",
      "creating the NFD spelling makes a second file, the NFC one untouched (%s)" % status_name(st))
if fid:
    c.set_info(fid, FILE_DISPOSITION_INFO, b"\x01")
    c.close(fid)
for name in ["..\u2215outside\u2215secret", "..\u29f5outside\u29f5secret", "\u2024\u2024\\outside\\secret",
             "\uff0e\uff0e\\outside\\secret", "\uff0e\uff0e\u2215outside", "..\u200d\\outside\\secret",
             "\u200d..\\outside\\secret", ".\u200d.\\outside\\secret", "..\ufeff\\outside\\secret",
             "realdir\\\uff0e\uff0e\\\uff0e\uff0e\\outside\\secret", "..\u0338\\outside\\secret",
             "link_rel\u2215secret", "link_rel\u29f5secret", "\uff3c..\uff3coutside", "..\uff0foutside\uff0fsecret",
             "\u2025\\outside", "\ufe52\ufe52\\outside\\secret"]:
    st, data = read_file(c, name)
    if st == OK:
        failures.append("ESCAPE?: %s opened, read %r" % (show(u16(name)), data[:40]))
    expect("CREATE+READ %s" % show(u16(name)), st, {OBJECT_NAME_NOT_FOUND, OBJECT_PATH_NOT_FOUND})
# Created, they are single names inside the share (then removed).
for name in ["pesc\u2215x", "pesc\u29f5x", "..\u2215pesc_up", "\uff0e\uff0e", "\u2024\u2024", "..\u200d",
             "pesc\uff3cx"]:
    st, fid = c.create(name, GENERIC_WRITE | DELETE, FILE_CREATE)
    ok = st == OK and os.path.isfile(share_dir + "/" + name)
    check(ok, "%s is created as one file inside the share (%s)" % (show(u16(name)), status_name(st)))
    if fid:
        c.set_info(fid, FILE_DISPOSITION_INFO, b"\x01")
        c.close(fid)
    check(not os.path.lexists(share_dir + "/" + name), "%s removed again" % show(u16(name)))
# Invalid UTF-16: unpaired, reversed and doubled surrogates, alone or
# around separators and dots; none may become a name on disk.
for raw in [b"\x00\xd8", b"\x00\xdc\x00\xd8", b"\x00\xd8\x00\xd8\x00\xdc", b"p\x00\x00\xd8\\\x00.\x00.\x00",
            b".\x00.\x00\x00\xdc\\\x00s\x00", b"\x00\xd8.\x00.\x00", b"\xff\xdb\xff\xdf" + u16("\\..\\x")]:
    st, fid = c.create(None, GENERIC_READ | GENERIC_WRITE, FILE_OPEN_IF, raw=raw)
    if fid:
        c.close(fid)
    expect("CREATE open_if invalid UTF-16 %s" % raw.hex(), st, BAD_NAME | DOTDOT)
# A valid surrogate pair (U+1F600) is an ordinary character.
st, fid = c.create("pesc_\U0001F600", GENERIC_WRITE | DELETE, FILE_CREATE)
check(st == OK and os.path.isfile(share_dir + "/pesc_\U0001F600"), "control: a name with U+1F600 (%s)" %
      status_name(st))
if fid:
    c.set_info(fid, FILE_DISPOSITION_INFO, b"\x01")
    c.close(fid)

# ------------------------------------------------------------ tree connect
# MS-SMB2 3.3.5.7: the share is everything after "\\server\"; Samba and
# Windows answer BAD_NETWORK_NAME for any name that is not a share.
for path in [
    "\\\\127.0.0.1\\test\\..\\",
    "\\\\127.0.0.1\\test\\..",
    "\\\\127.0.0.1\\test\\..\\outside",
    "\\\\127.0.0.1\\..\\test",
    "\\\\127.0.0.1\\..",
    "\\\\127.0.0.1\\.",
    "\\\\127.0.0.1\\..\\..\\etc",
    "\\\\127.0.0.1\\test\\..\\..\\etc",
    "\\\\127.0.0.1\\ro\\test",
    "\\\\127.0.0.1\\test/..",
    "\\\\127.0.0.1\\test/../outside",
    "\\\\127.0.0.1\\/",
    "\\\\127.0.0.1\\/etc",
    "\\\\127.0.0.1\\..\\outside",
    "//127.0.0.1/test",
    "\\\\127.0.0.1\\test\0..",
    "\\\\127.0.0.1\\te\0st",
    "\\\\127.0.0.1\\test\ud800",
    "\\\\127.0.0.1\\" + "t" * 30000,
]:
    st, tid = c.tree_connect(u16(path))
    if st == OK:
        # Register it so impacket signs requests on it, then see what it is.
        c.smb._Session["TreeConnectTable"][tid] = {"EncryptData": False, "IsDfsShare": False}
        what = "?"
        saved, c.tid = c.tid, tid
        st2, fid = c.create("", FILE_LIST_DIRECTORY | FILE_READ_ATTRIBUTES, options=FILE_DIRECTORY_FILE)
        if fid is not None:
            st3, e3 = c.list_dir(fid)
            c.close(fid)
            what = "root lists %s" % sorted(e3)[:8]
        c.tid = saved
        c.tree_disconnect(tid)
        del c.smb._Session["TreeConnectTable"][tid]
        path_note = " -> a share whose %s" % what
    else:
        path_note = ""
    expect("TREE_CONNECT %s%s" % (show(u16(path)), path_note), st, BAD_TREE | {INVALID_PARAMETER},
           "LAX SHARE NAME:")

# The session must still be healthy after all of this.
st, data = read_file(c, "inside.txt")
check(st == OK and data == INSIDE, "session still works at the end")
c.conn.logoff()

width = max(len(w) for w, _ in table)
for what, res in table:
    print("%-*s  %s" % (width, what, res))
if failures:
    print("\n%d FAILURES:" % len(failures))
    for f in failures:
        print("FAIL:", f)
    sys.exit(1)
print("path_escape (impacket): all %d checks passed" % len(table))
