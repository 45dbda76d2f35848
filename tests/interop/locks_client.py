#!/usr/bin/python3
"""SMB2 byte-range locks against Porthos, as two virtualisation hosts
sharing one image file would meet them: two connections (hosts A and B),
raw LOCK requests on impacket's SMB3 layer (its own lock() is broken on
Python 3), READ/WRITE through impacket. SMB 2.1, so that the raw replies
are never encrypted: the lock rules do not depend on the dialect.

What it asserts (MS-SMB2 3.3.5.14, MS-FSA byte-range locks):
 - locks are mandatory: another host's READ/WRITE in an exclusive range,
   and any WRITE in a shared range, fail with FILE_LOCK_CONFLICT;
 - FAIL_IMMEDIATELY conflicts give LOCK_NOT_GRANTED; a request of several
   locks is all or nothing;
 - a blocking lock goes async (interim STATUS_PENDING) and is granted when
   the holder unlocks, or when the holder's connection drops (a crashed
   host); CANCEL ends it with STATUS_CANCELLED; closing its own handle
   ends it with RANGE_NOT_LOCKED;
 - validation: LockCount 0, bad flags, mixed unlock/lock, ranges past
   2^64, unlock of what is not locked, locks on a directory.

usage: locks_client.py host port share user password
"""
import struct
import sys
import time

from impacket import smb3, smb3structs as s3
from impacket.smbconnection import SessionError

from smb2raw import Checks, Session, request

host, port, share, user, password = sys.argv[1:6]

STATUS_SUCCESS = 0
STATUS_PENDING = 0x00000103
STATUS_INVALID_PARAMETER = 0xC000000D
STATUS_FILE_LOCK_CONFLICT = 0xC0000054
STATUS_LOCK_NOT_GRANTED = 0xC0000055
STATUS_RANGE_NOT_LOCKED = 0xC000007E
STATUS_CANCELLED = 0xC0000120
STATUS_INVALID_LOCK_RANGE = 0xC00001A1

SHARED, EXCL, UNLOCK, FAIL = 0x1, 0x2, 0x4, 0x10

check = Checks()
failures = check.failures


class Host(Session):
    """One client connection with raw LOCK requests."""

    def __init__(self, name):
        super().__init__(host, port, user, password, share, s3.SMB2_DIALECT_21)
        self.name = name

    def open(self, path, directory=False):
        access = s3.FILE_READ_DATA | s3.FILE_WRITE_DATA | s3.FILE_READ_ATTRIBUTES
        opts = s3.FILE_NON_DIRECTORY_FILE
        if directory:
            access = s3.FILE_LIST_DIRECTORY | s3.FILE_READ_ATTRIBUTES
            opts = s3.FILE_DIRECTORY_FILE
        return self.smb.create(self.tid, path, access,
                               s3.FILE_SHARE_READ | s3.FILE_SHARE_WRITE | s3.FILE_SHARE_DELETE,
                               opts, s3.FILE_OPEN_IF if not directory else s3.FILE_OPEN, 0)

    def close(self, fid):
        try:
            self.smb.close(self.tid, fid)
        except KeyError:
            pass  # sent and answered; impacket keys its file table by name, not handle

    def send_lock(self, fid, elements, count=None):
        body = b''.join(struct.pack('<QQII', off, length, flags, 0) for off, length, flags in elements)
        if not elements:
            body = b'\0' * 24  # StructureSize 48 counts one element
        req = s3.SMB2Lock()
        req['LockCount'] = len(elements) if count is None else count
        req['FileID'] = fid
        req['Locks'] = body
        return self.smb.sendSMB(request(self.smb, self.tid, s3.SMB2_LOCK, req, charge=1))

    def lock(self, fid, elements, count=None):
        p = self.recv(self.send_lock(fid, elements, count))
        return None if p is None else p['Status']

    def read(self, fid, off, length):
        try:
            self.smb.read(self.tid, fid, off, length)
            return STATUS_SUCCESS
        except (SessionError, smb3.SessionError) as e:
            return e.get_error_code()

    def write(self, fid, off, data):
        try:
            self.smb.write(self.tid, fid, data, off, len(data))
            return STATUS_SUCCESS
        except (SessionError, smb3.SessionError) as e:
            return e.get_error_code()

    def drop(self):
        """The host dies: its TCP connection goes without LOGOFF or CLOSE."""
        self.smb._NetBIOSSession.close()


def expect(got, want, what):
    return check(got == want, "%s: 0x%08x (want 0x%08x)" % (what, got if got is not None else 0xFFFFFFFF, want))


a = Host("A")
b = Host("B")
fa = a.open("locks.img")
a.write(fa, 0, b'\x5a' * 4096)
fb = b.open("locks.img")

# --- mandatory locks ---------------------------------------------------------
expect(a.lock(fa, [(0, 512, EXCL | FAIL)]), STATUS_SUCCESS, "A: exclusive lock 0/512")
expect(a.read(fa, 0, 512), STATUS_SUCCESS, "A reads its own exclusive range")
expect(a.write(fa, 0, b'a' * 16), STATUS_SUCCESS, "A writes its own exclusive range")
expect(b.read(fb, 0, 512), STATUS_FILE_LOCK_CONFLICT, "B reads A's exclusive range")
expect(b.read(fb, 511, 2), STATUS_FILE_LOCK_CONFLICT, "B reads across the range's last byte")
expect(b.read(fb, 512, 512), STATUS_SUCCESS, "B reads just past the range")
# (A zero-byte read is smbtorture smb2.lock.zerobyteread's: impacket
# charges it 0 credits and then reuses its message id.)
expect(b.write(fb, 100, b'b' * 10), STATUS_FILE_LOCK_CONFLICT, "B writes A's exclusive range")
expect(b.lock(fb, [(0, 1, SHARED | FAIL)]), STATUS_LOCK_NOT_GRANTED, "B: shared lock inside A's exclusive")
expect(b.lock(fb, [(0, 1, SHARED | FAIL)]), STATUS_LOCK_NOT_GRANTED,
       "B: the same failed lock again is still LOCK_NOT_GRANTED")

expect(a.lock(fa, [(2048, 100, SHARED | FAIL)]), STATUS_SUCCESS, "A: shared lock 2048/100")
expect(b.lock(fb, [(2048, 100, SHARED | FAIL)]), STATUS_SUCCESS, "B: shared lock on the same range")
expect(b.read(fb, 2048, 100), STATUS_SUCCESS, "B reads a shared range")
expect(a.write(fa, 2048, b'x'), STATUS_FILE_LOCK_CONFLICT, "A writes a range it holds shared")
expect(b.lock(fb, [(2048, 100, UNLOCK)]), STATUS_SUCCESS, "B unlocks its shared lock")
expect(a.lock(fa, [(2048, 100, UNLOCK)]), STATUS_SUCCESS, "A unlocks its shared lock")
expect(b.write(fb, 2048, b'x'), STATUS_SUCCESS, "B writes the range once unlocked")

# --- all or nothing ----------------------------------------------------------
expect(b.lock(fb, [(1024, 10, EXCL | FAIL), (500, 100, EXCL | FAIL)]), STATUS_LOCK_NOT_GRANTED,
       "B: two locks, the second conflicts")
expect(a.lock(fa, [(1024, 10, EXCL | FAIL)]), STATUS_SUCCESS, "the first of B's two was undone")
expect(a.lock(fa, [(1024, 10, UNLOCK)]), STATUS_SUCCESS, "A unlocks 1024/10")

# --- blocking lock granted on unlock -------------------------------------------
mid = b.send_lock(fb, [(0, 512, EXCL)])
check(b.wait_interim(mid), "B: blocking lock gets an interim STATUS_PENDING")
time.sleep(0.2)
expect(a.lock(fa, [(0, 512, UNLOCK)]), STATUS_SUCCESS, "A unlocks 0/512")
p = b.recv(mid)
expect(None if p is None else p['Status'], STATUS_SUCCESS, "B's blocking lock is granted")
expect(b.write(fb, 0, b'b' * 16), STATUS_SUCCESS, "B writes the range it now holds")
expect(a.read(fa, 0, 16), STATUS_FILE_LOCK_CONFLICT, "A reads B's range")

# --- CANCEL, and closing the waiting handle -----------------------------------------
mid = a.send_lock(fa, [(0, 512, SHARED)])
check(a.wait_interim(mid), "A: blocking lock waits")
a.cancel_async(mid)
p = a.recv(mid)
expect(None if p is None else p['Status'], STATUS_CANCELLED, "CANCEL ends A's blocking lock")

fa2 = a.open("locks.img")
mid = a.send_lock(fa2, [(0, 512, EXCL)])
check(a.wait_interim(mid), "A: blocking lock on a second handle waits")
a.close(fa2)
p = a.recv(mid)
expect(None if p is None else p['Status'], STATUS_RANGE_NOT_LOCKED,
       "closing the waiting handle ends its lock request")

# --- a host dies while holding a lock ---------------------------------------------
mid = a.send_lock(fa, [(0, 512, EXCL)])
check(a.wait_interim(mid), "A: blocking lock waits for B's lock")
b.drop()
p = a.recv(mid)
expect(None if p is None else p['Status'], STATUS_SUCCESS, "B's connection drops: A's lock is granted")
expect(a.write(fa, 0, b'A' * 16), STATUS_SUCCESS, "A writes the range")

# --- validation ----------------------------------------------------------------
expect(a.lock(fa, [], count=0), STATUS_INVALID_PARAMETER, "LockCount 0")
expect(a.lock(fa, [(0, 1, 0)]), STATUS_INVALID_PARAMETER, "flags 0")
expect(a.lock(fa, [(0, 1, SHARED | EXCL | FAIL)]), STATUS_INVALID_PARAMETER, "shared and exclusive")
expect(a.lock(fa, [(0, 1, UNLOCK | EXCL)]), STATUS_INVALID_PARAMETER, "unlock with exclusive")
expect(a.lock(fa, [(3000, 1, SHARED), (3001, 1, SHARED)]), STATUS_INVALID_PARAMETER,
       "a blocking lock among several")
expect(a.lock(fa, [(0xFFFFFFFFFFFFFFFF, 2, EXCL | FAIL)]), STATUS_INVALID_LOCK_RANGE, "a range past 2^64")
expect(a.lock(fa, [(0xFFFFFFFFFFFFFFFF, 1, EXCL | FAIL)]), STATUS_SUCCESS, "the last byte of 2^64")
expect(a.lock(fa, [(0xFFFFFFFFFFFFFFFF, 1, UNLOCK)]), STATUS_SUCCESS, "unlock the last byte")
expect(a.lock(fa, [(7, 7, UNLOCK)]), STATUS_RANGE_NOT_LOCKED, "unlock of what is not locked")
expect(a.lock(fa, [(0, 511, UNLOCK)]), STATUS_RANGE_NOT_LOCKED, "unlock of part of a lock")
expect(a.lock(fa, [(4000, 10, EXCL | FAIL)]), STATUS_SUCCESS, "A locks 4000/10")
expect(a.lock(fa, [(4000, 10, UNLOCK), (4000, 10, EXCL | FAIL)]), STATUS_INVALID_PARAMETER,
       "unlock then lock in one request")
expect(a.lock(fa, [(4000, 10, UNLOCK)]), STATUS_RANGE_NOT_LOCKED, "...whose unlock stayed done")
expect(a.lock(fa, [(0, 512, UNLOCK)]), STATUS_SUCCESS, "A unlocks 0/512")
a.close(fa)

a.conn.createDirectory(share, "lockdir")
d = a.open("lockdir", directory=True)
expect(a.lock(d, [(0, 1, EXCL | FAIL)]), STATUS_INVALID_PARAMETER, "a lock on a directory")
a.close(d)

if failures:
    print("%d check(s) failed" % len(failures))
    sys.exit(1)
print("all lock checks passed")
