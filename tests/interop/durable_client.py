#!/usr/bin/python3
"""Durable handles (smbd/durable.h) from raw sockets (run by durable.sh):
what smbtorture's durable suites of Samba 4.17 do not look at.

  - a v2 durable open with a batch oplock outlives its dropped connection:
    a stat open by another client leaves it be, and its client takes it
    back on a new connection with its data, its byte-range lock and its
    oplock; the reply carries no DH2Q context;
  - another user asking for it gets ACCESS_DENIED, a wrong CreateGuid or
    file id OBJECT_NAME_NOT_FOUND, and it stays for its owner;
  - another client that needs what it caches (a read/write open) gets the
    file at once: the durable open is closed, and its client then finds
    nothing to take back;
  - one left alone past its time-out is closed (and then unlocked);
  - a share with "durable handles = no" grants none;
  - at most "max open files" wait at once: the rest are closed at the
    disconnect, and the log says so;
  - FSCTL_LMR_REQUEST_RESILIENCY on SMB 2.1: a plain open (no oplock)
    is kept after its connection drops, others are kept out, its client
    takes it back with a DHnC; a resent LOCK with the same lock sequence
    is not done twice; too long a time-out, a short request and SMB 2.0.2
    are refused; past its time-out it is closed;
  - AppInstanceId: an instance's open from another client closes the one
    its earlier instance left, open or disconnected, without a break; from
    the same client it does not; on 3.1.1 an older AppInstanceVersion gets
    FILE_FORCED_CLOSED and a newer one takes over.

Usage: durable_client.py HOST PORT USER PASSWORD USER2 PASSWORD2 SHARE_DIR SERVER_LOG
"""
import os
import struct
import sys
import time
import uuid

import smb2raw
from smb2raw import (CLOSE, CREATE, LOCK, READ, SUCCESS, WRITE, Checks, close_body, contexts, read_body,
                     reply_contexts, write_body)

HOST, PORT, USER, PASSWORD, USER2, PASSWORD2 = sys.argv[1], int(sys.argv[2]), *sys.argv[3:7]
SHARE_DIR, LOG = sys.argv[7], sys.argv[8]

ACCESS_DENIED = 0xC0000022
NAME_NOT_FOUND = 0xC0000034
LOCK_NOT_GRANTED = 0xC0000055
FORCED_CLOSED = 0xC00000B6
FILE_CLOSED = 0xC0000128
NAMES = {SUCCESS: "SUCCESS", ACCESS_DENIED: "ACCESS_DENIED", NAME_NOT_FOUND: "OBJECT_NAME_NOT_FOUND",
         LOCK_NOT_GRANTED: "LOCK_NOT_GRANTED", FORCED_CLOSED: "FILE_FORCED_CLOSED", FILE_CLOSED: "FILE_CLOSED"}
# MS-SMB2 2.2.13.2: the names of these two contexts are GUIDs.
APP_INSTANCE_ID = uuid.UUID("6aa6bc45-a7ef-4af7-9008-fa462e144d74").bytes_le
APP_INSTANCE_VERSION = uuid.UUID("b7d082b9-563b-4f07-a07b-524a8116a010").bytes_le
BATCH = 0x09
READ_ATTRIBUTES = 0x00000080

check = Checks()


def sname(st):
    return smb2raw.sname(st, NAMES)


def logged(what):
    with open(LOG, errors="replace") as f:
        return f.read().count(what)


def create_body(name, ctx=b"", access=smb2raw.FILE_ACCESS, share=7, oplock=0, disposition=smb2raw.FILE_OPEN_IF):
    n = name.encode("utf-16-le")
    name_off = 64 + 56
    ctx_off = (name_off + len(n) + 7) // 8 * 8 if ctx else 0
    body = struct.pack("<HBBIQQIIIIIHHII", 57, 0, oplock, 2, 0, 0, access, 0, share, disposition, 0x40, name_off,
                       len(n), ctx_off, len(ctx)) + n
    if ctx:
        body += b"\0" * (ctx_off - 64 - len(body))
    return body + ctx if ctx or n else body + b"\0"


def dh2q(guid, timeout_ms=10000):
    return (b"DH2Q", struct.pack("<II8s16s", timeout_ms, 0, b"\0" * 8, guid))


def dh2c(fid, guid):
    return (b"DH2C", fid + guid + struct.pack("<I", 0))


def app_id(instance):
    return (APP_INSTANCE_ID, struct.pack("<HH16s", 20, 0, instance))


def app_version(high, low):
    return (APP_INSTANCE_VERSION, struct.pack("<HHIQQ", 24, 0, 0, high, low))


def session(user=USER, password=PASSWORD, guid=None, share="test", smb311=False, dialect=0x0300):
    c = smb2raw.Conn(HOST, PORT, timeout=20.0)
    c.client_guid = guid if guid is not None else uuid.uuid4().bytes
    st = smb2raw.negotiate_311(c) if smb311 else smb2raw.negotiate(c, (dialect,))
    if st == SUCCESS:
        st = smb2raw.ntlm_login(c, user, password)
    if st == SUCCESS:
        st = smb2raw.tree_connect(c, "\\\\%s\\%s" % (HOST, share))
    if st != SUCCESS:
        raise RuntimeError("session setup: %s" % sname(st))
    return c


def durable_open(c, name, guid, timeout_ms=10000):
    """(status, fid, the reply) of a batch-oplock open asking for a v2 durable handle."""
    r = c.call(CREATE, create_body(name, contexts([dh2q(guid, timeout_ms)]), oplock=BATCH))
    return r.status, (r.body[64:80] if r.status == SUCCESS else None), r


def reconnect(c, name, fid, guid):
    r = c.call(CREATE, create_body(name, contexts([dh2c(fid, guid)])))
    return r.status, (r.body[64:80] if r.status == SUCCESS else None), r


def lock_body(fid, offset, length, flags, sequence=0):
    return struct.pack("<HHI16s", 48, 1, sequence, fid) + struct.pack("<QQII", offset, length, flags, 0)


def lock(c, fid, offset, length, flags, sequence=0):
    return c.call(LOCK, lock_body(fid, offset, length, flags, sequence)).status


def write(c, fid, data, offset=0):
    return c.call(WRITE, write_body(fid, data, offset)).status


def read(c, fid, length, offset=0):
    r = c.call(READ, read_body(fid, length, offset))
    if r.status != SUCCESS:
        return None
    off, n = r.body[2], struct.unpack_from("<I", r.body, 4)[0]
    return r.raw[off:off + n]


def drop(c):
    """The client's connection breaks (no LOGOFF, no CLOSE)."""
    c.close()
    time.sleep(0.3)  # the server notices


EXCLUSIVE, UNLOCK, FAIL_IMMEDIATELY = 0x2, 0x4, 0x10


def test_reconnect():
    print("== a v2 durable open outlives its connection, with its data, lock and oplock", flush=True)
    guid, create_guid = uuid.uuid4().bytes, uuid.uuid4().bytes
    c = session(guid=guid)
    st, fid, r = durable_open(c, "kept.dat", create_guid)
    ctx = reply_contexts(r) if st == SUCCESS else {}
    check(st == SUCCESS and r.body[2] == BATCH, "CREATE with DH2Q and a batch oplock: %s" % sname(st))
    check(ctx.get(b"DH2Q", b"")[:4] == struct.pack("<I", 10000), "granted, for the 10 s asked (%r)" % ctx)
    check(write(c, fid, b"written before the drop") == SUCCESS, "WRITE")
    check(lock(c, fid, 100, 10, EXCLUSIVE | FAIL_IMMEDIATELY) == SUCCESS, "LOCK 100-109")
    drop(c)
    check(logged("kept for 10000 ms") == 1, "the server kept it (log)")

    other = session(user=USER2, password=PASSWORD2)
    st, sfid = smb2raw.create(other, "kept.dat", access=READ_ATTRIBUTES)
    check(st == SUCCESS, "another client's stat open: %s" % sname(st))
    other.call(CLOSE, close_body(sfid))
    st, _, _ = reconnect(other, "kept.dat", fid, create_guid)
    check(st == ACCESS_DENIED, "another user's DH2C: %s" % sname(st))
    other.close()

    c = session(guid=guid)
    st, _, _ = reconnect(c, "kept.dat", fid, uuid.uuid4().bytes)
    check(st == NAME_NOT_FOUND, "DH2C with another CreateGuid: %s" % sname(st))
    st, _, _ = reconnect(c, "kept.dat", b"\x77" * 16, create_guid)
    check(st == NAME_NOT_FOUND, "DH2C with an unknown file id: %s" % sname(st))
    st, fid2, r = reconnect(c, "kept.dat", fid, create_guid)
    check(st == SUCCESS and fid2 == fid, "its owner takes it back, same file id: %s" % sname(st))
    check(st == SUCCESS and r.body[2] == BATCH, "with its batch oplock")
    check(st == SUCCESS and b"DH2Q" not in reply_contexts(r), "and no DH2Q context in the reply")
    check(read(c, fid, 100) == b"written before the drop", "READ through it finds the data")
    check(lock(c, fid, 100, 10, UNLOCK) == SUCCESS, "its lock was kept: UNLOCK 100-109 succeeds")
    check(c.call(CLOSE, close_body(fid)).status == SUCCESS, "CLOSE")
    st, _, _ = reconnect(c, "kept.dat", fid, create_guid)
    check(st == NAME_NOT_FOUND, "after a CLOSE there is nothing to take back: %s" % sname(st))
    c.close()


def left_locked(name, timeout_ms=10000):
    """A durable open that locked byte 0, left behind by a dropped
    connection: (ClientGuid, CreateGuid, file id)."""
    guid, create_guid = uuid.uuid4().bytes, uuid.uuid4().bytes
    c = session(guid=guid)
    st, fid, _ = durable_open(c, name, create_guid, timeout_ms)
    check(st == SUCCESS, "durable open for %d ms: %s" % (timeout_ms, sname(st)))
    check(lock(c, fid, 0, 1, EXCLUSIVE | FAIL_IMMEDIATELY) == SUCCESS, "LOCK 0")
    drop(c)
    return guid, create_guid, fid


def test_purge():
    print("== another client that needs what it caches closes it", flush=True)
    guid, create_guid, fid = left_locked("purged.dat")
    n0 = logged("another open needs what it caches")
    other = session(user=USER2, password=PASSWORD2)
    t0 = time.monotonic()
    st, ofid = smb2raw.create(other, "purged.dat")
    check(st == SUCCESS and time.monotonic() - t0 < 5, "a read/write open gets in at once: %s" % sname(st))
    check(logged("another open needs what it caches") == n0 + 1, "the durable open was closed (log)")
    check(lock(other, ofid, 0, 1, EXCLUSIVE | FAIL_IMMEDIATELY) == SUCCESS, "its lock went with it")
    other.close()
    c = session(guid=guid)
    st, _, _ = reconnect(c, "purged.dat", fid, create_guid)
    check(st == NAME_NOT_FOUND, "its client finds nothing to take back: %s" % sname(st))
    c.close()


def test_timeout():
    print("== one left alone past its time-out is closed", flush=True)
    guid, create_guid, fid = left_locked("expired.dat", timeout_ms=1000)
    time.sleep(2.0)
    check(logged("not reconnected within 1000 ms") == 1, "closed after 1 s (log)")
    c = session(guid=guid)
    st, _, _ = reconnect(c, "expired.dat", fid, create_guid)
    check(st == NAME_NOT_FOUND, "then DH2C: %s" % sname(st))
    st, nfid = smb2raw.create(c, "expired.dat")
    check(lock(c, nfid, 0, 1, EXCLUSIVE | FAIL_IMMEDIATELY) == SUCCESS, "and its lock is gone")
    c.close()


IOCTL = 11
FSCTL_LMR_REQUEST_RESILIENCY = 0x001401D4
INVALID_PARAMETER = 0xC000000D
INVALID_DEVICE_REQUEST = 0xC0000010
SHARING_VIOLATION = 0xC0000043
NAMES.update({INVALID_PARAMETER: "INVALID_PARAMETER", INVALID_DEVICE_REQUEST: "INVALID_DEVICE_REQUEST",
              SHARING_VIOLATION: "SHARING_VIOLATION"})


def request_resiliency(c, fid, timeout_ms, length=8):
    """FSCTL_LMR_REQUEST_RESILIENCY (MS-SMB2 2.2.31.3), the first 'length' bytes of its input."""
    data = struct.pack("<II", timeout_ms, 0)[:length]
    body = struct.pack("<HHI16sIIIIIIII", 57, 0, FSCTL_LMR_REQUEST_RESILIENCY, fid, 64 + 56, len(data), 0, 0, 0, 0,
                       1, 0) + data
    return c.call(IOCTL, body).status


def plain_open(c, name, share=0):
    r = c.call(CREATE, create_body(name, share=share))
    return r.status, (r.body[64:80] if r.status == SUCCESS else None)


def test_resilient():
    print("== FSCTL_LMR_REQUEST_RESILIENCY: a plain 2.1 open outlives its connection", flush=True)
    guid = uuid.uuid4().bytes
    c = session(guid=guid, dialect=0x0210)
    st, fid = plain_open(c, "resilient.dat")
    check(st == SUCCESS, "open without oplock or sharing: %s" % sname(st))
    # Not resilient yet: on 2.1, without a sibling channel, a resent LOCK is done again (and fails).
    check(lock(c, fid, 0, 1, EXCLUSIVE | FAIL_IMMEDIATELY, (1 << 4) | 1) == SUCCESS, "LOCK 0 (sequence 1/1)")
    st = lock(c, fid, 0, 1, EXCLUSIVE | FAIL_IMMEDIATELY, (1 << 4) | 1)
    check(st == LOCK_NOT_GRANTED, "resent before resiliency: done again, %s" % sname(st))
    st = request_resiliency(c, fid, 301 * 1000)
    check(st == INVALID_PARAMETER, "a time-out past 5 minutes: %s" % sname(st))
    st = request_resiliency(c, fid, 5000, length=4)
    check(st == INVALID_PARAMETER, "a request of 4 bytes: %s" % sname(st))
    st = request_resiliency(c, fid, 5000)
    check(st == SUCCESS, "resiliency for 5 s: %s" % sname(st))
    check(lock(c, fid, 10, 1, EXCLUSIVE | FAIL_IMMEDIATELY, (2 << 4) | 1) == SUCCESS, "LOCK 10 (sequence 2/1)")
    st = lock(c, fid, 10, 1, EXCLUSIVE | FAIL_IMMEDIATELY, (2 << 4) | 1)
    check(st == SUCCESS, "resent with the same sequence: answered, not done twice (%s)" % sname(st))
    check(write(c, fid, b"resilient data") == SUCCESS, "WRITE")
    n0 = logged("kept for 5000 ms")
    drop(c)
    check(logged("kept for 5000 ms") == n0 + 1, "kept after the drop though it caches nothing (log)")

    other = session(user=USER2, password=PASSWORD2)
    st, _ = plain_open(other, "resilient.dat", share=7)
    check(st == SHARING_VIOLATION, "another client is kept out: %s" % sname(st))
    other.close()

    c = session(guid=guid, dialect=0x0210)
    r = c.call(CREATE, create_body("resilient.dat", contexts([(b"DHnC", fid)])))
    check(r.status == SUCCESS and r.body[64:80] == fid, "its client takes it back with DHnC: %s" % sname(r.status))
    check(read(c, fid, 100) == b"resilient data", "with its data")
    check(lock(c, fid, 10, 1, UNLOCK) == SUCCESS, "and its lock")
    check(c.call(CLOSE, close_body(fid)).status == SUCCESS, "CLOSE")
    c.close()

    print("== a resilient open left past its time-out is closed; 2.0.2 has none", flush=True)
    c = session(dialect=0x0210)
    st, fid = plain_open(c, "resilient2.dat")
    check(request_resiliency(c, fid, 1000) == SUCCESS, "resiliency for 1 s")
    drop(c)
    time.sleep(2.0)
    other = session(user=USER2, password=PASSWORD2)
    st, ofid = plain_open(other, "resilient2.dat", share=7)
    check(st == SUCCESS, "after its time-out another client gets in: %s" % sname(st))
    other.close()
    c = session(dialect=0x0202)
    st, fid = plain_open(c, "resilient3.dat")
    st = request_resiliency(c, fid, 1000)
    check(st == INVALID_DEVICE_REQUEST, "SMB 2.0.2: %s" % sname(st))
    c.close()


def test_not_on_share():
    print("== a share with 'durable handles = no' grants none", flush=True)
    c = session(share="nodurable")
    st, fid, r = durable_open(c, "plain.dat", uuid.uuid4().bytes)
    check(st == SUCCESS and b"DH2Q" not in reply_contexts(r), "no DH2Q context: %s" % sname(st))
    c.close()


def test_bounded():
    print("== at most 'max open files' (4 here) wait at once", flush=True)
    n0 = logged("disconnected ones kept already")
    k0 = logged("kept for 10000 ms")
    conns = []
    for i in range(2):
        c = session()
        for j in range(3):
            st, _, _ = durable_open(c, "many%d_%d.dat" % (i, j), uuid.uuid4().bytes)
            check(st == SUCCESS, "durable open %d.%d: %s" % (i, j, sname(st)))
        conns.append(c)
    for c in conns:
        drop(c)
    check(logged("kept for 10000 ms") - k0 == 4, "four kept (log: %d)" % (logged("kept for 10000 ms") - k0))
    check(logged("disconnected ones kept already") - n0 == 2, "two closed at the disconnect, and logged")


def app_open(c, name, instance, version=None, share=0):
    """(status, fid) of a batch-oplock v2 durable open naming an application instance."""
    items = [dh2q(uuid.uuid4().bytes), app_id(instance)] + ([app_version(*version)] if version else [])
    r = c.call(CREATE, create_body(name, contexts(items), oplock=BATCH, share=share))
    return r.status, (r.body[64:80] if r.status == SUCCESS else None), r


def no_break_within(c, seconds):
    """True if nothing (an oplock break) comes to c within 'seconds'."""
    try:
        c.recv_replies(timeout=seconds)
        return False
    except smb2raw.Timeout:
        return True


def test_app_instance():
    print("== AppInstanceId: an instance starting again elsewhere takes its file", flush=True)
    inst = uuid.uuid4().bytes
    a = session()
    st, afid, _ = app_open(a, "vm1.vhdx", inst)
    check(st == SUCCESS, "host A opens with the instance id: %s" % sname(st))
    b = session()
    st, bfid, r = app_open(b, "vm1.vhdx", inst)
    check(st == SUCCESS and r.body[2] == BATCH, "host B, same instance, no sharing: %s, oplock 0x%x" %
          (sname(st), r.body[2] if st == SUCCESS else 0))
    check(no_break_within(a, 1.0), "host A got no break")
    check(a.call(CLOSE, close_body(afid)).status == FILE_CLOSED, "host A's handle was closed")
    b.call(CLOSE, close_body(bfid))
    a.close()
    b.close()

    print("== ... also a durable handle left by a host that went away", flush=True)
    inst = uuid.uuid4().bytes
    guid = uuid.uuid4().bytes
    a = session(guid=guid)
    st, afid, r = app_open(a, "vm2.vhdx", inst)
    check(st == SUCCESS and b"DH2Q" in reply_contexts(r), "host A opens, durable: %s" % sname(st))
    drop(a)
    b = session()
    n0 = logged("its application instance opened it again")
    t0 = time.monotonic()
    st, bfid, _ = app_open(b, "vm2.vhdx", inst)
    check(st == SUCCESS and time.monotonic() - t0 < 5, "host B gets it at once: %s" % sname(st))
    check(logged("its application instance opened it again") == n0 + 1, "the left handle was closed (log)")
    b.call(CLOSE, close_body(bfid))
    b.close()

    print("== ... but not from the same client", flush=True)
    inst = uuid.uuid4().bytes
    guid = uuid.uuid4().bytes
    a = session(guid=guid)
    st, afid, _ = app_open(a, "vm3.vhdx", inst, share=7)
    check(st == SUCCESS, "host A opens, sharing all: %s" % sname(st))
    a2 = session(guid=guid)
    r = a2.call(CREATE, create_body("vm3.vhdx", contexts([app_id(inst)]), access=READ_ATTRIBUTES))
    check(r.status == SUCCESS, "a second open with the same instance from the same client: %s" % sname(r.status))
    check(write(a, afid, b"x") == SUCCESS, "the first is still open (a WRITE through it)")
    a.call(CLOSE, close_body(afid))
    a.close()
    a2.close()

    print("== AppInstanceVersion (3.1.1): an older one cannot take over", flush=True)
    inst = uuid.uuid4().bytes
    a = session(smb311=True)
    st, afid, _ = app_open(a, "vm4.vhdx", inst, version=(2, 0))
    check(st == SUCCESS, "version 2.0 opens: %s" % sname(st))
    b = session(smb311=True)
    st, _, _ = app_open(b, "vm4.vhdx", inst, version=(1, 5))
    check(st == FORCED_CLOSED, "version 1.5 from another client: %s" % sname(st))
    check(write(a, afid, b"x") == SUCCESS, "version 2.0's handle stays (a WRITE through it)")
    st, bfid, _ = app_open(b, "vm4.vhdx", inst, version=(2, 1))
    check(st == SUCCESS, "version 2.1 takes over: %s" % sname(st))
    check(a.call(CLOSE, close_body(afid)).status == FILE_CLOSED, "version 2.0's handle was closed")
    b.call(CLOSE, close_body(bfid))
    a.close()
    b.close()


def main():
    # test_bounded last: the handles it leaves fill the server's room for them.
    check.run((test_reconnect, test_purge, test_timeout, test_resilient, test_not_on_share, test_app_instance,
               test_bounded),
              (smb2raw.Dropped, smb2raw.Timeout, OSError, RuntimeError))


if __name__ == "__main__":
    main()
