#!/usr/bin/python3
"""impacket's SMB client against Porthos: SMB 3 dialects, signing, and a
file written and read back byte for byte. Also raw requests through
impacket's SMB3 layer that a well-behaved client never sends."""
import io
import os
import sys

from impacket.smbconnection import SMBConnection, SessionError
from impacket import smb3structs as s3

host, port, share, user, password = sys.argv[1:6]


def connect(dialect):
    conn = SMBConnection(host, host, sess_port=int(port), preferredDialect=dialect)
    conn.login(user, password)
    return conn


def check(cond, what):
    if not cond:
        print("FAIL:", what)
        sys.exit(1)


# Not 3.1.1: Debian 12's impacket 0.10.0 does not seed the session's
# pre-auth hash from the connection's on the NTLM path (fixed upstream by
# impacket PR #1373), so its 3.1.1 signing keys are wrong against any
# server, Windows and Samba included. Listed in tests/knownfail.
# None: impacket starts with an SMB1 NEGOTIATE offering "SMB 2.???", which
# the server must upgrade to SMB2 with the wildcard dialect.
for dialect in (None, s3.SMB2_DIALECT_30, s3.SMB2_DIALECT_21, s3.SMB2_DIALECT_002):
    conn = connect(dialect)
    got = conn.getDialect()
    check(dialect is None or got == dialect, "dialect 0x%x negotiated instead of %r" % (got, dialect))
    dialect = got
    data = os.urandom(3 * 1024 * 1024 + 77)
    name = "impacket-%x.bin" % dialect
    conn.putFile(share, name, io.BytesIO(data).read)
    back = io.BytesIO()
    conn.getFile(share, name, back.write)
    check(back.getvalue() == data, "data read back differs (dialect 0x%x)" % dialect)
    names = [f.get_longname() for f in conn.listPath(share, "*")]
    check(name in names, "%s not listed: %s" % (name, names))
    conn.deleteFile(share, name)
    names = [f.get_longname() for f in conn.listPath(share, "*")]
    check(name not in names, "%s still listed after delete" % name)
    conn.logoff()
    print("dialect 0x%x: ok" % dialect)

# Wrong password: LOGON_FAILURE, and the server keeps serving.
try:
    conn = SMBConnection(host, host, sess_port=int(port), preferredDialect=s3.SMB2_DIALECT_30)
    conn.login(user, password + "x")
    check(False, "wrong password accepted")
except SessionError as e:
    check(e.getErrorCode() == 0xC000006D, "wrong password gave 0x%x" % e.getErrorCode())
conn = connect(s3.SMB2_DIALECT_30)
conn.logoff()
print("impacket: all checks passed")
