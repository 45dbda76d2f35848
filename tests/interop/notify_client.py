#!/usr/bin/python3
"""SMB2 CHANGE_NOTIFY against Porthos with raw requests on impacket's SMB3
layer (impacket has no CHANGE_NOTIFY call of its own). One connection
watches; changes are made through a second connection, as another client
would make them.

usage: notify_client.py host port share user password share_dir
"""
import os
import struct
import sys
import time

from impacket import smb3structs as s3

from smb2raw import Checks, Session, login, request

host, port, share, user, password, share_dir = sys.argv[1:7]

STATUS_SUCCESS = 0
STATUS_PENDING = 0x00000103
STATUS_NOTIFY_CLEANUP = 0x0000010B
STATUS_NOTIFY_ENUM_DIR = 0x0000010C
STATUS_CANCELLED = 0xC0000120
STATUS_INVALID_PARAMETER = 0xC000000D
STATUS_ACCESS_DENIED = 0xC0000022

FILE_NAME, DIR_NAME, ATTRIBUTES, SIZE, LAST_WRITE = 0x1, 0x2, 0x4, 0x8, 0x10
ADDED, REMOVED, MODIFIED, OLD_NAME, NEW_NAME = 1, 2, 3, 4, 5

check = Checks()
failures = check.failures


def connect():
    return login(host, port, user, password, s3.SMB2_DIALECT_30)


class Watcher(Session):
    """Raw CHANGE_NOTIFY on one connection."""

    def __init__(self):
        super().__init__(host, port, user, password, share, s3.SMB2_DIALECT_30)

    def open_dir(self, path, access=s3.FILE_LIST_DIRECTORY | s3.FILE_READ_ATTRIBUTES | s3.SYNCHRONIZE):
        return self.smb.create(self.tid, path, access, s3.FILE_SHARE_READ | s3.FILE_SHARE_WRITE |
                               s3.FILE_SHARE_DELETE, s3.FILE_DIRECTORY_FILE, s3.FILE_OPEN, 0)

    def open_file(self, path):
        return self.smb.create(self.tid, path, s3.FILE_READ_DATA | s3.FILE_READ_ATTRIBUTES,
                               s3.FILE_SHARE_READ | s3.FILE_SHARE_WRITE | s3.FILE_SHARE_DELETE,
                               s3.FILE_NON_DIRECTORY_FILE, s3.FILE_OPEN, 0)

    def close(self, fid):
        self.smb.close(self.tid, fid)

    def send(self, fid, filt, flags=0, out_len=65536):
        req = s3.SMB2ChangeNotify()
        req['Flags'] = flags
        req['OutputBufferLength'] = out_len
        req['FileID'] = fid
        req['CompletionFilter'] = filt
        return self.smb.sendSMB(request(self.smb, self.tid, s3.SMB2_CHANGE_NOTIFY, req, charge=1))


def changes(p):
    """[(action, name)] of a CHANGE_NOTIFY reply."""
    r = s3.SMB2ChangeNotify_Response(p['Data'])
    buf = r['Buffer']
    out = []
    off = 0
    while buf:
        nxt, action, nlen = struct.unpack_from('<III', buf, off)
        out.append((action, buf[off + 12:off + 12 + nlen].decode('utf-16-le')))
        if nxt == 0:
            break
        check(nxt % 4 == 0, "NextEntryOffset %d is 4-aligned" % nxt)
        off += nxt
    return out


def expect(w, mid, want_status, want_changes=None, what=""):
    p = w.recv(mid)
    if not check(p is not None, "%s: a reply came" % what):
        return []
    st = p['Status']
    check(st == want_status, "%s: status 0x%08x (want 0x%08x)" % (what, st, want_status))
    got = changes(p) if st == STATUS_SUCCESS else []
    if want_changes is not None:
        check(got == want_changes, "%s: changes %r (want %r)" % (what, got, want_changes))
    return got


w = Watcher()
actor = connect()
actor_smb = actor.getSMBServer()
actor_tid = actor.connectTree(share)


def put(name, data=b"hello"):
    fid = actor.createFile(actor_tid, name)
    if data:
        actor.writeFile(actor_tid, fid, data)
    actor.closeFile(actor_tid, fid)


def write(name, data):
    fid = actor.openFile(actor_tid, name, desiredAccess=s3.FILE_WRITE_DATA)
    actor.writeFile(actor_tid, fid, data, offset=0)
    actor.closeFile(actor_tid, fid)


# --- validation -----------------------------------------------------------
actor.createDirectory(share, "nd")
put("nd\\plain.txt")
fid = w.open_file("nd\\plain.txt")
expect(w, w.send(fid, FILE_NAME), STATUS_INVALID_PARAMETER, what="notify on a file")
w.close(fid)
d = w.open_dir("nd", access=s3.FILE_READ_ATTRIBUTES | s3.SYNCHRONIZE)
expect(w, w.send(d, FILE_NAME), STATUS_ACCESS_DENIED, what="notify without FILE_LIST_DIRECTORY")
w.close(d)
d = w.open_dir("nd")
expect(w, w.send(d, FILE_NAME, out_len=0x10000000), STATUS_INVALID_PARAMETER,
       what="OutputBufferLength above MaxTransactSize")

# --- create, rename, delete (FILE_NAME) -----------------------------------
mid = w.send(d, FILE_NAME)
check(w.wait_interim(mid), "create: interim STATUS_PENDING with an async id")
put("nd\\new.txt")
expect(w, mid, STATUS_SUCCESS, [(ADDED, "new.txt")], "create")

mid = w.send(d, FILE_NAME)
w.wait_interim(mid)
actor.rename(share, "nd\\new.txt", "nd\\renamed.txt")
expect(w, mid, STATUS_SUCCESS, [(OLD_NAME, "new.txt"), (NEW_NAME, "renamed.txt")], "rename")

mid = w.send(d, FILE_NAME)
w.wait_interim(mid)
actor.deleteFile(share, "nd\\renamed.txt")
expect(w, mid, STATUS_SUCCESS, [(REMOVED, "renamed.txt")], "delete")

mid = w.send(d, FILE_NAME)
w.wait_interim(mid)
actor.createDirectory(share, "nd\\adir")
actor.deleteDirectory(share, "nd\\adir")
put("nd\\after.txt")
# A FILE_NAME watch does not report directories: the first change is the file.
expect(w, mid, STATUS_SUCCESS, [(ADDED, "after.txt")], "directory names filtered out")
w.close(d)

# Changes made while no request is pending are queued and returned at once.
d = w.open_dir("nd")
mid = w.send(d, FILE_NAME)
w.wait_interim(mid)
put("nd\\q1.txt")
expect(w, mid, STATUS_SUCCESS, [(ADDED, "q1.txt")], "first of queued")
put("nd\\q2.txt")
actor.deleteFile(share, "nd\\q1.txt")
time.sleep(0.3)
mid = w.send(d, FILE_NAME)
p = w.recv(mid, timeout=2)
check(mid not in w.async_ids, "queued changes: answered without going async")
check(p is not None and changes(p) == [(ADDED, "q2.txt"), (REMOVED, "q1.txt")],
      "queued changes returned together: %r" % (changes(p) if p else None))
w.close(d)

# --- write (LAST_WRITE | SIZE), on a handle that filters names out ---------
d = w.open_dir("nd")
mid = w.send(d, LAST_WRITE | SIZE)
w.wait_interim(mid)
write("nd\\plain.txt", b"more data here")
expect(w, mid, STATUS_SUCCESS, [(MODIFIED, "plain.txt")], "write")
w.close(d)

# --- DIR_NAME ------------------------------------------------------------
d = w.open_dir("nd")
mid = w.send(d, DIR_NAME)
w.wait_interim(mid)
put("nd\\ignored.txt")
actor.createDirectory(share, "nd\\newdir")
expect(w, mid, STATUS_SUCCESS, [(ADDED, "newdir")], "mkdir (DIR_NAME only, file create ignored)")
w.close(d)

# --- WATCH_TREE ----------------------------------------------------------
actor.createDirectory(share, "tree")
actor.createDirectory(share, "tree\\sub")
actor.createDirectory(share, "tree\\sub\\deep")
d = w.open_dir("tree")
mid = w.send(d, FILE_NAME | DIR_NAME, flags=s3.SMB2_WATCH_TREE)
w.wait_interim(mid)
put("tree\\sub\\x")
expect(w, mid, STATUS_SUCCESS, [(ADDED, "sub\\x")], "recursive: file in a subdirectory")
mid = w.send(d, FILE_NAME | DIR_NAME, flags=s3.SMB2_WATCH_TREE)
w.wait_interim(mid)
put("tree\\sub\\deep\\y")
expect(w, mid, STATUS_SUCCESS, [(ADDED, "sub\\deep\\y")], "recursive: two levels down")
mid = w.send(d, FILE_NAME | DIR_NAME, flags=s3.SMB2_WATCH_TREE)
w.wait_interim(mid)
actor.createDirectory(share, "tree\\later")
expect(w, mid, STATUS_SUCCESS, [(ADDED, "later")], "recursive: new subdirectory")
time.sleep(0.2)
put("tree\\later\\z")
time.sleep(0.3)
mid = w.send(d, FILE_NAME | DIR_NAME, flags=s3.SMB2_WATCH_TREE)
expect(w, mid, STATUS_SUCCESS, [(ADDED, "later\\z")], "recursive: file in a directory created after the watch")
mid = w.send(d, FILE_NAME | DIR_NAME, flags=s3.SMB2_WATCH_TREE)
w.wait_interim(mid)
actor.rename(share, "tree\\sub", "tree\\sub2")
expect(w, mid, STATUS_SUCCESS, [(OLD_NAME, "sub"), (NEW_NAME, "sub2")], "recursive: subdirectory renamed")
mid = w.send(d, FILE_NAME | DIR_NAME, flags=s3.SMB2_WATCH_TREE)
w.wait_interim(mid)
put("tree\\sub2\\deep\\v")
expect(w, mid, STATUS_SUCCESS, [(ADDED, "sub2\\deep\\v")], "recursive: names below a renamed subdirectory")
actor.rename(share, "tree\\sub2", "tree\\sub")
w.close(d)

# A non-recursive watch does not see below.
d = w.open_dir("tree")
mid = w.send(d, FILE_NAME | DIR_NAME)
w.wait_interim(mid)
put("tree\\sub\\notseen")
put("tree\\top")
expect(w, mid, STATUS_SUCCESS, [(ADDED, "top")], "non-recursive: subdirectory changes not reported")
w.close(d)

# --- cancel ----------------------------------------------------------------
d = w.open_dir("nd")
mid = w.send(d, FILE_NAME)
check(w.wait_interim(mid), "cancel: went async")
w.smb.cancel(mid)
expect(w, mid, STATUS_CANCELLED, what="CANCEL by MessageId")
mid = w.send(d, FILE_NAME)
check(w.wait_interim(mid), "async cancel: went async")
w.cancel_async(mid)
expect(w, mid, STATUS_CANCELLED, what="CANCEL by AsyncId")

# --- close completes with NOTIFY_CLEANUP -----------------------------------
mid = w.send(d, FILE_NAME)
check(w.wait_interim(mid), "close: went async")
w.close(d)
expect(w, mid, STATUS_NOTIFY_CLEANUP, what="handle closed under a pending notify")

# --- a buffer too small: NOTIFY_ENUM_DIR ------------------------------------
d = w.open_dir("nd")
mid = w.send(d, FILE_NAME, out_len=4)
w.wait_interim(mid)
put("nd\\a-rather-long-file-name.txt")
expect(w, mid, STATUS_NOTIFY_ENUM_DIR, what="change larger than OutputBufferLength")
w.close(d)

# Overflow of the queue (bounded by the first request's buffer): ENUM_DIR next time.
d = w.open_dir("nd")
mid = w.send(d, FILE_NAME, out_len=200)
w.wait_interim(mid)
put("nd\\o0")
expect(w, mid, STATUS_SUCCESS, [(ADDED, "o0")], "overflow setup")
for i in range(1, 30):
    put("nd\\o%d" % i, b"")
time.sleep(0.3)
mid = w.send(d, FILE_NAME, out_len=65536)
expect(w, mid, STATUS_NOTIFY_ENUM_DIR, what="queue beyond the first buffer size: NOTIFY_ENUM_DIR")
w.close(d)

# --- a local change on the server's disk is seen too ------------------------
d = w.open_dir("nd")
mid = w.send(d, FILE_NAME)
w.wait_interim(mid)
open(os.path.join(share_dir, "nd", "local.txt"), "w").close()
expect(w, mid, STATUS_SUCCESS, [(ADDED, "local.txt")], "change made on the server's file system")
w.close(d)

# The server is still healthy on both connections.
names = [f.get_longname() for f in actor.listPath(share, "nd\\*")]
check("local.txt" in names, "listing after the notify tests")
w.conn.logoff()
actor.logoff()

if failures:
    print("%d failure(s)" % len(failures))
    sys.exit(1)
print("all notify checks passed")
