#!/usr/bin/python3
"""impacket (SMB 3.0, AES-128-CCM) against a share that requires
encryption: encrypted I/O works, a plain request on the same tree is
refused with ACCESS_DENIED, and the server keeps serving."""
import io
import os
import sys

from impacket import smb3
from impacket import smb3structs as s3

from smb2raw import login

host, port, share, user, password = sys.argv[1:6]


def check(cond, what):
    if not cond:
        print("FAIL:", what)
        sys.exit(1)


conn = login(host, port, user, password, s3.SMB2_DIALECT_30)
data = os.urandom(2 * 1024 * 1024 + 3)
conn.putFile(share, "enc.bin", io.BytesIO(data).read)
back = io.BytesIO()
conn.getFile(share, "enc.bin", back.write)
check(back.getvalue() == data, "data read back through encryption differs")

# Turn impacket's encryption off for this tree: the server must refuse.
raw = conn.getSMBServer()
tid = raw.connectTree(share)
check(raw._Session['TreeConnectTable'][tid]['EncryptData'], "the tree did not ask for encryption")
raw._Session['TreeConnectTable'][tid]['EncryptData'] = False
raw._Session['SessionFlags'] &= ~s3.SMB2_SESSION_FLAG_ENCRYPT_DATA
try:
    raw.create(tid, "enc.bin", s3.FILE_READ_DATA, s3.FILE_SHARE_READ, 0, s3.FILE_OPEN, 0)
    check(False, "an unencrypted CREATE on an encrypted tree was served")
except smb3.SessionError as e:
    check(e.get_error_code() == 0xC0000022, "plain request got 0x%x, not ACCESS_DENIED" % e.get_error_code())
print("impacket encryption: all checks passed")
