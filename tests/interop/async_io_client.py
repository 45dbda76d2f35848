#!/usr/bin/python3
"""File I/O off the event loop, seen from one client connection (impacket's
SMB3 layer, raw requests, SMB 2.1 so replies are plain).

What it asserts:
 - a slow FLUSH (fdatasync of 64 MiB of dirty data) does not hold up a
   READ sent after it on the same connection: the READ's reply comes first
   (requests complete out of order, MS-SMB2 3.3.4.1);
 - 64 WRITEs in flight at once on one connection all succeed and the file
   holds exactly what was sent;
 - a READ and a CLOSE of its handle sent back to back both get answers;
 - a LOGOFF, and a dropped connection, with writes still in flight leave
   the server serving (the workers finish into live memory);
 - a slow CREATE (a name looked for case-insensitively in a directory of
   100,000 entries) does not hold up an ECHO sent after it;
 - of 32 CREATEs of one new name with no sharing, in flight at once, the
   one that creates the file keeps it (FILE_CREATED) and the other 31 get
   SHARING_VIOLATION, as on Windows (the creator is never shut out of its
   own file by a racer), for a file and again for a directory;
 - file-system work the kernel takes long over runs on a worker as well:
   a COPYCHUNK_WRITE of 16 MiB, a SET_ZERO_DATA over 64 MiB of unwritten
   data, a SET_INFO that shrinks a 64 MiB file to nothing and a
   QUERY_ALLOCATED_RANGES over 4,000 extents each let an ECHO sent after
   them be answered first, and each did its work.

usage: async_io_client.py host port share user password share_dir
"""
import hashlib
import os
import socket
import struct
import sys
import time

from impacket import smb3structs as s3

from smb2raw import Checks, Session, ioctl_request, request

host, port, share, user, password, share_dir = sys.argv[1:7]
check = Checks()
failures = check.failures


DATA_ACCESS = s3.FILE_READ_DATA | s3.FILE_WRITE_DATA | s3.FILE_READ_ATTRIBUTES


class Conn(Session):
    def __init__(self):
        super().__init__(host, port, user, password, share, s3.SMB2_DIALECT_21)
        # Without this, Nagle holds a small request back until the reply to
        # the one before it carries the ACK: requests would not overlap.
        self.smb._NetBIOSSession.get_socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def open(self, path, disposition=s3.FILE_OVERWRITE_IF, access=DATA_ACCESS):
        return self.smb.create(self.tid, path, access, s3.FILE_SHARE_READ | s3.FILE_SHARE_WRITE,
                               s3.FILE_NON_DIRECTORY_FILE, disposition, 0)

    def packet(self, command, body, size=0):
        # MS-SMB2 3.1.5.2: one credit per 64 KiB moved.
        return request(self.smb, self.tid, command, body, charge=max(1, (size + 65535) // 65536), credits=64)

    def send(self, p):
        mid = self.smb.sendSMB(p)
        # impacket moves MessageId on by one; a multi-credit request uses
        # CreditCharge ids (MS-SMB2 3.2.4.1.3).
        self.smb._Connection['SequenceWindow'] += p['CreditCharge'] - 1
        return mid

    def send_write(self, fid, off, data):
        w = s3.SMB2Write()
        w['FileID'] = fid
        w['Length'] = len(data)
        w['Offset'] = off
        w['Buffer'] = data
        return self.send(self.packet(s3.SMB2_WRITE, w, len(data)))

    def send_read(self, fid, off, length):
        r = s3.SMB2Read()
        r['FileID'] = fid
        r['Length'] = length
        r['Offset'] = off
        r['Buffer'] = b'\x00'
        return self.send(self.packet(s3.SMB2_READ, r, length))

    def send_flush(self, fid):
        f = s3.SMB2Flush()
        f['FileID'] = fid
        return self.send(self.packet(s3.SMB2_FLUSH, f))

    def send_create(self, name, disposition, access, share, options=s3.FILE_NON_DIRECTORY_FILE):
        cr = s3.SMB2Create()
        cr['ImpersonationLevel'] = s3.SMB2_IL_IMPERSONATION
        cr['DesiredAccess'] = access
        cr['ShareAccess'] = share
        cr['CreateDisposition'] = disposition
        cr['CreateOptions'] = options
        n = name.encode('utf-16-le')
        cr['NameLength'] = len(n)
        cr['Buffer'] = n
        return self.send(self.packet(s3.SMB2_CREATE, cr))

    def send_echo(self):
        return self.send(self.packet(s3.SMB2_ECHO, s3.SMB2Echo()))

    def send_ioctl(self, fid, code, data, max_out):
        return self.send(self.packet(s3.SMB2_IOCTL, ioctl_request(fid, code, data, max_out), max(len(data), max_out)))

    def send_set_eof(self, fid, size):
        si = s3.SMB2SetInfo()
        si['InfoType'] = s3.SMB2_0_INFO_FILE
        si['FileInfoClass'] = s3.SMB2_FILE_END_OF_FILE_INFO
        si['BufferLength'] = 8
        si['FileID'] = fid
        si['Buffer'] = struct.pack('<Q', size)
        return self.send(self.packet(s3.SMB2_SET_INFO, si))

    def send_close(self, fid):
        c = s3.SMB2Close()
        c['FileID'] = fid
        return self.send(self.packet(s3.SMB2_CLOSE, c))

    def next_reply(self, timeout=60):
        """The next reply on the wire, in arrival order (interim ones skipped)."""
        while True:
            p = self.read_reply(timeout)
            if p is not None:
                return p

    def replies(self, mids, timeout=60):
        got = {}
        order = []
        while len(got) < len(mids):
            p = self.next_reply(timeout)
            got[p['MessageID']] = p
            order.append(p['MessageID'])
        return got, order


MiB = 1 << 20

# 1. A slow FLUSH does not hold up a READ behind it.
c = Conn()
fid_big = c.open('dirty.bin')
chunk = os.urandom(MiB)
ok = True
for i in range(64):
    m = c.send_write(fid_big, i * MiB, chunk)
    got, _ = c.replies([m])
    ok = ok and got[m]['Status'] == 0
check(ok, "64 MiB written, one request at a time")
fid_small = c.open('small.bin')
small = os.urandom(4096)
m = c.send_write(fid_small, 0, small)
got, _ = c.replies([m])
check(got[m]['Status'] == 0, "small file written")
# A zero-length WRITE (libsmbclient's create-then-write(0)) succeeds and
# changes nothing, whatever engine moves it.
m = c.send_write(fid_small, 8192, b'')
got, _ = c.replies([m])
check(got[m]['Status'] == 0, "a zero-length WRITE succeeds (0x%x)" % got[m]['Status'])
check(os.path.getsize(os.path.join(share_dir, 'small.bin')) == 4096, "a zero-length WRITE does not extend the file")
m_flush = c.send_flush(fid_big)
m_read = c.send_read(fid_small, 0, 4096)
got, order = c.replies([m_flush, m_read])
check(got[m_flush]['Status'] == 0, "FLUSH succeeded")
check(got[m_read]['Status'] == 0, "READ succeeded")
rd = s3.SMB2Read_Response(got[m_read]['Data'])
check(rd['Buffer'][:rd['DataLength']] == small, "READ returned the right data")
check(order == [m_read, m_flush], "the READ sent after a slow FLUSH was answered first (order %r)" %
      (['READ' if x == m_read else 'FLUSH' for x in order],))

# 2. 64 writes in flight at once, then the file is checked on disk.
fid = c.open('pipelined.bin')
blocks = [os.urandom(65536) for _ in range(64)]
mids = [c.send_write(fid, i * 65536, b) for i, b in enumerate(blocks)]
got, order = c.replies(mids)
check(all(got[x]['Status'] == 0 for x in mids), "64 pipelined 64 KiB WRITEs succeeded")
m = c.send_flush(fid)
c.replies([m])
with open(os.path.join(share_dir, 'pipelined.bin'), 'rb') as f:
    on_disk = f.read()
check(hashlib.sha256(on_disk).digest() == hashlib.sha256(b''.join(blocks)).digest(),
      "the file on disk is exactly the 64 blocks")

# 3. A READ and the CLOSE of its handle, back to back.
m_read = c.send_read(fid, 0, MiB)
m_close = c.send_close(fid)
got, _ = c.replies([m_read, m_close])
check(got[m_close]['Status'] == 0, "CLOSE right after a READ succeeded")
check(got[m_read]['Status'] in (0, 0xC0000128), "the READ got an answer (0x%x)" % got[m_read]['Status'])

# 4. LOGOFF with writes in flight; 5. a connection dropped with writes in flight.
fid = c.open('logoff.bin')
for i in range(4):
    c.send_write(fid, i * MiB, chunk)
p = c.packet(s3.SMB2_LOGOFF, s3.SMB2Logoff())
c.smb.sendSMB(p)
time.sleep(0.5)
c.smb._NetBIOSSession.close()

d = Conn()
fid = d.open('dropped.bin')
for i in range(4):
    d.send_write(fid, i * MiB, chunk)
d.smb._NetBIOSSession.close()
time.sleep(1)

e = Conn()
fid = e.open('after.bin')
m = e.send_write(fid, 0, b'still here')
got, _ = e.replies([m])
check(got[m]['Status'] == 0, "the server still serves after a logoff and a drop with I/O in flight")

# 6. A slow CREATE does not hold up an ECHO behind it. A name that is not
# there, asked for in another case, makes the server read the whole
# directory before it can answer.
big = os.path.join(share_dir, 'big')
os.mkdir(big)
for i in range(100000):
    os.close(os.open(os.path.join(big, 'entry%06d' % i), os.O_CREAT | os.O_WRONLY, 0o644))
m_create = e.send_create('big\\NoSuchName', s3.FILE_OPEN, s3.FILE_READ_ATTRIBUTES, s3.FILE_SHARE_READ)
m_echo = e.send_echo()
got, order = e.replies([m_create, m_echo])
check(got[m_create]['Status'] == 0xC0000034, "the CREATE of a missing name: OBJECT_NAME_NOT_FOUND (0x%x)" %
      got[m_create]['Status'])
check(order == [m_echo, m_create], "the ECHO sent after a slow CREATE was answered first (order %r)" %
      (['ECHO' if x == m_echo else 'CREATE' for x in order],))

# 7. Racing creators of one name: the one that creates it keeps it.
for name, options in (('race.bin', s3.FILE_NON_DIRECTORY_FILE), ('racedir', s3.FILE_DIRECTORY_FILE)):
    access = s3.FILE_READ_ATTRIBUTES | s3.DELETE if options == s3.FILE_DIRECTORY_FILE else \
        s3.FILE_READ_DATA | s3.FILE_WRITE_DATA
    mids = [e.send_create(name, s3.FILE_OPEN_IF, access, 0, options) for _ in range(32)]
    got, _ = e.replies(mids)
    ok = [x for x in mids if got[x]['Status'] == 0]
    refused = [x for x in mids if got[x]['Status'] == 0xC0000043]
    check(len(ok) == 1 and len(refused) == 31, "%s: one of 32 racing CREATEs opened it, 31 got SHARING_VIOLATION "
          "(%d, %d)" % (name, len(ok), len(refused)))
    if ok:
        r = s3.SMB2Create_Response(got[ok[0]]['Data'])
        check(r['CreateAction'] == s3.FILE_CREATED, "%s: and it was the one that created it (action %d)" %
              (name, r['CreateAction']))
        e.replies([e.send_close(r['FileID'])])

# 8. File-system work that takes the kernel a while, each with an ECHO
# sent right after it: the ECHO must not wait for it.
FSCTL_SRV_REQUEST_RESUME_KEY = 0x00140078
FSCTL_SRV_COPYCHUNK_WRITE = 0x001480F2
FSCTL_SET_ZERO_DATA = 0x000980C8


def echo_first(label, mid):
    m_echo = e.send_echo()
    got, order = e.replies([mid, m_echo])
    check(got[mid]['Status'] == 0, "%s succeeded (0x%x)" % (label, got[mid]['Status']))
    check(order == [m_echo, mid], "the ECHO sent after %s was answered first (order %r)" %
          (label, ['ECHO' if x == m_echo else label for x in order]))
    return got[mid]


def write_all(fid, data):
    statuses = set()
    for off in range(0, len(data), MiB):
        m = e.send_write(fid, off, data[off:off + MiB])
        got, _ = e.replies([m])
        statuses.add(got[m]['Status'])
    check(statuses == {0}, "%d MiB written (%r)" % (len(data) // MiB, statuses))


def on_disk_bytes(name, off=0, length=None):
    with open(os.path.join(share_dir, name), 'rb') as f:
        f.seek(off)
        return f.read() if length is None else f.read(length)


src_data = os.urandom(16 * MiB)
fid_src = e.open('copy-src.bin')
write_all(fid_src, src_data)
m = e.send_ioctl(fid_src, FSCTL_SRV_REQUEST_RESUME_KEY, b'', 32)
got, _ = e.replies([m])
body = got[m]['Data']
out_off = struct.unpack_from('<I', body, 32)[0] - 64
key = bytes(body[out_off:out_off + 24])
fid_dst = e.open('copy-dst.bin')
chunks = b''.join(struct.pack('<QQII', i * MiB, i * MiB, MiB, 0) for i in range(16))
echo_first('COPYCHUNK_WRITE of 16 MiB',
           e.send_ioctl(fid_dst, FSCTL_SRV_COPYCHUNK_WRITE, key + struct.pack('<II', 16, 0) + chunks, 12))
check(on_disk_bytes('copy-dst.bin') == src_data, "the copy on disk is the source")

fid_zero = e.open('zero.bin')
write_all(fid_zero, os.urandom(64 * MiB))
echo_first('SET_ZERO_DATA over 64 MiB',
           e.send_ioctl(fid_zero, FSCTL_SET_ZERO_DATA, struct.pack('<QQ', 0, 64 * MiB), 0))
check(on_disk_bytes('zero.bin', 0, 4096) == bytes(4096) and
      on_disk_bytes('zero.bin', 64 * MiB - 4096) == bytes(4096), "the zeroed file reads zeros")

echo_first('SET_INFO EndOfFile 0 of a 64 MiB file', e.send_set_eof(fid_zero, 0))
check(os.path.getsize(os.path.join(share_dir, 'zero.bin')) == 0, "the file is empty")
# A sparse file of 4,000 extents: as many SEEK_DATA/SEEK_HOLE pairs.
FSCTL_SET_SPARSE = 0x000900C4
FSCTL_QUERY_ALLOCATED_RANGES = 0x000940CF
with open(os.path.join(share_dir, 'extents.bin'), 'wb') as f:
    for i in range(4000):
        os.pwrite(f.fileno(), b'x', i * 65536)
fid_ext = e.open('extents.bin', s3.FILE_OPEN, DATA_ACCESS | s3.FILE_WRITE_ATTRIBUTES)
m = e.send_ioctl(fid_ext, FSCTL_SET_SPARSE, b'', 0)
got, _ = e.replies([m])
check(got[m]['Status'] == 0, "SET_SPARSE (0x%x)" % got[m]['Status'])
r = echo_first('QUERY_ALLOCATED_RANGES over 4,000 extents',
               e.send_ioctl(fid_ext, FSCTL_QUERY_ALLOCATED_RANGES, struct.pack('<QQ', 0, 4000 * 65536), 65536))
count = struct.unpack_from('<I', r['Data'], 36)[0] // 16
check(count == 4000, "all 4,000 ranges came back (%d)" % count)

for fid in (fid_src, fid_dst, fid_zero, fid_ext):
    e.replies([e.send_close(fid)])

if failures:
    print("%d failure(s)" % len(failures))
    sys.exit(1)
print("async I/O: all checks passed")
