#!/usr/bin/python3
"""Large sealed WRITEs on SMB 3.1.1 with AES-128-GCM, the messages the
server opens while they still arrive (smbd/arrival_check.c), sent by
hand so their pace and their bytes are the test's:

  - a 4 MiB WRITE sent in 64 KiB pieces with pauses lands whole, and reads
    back the same (the server opened it in many steps);
  - a 1 MiB WRITE with one ciphertext byte flipped, early or late in the
    message, ends the connection and leaves the file as it was: nothing
    decrypted before the tag was checked reached the file;
  - a client that sends half a large sealed WRITE and vanishes costs the
    server nothing: the next client is served.

usage: sealed_client.py HOST PORT SHARE USER PASSWORD
"""
import hashlib
import os
import struct
import sys
import time

from Cryptodome.Cipher import AES
from impacket import ntlm

from smb2raw import (CLOSE, CREATE, MORE_PROCESSING, NEGOTIATE, SESSION_SETUP, SUCCESS, TREE_CONNECT, WRITE,
                     Checks, Conn, close_body, closed_within, create_body, frame, read_back,
                     session_setup_body, tree_connect_body, write_body, kdf)

host, port, share, user, password = sys.argv[1:6]
port = int(port)
check = Checks()

AES128_GCM = 2
TRANSFORM_LEN = 52


class SealedConn(Conn):
    """A 3.1.1 connection whose session seals every request with
    AES-128-GCM and opens every sealed reply (MS-SMB2 3.1.4.3)."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.preauth = b"\0" * 64
        self.c2s = self.s2c = None
        self.nonce = 0

    def hash(self, pdu):
        self.preauth = hashlib.sha512(self.preauth + pdu).digest()

    def seal(self, pdu):
        self.nonce += 1
        nonce = struct.pack("<Q", self.nonce) + os.urandom(4)
        hdr = struct.pack("<4s16s16sIHHQ", b"\xfdSMB", b"\0" * 16, nonce + b"\0" * 4, len(pdu), 0, 1, self.sid)
        c = AES.new(self.c2s, AES.MODE_GCM, nonce=nonce)
        c.update(hdr[20:])
        body, tag = c.encrypt_and_digest(pdu)
        return hdr[:4] + tag + hdr[20:] + body

    def send_pdu(self, pdu):
        self.send_raw(frame(self.seal(pdu) if self.c2s else pdu))

    def recv_pdu(self, timeout=None):
        p = super().recv_pdu(timeout)
        if p is None or not p.startswith(b"\xfdSMB"):
            return p
        c = AES.new(self.s2c, AES.MODE_GCM, nonce=p[20:32])
        c.update(p[20:TRANSFORM_LEN])
        return c.decrypt_and_verify(p[TRANSFORM_LEN:], p[4:20])


def negotiate_gcm(c):
    """NEGOTIATE for 3.1.1 alone with a pre-auth integrity context and an
    encryption context offering AES-128-GCM alone."""
    start = 64 + 36 + 2
    pad = (-start) % 8
    salt = os.urandom(32)
    preauth = struct.pack("<HHI", 1, 6 + len(salt), 0) + struct.pack("<HHH", 1, len(salt), 1) + salt
    preauth += b"\0" * ((-len(preauth)) % 8)
    ciphers = struct.pack("<HHI", 2, 4, 0) + struct.pack("<HH", 1, AES128_GCM)
    body = struct.pack("<HHHHI16sIHH", 36, 1, 1, 0, 0x7F, c.client_guid, start + pad, 2, 0) + \
        struct.pack("<H", 0x0311) + b"\0" * pad + preauth + ciphers
    pdu = c.build(NEGOTIATE, body, credit_req=256)
    c.hash(pdu)
    c.send_pdu(pdu)
    r = c.wait(0)
    c.hash(r.raw)
    c.dialect = struct.unpack_from("<H", r.body, 4)[0]
    return r.status


def login_sealed(c):
    """NTLM session whose keys come from the pre-auth hash (MS-SMB2
    3.3.5.5.3); every request after it is sealed."""
    t1 = ntlm.getNTLMSSPType1("", "", signingRequired=True)
    pdu = c.build(SESSION_SETUP, session_setup_body(t1.getData()), sid=0)
    c.hash(pdu)
    c.send_pdu(pdu)
    r = c.wait(struct.unpack_from("<Q", pdu, 24)[0])
    if r.status != MORE_PROCESSING:
        return r.status
    c.hash(r.raw)
    off, ln = struct.unpack_from("<HH", r.body, 4)
    t3, key = ntlm.getNTLMSSPType3(t1, r.raw[off:off + ln], user, password, "")
    c.sid = r.sid
    pdu = c.build(SESSION_SETUP, session_setup_body(t3.getData()))
    c.hash(pdu)
    c.send_pdu(pdu)
    r = c.wait(struct.unpack_from("<Q", pdu, 24)[0])
    if r.status != SUCCESS:
        return r.status
    c.c2s = kdf(key, b"SMBC2SCipherKey\0", c.preauth)
    c.s2c = kdf(key, b"SMBS2CCipherKey\0", c.preauth)
    return SUCCESS


def session():
    c = SealedConn(host, port)
    check(negotiate_gcm(c) == SUCCESS and c.dialect == 0x0311, "3.1.1 negotiated")
    check(login_sealed(c) == SUCCESS, "logged on, keys derived")
    r = c.call(TREE_CONNECT, tree_connect_body("\\\\%s\\%s" % (host, share)))
    check(r.status == SUCCESS, "tree connect (sealed)")
    c.tid = r.tid
    r = c.call(CREATE, create_body("sealed.bin"))
    check(r.status == SUCCESS, "file opened")
    return c, r.body[64:80]


def sealed_write(c, fid, data, offset=0):
    """A WRITE's sealed frame, and its message id."""
    mid = c.mid
    pdu = c.build(WRITE, write_body(fid, data, offset), charge=(len(data) + 65535) // 65536)
    return frame(c.seal(pdu)), mid


def test_pieces():
    """A large sealed WRITE arriving slowly, in pieces."""
    c, fid = session()
    data = os.urandom(4 << 20)
    wire, mid = sealed_write(c, fid, data)
    for at in range(0, len(wire), 65536):
        c.send_raw(wire[at:at + 65536])
        time.sleep(0.002)
    r = c.wait(mid)
    check(r.status == SUCCESS and struct.unpack_from("<I", r.body, 4)[0] == len(data),
          "4 MiB sealed WRITE sent in 64 KiB pieces written whole")
    check(read_back(c, fid, len(data)) == data, "it reads back the same")
    kept.update(c=c, fid=fid, data=data)


def test_tampered():
    """One flipped ciphertext byte, early or late: the connection ends and
    the file keeps what it had."""
    c, fid, data = kept["c"], kept["fid"], kept["data"]
    for where, at in (("early", 1000), ("late", (1 << 20) - 10)):
        t, tfid = session()
        wire, mid = sealed_write(t, tfid, b"\xee" * (1 << 20))
        wire = bytearray(wire)
        wire[4 + TRANSFORM_LEN + 64 + 48 + at] ^= 0x01
        half = len(wire) // 2
        t.send_raw(bytes(wire[:half]))
        time.sleep(0.05)  # the first half is opened before the rest comes
        t.send_raw(bytes(wire[half:]))
        check(closed_within(t.s, 10), "a tampered sealed WRITE (%s) ends the connection" % where)
        t.close()
        check(read_back(c, fid, len(data)) == data, "the file is as it was after the tampered WRITE (%s)" % where)


def test_vanish():
    """Half a large sealed WRITE, then the client vanishes."""
    t, tfid = session()
    wire, mid = sealed_write(t, tfid, os.urandom(2 << 20))
    t.send_raw(wire[:len(wire) // 2])
    time.sleep(0.05)
    t.close()
    t, tfid = session()
    r = t.call(WRITE, write_body(tfid, b"after", 0))
    check(r.status == SUCCESS, "the next client is served after one vanished mid-frame")
    t.close()


kept = {}
check.run((test_pieces, test_tampered, test_vanish), (Exception,))
