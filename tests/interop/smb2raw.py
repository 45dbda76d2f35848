"""Raw SMB2 for the interop test clients in this directory.

Two kinds of client share it:
  - clients that put every byte on the wire themselves (hostile_client.py,
    limits_client.py, kerberos_client.py): Conn, header(), Reply, the
    NEGOTIATE / NTLMSSP / TREE_CONNECT / CREATE helpers, signing;
  - clients that send hand-built requests through impacket's SMB3 layer and
    read the replies themselves (locks, notify, async_io, vdisk_ops,
    path_escape, encryption): login(), Session, request().
Checks is the "ok:" / "FAIL:" bookkeeping most of them print.

Only what several clients do the same way lives here. What a client does
differently on purpose stays in the client: hostile_client.py's malformed
frames and bodies, for one.
"""
import hashlib
import hmac
import os
import socket
import struct
import sys
import time

from Cryptodome.Cipher import AES
from Cryptodome.Hash import CMAC
from impacket import ntlm
from impacket import smb3structs as s3
from impacket.smbconnection import SMBConnection

# Commands (MS-SMB2 2.2.1.2)
NEGOTIATE, SESSION_SETUP, LOGOFF, TREE_CONNECT, TREE_DISCONNECT = 0, 1, 2, 3, 4
CREATE, CLOSE, FLUSH, READ, WRITE, LOCK, IOCTL, CANCEL, ECHO = 5, 6, 7, 8, 9, 10, 11, 12, 13
QUERY_DIRECTORY, CHANGE_NOTIFY, QUERY_INFO, SET_INFO, OPLOCK_BREAK = 14, 15, 16, 17, 18

FLAG_RESPONSE, FLAG_ASYNC, FLAG_RELATED, FLAG_SIGNED = 0x1, 0x2, 0x4, 0x8

SUCCESS = 0
PENDING = 0x00000103
MORE_PROCESSING = 0xC0000016

# CREATE: read/write data and attributes, EA, read control, delete,
# synchronize for a file; list, read attributes, synchronize for a directory.
FILE_ACCESS = 0x0013019F
DIR_ACCESS = 0x00100081
FILE_OPEN, FILE_CREATE, FILE_OPEN_IF = 1, 2, 3


def sname(status, names):
    """A status for messages: its name from names, else hex; an outcome
    that is not a status (a string such as "connection dropped") as is."""
    if status in names:
        return names[status]
    return "0x%08x" % status if isinstance(status, int) else str(status)


class Checks:
    """check(cond, what) prints "ok: what" (ok=None: nothing) or
    "FAIL: what", keeps the failures in order and counts the checks."""

    def __init__(self, ok="ok: "):
        self.ok = ok
        self.failures = []
        self.count = 0

    def __call__(self, cond, what):
        self.count += 1
        if not cond:
            self.failures.append(what)
            print("FAIL: " + what, flush=True)
        elif self.ok is not None:
            print(self.ok + what, flush=True)
        return cond

    def run(self, tests, errors):
        """Runs the test functions in turn (one that raises one of errors
        fails, and the next runs), then the summary: exits 1 if any check
        failed."""
        for t in tests:
            try:
                t()
            except errors as e:
                self(False, "%s: %r" % (t.__name__, e))
        if self.failures:
            print("%d failed:" % len(self.failures))
            for f in self.failures:
                print("  " + f)
            sys.exit(1)
        print("all passed")


# ------------------------------------------------------------- the wire

class Dropped(Exception):
    """The server closed the connection."""


class Timeout(Exception):
    """No reply in time."""


def frame(pdu):
    """A NetBIOS session message (RFC 1002): type 0 and a 24-bit length."""
    return struct.pack(">I", len(pdu)) + pdu


def connect(host, port, timeout):
    s = socket.create_connection((host, port), timeout=timeout)
    # Small requests must leave at once, not wait for the last one's ACK.
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def closed_within(s, seconds, unanswered=False):
    """True if the peer closes (or resets) s within 'seconds'. Data it sends
    first is discarded, or with unanswered=True means False: the peer
    answered instead of refusing."""
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        s.settimeout(left)
        try:
            d = s.recv(65536)
        except socket.timeout:
            return False
        except OSError:
            return True
        if not d:
            return True
        if unanswered:
            return False


def header(cmd, mid, sid=0, tid=0, flags=0, credit_req=64, charge=1, next_cmd=0, status=0,
           proto=b"\xfeSMB", ssize=64, async_id=None):
    """An SMB2 header (MS-SMB2 2.2.1); with async_id the async form, whose
    AsyncId takes the place of Reserved and TreeId."""
    if async_id is not None:
        return struct.pack("<4sHHIHHIIQQQ16s", proto, ssize, charge, status, cmd, credit_req, flags | FLAG_ASYNC,
                           next_cmd, mid, async_id, sid, b"\0" * 16)
    return struct.pack("<4sHHIHHIIQIIQ16s", proto, ssize, charge, status, cmd, credit_req, flags, next_cmd, mid,
                       0xFEFF, tid, sid, b"\0" * 16)


class Reply:
    """One reply (one element of a compound), header fields parsed."""

    def __init__(self, raw):
        self.raw = raw  # the element, header included
        (self.proto, _, self.charge, self.status, self.cmd, self.credits, self.flags, self.next,
         self.mid) = struct.unpack_from("<4sHHIHHIIQ", raw, 0)
        # Bytes 32-39 are the AsyncId of an async reply, else Reserved and TreeId.
        self.async_id = struct.unpack_from("<Q", raw, 32)[0]
        self.tid = struct.unpack_from("<I", raw, 36)[0]
        self.sid = struct.unpack_from("<Q", raw, 40)[0]
        self.body = raw[64:]

    @property
    def interim(self):
        """An interim STATUS_PENDING: the final reply comes later."""
        return self.status == PENDING and bool(self.flags & FLAG_ASYNC)


def split_replies(pdu):
    """The replies of one frame, following NextCommand through a compound."""
    out, off = [], 0
    while True:
        nxt = struct.unpack_from("<I", pdu, off + 20)[0]
        out.append(Reply(pdu[off:off + nxt] if nxt else pdu[off:]))
        if not nxt:
            return out
        off += nxt


# ------------------------------------------------------------- signing

def kdf(key, label, context):
    """SP800-108 counter mode with HMAC-SHA256, one 128-bit block (MS-SMB2 3.1.4.2)."""
    data = struct.pack(">I", 1) + label + b"\0" + context + struct.pack(">I", 128)
    return hmac.new(key, data, hashlib.sha256).digest()[:16]


def signing_key(session_key, dialect):
    """The session key itself before SMB 3.0, derived from it since
    (MS-SMB2 3.3.5.5.3). 3.1.1 would also need the pre-auth hash, which
    these clients do not keep: their 3.1.1 sessions never sign."""
    if dialect >= 0x300:
        return kdf(session_key, b"SMB2AESCMAC\0", b"SmbSign\0")
    return session_key


def signature(key, pdu, dialect):
    """Of a message whose signature field is zero (MS-SMB2 3.1.4.1):
    AES-128-CMAC from SMB 3.0 on, HMAC-SHA256 before."""
    if dialect >= 0x300:
        return CMAC.new(key, pdu, ciphermod=AES).digest()
    return hmac.new(key, pdu, hashlib.sha256).digest()[:16]


# ---------------------------------------------------------- the connection

class Conn:
    """One TCP connection speaking SMB2 by hand. 'timeout' is the default
    for connecting and for each wait for a reply."""

    # A reply that comes while another is awaited is kept for a later
    # wait(). A client that reuses message ids on purpose turns this off,
    # so that a stale reply is never taken for a new one.
    keep_other_replies = True
    client_guid = b"\0" * 16

    def __init__(self, host, port, timeout=10.0):
        self.s = connect(host, port, timeout)
        self.timeout = timeout
        self.rbuf = b""
        self.early = []  # replies read while waiting for another
        self.mid = 0
        self.sid = 0
        self.tid = 0
        self.dialect = 0
        self.sign_key = None
        self.sign_all = False  # sign every request once the session has a key
        self.dead = False  # the server closed the connection

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass

    def send_raw(self, data):
        self.s.sendall(data)

    def send_pdu(self, pdu):
        self.send_raw(frame(pdu))

    def recv_pdu(self, timeout=None):
        """The next frame's payload, or None when the server has closed the connection."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            if len(self.rbuf) >= 4:
                n = struct.unpack(">I", self.rbuf[:4])[0] & 0xFFFFFF
                if len(self.rbuf) >= 4 + n:
                    p = self.rbuf[4:4 + n]
                    self.rbuf = self.rbuf[4 + n:]
                    return p
            left = deadline - time.monotonic()
            if left <= 0:
                raise Timeout()
            self.s.settimeout(left)
            try:
                d = self.s.recv(1 << 20)
            except socket.timeout:
                raise Timeout()
            except OSError:
                d = b""
            if not d:
                self.dead = True
                return None
            self.rbuf += d

    def recv_replies(self, timeout=None):
        p = self.recv_pdu(timeout)
        if p is None:
            raise Dropped()
        return split_replies(p)

    def sign(self, pdu):
        pdu = bytearray(pdu)
        struct.pack_into("<I", pdu, 16, struct.unpack_from("<I", pdu, 16)[0] | FLAG_SIGNED)
        pdu[48:64] = b"\0" * 16
        pdu[48:64] = signature(self.sign_key, bytes(pdu), self.dialect)
        return bytes(pdu)

    def verify(self, raw):
        """Checks a reply element's signature."""
        pdu = bytearray(raw)
        sig = bytes(pdu[48:64])
        pdu[48:64] = b"\0" * 16
        return signature(self.sign_key, bytes(pdu), self.dialect) == sig

    def build(self, cmd, body, mid=None, sid=None, tid=None, flags=0, credit_req=64, charge=1, sign=None,
              **kw):
        """A request on this connection's session and tree, with the next
        message id (unless given: then the count stays). Signed when 'sign'
        says so, by default when sign_all is set and there is a key."""
        if mid is None:
            mid = self.mid
            self.mid += max(charge, 1)  # a request takes CreditCharge message ids (MS-SMB2 3.2.4.1.3)
        pdu = header(cmd, mid, self.sid if sid is None else sid, self.tid if tid is None else tid, flags,
                     credit_req, charge, **kw) + body
        if sign is None:
            sign = self.sign_all and self.sign_key is not None and cmd != NEGOTIATE
        return self.sign(pdu) if sign else pdu

    def wait(self, mid, timeout=None, interim=False):
        """The reply to 'mid': the final one, or with interim=True whichever comes first."""
        for i, r in enumerate(self.early):
            if r.mid == mid and (interim or not r.interim):
                return self.early.pop(i)
        while True:
            for r in self.recv_replies(timeout):
                if r.mid == mid and (interim or not r.interim):
                    return r
                if self.keep_other_replies:
                    self.early.append(r)

    def start(self, cmd, body, **kw):
        """Sends a request; returns its message id."""
        pdu = self.build(cmd, body, **kw)
        self.send_pdu(pdu)
        return struct.unpack_from("<Q", pdu, 24)[0]

    def call(self, cmd, body, timeout=None, **kw):
        return self.wait(self.start(cmd, body, **kw), timeout)

    def cancel(self, async_id):
        self.send_pdu(header(CANCEL, 0, self.sid, async_id=async_id) + b"\x04\x00\x00\x00")


# ------------------------------------------------------------ a session

def negotiate_body(dialects=(0x0202, 0x0210, 0x0300), guid=b"\0" * 16, sec_mode=1, caps=0x7F):
    d = b"".join(struct.pack("<H", x) for x in dialects)
    return struct.pack("<HHHHI16sIHH", 36, len(dialects), sec_mode, 0, caps, guid, 0, 0, 0) + d


def negotiate(c, dialects=(0x0202, 0x0210, 0x0300), sec_mode=1, credit_req=256, body=None):
    """NEGOTIATE (body: one built by the caller instead); the status, and
    on success c.dialect."""
    if body is None:
        body = negotiate_body(dialects, c.client_guid, sec_mode)
    r = c.call(NEGOTIATE, body, credit_req=credit_req)
    if r.status == SUCCESS:
        c.dialect = struct.unpack_from("<H", r.body, 4)[0]
    return r.status


def negotiate_311(c, sec_mode=1):
    """NEGOTIATE offering 3.1.1 alone, with a pre-auth integrity context
    (SHA-512); the status, and on success c.dialect. No pre-auth hash is
    kept: such sessions never sign."""
    start = 64 + 36 + 2
    pad = (-start) % 8
    salt = os.urandom(32)
    ctx = struct.pack("<HHI", 1, 6 + len(salt), 0) + struct.pack("<HHH", 1, len(salt), 1) + salt
    body = struct.pack("<HHHHI16sIHH", 36, 1, sec_mode, 0, 0x7F, c.client_guid, start + pad, 1, 0) + \
        struct.pack("<H", 0x0311) + b"\0" * pad + ctx
    return negotiate(c, (0x0311,), sec_mode, body=body)


def session_setup_body(token, sec_mode=1):
    return struct.pack("<HBBIIHHQ", 25, 0, sec_mode, 0, 0, 64 + 24, len(token), 0) + token


def ntlm_login(c, user, password, sec_mode=1):
    """A new session: raw NTLMSSP (no SPNEGO wrapper, impacket builds the
    messages) in two legs. The final status; on success c.sid and c.sign_key."""
    t1 = ntlm.getNTLMSSPType1("", "", signingRequired=True)
    r = c.call(SESSION_SETUP, session_setup_body(t1.getData(), sec_mode), sid=0)
    if r.status != MORE_PROCESSING:
        return r.status
    off, ln = struct.unpack_from("<HH", r.body, 4)
    t3, key = ntlm.getNTLMSSPType3(t1, r.raw[off:off + ln], user, password, "")
    c.sid = r.sid
    r = c.call(SESSION_SETUP, session_setup_body(t3.getData(), sec_mode))
    if r.status != SUCCESS:
        c.sid = 0
        return r.status
    c.sign_key = signing_key(key, c.dialect)
    return SUCCESS


def tree_connect_body(path):
    p = path.encode("utf-16-le")
    return struct.pack("<HHHH", 9, 0, 64 + 8, len(p)) + p


def tree_connect(c, path):
    """TREE_CONNECT to \\\\server\\share; the status, and on success c.tid."""
    r = c.call(TREE_CONNECT, tree_connect_body(path))
    if r.status == SUCCESS:
        c.tid = r.tid
    return r.status


def create_body(name, access=FILE_ACCESS, disposition=FILE_OPEN_IF, options=0x40):
    """CREATE without contexts; options 0x40 is FILE_NON_DIRECTORY_FILE."""
    n = name.encode("utf-16-le")
    return struct.pack("<HBBIQQIIIIIHHII", 57, 0, 0, 2, 0, 0, access, 0, 7, disposition, options, 64 + 56, len(n),
                       0, 0) + (n or b"\0")


def contexts(items):
    """Create contexts (MS-SMB2 2.2.13.2): (name, data) pairs, each 8-aligned."""
    out = b""
    for i, (tag, data) in enumerate(items):
        data_off = 16 + (len(tag) + 7) // 8 * 8
        ctx = struct.pack("<IHHHHI", 0, 16, len(tag), 0, data_off, len(data)) + tag + \
            b"\0" * (data_off - 16 - len(tag)) + data
        if i + 1 < len(items):
            ctx += b"\0" * ((8 - len(ctx) % 8) % 8)
            ctx = struct.pack("<I", len(ctx)) + ctx[4:]
        out += ctx
    return out


def reply_contexts(r):
    """{tag: data} of a CREATE reply."""
    off, ln = struct.unpack_from("<II", r.body, 80)
    out, pos = {}, off
    while ln:
        nxt, noff, nlen, _, doff, dlen = struct.unpack_from("<IHHHHI", r.raw, pos)
        out[r.raw[pos + noff:pos + noff + nlen]] = r.raw[pos + doff:pos + doff + dlen]
        if not nxt:
            break
        pos += nxt
    return out


def create(c, name, **kw):
    """(status, FileId or None)."""
    r = c.call(CREATE, create_body(name, **kw))
    return r.status, (r.body[64:80] if r.status == SUCCESS else None)


def read_body(fid, length, offset=0, minimum=0):
    """READ (MS-SMB2 2.2.19) with the data padded in after the header (0x50)."""
    return struct.pack("<HBBIQ16sIIIHH", 49, 0x50, 0, length, offset, fid, minimum, 0, 0, 0, 0) + b"\0"


def read_back(c, fid, length, verify=False):
    """The file's first 'length' bytes, in READs of 1 MiB at most; None if
    one fails, or with verify=True if a reply's signature does not check."""
    out = b""
    while len(out) < length:
        n = min(1 << 20, length - len(out))
        r = c.call(READ, read_body(fid, n, len(out)), charge=(n + 65535) // 65536)
        if r.status != SUCCESS or (verify and not c.verify(r.raw)):
            return None
        off, ln = struct.unpack_from("<BxI", r.body, 2)
        out += r.raw[off:off + ln]
    return out


def write_body(fid, data, offset=0, flags=0):
    """WRITE (MS-SMB2 2.2.21) with the data right after the body."""
    return struct.pack("<HHIQ16sIIHHI", 49, 64 + 48, len(data), offset, fid, 0, 0, 0, 0, flags) + data


def set_info_body(fid, info_type=1, info_class=4, data=b"\0" * 40, buf_off=None, buf_len=None):
    """SET_INFO (MS-SMB2 2.2.39); by default FileBasicInformation that changes nothing."""
    return struct.pack("<HBBIHHI16s", 33, info_type, info_class, len(data) if buf_len is None else buf_len,
                       64 + 32 if buf_off is None else buf_off, 0, 0, fid) + data


def rename_info(name, length=None, replace=0):
    """FILE_RENAME_INFORMATION_TYPE_2 (MS-FSCC 2.4.37.2), also FileLinkInformation's layout."""
    n = name.encode("utf-16-le")
    return struct.pack("<B7sQI", replace, b"\0" * 7, 0, len(n) if length is None else length) + n


def close_body(fid):
    return struct.pack("<HHI", 24, 0, 0) + fid


# -------------------------------------------------------- through impacket

def login(host, port, user, password, dialect):
    """An impacket connection with a session, on the dialect given."""
    conn = SMBConnection(host, host, sess_port=int(port), preferredDialect=dialect)
    conn.login(user, password)
    return conn


def ioctl_request(fid, code, data=b"", max_out=64 * 1024):
    """An impacket IOCTL request (MS-SMB2 2.2.31) for the FSCTL code on fid,
    for request()."""
    req = s3.SMB2Ioctl()
    req["FileID"] = fid
    req["CtlCode"] = code
    req["MaxInputResponse"] = 0
    req["MaxOutputResponse"] = max_out
    req["InputCount"] = len(data)
    if data:
        req["Buffer"] = data
    else:
        req["InputOffset"] = 0
        req["Buffer"] = b"\x00"
    req["OutputOffset"] = 0
    req["Flags"] = s3.SMB2_0_IOCTL_IS_FSCTL
    return req


def request(smb, tid, command, data, charge=None, credits=None, flags=0):
    """A request packet for impacket's sendSMB(); the header fields not
    given are left as impacket sets them."""
    p = smb.SMB_PACKET()
    p["Command"] = command
    p["TreeID"] = tid
    if flags:
        p["Flags"] = flags
    if charge:
        p["CreditCharge"] = charge
    if credits:
        p["CreditRequestResponse"] = credits
    p["Data"] = data
    return p


class Session:
    """An impacket session connected to one share, whose replies are read
    here when impacket's own matching is not enough: interim and final
    replies of several requests interleave, and a request that went async
    is cancelled by its AsyncId."""

    def __init__(self, host, port, user, password, share, dialect):
        self.conn = login(host, port, user, password, dialect)
        self.smb = self.conn.getSMBServer()
        self.tid = self.conn.connectTree(share)
        self.async_ids = {}  # message id -> AsyncId, from interim replies

    def read_reply(self, timeout):
        """The next reply on the wire (an SMB2Packet), or None for an
        interim one, whose AsyncId is noted."""
        raw = self.smb._NetBIOSSession.recv_packet(timeout).get_trailer()
        if raw.startswith(b"\xfdSMB"):
            # impacket encrypts 3.x sessions when the server can: open the
            # transform header as its recvSMB() does (MS-SMB2 3.2.5.1.1.1).
            th = s3.SMB2_TRANSFORM_HEADER(raw)
            cipher = AES.new(self.smb._Session["DecryptionKey"], AES.MODE_CCM, th["Nonce"][:11])
            cipher.update(th.getData()[20:])
            raw = cipher.decrypt(raw[len(s3.SMB2_TRANSFORM_HEADER()):])
        p = s3.SMB2Packet(raw)
        if p["Status"] == PENDING and p["Flags"] & s3.SMB2_FLAGS_ASYNC_COMMAND:
            self.async_ids[p["MessageID"]] = struct.unpack("<Q", raw[32:40])[0]
            return None
        return p

    def recv(self, mid, timeout=10):
        """The final reply to request mid, or None on time-out. Replies to
        others wait in impacket's own table until asked for."""
        stash = self.smb._Connection["OutstandingResponses"]
        deadline = time.time() + timeout
        while mid not in stash:
            left = deadline - time.time()
            if left <= 0:
                return None
            try:
                p = self.read_reply(left)
            except Exception as e:
                print("recv: %r" % e)
                return None
            if p is not None:
                stash[p["MessageID"]] = p
        return stash.pop(mid)

    def wait_interim(self, mid, timeout=5):
        """True once request mid has had its interim reply (False if its
        final reply came instead, or nothing in time)."""
        deadline = time.time() + timeout
        stash = self.smb._Connection["OutstandingResponses"]
        while mid not in self.async_ids and mid not in stash and time.time() < deadline:
            try:
                p = self.read_reply(deadline - time.time())
            except Exception:
                break
            if p is not None:
                stash[p["MessageID"]] = p
        return mid in self.async_ids

    def cancel_async(self, mid):
        """CANCEL by AsyncId (MS-SMB2 3.2.4.24), built by hand: impacket's
        cancel() only does the synchronous form. Sent in the clear even on
        an encrypted session: the test shares do not require encryption."""
        hdr = header(CANCEL, mid, self.smb._Session["SessionID"], credit_req=0, charge=0,
                     async_id=self.async_ids[mid])
        self.smb._NetBIOSSession.send_packet(hdr + struct.pack("<HH", 4, 0))
