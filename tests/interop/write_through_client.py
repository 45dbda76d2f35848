#!/usr/bin/python3
"""Which WRITEs reach the disk before their reply (run by write_through.sh).

The shares live on a file system of their own (an ext4 image on a loop
device), so the device's count of sectors written (/sys/block/DEV/stat)
moves only with what the server writes there. Each case writes 4 MiB
and reads the count between the last WRITE's reply and the CLOSE: a
write-through case must have put at least the data on the device, a
plain one on an ordinary share must not (the page cache keeps it; the
kernel's writeback waits 30 s for dirty data), which shows the count
can tell them apart.

usage: write_through_client.py HOST PORT USER PASSWORD DEVICE
"""
import struct
import sys

import smb2raw
from smb2raw import CLOSE, CREATE, SUCCESS, WRITE, Checks, close_body, write_body

HOST, PORT, USER, PASSWORD, DEVICE = sys.argv[1], int(sys.argv[2]), *sys.argv[3:6]
TOTAL = 4 << 20
SECTORS = TOTAL // 512
FLAG_WRITE_THROUGH = 0x1          # SMB2_WRITEFLAG_WRITE_THROUGH
FILE_WRITE_THROUGH = 0x2          # CreateOptions
FILE_NON_DIRECTORY_FILE = 0x40

check = Checks()


def sectors_written():
    with open("/sys/block/%s/stat" % DEVICE) as f:
        return int(f.read().split()[6])


def connect(share):
    c = smb2raw.Conn(HOST, PORT, timeout=30.0)
    if smb2raw.negotiate(c, dialects=(0x0300,)) != SUCCESS:
        raise RuntimeError("negotiate")
    if smb2raw.ntlm_login(c, USER, PASSWORD) != SUCCESS:
        raise RuntimeError("logon")
    if smb2raw.tree_connect(c, "\\\\%s\\%s" % (HOST, share)) != SUCCESS:
        raise RuntimeError("tree connect to " + share)
    return c


def write_file(share, name, chunk, create_options=0, write_flags=0):
    """Writes TOTAL bytes in WRITEs of chunk bytes; the sectors the device
    took from the first WRITE to the last reply."""
    c = connect(share)
    r = c.call(CREATE, smb2raw.create_body(name, options=FILE_NON_DIRECTORY_FILE | create_options))
    if r.status != SUCCESS:
        raise RuntimeError("create %s: 0x%08x" % (name, r.status))
    fid = r.body[64:80]
    before = sectors_written()
    data = bytes(range(256)) * (chunk // 256)
    charge = (chunk + 65535) // 65536
    for off in range(0, TOTAL, chunk):
        r = c.call(WRITE, write_body(fid, data, off, write_flags), charge=charge, credit_req=charge)
        if r.status != SUCCESS:
            raise RuntimeError("write: 0x%08x" % r.status)
    moved = sectors_written() - before
    c.call(CLOSE, close_body(fid))
    c.close()
    return moved


def case(what, share, name, expect_through, **kw):
    for chunk in (64 << 10, 1 << 20):
        moved = write_file(share, "%s-%d" % (name, chunk), chunk, **kw)
        size = "%d KiB WRITEs" % (chunk >> 10)
        if expect_through:
            check(moved >= SECTORS, "%s, %s: on the disk before the replies (%d of %d sectors)"
                  % (what, size, moved, SECTORS))
        else:
            check(moved < SECTORS // 2, "%s, %s: left in the page cache (%d sectors written)" % (what, size, moved))


def main():
    case("an ordinary share", "plain", "cached", False)
    case("an ordinary share, SMB2_WRITEFLAG_WRITE_THROUGH", "plain", "flag", True, write_flags=FLAG_WRITE_THROUGH)
    case("an ordinary share, opened with FILE_WRITE_THROUGH", "plain", "opened", True,
         create_options=FILE_WRITE_THROUGH)
    # Windows writes every open on a continuously available share through.
    case("a continuously available share", "ca", "ca", True)
    check.run((), ())


if __name__ == "__main__":
    main()
