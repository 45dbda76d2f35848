#!/usr/bin/python3
"""A persistent handle across a kill -9 of the server (run by persistent.sh).

The client opens a file on a continuously available share asking for a
persistent handle, and writes it in 64 KiB WRITEs. After the first 4 MiB
it touches READY_FILE and goes on writing; persistent.sh kills the server
with SIGKILL and starts it again on the same state directory. The client
sees its connection die, connects again until the new server answers,
checks that another client is still kept out by the restored open, takes
its handle back with a DH2C, and writes on from the first WRITE that was
not acknowledged. At the end the file must hold every byte, in order:
nothing acknowledged before the kill is lost.

usage: persistent_client.py HOST PORT USER PASSWORD SHARE READY_FILE
"""
import os
import struct
import sys
import time
import uuid

import smb2raw
from smb2raw import (CLOSE, CREATE, READ, SUCCESS, WRITE, Checks, close_body, contexts, read_body,
                     reply_contexts, write_body)

HOST, PORT, USER, PASSWORD, SHARE, READY = sys.argv[1], int(sys.argv[2]), *sys.argv[3:7]
CHUNK = 64 * 1024
TOTAL = 16 * 1024 * 1024
KILL_AFTER = 4 * 1024 * 1024
PERSISTENT = 0x2
CAP_PERSISTENT_HANDLES = 0x10
SHARE_CAP_CA = 0x10
SHARING_VIOLATION = 0xC0000043
LOCK_NOT_GRANTED = 0xC0000055
READ_WRITE = 0x00100003  # read and write data, synchronize
EXCLUSIVE, UNLOCK, FAIL_IMMEDIATELY = 0x2, 0x4, 0x10
NAME_NOT_FOUND = 0xC0000034
NAME = "vm-disk.vhdx"

check = Checks()


def connect(guid, want_ca=True):
    c = smb2raw.Conn(HOST, PORT, timeout=20.0)
    c.client_guid = guid
    r = c.call(smb2raw.NEGOTIATE, smb2raw.negotiate_body((0x0300,), guid), credit_req=256)
    if r.status != SUCCESS:
        raise RuntimeError("negotiate: 0x%08x" % r.status)
    c.dialect = 0x0300
    caps = struct.unpack_from("<I", r.body, 24)[0]
    if smb2raw.ntlm_login(c, USER, PASSWORD) != SUCCESS:
        raise RuntimeError("logon")
    r = c.call(smb2raw.TREE_CONNECT, smb2raw.tree_connect_body("\\\\%s\\%s" % (HOST, SHARE)))
    if r.status != SUCCESS:
        raise RuntimeError("tree connect: 0x%08x" % r.status)
    c.tid = r.tid
    share_caps = struct.unpack_from("<I", r.body, 8)[0]
    return c, caps, share_caps


def create_body(ctx, share=3, access=smb2raw.FILE_ACCESS):
    """CREATE of NAME; by default sharing reading and writing, not deleting."""
    n = NAME.encode("utf-16-le")
    name_off = 64 + 56
    ctx_off = (name_off + len(n) + 7) // 8 * 8
    body = struct.pack("<HBBIQQIIIIIHHII", 57, 0, 0, 2, 0, 0, access, 0, share, smb2raw.FILE_OPEN_IF,
                       0x40, name_off, len(n), ctx_off, len(ctx)) + n
    return body + b"\0" * (ctx_off - 64 - len(body)) + ctx


def lock(c, fid, flags, offset=0, length=10):
    body = struct.pack("<HHI16s", 48, 1, 0, fid) + struct.pack("<QQII", offset, length, flags, 0)
    return c.call(smb2raw.LOCK, body).status


def pattern(offset):
    """The bytes that belong at offset: a counter, so a chunk out of place shows."""
    return struct.pack("<Q", offset // CHUNK) * (CHUNK // 8)


def reconnect(guid):
    """Connects again until the restarted server answers (60 s at most)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            return connect(guid)
        except (OSError, RuntimeError, smb2raw.Dropped, smb2raw.Timeout):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def main():
    guid, create_guid = uuid.uuid4().bytes, uuid.uuid4().bytes
    c, caps, share_caps = connect(guid)
    check(caps & CAP_PERSISTENT_HANDLES, "NEGOTIATE offers persistent handles")
    check(share_caps & SHARE_CAP_CA, "the share is continuously available (TREE_CONNECT)")
    dh2q = (b"DH2Q", struct.pack("<II8s16s", 30000, PERSISTENT, b"\0" * 8, create_guid))
    r = c.call(CREATE, create_body(contexts([dh2q])))
    check(r.status == SUCCESS, "CREATE asking for a persistent handle: 0x%08x" % r.status)
    fid = r.body[64:80]
    granted = reply_contexts(r).get(b"DH2Q", b"")
    check(len(granted) == 8 and struct.unpack("<II", granted)[1] & PERSISTENT,
          "granted persistent, with no oplock or lease (%r)" % granted)
    check(lock(c, fid, EXCLUSIVE | FAIL_IMMEDIATELY) == SUCCESS, "LOCK bytes 0-9")

    acked = 0  # bytes acknowledged, all below this offset
    killed = False
    while acked < TOTAL:
        try:
            st = c.call(WRITE, write_body(fid, pattern(acked), acked)).status
        except (OSError, smb2raw.Dropped, smb2raw.Timeout):
            check(not killed, "the connection dies once, at the kill")
            killed = True
            c.close()
            print("connection lost at %d bytes acknowledged; reconnecting" % acked, flush=True)
            other, _, _ = reconnect(uuid.uuid4().bytes)
            r = other.call(CREATE, create_body(b"", share=7))
            check(r.status == SHARING_VIOLATION,
                  "after the restart the share mode holds: an open for deleting gets 0x%08x" % r.status)
            r = other.call(CREATE, create_body(b"", share=7, access=READ_WRITE))
            check(r.status == SUCCESS, "a read/write open gets in: 0x%08x" % r.status)
            st = lock(other, r.body[64:80], EXCLUSIVE | FAIL_IMMEDIATELY) if r.status == SUCCESS else None
            check(st == LOCK_NOT_GRANTED, "and the lock on bytes 0-9 is still held: 0x%08x" % (st or 0))
            other.close()
            c, _, _ = reconnect(guid)
            dh2c = (b"DH2C", fid + create_guid + struct.pack("<I", 0))
            r = c.call(CREATE, create_body(contexts([dh2c])))
            check(r.status == NAME_NOT_FOUND,
                  "a DH2C without the persistent flag does not take it: 0x%08x" % r.status)
            dh2c = (b"DH2C", fid + create_guid + struct.pack("<I", PERSISTENT))
            r = c.call(CREATE, create_body(contexts([dh2c])))
            check(r.status == SUCCESS and r.body[64:80] == fid,
                  "DH2C takes the persistent handle back: 0x%08x" % r.status)
            if r.status != SUCCESS:
                break
            continue
        if st != SUCCESS:
            check(False, "WRITE at %d: 0x%08x" % (acked, st))
            break
        acked += CHUNK
        if acked == KILL_AFTER:
            open(READY, "w").close()
            time.sleep(0.5)  # writes go on while the server is killed
    check(killed, "the server was killed while the client wrote")
    check(lock(c, fid, UNLOCK) == SUCCESS, "its lock came back with it: UNLOCK succeeds")
    check(acked == TOTAL, "all %d bytes written (%d)" % (TOTAL, acked))

    bad = 0
    for off in range(0, TOTAL, 1 << 20):
        r = c.call(READ, read_body(fid, 1 << 20, off), charge=16)
        data = r.raw[r.body[2]:r.body[2] + struct.unpack_from("<I", r.body, 4)[0]]
        want = b"".join(pattern(o) for o in range(off, off + (1 << 20), CHUNK))
        bad += data != want
    check(bad == 0, "the file reads back byte for byte (%d bad MiB)" % bad)
    c.call(CLOSE, close_body(fid))
    c.close()
    check.run([], [])


main()
