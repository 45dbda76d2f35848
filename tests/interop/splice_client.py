#!/usr/bin/python3
"""Large WRITEs whose data goes from the socket to the file by splice
(smbd/tcp_tail.h), and large READs whose data goes from the file to the
socket by splice (smbd/tcp_spliced.h), from raw sockets (run by splice.sh).

  - 1 MiB and 8 MiB unsigned WRITEs (8 MiB is larger than the pipe) land
    byte for byte, read back and on disk; the server's log shows each
    went by splice;
  - pipelined WRITEs and an ECHO behind them are all answered; after the
    first, each WRITE's header is read alone and all its data spliced;
  - a WRITE the server refuses (a closed handle, a handle opened for
    reading) or that fails part way (the disk fills) gets its error, its
    data is read and dropped, and the next request on the connection is
    answered;
  - signed WRITEs are never spliced, and land as well;
  - a client that vanishes, or stalls, half-way through a WRITE's data
    costs its connection only;
  - 1 MiB and 8 MiB unsigned READs (8 MiB takes a chain of pipes) come
    back byte for byte and went by splice (server log); a READ across the
    end of the file is short, one at the end or asking more than there is
    (MinimumCount) is END_OF_FILE;
  - sixteen READs, small and large, and an ECHO sent back to back to a
    client that reads nothing for a while (the socket fills, replies queue
    behind the spliced ones) all come back whole and in a sound stream;
  - a signed READ is never spliced; a client that vanishes with large
    READs unanswered costs its connection only.

Usage: splice_client.py HOST PORT USER PASSWORD SHARE_DIR SMALL_DIR SERVER_LOG [TEST...]
(SMALL_DIR: the directory of the share "small", a 512 KiB file system).
"""
import os
import socket
import struct
import sys
import time

import smb2raw
from smb2raw import (CLOSE, ECHO, READ, SUCCESS, WRITE, Checks, Dropped, Timeout, close_body, closed_within,
                     header, read_body, write_body)

HOST, PORT, USER, PASSWORD = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
SHARE_DIR, SMALL_DIR, LOG = sys.argv[5], sys.argv[6], sys.argv[7]

END_OF_FILE = 0xC0000011
FILE_CLOSED = 0xC0000128
ACCESS_DENIED = 0xC0000022
DISK_FULL = 0xC000007F
NAMES = {SUCCESS: "SUCCESS", FILE_CLOSED: "FILE_CLOSED", ACCESS_DENIED: "ACCESS_DENIED", DISK_FULL: "DISK_FULL",
         END_OF_FILE: "END_OF_FILE"}
MIB = 1 << 20

check = Checks()


def sname(st):
    return smb2raw.sname(st, NAMES)


def charge(n):
    return max(1, (n + 65535) // 65536)


def logged(what):
    with open(LOG, errors="replace") as f:
        return f.read().count(what)


def spliced():
    """WRITEs whose data the server moved by splice, from its debug log."""
    return logged("its data to the file by splice")


def spliced_reads():
    """READs whose data the server sent by splice, from its debug log."""
    return logged("its data to the socket by splice")


def session(share="test", sign=False):
    c = smb2raw.Conn(HOST, PORT, timeout=20.0)
    st = smb2raw.negotiate(c, (0x0300,))
    if st == SUCCESS:
        st = smb2raw.ntlm_login(c, USER, PASSWORD)
    if st == SUCCESS:
        st = smb2raw.tree_connect(c, "\\\\%s\\%s" % (HOST, share))
    if st != SUCCESS:
        raise RuntimeError("session setup: %s" % sname(st))
    c.sign_all = sign
    return c


def write(c, fid, data, offset=0):
    r = c.call(WRITE, write_body(fid, data, offset), charge=charge(len(data)), timeout=30)
    count = struct.unpack_from("<I", r.body, 4)[0] if r.status == SUCCESS else 0
    return r.status, count


def read_data(r):
    off, n = r.body[2], struct.unpack_from("<I", r.body, 4)[0]
    return r.raw[off:off + n]


def read_status(c, fid, length, offset=0, minimum=0):
    r = c.call(READ, read_body(fid, length, offset, minimum), charge=charge(length), timeout=30)
    return r.status, read_data(r) if r.status == SUCCESS else None


def read(c, fid, length, offset=0):
    return read_status(c, fid, length, offset)[1]


def echo_ok(c):
    try:
        return c.call(ECHO, struct.pack("<HH", 4, 0), timeout=10).status == SUCCESS
    except (Dropped, Timeout):
        return False


def on_disk(directory, name):
    with open(os.path.join(directory, name), "rb") as f:
        return f.read()


def test_lands():
    print("== 1 MiB and 8 MiB unsigned WRITEs", flush=True)
    c = session()
    st, fid = smb2raw.create(c, "big.dat")
    n0 = spliced()
    one, eight = os.urandom(MIB), os.urandom(8 * MIB)
    check(write(c, fid, one) == (SUCCESS, MIB), "1 MiB WRITE at 0")
    check(write(c, fid, eight, offset=3 * MIB) == (SUCCESS, 8 * MIB), "8 MiB WRITE at 3 MiB")
    check(spliced() - n0 == 2, "both went by splice (server log: %d)" % (spliced() - n0))
    check(read(c, fid, MIB) == one and read(c, fid, 8 * MIB, 3 * MIB) == eight, "READ returns both")
    want = one + b"\0" * (2 * MIB) + eight
    check(on_disk(SHARE_DIR, "big.dat") == want, "the file on disk is byte-identical (a hole between)")

    print("== pipelined: four 1 MiB WRITEs and an ECHO, sent back to back", flush=True)
    blocks = [os.urandom(MIB) for _ in range(4)]
    whole0 = logged("(0 read with the header)")
    mids = [c.start(WRITE, write_body(fid, b, i * MIB), charge=16) for i, b in enumerate(blocks)]
    m_echo = c.start(ECHO, struct.pack("<HH", 4, 0))
    sts = [c.wait(m, timeout=30).status for m in mids]
    check(sts == [SUCCESS] * 4, "all four succeeded (%s)" % [sname(s) for s in sts])
    # After a split WRITE the server reads the next header alone, so none
    # of the next WRITE's data passes through its buffer (server log).
    whole = logged("(0 read with the header)") - whole0
    check(whole >= 3, "the three after the first went to the pipe whole (server log: %d)" % whole)
    check(c.wait(m_echo, timeout=10).status == SUCCESS, "the ECHO behind them was answered")
    check(on_disk(SHARE_DIR, "big.dat")[:4 * MIB] == b"".join(blocks), "the four blocks are on disk in order")
    c.call(CLOSE, close_body(fid))
    c.close()


def test_refused():
    print("== WRITEs refused before their data arrives", flush=True)
    c = session()
    st, fid = smb2raw.create(c, "refused.dat")
    c.call(CLOSE, close_body(fid))
    n0 = spliced()
    st, _ = write(c, fid, os.urandom(MIB))
    check(st == FILE_CLOSED, "1 MiB WRITE on a closed handle: %s" % sname(st))
    check(echo_ok(c), "an ECHO after it is answered (the data was read and dropped)")
    st, rfid = smb2raw.create(c, "refused.dat", access=0x00120089)  # read only
    st, _ = write(c, rfid, os.urandom(2 * MIB))
    check(st == ACCESS_DENIED, "2 MiB WRITE on a read-only handle: %s" % sname(st))
    check(echo_ok(c), "an ECHO after it is answered")
    check(spliced() == n0, "neither reached a file")
    check(os.path.getsize(os.path.join(SHARE_DIR, "refused.dat")) == 0, "the file is still empty")
    c.close()


def test_disk_full():
    print("== a WRITE that fills the disk part way", flush=True)
    c = session("small")
    st, fid = smb2raw.create(c, "full.dat")
    st, _ = write(c, fid, os.urandom(2 * MIB))
    check(st == DISK_FULL, "2 MiB WRITE to a 512 KiB file system: %s" % sname(st))
    check(echo_ok(c), "an ECHO after it is answered (the rest was dropped)")
    st, count = write(c, fid, b"small write", offset=0)
    check(st == SUCCESS, "a small WRITE on the same connection then: %s" % sname(st))
    c.call(CLOSE, close_body(fid))
    c.close()
    os.unlink(os.path.join(SMALL_DIR, "full.dat"))


def test_signed():
    print("== signed WRITEs are read whole, never spliced", flush=True)
    c = session(sign=True)
    st, fid = smb2raw.create(c, "signed.dat")
    n0 = spliced()
    data = os.urandom(2 * MIB)
    check(write(c, fid, data) == (SUCCESS, 2 * MIB), "signed 2 MiB WRITE")
    check(spliced() == n0, "not by splice")
    check(on_disk(SHARE_DIR, "signed.dat") == data, "on disk")
    c.close()


def partial_write(c, fid, total, sent):
    """A WRITE of 'total' bytes of which only 'sent' are sent."""
    pdu = c.build(WRITE, write_body(fid, b"\xaa" * total), charge=charge(total))
    c.send_raw(smb2raw.frame(pdu)[:4 + 64 + 48 + sent])


def test_vanish_and_stall():
    print("== a client that vanishes half-way through a WRITE's data", flush=True)
    c = session()
    st, fid = smb2raw.create(c, "vanish.dat")
    partial_write(c, fid, MIB, 300 * 1024)
    time.sleep(0.3)
    c.s.shutdown(socket.SHUT_RDWR)
    c.close()
    c = session()
    check(echo_ok(c), "a new connection is served")
    c.close()

    print("== a client that stalls half-way through a WRITE's data (auth timeout = 3)", flush=True)
    c = session()
    st, fid = smb2raw.create(c, "stall.dat")
    t0 = time.monotonic()
    partial_write(c, fid, 4 * MIB, 512 * 1024)
    gone = closed_within(c.s, 15)
    check(gone, "the connection is dropped after %.1f s" % (time.monotonic() - t0))
    c.close()
    other = session()
    check(echo_ok(other), "others are served")
    other.close()


def test_reads():
    print("== 1 MiB and 8 MiB unsigned READs, by splice", flush=True)
    size = 11 * MIB + 12345
    content = os.urandom(size)
    with open(os.path.join(SHARE_DIR, "readme.dat"), "wb") as f:
        f.write(content)
    c = session()
    st, fid = smb2raw.create(c, "readme.dat", access=0x00120089)  # read only
    n0 = spliced_reads()
    check(read(c, fid, MIB) == content[:MIB], "1 MiB READ at 0")
    check(read(c, fid, 8 * MIB, MIB) == content[MIB:9 * MIB], "8 MiB READ at 1 MiB (a chain of pipes)")
    check(spliced_reads() - n0 == 2, "both went by splice (server log: %d)" % (spliced_reads() - n0))

    print("== READs at the end of the file", flush=True)
    st, data = read_status(c, fid, MIB, size - 1000)
    check(st == SUCCESS and data == content[-1000:], "1 MiB READ 1000 bytes before the end: those 1000 (%s, %s)" %
          (sname(st), None if data is None else len(data)))
    st, _ = read_status(c, fid, MIB, size)
    check(st == END_OF_FILE, "1 MiB READ at the end: %s" % sname(st))
    st, _ = read_status(c, fid, MIB, size - 1000, minimum=2000)
    check(st == END_OF_FILE, "MinimumCount 2000 with 1000 left: %s" % sname(st))
    check(echo_ok(c), "the connection is in step after them")

    print("== sixteen READs and an ECHO back to back, the client reading nothing for a while", flush=True)
    plan = []
    for i in range(16):
        length = 4096 if i % 4 == 1 else (8 * MIB if i % 4 == 3 else MIB)
        offset = (i * 333333) % (size - length)
        plan.append((length, offset))
    n0 = spliced_reads()
    mids = [c.start(READ, read_body(fid, length, offset), charge=charge(length)) for length, offset in plan]
    m_echo = c.start(ECHO, struct.pack("<HH", 4, 0))
    time.sleep(1.0)  # the socket's buffers fill; the rest queues on the server
    good = 0
    for m, (length, offset) in zip(mids, plan):
        r = c.wait(m, timeout=30)
        good += r.status == SUCCESS and read_data(r) == content[offset:offset + length]
    check(good == 16, "all sixteen came back whole (%d)" % good)
    check(c.wait(m_echo, timeout=10).status == SUCCESS, "the ECHO behind them was answered")
    check(spliced_reads() - n0 == 12, "the twelve large ones went by splice (server log: %d)" %
          (spliced_reads() - n0))
    c.call(CLOSE, close_body(fid))
    c.close()

    print("== a signed READ is not spliced", flush=True)
    c = session(sign=True)
    st, fid = smb2raw.create(c, "readme.dat", access=0x00120089)
    n0 = spliced_reads()
    check(read(c, fid, 2 * MIB, 5) == content[5:5 + 2 * MIB], "signed 2 MiB READ")
    check(spliced_reads() == n0, "not by splice")
    c.close()

    print("== a client that vanishes with large READs unanswered", flush=True)
    c = session()
    st, fid = smb2raw.create(c, "readme.dat", access=0x00120089)
    for i in range(4):
        c.start(READ, read_body(fid, 8 * MIB, i), charge=charge(8 * MIB))
    time.sleep(0.2)
    c.s.shutdown(socket.SHUT_RDWR)
    c.close()
    c = session()
    st, fid = smb2raw.create(c, "readme.dat", access=0x00120089)
    check(read(c, fid, MIB, 7) == content[7:7 + MIB], "a new connection reads by splice as before")
    c.close()


def main():
    tests = (test_lands, test_refused, test_disk_full, test_signed, test_vanish_and_stall, test_reads)
    only = sys.argv[8:]
    unknown = set(only) - {t.__name__ for t in tests}
    if unknown:
        sys.exit("no such test: %s" % " ".join(sorted(unknown)))
    check.run([t for t in tests if not only or t.__name__ in only], (Dropped, Timeout, OSError, RuntimeError))


if __name__ == "__main__":
    main()
