#!/usr/bin/python3
"""Raw SPNEGO with Kerberos against Porthos (run by kerberos.sh).

The SMB2 messages and the SPNEGO tokens are built here by hand, so the
client decides which mechanisms it lists and in what order; python3-gssapi
(MIT krb5, the ticket cache in KRB5CCNAME) makes the AP-REQ, checks the
AP-REP and signs/verifies the mechListMIC. SMB 3.0, so that the signing
key is KDF(Session.SessionKey) alone (MS-SMB2 3.3.5.5.3).

Cases:
  krb5       mechTypes [KRB5] with the AP-REQ: accept-completed naming KRB5,
             an AP-REP that completes the context, no mechListMIC.
  ms-krb5    [MS-KRB5, KRB5] with the AP-REQ: the reply names MS-KRB5.
  negoex     [NEGOEX, KRB5], no optimistic token: request-mic naming KRB5;
             then the AP-REQ: accept-incomplete with the AP-REP and the
             server's mechListMIC, which verifies over our MechTypeList;
             our MIC; accept-completed (RFC 4178 5).
  bad-mic    as negoex, with a corrupted MIC of ours: LOGON_FAILURE.
  no-mic     as negoex, with no MIC at all: refused.
  expire     (with a 5th argument: a ccache holding a 6-second ticket) a
             session on that ticket answers a signed request, then, once
             the ticket is over, NETWORK_SESSION_EXPIRED (MS-SMB2
             3.3.5.2.9); re-authenticating with the ticket in KRB5CCNAME
             brings it back, its keys unchanged (the reply is signed with
             the old key).
Each accepted session must sign its final SESSION_SETUP reply and a signed
TREE_CONNECT with the key derived from the Kerberos session key.

Usage: kerberos_client.py HOST PORT SERVICE_HOST SHARE [SHORT_CCACHE]
"""
import os
import struct
import sys
import time

import gssapi
import gssapi.raw

import smb2raw
from smb2raw import (FLAG_RESPONSE, FLAG_SIGNED, MORE_PROCESSING, NEGOTIATE, SESSION_SETUP, SUCCESS, TREE_CONNECT,
                     negotiate_body, session_setup_body, signing_key, tree_connect_body)

HOST, PORT, SVC_HOST, SHARE = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]

OID_SPNEGO = bytes.fromhex("2b0601050502")
OID_KRB5 = bytes.fromhex("2a864886f712010202")
OID_MS_KRB5 = bytes.fromhex("2a864882f712010202")
OID_NEGOEX = bytes.fromhex("2b06010401823702021e")
# GSS_C_INQ_SSPI_SESSION_KEY
OID_SSPI_SESSION_KEY = gssapi.OID.from_int_seq("1.2.840.113554.1.2.2.5.5")

LOGON_FAILURE, INVALID_PARAMETER = 0xC000006D, 0xC000000D
NETWORK_SESSION_EXPIRED = 0xC000035C
ACCEPT_COMPLETED, ACCEPT_INCOMPLETE, REQUEST_MIC = 0, 1, 3


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


# ---------------------------------------------------------------- DER

def tlv(tag, body):
    n = len(body)
    if n < 0x80:
        ln = bytes([n])
    else:
        b = n.to_bytes((n.bit_length() + 7) // 8, "big")
        ln = bytes([0x80 | len(b)]) + b
    return bytes([tag]) + ln + body


def read_tlv(buf, off):
    tag = buf[off]
    n = buf[off + 1]
    off += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(buf[off:off + k], "big")
        off += k
    return tag, buf[off:off + n], off + n


def mech_list(oids):
    return tlv(0x30, b"".join(tlv(0x06, o) for o in oids))


def neg_token_init(oids, token=None):
    body = tlv(0xA0, mech_list(oids))
    if token is not None:
        body += tlv(0xA2, tlv(0x04, token))
    return tlv(0x60, tlv(0x06, OID_SPNEGO) + tlv(0xA0, tlv(0x30, body)))


def neg_token_resp(token=None, mic=None):
    body = b""
    if token is not None:
        body += tlv(0xA2, tlv(0x04, token))
    if mic is not None:
        body += tlv(0xA3, tlv(0x04, mic))
    return tlv(0xA1, tlv(0x30, body))


def parse_resp(buf):
    tag, seq, _ = read_tlv(buf, 0)
    if tag != 0xA1:
        fail(f"not a NegTokenResp: tag {tag:#x}")
    tag, body, _ = read_tlv(seq, 0)
    out = {}
    off = 0
    while off < len(body):
        tag, inner, off = read_tlv(body, off)
        _, val, _ = read_tlv(inner, 0)
        key = {0xA0: "state", 0xA1: "mech", 0xA2: "token", 0xA3: "mic"}.get(tag)
        if key is None:
            fail(f"unexpected NegTokenResp field {tag:#x}")
        out[key] = val[0] if key == "state" else bytes(val)
    return out


# ---------------------------------------------------------------- SMB2

class Conn(smb2raw.Conn):
    """One connection, one request at a time; the TreeId stays 0."""

    def __init__(self):
        super().__init__(HOST, PORT, timeout=10)

    def exchange(self, cmd, body, sign=False):
        try:
            r = self.call(cmd, body, sign=sign)
        except smb2raw.Dropped:
            fail("connection closed by the server")
        if not r.flags & FLAG_RESPONSE:
            fail("a reply without the response flag")
        return r

    def negotiate(self):
        r = self.exchange(NEGOTIATE, negotiate_body((0x0300,), os.urandom(16), caps=0))
        if r.status != SUCCESS:
            fail(f"NEGOTIATE: {r.status:#x}")
        dialect, = struct.unpack_from("<H", r.body, 4)
        if dialect != 0x0300:
            fail(f"dialect {dialect:#x}")
        self.dialect = dialect

    def session_setup(self, token):
        r = self.exchange(SESSION_SETUP, session_setup_body(token))
        if self.sid == 0:
            self.sid = r.sid
        off, n = struct.unpack_from("<HH", r.body, 4)
        return r.status, r.flags, r.raw, r.raw[off:off + n]

    def tree_connect(self, want=SUCCESS):
        r = self.exchange(TREE_CONNECT, tree_connect_body(f"\\\\{SVC_HOST}\\{SHARE}"), sign=True)
        if want != SUCCESS:
            if r.status != want:
                fail(f"signed TREE_CONNECT: {r.status:#x}, wanted {want:#x}")
            return
        if r.status != SUCCESS:
            fail(f"signed TREE_CONNECT: {r.status:#x}")
        if not r.flags & FLAG_SIGNED or not self.verify(r.raw):
            fail("TREE_CONNECT reply not signed with the derived key")


def new_context(creds=None):
    name = gssapi.Name(f"cifs@{SVC_HOST}", gssapi.NameType.hostbased_service)
    flags = (gssapi.RequirementFlag.mutual_authentication | gssapi.RequirementFlag.integrity |
             gssapi.RequirementFlag.out_of_sequence_detection)
    return gssapi.SecurityContext(name=name, creds=creds, mech=gssapi.MechType.kerberos, usage="initiate",
                                  flags=flags)


def established(conn, ctx, final_raw, what):
    """The session is up: derive the signing key, check the signed reply and a signed call."""
    key = gssapi.raw.inquire_sec_context_by_oid(ctx, OID_SSPI_SESSION_KEY)[0]
    session_key = (key + b"\0" * 16)[:16]
    conn.sign_key = signing_key(session_key, conn.dialect)
    flags, = struct.unpack_from("<I", final_raw, 16)
    if not flags & FLAG_SIGNED or not conn.verify(final_raw):
        fail(f"{what}: the final SESSION_SETUP reply is not signed with the derived key")
    conn.tree_connect()
    print(f"{what}: ok (session key {len(key)} bytes)")


def optimistic(oids, want_mech, what):
    conn = Conn()
    conn.negotiate()
    ctx = new_context()
    ap_req = ctx.step()
    status, _, raw, tok = conn.session_setup(neg_token_init(oids, ap_req))
    if status != SUCCESS:
        fail(f"{what}: SESSION_SETUP {status:#x}")
    r = parse_resp(tok)
    if r.get("state") != ACCEPT_COMPLETED:
        fail(f"{what}: negState {r.get('state')}")
    if r.get("mech") != want_mech:
        fail(f"{what}: supportedMech {r.get('mech', b'').hex()} is not the one chosen, {want_mech.hex()}")
    if "token" not in r:
        fail(f"{what}: no AP-REP for mutual authentication")
    ctx.step(r["token"])
    if not ctx.complete:
        fail(f"{what}: the AP-REP did not complete the context")
    if "mic" in r:
        ctx.verify_signature(mech_list(oids), r["mic"])
    established(conn, ctx, raw, what)


def mic_leg(mode, what):
    oids = [OID_NEGOEX, OID_KRB5]
    conn = Conn()
    conn.negotiate()
    status, _, _, tok = conn.session_setup(neg_token_init(oids))
    r = parse_resp(tok)
    if status != MORE_PROCESSING or r.get("state") != REQUEST_MIC or r.get("mech") != OID_KRB5:
        fail(f"{what}: first reply {status:#x} {r}")
    ctx = new_context()
    status, _, _, tok = conn.session_setup(neg_token_resp(ctx.step()))
    r = parse_resp(tok)
    if status != MORE_PROCESSING or r.get("state") != ACCEPT_INCOMPLETE:
        fail(f"{what}: second reply {status:#x} {r}")
    if "mech" in r:
        fail(f"{what}: supportedMech repeated after the first reply")
    if "token" not in r or "mic" not in r:
        fail(f"{what}: the AP-REP and the server's mechListMIC must come together")
    ctx.step(r["token"])
    if not ctx.complete:
        fail(f"{what}: the AP-REP did not complete the context")
    try:
        ctx.verify_signature(mech_list(oids), r["mic"])
    except gssapi.exceptions.GSSError as e:
        fail(f"{what}: the server's mechListMIC does not verify: {e}")
    mic = ctx.get_signature(mech_list(oids))
    if mode == "bad-mic":
        mic = mic[:-1] + bytes([mic[-1] ^ 1])
    status, _, raw, tok = conn.session_setup(neg_token_resp(mic=None if mode == "no-mic" else mic))
    if mode == "ok":
        if status != SUCCESS:
            fail(f"{what}: final reply {status:#x}")
        if parse_resp(tok).get("state") != ACCEPT_COMPLETED:
            fail(f"{what}: final negState")
        established(conn, ctx, raw, what)
        return
    want = LOGON_FAILURE if mode == "bad-mic" else INVALID_PARAMETER
    if status != want:
        fail(f"{what}: {status:#x}, wanted {want:#x}")
    print(f"{what}: refused ({status:#x}): ok")


def expire(short_ccache):
    """A session lives as long as its ticket, and re-authentication revives it."""
    short = gssapi.Credentials(usage="initiate", store={"ccache": short_ccache})
    if short.lifetime > 10:
        fail(f"expire: the short ticket lives {short.lifetime} s")
    conn = Conn()
    conn.negotiate()
    ctx = new_context(short)
    status, _, raw, tok = conn.session_setup(neg_token_init([OID_KRB5], ctx.step()))
    if status != SUCCESS:
        fail(f"expire: SESSION_SETUP {status:#x}")
    ctx.step(parse_resp(tok)["token"])
    established(conn, ctx, raw, "expire: session on a 6 s ticket")
    time.sleep(8)
    conn.tree_connect(want=NETWORK_SESSION_EXPIRED)
    print("expire: NETWORK_SESSION_EXPIRED after the ticket's end: ok")
    # A fresh ticket, the same session: the keys stay those of the first logon.
    ctx = new_context()
    status, flags, raw, tok = conn.session_setup(neg_token_init([OID_KRB5], ctx.step()))
    if status != SUCCESS:
        fail(f"expire: re-authentication {status:#x}")
    if not flags & FLAG_SIGNED or not conn.verify(raw):
        fail("expire: the re-authentication reply is not signed with the session's key")
    conn.tree_connect()
    print("expire: re-authenticated, the session serves again: ok")


if len(sys.argv) > 5:
    expire(sys.argv[5])
    print("kerberos_client: expiry checks passed")
    sys.exit(0)

optimistic([OID_KRB5], OID_KRB5, "krb5 OID only")
optimistic([OID_MS_KRB5, OID_KRB5], OID_MS_KRB5, "MS-KRB5 OID first")
mic_leg("ok", "NEGOEX first: mechListMIC leg")
mic_leg("bad-mic", "NEGOEX first, corrupted client MIC")
mic_leg("no-mic", "NEGOEX first, no client MIC")
print("kerberos_client: all checks passed")
