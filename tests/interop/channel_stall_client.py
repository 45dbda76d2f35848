#!/usr/bin/python3
"""A lease break on a channel whose path died (run by channel_stall.sh).

Client A holds an RWH lease through channel 1 of its session and binds a
second connection to the session as channel 2. channel_stall.sh then drops
everything channel 1 sends (iptables, in a network namespace of its own):
the server's TCP on it retransmits and gets no answer, as when a NIC or
cable of a multichannel client dies. Client B opens the file for writing,
which breaks A's lease. The break must reach A on channel 2 within a few
seconds (the server sends it again there once channel 1 stalls) and A's
acknowledgment on channel 2 must let B in, long before the 35 s a break
waits for an unheard acknowledgment.

usage: channel_stall_client.py HOST PORT USER PASSWORD PORT_FILE BLOCKED_FILE
  PORT_FILE: where channel 1's local port is written once A holds its lease;
  BLOCKED_FILE: appears once the script has blocked that port.
"""
import os
import struct
import sys
import time
import uuid

from impacket import ntlm

import smb2raw
from smb2raw import (CREATE, MORE_PROCESSING, NEGOTIATE, OPLOCK_BREAK, SESSION_SETUP, SUCCESS, Checks, contexts,
                     reply_contexts)

HOST, PORT, USER, PASSWORD, PORT_FILE, BLOCKED_FILE = sys.argv[1], int(sys.argv[2]), *sys.argv[3:7]

CAPS = 0x7F  # with leasing (0x2) and multichannel (0x8)
SESSION_FLAG_BINDING = 0x01
LEASE_OPLOCK = 0xFF
R, H, W = 1, 2, 4
BREAK_MID = 0xFFFFFFFFFFFFFFFF
NAME = "stall.dat"
BREAK_TIMEOUT = 35

check = Checks()


def connection(guid):
    c = smb2raw.Conn(HOST, PORT, timeout=20.0)
    c.client_guid = guid
    r = c.call(NEGOTIATE, smb2raw.negotiate_body((0x0300,), guid, caps=CAPS), credit_req=256)
    if r.status != SUCCESS:
        raise RuntimeError("negotiate: 0x%08x" % r.status)
    c.dialect = 0x0300
    return c


def logged_on(guid):
    c = connection(guid)
    if smb2raw.ntlm_login(c, USER, PASSWORD) != SUCCESS:
        raise RuntimeError("logon")
    if smb2raw.tree_connect(c, "\\\\%s\\test" % HOST) != SUCCESS:
        raise RuntimeError("tree connect")
    return c


def bind(first):
    """A second channel of first's session (MS-SMB2 3.2.4.1.7): a new
    connection of the same client authenticates again with the binding
    flag, its requests signed with the session's key; the channel then
    signs with a key of its own, from this authentication."""
    c = connection(first.client_guid)
    c.sid, c.tid, c.sign_key = first.sid, first.tid, first.sign_key
    t1 = ntlm.getNTLMSSPType1("", "", signingRequired=True)

    def setup(token):
        body = struct.pack("<HBBIIHHQ", 25, SESSION_FLAG_BINDING, 1, 0, 0, 64 + 24, len(token), 0) + token
        return c.call(SESSION_SETUP, body, sign=True)

    r = setup(t1.getData())
    check(r.status == MORE_PROCESSING, "binding, first leg: 0x%08x" % r.status)
    off, ln = struct.unpack_from("<HH", r.body, 4)
    t3, key = ntlm.getNTLMSSPType3(t1, r.raw[off:off + ln], USER, PASSWORD, "")
    r = setup(t3.getData())
    check(r.status == SUCCESS, "channel 2 bound to the session: 0x%08x" % r.status)
    c.sign_key = smb2raw.signing_key(key, c.dialect)
    c.sign_all = True
    return c


def create(c, key=None, wait=True):
    ctx = b""
    oplock = 0
    if key is not None:
        ctx = contexts([(b"RqLs", struct.pack("<16sIIQ16sHH", key, R | H | W, 0, 0, b"\0" * 16, 0, 0))])
        oplock = LEASE_OPLOCK
    n = NAME.encode("utf-16-le")
    name_off = 64 + 56
    ctx_off = (name_off + len(n) + 7) // 8 * 8 if ctx else 0
    body = struct.pack("<HBBIQQIIIIIHHII", 57, 0, oplock, 2, 0, 0, smb2raw.FILE_ACCESS, 0, 7, 3, 0x40,
                       name_off, len(n), ctx_off, len(ctx)) + n
    if ctx:
        body += b"\0" * (ctx_off - 64 - len(body)) + ctx
    if not wait:
        return c.start(CREATE, body)
    return c.call(CREATE, body)


def lease_break(c, key, wait):
    """The first break of lease 'key' on c within 'wait' seconds: (new state, flags), or None."""
    deadline = time.monotonic() + wait
    while True:
        for r in c.early:
            if r.mid == BREAK_MID:
                _, _, flags, k, _, new = struct.unpack_from("<HHI16sII", r.body, 0)
                if k == key:
                    c.early.remove(r)
                    return new, flags
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        try:
            c.early.extend(c.recv_replies(left))
        except smb2raw.Timeout:
            return None


def main():
    key = uuid.uuid4().bytes
    a1 = logged_on(uuid.uuid4().bytes)
    r = create(a1, key)
    granted = reply_contexts(r).get(b"RqLs") if r.status == SUCCESS else None
    check(granted is not None and struct.unpack_from("<I", granted, 16)[0] == R | H | W,
          "A holds an RWH lease through channel 1: 0x%08x" % r.status)
    a2 = bind(a1)

    with open(PORT_FILE + ".tmp", "w") as f:
        f.write("%d\n" % a1.s.getsockname()[1])
    os.rename(PORT_FILE + ".tmp", PORT_FILE)
    for _ in range(200):
        if os.path.exists(BLOCKED_FILE):
            break
        time.sleep(0.05)
    check(os.path.exists(BLOCKED_FILE), "channel 1 blocked")

    b = logged_on(uuid.uuid4().bytes)
    start = time.monotonic()
    mid = create(b, wait=False)
    got = lease_break(a2, key, 15)
    took = time.monotonic() - start
    check(got is not None and got[1] & 1, "the break reaches A on channel 2, acknowledgment required")
    check(took < 10, "within a few seconds of channel 1 stalling (%.1f s)" % took)
    if got is not None:
        body = struct.pack("<HHI16sIQ", 36, 0, 0, key, got[0], 0)
        st = a2.call(OPLOCK_BREAK, body).status
        check(st == SUCCESS, "A acknowledges on channel 2: 0x%08x" % st)
    r = b.wait(mid, timeout=BREAK_TIMEOUT + 10)
    took = time.monotonic() - start
    check(r.status == SUCCESS, "B's open completes: 0x%08x" % r.status)
    check(took < BREAK_TIMEOUT / 2, "once A acknowledged, not at the break time-out (%.1f s)" % took)
    for c in (a1, a2, b):
        c.close()
    check.run([], [])


main()
