#!/usr/bin/python3
"""Directory leases (run by dir_lease.sh).

Client A leases directories (v2 leases, SMB 3.0); client B, with another
ClientGuid, changes what they list. Every change must break A's lease on
the changed entry's directory to none, at once and without waiting for
A's acknowledgment: an entry created, overwritten, renamed out or in,
hard-linked in, deleted, its attributes or size set, a file closed after
B wrote it (at the CLOSE, not at the WRITE, as Windows). What does not
change the listing breaks nothing: B reading a file, a change one level
further down, a CREATE naming the lease as its ParentLeaseKey (whichever
client makes it, as Windows).

Renames that meet cached handles: one into a directory that A holds open
in a way the rename's own open of it cannot share waits until A gives up
H (and fails if A keeps the handle); one of a directory with files open
beneath it waits while their holders give up H one by one, and fails if
one keeps its handle or caches none.

Changes made around the server (this process, on the share's directory
given with --share-dir) break the leases too; reading breaks nothing.

usage: dir_lease_client.py HOST PORT USER PASSWORD [--off] [--share-dir DIR]
  --off: the server runs with "smb3 directory leases = no": the capability
  is not offered and a directory gets no lease, while files still do.
"""
import os
import struct
import sys
import time
import uuid

import smb2raw
from smb2raw import (CLOSE, CREATE, NEGOTIATE, OPLOCK_BREAK, READ, SET_INFO, SUCCESS, WRITE, Checks, Timeout,
                     close_body, contexts, read_body, rename_info, reply_contexts, set_info_body, write_body)

HOST, PORT, USER, PASSWORD = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
OFF = "--off" in sys.argv[5:]
SHARE_DIR = sys.argv[sys.argv.index("--share-dir") + 1] if "--share-dir" in sys.argv else None

CAP_DIRECTORY_LEASING = 0x20
LEASE_OPLOCK = 0xFF
R, H, W = 1, 2, 4
PARENT_KEY_SET = 0x4
ACK_REQUIRED = 0x1
BREAK_MID = 0xFFFFFFFFFFFFFFFF
FILE_OPEN, FILE_CREATE, FILE_OPEN_IF, FILE_OVERWRITE_IF = 1, 2, 3, 5
FILE_DIRECTORY_FILE, FILE_NON_DIRECTORY_FILE, FILE_DELETE_ON_CLOSE = 0x1, 0x40, 0x1000
DIR_ACCESS = 0x00100081       # list, read attributes, synchronize
FILE_ACCESS = smb2raw.FILE_ACCESS
READ_ONLY_ACCESS = 0x00120089  # read data, attributes, EA, control, synchronize
SHARE_ALL = 7
FILE_BASIC_INFO, FILE_RENAME_INFO, FILE_LINK_INFO, FILE_DISPOSITION_INFO, FILE_EOF_INFO = 4, 10, 11, 13, 20
DELETE_ACCESS = 0x00010000
SHARING_VIOLATION, ACCESS_DENIED = 0xC0000043, 0xC0000022
ATTR_READONLY, ATTR_ARCHIVE = 0x1, 0x20
# How long "no break" is watched for: a break leaves before the reply to
# the request that caused it, so it is already queued when that reply is in.
QUIET = 0.25

check = Checks()


class Client:
    def __init__(self, caps=0x7F):
        self.guid = uuid.uuid4().bytes
        c = smb2raw.Conn(HOST, PORT, timeout=20.0)
        c.client_guid = self.guid
        r = c.call(NEGOTIATE, smb2raw.negotiate_body((0x0300,), self.guid, caps=caps), credit_req=256)
        if r.status != SUCCESS:
            raise RuntimeError("negotiate: 0x%08x" % r.status)
        c.dialect = 0x0300
        self.caps = struct.unpack_from("<I", r.body, 24)[0]
        if smb2raw.ntlm_login(c, USER, PASSWORD) != SUCCESS:
            raise RuntimeError("logon")
        if smb2raw.tree_connect(c, "\\\\%s\\test" % HOST) != SUCCESS:
            raise RuntimeError("tree connect")
        self.c = c

    def create(self, name, disposition=FILE_OPEN_IF, options=FILE_NON_DIRECTORY_FILE, access=FILE_ACCESS,
               lease=None):
        """(status, fid, lease reply or None); lease = (key, state, parent key or None)."""
        ctx = b""
        oplock = 0
        if lease is not None:
            key, state, parent = lease
            flags = PARENT_KEY_SET if parent else 0
            ctx = contexts([(b"RqLs", struct.pack("<16sIIQ16sHH", key, state, flags, 0, parent or b"\0" * 16,
                                                  0, 0))])
            oplock = LEASE_OPLOCK
        n = name.encode("utf-16-le")
        name_off = 64 + 56
        ctx_off = (name_off + len(n) + 7) // 8 * 8 if ctx else 0
        body = struct.pack("<HBBIQQIIIIIHHII", 57, 0, oplock, 2, 0, 0, access, 0, SHARE_ALL, disposition, options,
                           name_off, len(n), ctx_off, len(ctx)) + n
        if ctx:
            body += b"\0" * (ctx_off - 64 - len(body)) + ctx
        r = self.c.call(CREATE, body or b"\0")
        if r.status != SUCCESS:
            return r.status, None, None
        granted = reply_contexts(r).get(b"RqLs")
        return r.status, r.body[64:80], granted

    def close(self, fid):
        return self.c.call(CLOSE, close_body(fid)).status

    def set_info(self, fid, info_class, data):
        return self.c.call(SET_INFO, set_info_body(fid, info_class=info_class, data=data)).status

    def breaks(self, key, wait, first=False):
        """The breaks of lease 'key' that arrive within 'wait' seconds (or
        the first, if 'first'): (from, to, flags). Others' stay queued."""
        out = []
        deadline = time.monotonic() + wait
        while True:
            for r in [r for r in self.c.early if r.mid == BREAK_MID]:
                _, _, flags, k, cur, new = struct.unpack_from("<HHI16sII", r.body, 0)
                if k == key:
                    self.c.early.remove(r)
                    out.append((cur, new, flags))
            left = deadline - time.monotonic()
            if left <= 0 or (first and out):
                return out
            try:
                self.c.early.extend(self.c.recv_replies(left))
            except Timeout:
                return out

    def next_break(self, keys, wait):
        """(key, (from, to, flags)) of the first break of any of keys within
        'wait' seconds, or (None, None)."""
        deadline = time.monotonic() + wait
        while True:
            for key in keys:
                got = self.breaks(key, 0)
                if got:
                    return key, got[0]
            left = deadline - time.monotonic()
            if left <= 0:
                return None, None
            try:
                self.c.early.extend(self.c.recv_replies(left))
            except Timeout:
                return None, None

    def ack(self, key, state):
        body = struct.pack("<HHI16sIQ", 36, 0, 0, key, state, 0)
        return self.c.call(OPLOCK_BREAK, body).status


def lease_state(granted):
    return struct.unpack_from("<I", granted, 16)[0] if granted else None


def new_key():
    return uuid.uuid4().bytes


def touch(b, name, options=FILE_NON_DIRECTORY_FILE, disposition=FILE_CREATE):
    st, fid, _ = b.create(name, disposition=disposition, options=options)
    if st != SUCCESS:
        raise RuntimeError("create %s: 0x%08x" % (name, st))
    b.close(fid)


class Lease:
    """A's lease on a directory, held by one open, taken again after each break."""

    def __init__(self, a, name):
        self.a, self.name, self.key = a, name, new_key()
        st, self.fid, granted = a.create(name, options=FILE_DIRECTORY_FILE, access=DIR_ACCESS,
                                         lease=(self.key, R | H | W, None))
        if st != SUCCESS:
            raise RuntimeError("open %s: 0x%08x" % (name, st))
        self.granted = lease_state(granted)

    def expect_break(self, what, rearm=True):
        """A hears its lease go from RH to none, acknowledges, and (rearm)
        takes it again: not while another lease of the directory is still
        breaking, as a new open of it waits for that break."""
        got = self.a.breaks(self.key, 5.0, first=True) + self.a.breaks(self.key, 0.1)
        ok = check(got == [(R | H, 0, ACK_REQUIRED)],
                   "%s breaks the lease on %s from RH to none, acknowledgment required (%r)" % (what, self.name, got))
        if got:
            check(self.a.ack(self.key, 0) == SUCCESS, "A acknowledges the break to none")
        if rearm:
            self.rearm()
        return ok

    def rearm(self):
        """Another open with the same key brings the lease back up to RH."""
        st, fid, granted = self.a.create(self.name, options=FILE_DIRECTORY_FILE, access=DIR_ACCESS,
                                         lease=(self.key, R | H, None))
        if st == SUCCESS:
            self.a.close(fid)
        check(lease_state(granted) == R | H, "the lease on %s is RH again" % self.name)

    def expect_none(self, what):
        got = self.a.breaks(self.key, QUIET)
        return check(not got, "%s leaves the lease on %s alone (%r)" % (what, self.name, got))


def test_breaks():
    a, b = Client(), Client()
    check(a.caps & CAP_DIRECTORY_LEASING, "NEGOTIATE on 3.0 offers SMB2_GLOBAL_CAP_DIRECTORY_LEASING")
    for d in ("dl", "dl\\sub", "dl2"):
        touch(b, d, options=FILE_DIRECTORY_FILE)
    touch(b, "dl\\existing.txt")
    touch(b, "dl2\\moving.txt")
    dl, dl2 = Lease(a, "dl"), Lease(a, "dl2")
    check(dl.granted == R | H, "RWH asked on a directory, RH granted (%r)" % dl.granted)

    touch(b, "dl\\new.txt")
    dl.expect_break("B creating dl\\new.txt")
    touch(b, "dl\\newdir", options=FILE_DIRECTORY_FILE)
    dl.expect_break("B making dl\\newdir")
    touch(b, "dl\\sub\\deeper.txt")
    dl.expect_none("B creating dl\\sub\\deeper.txt (a level down)")

    st, fid, _ = b.create("dl\\existing.txt", disposition=FILE_OPEN, access=READ_ONLY_ACCESS)
    b.c.call(READ, read_body(fid, 16))
    b.close(fid)
    dl.expect_none("B opening, reading and closing dl\\existing.txt")

    st, fid, _ = b.create("dl\\existing.txt", disposition=FILE_OPEN)
    check(b.c.call(WRITE, write_body(fid, b"changed")).status == SUCCESS, "B writes dl\\existing.txt")
    dl.expect_none("the WRITE itself")
    b.close(fid)
    dl.expect_break("B closing dl\\existing.txt after writing it")

    touch(b, "dl\\existing.txt", disposition=FILE_OVERWRITE_IF)
    dl.expect_break("B overwriting dl\\existing.txt")

    st, fid, _ = b.create("dl\\existing.txt", disposition=FILE_OPEN)
    basic = struct.pack("<QQQQII", 0, 0, 0, 0, ATTR_READONLY | ATTR_ARCHIVE, 0)
    check(b.set_info(fid, FILE_BASIC_INFO, basic) == SUCCESS, "B sets dl\\existing.txt read-only")
    dl.expect_break("B setting the attributes of dl\\existing.txt")
    basic = struct.pack("<QQQQII", 0, 0, 0, 0, ATTR_ARCHIVE, 0)
    b.set_info(fid, FILE_BASIC_INFO, basic)
    dl.expect_break("B clearing them again")
    b.close(fid)

    st, fid, _ = b.create("dl\\new.txt", disposition=FILE_OPEN)
    check(b.set_info(fid, FILE_RENAME_INFO, rename_info("dl\\renamed.txt")) == SUCCESS, "B renames dl\\new.txt")
    dl.expect_break("B renaming within dl")
    check(b.set_info(fid, FILE_LINK_INFO, rename_info("dl2\\linked.txt")) == SUCCESS,
          "B links dl\\renamed.txt as dl2\\linked.txt")
    dl2.expect_break("B linking a file into dl2")
    dl.expect_none("a link made elsewhere")
    b.close(fid)

    st, fid, _ = b.create("dl2\\moving.txt", disposition=FILE_OPEN)
    check(b.set_info(fid, FILE_RENAME_INFO, rename_info("dl\\moved.txt")) == SUCCESS,
          "B moves dl2\\moving.txt to dl")
    dl2.expect_break("the move, out of dl2")
    dl.expect_break("the move, into dl")
    b.close(fid)

    st, fid, _ = b.create("dl\\moved.txt", disposition=FILE_OPEN, options=FILE_NON_DIRECTORY_FILE | FILE_DELETE_ON_CLOSE)
    check(st == SUCCESS, "B opens dl\\moved.txt to delete it")
    dl.expect_none("the open that will delete")
    b.close(fid)
    dl.expect_break("the delete, at B's CLOSE")

    # A's own change with the lease as its ParentLeaseKey: A knows.
    st, fid, granted = a.create("dl\\mine.txt", disposition=FILE_CREATE, lease=(new_key(), R | H | W, dl.key))
    check(st == SUCCESS and lease_state(granted) == R | H | W, "A creates dl\\mine.txt with a file lease")
    dl.expect_none("A's CREATE naming the directory's lease as its parent")
    a.close(fid)
    # ... and without naming it: its own lease breaks like any other.
    st, fid, _ = a.create("dl\\mine2.txt", disposition=FILE_CREATE)
    a.close(fid)
    dl.expect_break("A's CREATE without a ParentLeaseKey")

    # The key alone spares a lease: B naming A's lease as its parent.
    st, fid, _ = b.create("dl\\theirs.txt", disposition=FILE_CREATE, lease=(new_key(), R | H, dl.key))
    check(st == SUCCESS, "B creates dl\\theirs.txt naming A's directory lease as its parent")
    dl.expect_none("B's CREATE naming A's lease as its parent")
    b.close(fid)

    # A size set breaks at once; the CLOSE after it breaks nothing more.
    st, fid, _ = b.create("dl\\theirs.txt", disposition=FILE_OPEN)
    check(b.set_info(fid, FILE_EOF_INFO, struct.pack("<Q", 4096)) == SUCCESS, "B sets the size of dl\\theirs.txt")
    dl.expect_break("B setting the end of file")
    b.close(fid)
    dl.expect_none("the CLOSE after the size was set")

    # B opening the directory itself changes nothing it lists.
    st, fid, _ = b.create("dl", options=FILE_DIRECTORY_FILE, access=DIR_ACCESS)
    b.close(fid)
    dl.expect_none("B opening and closing dl")
    a.close(dl.fid)
    a.close(dl2.fid)


def test_delete_both_ways():
    """The open whose CLOSE deletes spares the lease it names, if the open
    that asked for the delete named it too; otherwise every lease breaks."""
    a, b = Client(), Client()
    touch(b, "dd", options=FILE_DIRECTORY_FILE)
    d1, d2 = Lease(a, "dd"), Lease(a, "dd")
    for asker, closer, spared in ((d2, d2, d2), (d1, d2, None)):
        touch(b, "dd\\f.txt")
        d1.expect_break("B creating dd\\f.txt", rearm=False)
        d2.expect_break("the same CREATE", rearm=False)
        d1.rearm()
        d2.rearm()
        st, h1, _ = b.create("dd\\f.txt", disposition=FILE_OPEN, lease=(new_key(), R, d1.key))
        st, h2, _ = b.create("dd\\f.txt", disposition=FILE_OPEN, lease=(new_key(), R, d2.key))
        first, last = (h1, h2) if closer is d2 else (h2, h1)
        asking = h2 if asker is d2 else h1
        check(b.set_info(asking, FILE_DISPOSITION_INFO, b"\1") == SUCCESS, "B marks dd\\f.txt for deletion")
        b.close(first)
        d1.expect_none("the first CLOSE, which does not delete")
        d2.expect_none("the first CLOSE, which does not delete")
        b.close(last)
        what = "the deleting CLOSE (%s)" % ("same parent as the one that asked" if spared else
                                            "another parent than the one that asked")
        for lease in (d1, d2):
            if lease is spared:
                lease.expect_none(what)
            else:
                lease.expect_break(what, rearm=False)
        for lease in (d1, d2):
            if lease is not spared:
                lease.rearm()
    a.close(d1.fid)
    a.close(d2.fid)


def test_rename_into_held_dir():
    a, b = Client(), Client()
    touch(b, "rd", options=FILE_DIRECTORY_FILE)
    touch(b, "rd-target", options=FILE_DIRECTORY_FILE)
    touch(b, "rd\\f.txt")
    key = new_key()
    # A holds the target directory with DELETE access: a rename's own
    # open of the directory does not share deleting.
    for closes in (False, True):
        st, dfid, granted = a.create("rd-target", options=FILE_DIRECTORY_FILE, access=DIR_ACCESS | DELETE_ACCESS,
                                     lease=(key, R | H, None))
        check(lease_state(granted) == R | H, "A holds rd-target with DELETE access and an RH lease")
        st, fid, _ = b.create("rd\\f.txt", disposition=FILE_OPEN)
        mid = b.c.start(SET_INFO, set_info_body(fid, info_class=FILE_RENAME_INFO,
                                                 data=rename_info("rd-target\\f.txt")))
        got = a.breaks(key, 5.0, first=True)
        check(got == [(R | H, R, ACK_REQUIRED)], "B's rename into it asks A to give up H (%r)" % got)
        if closes:
            a.close(dfid)
        else:
            a.ack(key, R)
        st = b.c.wait(mid).status
        if closes:
            check(st == SUCCESS, "A closed its handle: the rename goes through (0x%08x)" % st)
        else:
            check(st == SHARING_VIOLATION, "A kept its handle: the rename is a sharing violation (0x%08x)" % st)
            a.close(dfid)
        b.close(fid)


def test_rename_dir_with_open_files():
    a, b = Client(), Client()
    for case in ("both close", "one keeps", "one caches nothing"):
        base = "rdir-%s" % case.replace(" ", "-")
        touch(b, base, options=FILE_DIRECTORY_FILE)
        keys, fids = [new_key(), new_key()], {}
        for i, key in enumerate(keys):
            lease = None if case == "one caches nothing" and i == 1 else (key, R | H, None)
            st, fids[key], _ = a.create("%s\\f%d.txt" % (base, i), disposition=FILE_CREATE, lease=lease)
        st, dfid, _ = b.create(base, options=FILE_DIRECTORY_FILE, access=DIR_ACCESS | DELETE_ACCESS)
        mid = b.c.start(SET_INFO, set_info_body(dfid, info_class=FILE_RENAME_INFO, data=rename_info(base + "-moved")))
        if case == "one caches nothing":
            st = b.c.wait(mid).status
            check(st == ACCESS_DENIED, "%s: the rename is refused at once (0x%08x)" % (case, st))
            check(not a.breaks(keys[0], QUIET), "%s: and nothing is broken" % case)
        else:
            waiting = list(keys)
            while waiting:
                key, got = a.next_break(waiting, 5.0)
                check(got == (R | H, R, ACK_REQUIRED), "%s: a holder is asked to give up H (%r)" % (case, got))
                if key is None:
                    break
                waiting.remove(key)
                check(all(not a.breaks(k, QUIET) for k in waiting), "%s: one break at a time" % case)
                if case == "one keeps":
                    a.ack(key, R)
                    break
                a.close(fids.pop(key))
            st = b.c.wait(mid).status
            want = SUCCESS if case == "both close" else ACCESS_DENIED
            check(st == want, "%s: the rename ends with 0x%08x (0x%08x)" % (case, want, st))
            if case == "one keeps":
                check(all(not a.breaks(k, QUIET) for k in waiting), "%s: the other is not asked" % case)
        for fid in fids.values():
            a.close(fid)
        b.close(dfid)


def no_directory_leases(a, why):
    check(not a.caps & CAP_DIRECTORY_LEASING, "%s: NEGOTIATE does not offer SMB2_GLOBAL_CAP_DIRECTORY_LEASING" % why)
    name = "off-" + uuid.uuid4().hex[:8]
    touch(a, name, options=FILE_DIRECTORY_FILE)
    st, fid, granted = a.create(name, options=FILE_DIRECTORY_FILE, access=DIR_ACCESS, lease=(new_key(), R | H, None))
    check(st == SUCCESS and granted is None, "%s: a directory gets no lease (%r)" % (why, granted))
    a.close(fid)
    st, fid, granted = a.create(name + "\\f.txt", lease=(new_key(), R | H | W, None))
    check(st == SUCCESS and lease_state(granted) == R | H | W, "%s: a file still gets its lease" % why)
    a.close(fid)


def test_outside_changes():
    """A local process changing the listing on the share's file system
    (not through the server) breaks the lease as B's changes do; reading
    a file, or a change a level down, breaks nothing."""
    a, b = Client(), Client()
    touch(b, "out", options=FILE_DIRECTORY_FILE)
    touch(b, "out\\sub", options=FILE_DIRECTORY_FILE)
    touch(b, "out\\f.txt")
    d = Lease(a, "out")
    base = os.path.join(SHARE_DIR, "out")
    with open(os.path.join(base, "f.txt"), "rb") as f:
        f.read()
    d.expect_none("a local process reading out/f.txt")
    open(os.path.join(base, "sub", "deeper.txt"), "w").close()
    d.expect_none("a local process creating out/sub/deeper.txt (a level down)")
    fd = os.open(os.path.join(base, "local.txt"), os.O_CREAT | os.O_EXCL | os.O_RDONLY, 0o644)
    d.expect_break("a local process creating out/local.txt")
    os.close(fd)
    with open(os.path.join(base, "local.txt"), "a") as f:
        f.write("more")
    d.expect_break("a local process closing out/local.txt after writing it")
    os.chmod(os.path.join(base, "local.txt"), 0o600)
    d.expect_break("a local process changing the mode of out/local.txt")
    os.rename(os.path.join(base, "local.txt"), os.path.join(base, "renamed.txt"))
    d.expect_break("a local process renaming within out")
    os.rename(os.path.join(base, "renamed.txt"), os.path.join(base, "sub", "renamed.txt"))
    d.expect_break("a local process moving a file out of out")
    os.mkdir(os.path.join(base, "made"))
    d.expect_break("a local process making out/made")
    os.rmdir(os.path.join(base, "made"))
    d.expect_break("a local process removing out/made")
    os.unlink(os.path.join(base, "f.txt"))
    d.expect_break("a local process deleting out/f.txt")
    a.close(d.fid)


def test_not_asked():
    # impacket 0.10 fails every CREATE against a server offering what it did not ask for.
    no_directory_leases(Client(caps=0x7F & ~CAP_DIRECTORY_LEASING), "a client that does not ask for them")


def test_off():
    no_directory_leases(Client(), "turned off")


def main():
    tests = (test_off,) if OFF else (test_breaks, test_delete_both_ways, test_rename_into_held_dir,
                                     test_rename_dir_with_open_files, test_not_asked)
    if SHARE_DIR is not None and not OFF:
        tests += (test_outside_changes,)
    check.run(tests, (smb2raw.Dropped, Timeout, OSError, RuntimeError))


if __name__ == "__main__":
    main()
