#!/usr/bin/python3
"""Large signed WRITEs, whose signatures the server checks while the
messages still arrive (smbd/arrival_check.c), sent by hand so their pace
and their bytes are the test's, with each signing algorithm: HMAC-SHA256
(SMB 2.1), AES-CMAC (3.0) and AES-GMAC (3.1.1, negotiated):

  - a 4 MiB WRITE sent in 64 KiB pieces with pauses lands whole and reads
    back the same; the server's log says it was checked as it arrived;
  - a 1 MiB WRITE with one data byte changed after it was signed, early or
    late in the message, is refused with ACCESS_DENIED and leaves the file
    as it was; the connection goes on;
  - a client that sends half a large signed WRITE and vanishes costs the
    server nothing: the next client is served.

usage: signed_client.py HOST PORT SHARE USER PASSWORD SERVER_LOG
"""
import hashlib
import os
import struct
import sys
import time

from Cryptodome.Cipher import AES
from impacket import ntlm

from smb2raw import (CANCEL, MORE_PROCESSING, NEGOTIATE, SESSION_SETUP, SUCCESS, TREE_CONNECT, WRITE, Checks,
                     Conn, create, frame, kdf, negotiate, ntlm_login, read_back, session_setup_body, signature,
                     tree_connect_body, write_body)

host, port, share, user, password, server_log = sys.argv[1:7]
port = int(port)
check = Checks()

ACCESS_DENIED = 0xC0000022
SIGNING_CAPABILITIES = 8  # negotiate context (MS-SMB2 2.2.3.1.7)
AES_GMAC = 2


class SignedConn(Conn):
    """Signs every request once logged on, with the algorithm its dialect
    (and for 3.1.1 its negotiation) gives, and checks replies the same way."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.gmac = False
        self.preauth = b"\0" * 64

    def mac(self, pdu):
        """Of a message whose Signature field is zero (MS-SMB2 3.1.4.1)."""
        if not self.gmac:
            return signature(self.sign_key, pdu, self.dialect)
        flags, = struct.unpack_from("<I", pdu, 16)
        bits = (flags & 1) | (2 if struct.unpack_from("<H", pdu, 12)[0] == CANCEL else 0)
        c = AES.new(self.sign_key, AES.MODE_GCM, nonce=pdu[24:32] + struct.pack("<I", bits))
        c.update(pdu)
        return c.digest()

    def sign(self, pdu):
        pdu = bytearray(pdu)
        struct.pack_into("<I", pdu, 16, struct.unpack_from("<I", pdu, 16)[0] | 0x8)
        pdu[48:64] = b"\0" * 16
        pdu[48:64] = self.mac(bytes(pdu))
        return bytes(pdu)

    def verify(self, raw):
        pdu = bytearray(raw)
        sig = bytes(pdu[48:64])
        pdu[48:64] = b"\0" * 16
        return self.mac(bytes(pdu)) == sig


def login_gmac(c):
    """3.1.1 with AES-GMAC signing negotiated; the signing key comes from
    the pre-auth hash of the NEGOTIATE and SESSION_SETUP exchange
    (MS-SMB2 3.3.5.5.3), so every message of it is hashed here."""
    start = 64 + 36 + 2
    pad = (-start) % 8
    salt = os.urandom(32)
    preauth = struct.pack("<HHI", 1, 6 + len(salt), 0) + struct.pack("<HHH", 1, len(salt), 1) + salt
    preauth += b"\0" * ((-len(preauth)) % 8)
    signing = struct.pack("<HHI", SIGNING_CAPABILITIES, 4, 0) + struct.pack("<HH", 1, AES_GMAC)
    body = struct.pack("<HHHHI16sIHH", 36, 1, 1, 0, 0x7F, c.client_guid, start + pad, 2, 0) + \
        struct.pack("<H", 0x0311) + b"\0" * pad + preauth + signing

    def exchange(pdu, final=False):
        c.preauth = hashlib.sha512(c.preauth + pdu).digest()
        c.send_pdu(pdu)
        r = c.wait(struct.unpack_from("<Q", pdu, 24)[0])
        if not final:
            c.preauth = hashlib.sha512(c.preauth + r.raw).digest()
        return r

    r = exchange(c.build(NEGOTIATE, body, credit_req=256))
    if r.status != SUCCESS:
        return r.status
    c.dialect = struct.unpack_from("<H", r.body, 4)[0]
    t1 = ntlm.getNTLMSSPType1("", "", signingRequired=True)
    r = exchange(c.build(SESSION_SETUP, session_setup_body(t1.getData()), sid=0))
    if r.status != MORE_PROCESSING:
        return r.status
    off, ln = struct.unpack_from("<HH", r.body, 4)
    t3, key = ntlm.getNTLMSSPType3(t1, r.raw[off:off + ln], user, password, "")
    c.sid = r.sid
    r = exchange(c.build(SESSION_SETUP, session_setup_body(t3.getData())), final=True)
    if r.status != SUCCESS:
        return r.status
    c.sign_key = kdf(key, b"SMBSigningKey\0", c.preauth)
    c.gmac = True
    check(c.verify(r.raw), "GMAC: the final SESSION_SETUP reply is signed with the derived key")
    return SUCCESS


def session(algo):
    """A signed session with algo ("hmac", "cmac" or "gmac") and a file open on the share."""
    c = SignedConn(host, port)
    if algo == "gmac":
        status = login_gmac(c)
    else:
        status = negotiate(c, (0x0210,) if algo == "hmac" else (0x0300,))
        if status == SUCCESS:
            status = ntlm_login(c, user, password)
    check(status == SUCCESS and c.sign_key is not None, "%s: logged on with a signing key" % algo)
    c.sign_all = True
    r = c.call(TREE_CONNECT, tree_connect_body("\\\\%s\\%s" % (host, share)))
    check(r.status == SUCCESS and c.verify(r.raw), "%s: tree connect, signed both ways" % algo)
    c.tid = r.tid
    status, fid = create(c, "signed-%s.bin" % algo)
    check(status == SUCCESS, "%s: file opened" % algo)
    return c, fid


def signed_write(c, fid, data, offset=0):
    """A signed WRITE's frame, and its message id."""
    mid = c.mid
    pdu = c.build(WRITE, write_body(fid, data, offset), charge=(len(data) + 65535) // 65536)
    return bytearray(frame(pdu)), mid


def checked_on_arrival():
    """How many signed frames the server says it checked as they arrived."""
    with open(server_log, errors="replace") as f:
        return sum("signed frame of" in line and "checked as it arrives" in line for line in f)


def test_pieces(algo):
    """A large signed WRITE arriving slowly, in pieces."""
    c, fid = session(algo)
    data = os.urandom(4 << 20)
    before = checked_on_arrival()
    wire, mid = signed_write(c, fid, data)
    for at in range(0, len(wire), 65536):
        c.send_raw(bytes(wire[at:at + 65536]))
        time.sleep(0.002)
    r = c.wait(mid)
    check(r.status == SUCCESS and struct.unpack_from("<I", r.body, 4)[0] == len(data) and c.verify(r.raw),
          "%s: 4 MiB signed WRITE sent in 64 KiB pieces written whole" % algo)
    check(checked_on_arrival() > before, "%s: its signature was checked as it arrived" % algo)
    check(read_back(c, fid, len(data), verify=True) == data, "%s: it reads back the same" % algo)
    return c, fid, data


def test_tampered(algo, c, fid, data):
    """One data byte changed after signing, early or late: refused, the
    file keeps what it had, the connection goes on."""
    for where, at in (("early", 1000), ("late", (1 << 20) - 10)):
        before = checked_on_arrival()
        wire, mid = signed_write(c, fid, b"\xee" * (1 << 20))
        wire[4 + 64 + 48 + at] ^= 0x01
        half = len(wire) // 2
        c.send_raw(bytes(wire[:half]))
        time.sleep(0.05)  # the first half is hashed before the rest comes
        c.send_raw(bytes(wire[half:]))
        r = c.wait(mid)
        check(r.status == ACCESS_DENIED, "%s: a WRITE changed %s after signing is refused (0x%08x)" %
              (algo, where, r.status))
        check(checked_on_arrival() > before, "%s: ... by the check as it arrived" % algo)
        check(read_back(c, fid, len(data), verify=True) == data, "%s: the file is as it was (%s)" % (algo, where))


def test_vanish(algo):
    """Half a large signed WRITE, then the client vanishes."""
    t, tfid = session(algo)
    wire, mid = signed_write(t, tfid, os.urandom(2 << 20))
    t.send_raw(bytes(wire[:len(wire) // 2]))
    time.sleep(0.05)
    t.close()
    t, tfid = session(algo)
    r = t.call(WRITE, write_body(tfid, b"after", 0))
    check(r.status == SUCCESS, "%s: the next client is served after one vanished mid-frame" % algo)
    t.close()


def test_all():
    for algo in ("hmac", "cmac", "gmac"):
        c, fid, data = test_pieces(algo)
        test_tampered(algo, c, fid, data)
        c.close()
        test_vanish(algo)


check.run((test_all,), (Exception,))
