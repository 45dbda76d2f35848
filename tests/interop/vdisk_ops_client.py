#!/usr/bin/python3
"""The FSCTLs virtual-disk hosts send (Hyper-V, Linux/KVM on SMB), as raw
SMB2 IOCTLs through impacket's SMB3 layer: sparse files (SET_SPARSE,
SET_ZERO_DATA, QUERY_ALLOCATED_RANGES), server-side copy (resume keys,
COPYCHUNK and COPYCHUNK_WRITE with their limits) and block cloning
(DUPLICATE_EXTENTS_TO_FILE). What lands on the server's disk is checked
directly in the share directory.

usage: vdisk_ops_client.py HOST PORT SHARE USER PASSWORD SHARE_DIR [REFLINK_SHARE REFLINK_DIR]
(REFLINK_SHARE: a share on a file system that shares blocks, where
block cloning must work.)
"""
import os
import struct
import sys

from impacket import smb3structs as s3

from smb2raw import Checks, Session, ioctl_request, request

host, port, share, user, password, share_dir = sys.argv[1:7]
reflink_share, reflink_dir = (sys.argv[7:9] + [None, None])[:2]

FSCTL_SET_SPARSE = 0x000900C4
FSCTL_SET_ZERO_DATA = 0x000980C8
FSCTL_QUERY_ALLOCATED_RANGES = 0x000940CF
FSCTL_SRV_REQUEST_RESUME_KEY = 0x00140078
FSCTL_SRV_COPYCHUNK = 0x001440F2
FSCTL_SRV_COPYCHUNK_WRITE = 0x001480F2
FSCTL_DUPLICATE_EXTENTS_TO_FILE = 0x00098344
FSCTL_GET_COMPRESSION = 0x0009003C
FSCTL_SET_COMPRESSION = 0x0009C040

OK = 0
BUFFER_OVERFLOW = 0x80000005
INVALID_PARAMETER = 0xC000000D
ACCESS_DENIED = 0xC0000022
BUFFER_TOO_SMALL = 0xC0000023
OBJECT_NAME_NOT_FOUND = 0xC0000034
INVALID_VIEW_SIZE = 0xC000001F
NOT_SUPPORTED = 0xC00000BB

FILE_ATTRIBUTE_SPARSE_FILE = 0x200
FILE_SUPPORTS_SPARSE_FILES = 0x40
FILE_SUPPORTS_BLOCK_REFCOUNTING = 0x08000000
FILE_FILE_COMPRESSION = 0x10
FILE_ATTRIBUTE_COMPRESSED = 0x800

READ_DATA, WRITE_DATA, APPEND_DATA = 0x1, 0x2, 0x4
READ_ATTRIBUTES, WRITE_ATTRIBUTES, SYNCHRONIZE = 0x80, 0x100, 0x100000
ALL_ACCESS = 0x001F01FF
MiB = 1024 * 1024

check = Checks()
failures = check.failures


def connect():
    s = Session(host, port, user, password, share, s3.SMB2_DIALECT_30)
    return s.conn, s.smb, s.tid


def create(smb, tid, name, access=ALL_ACCESS, disposition=s3.FILE_OVERWRITE_IF, options=0x40):
    return smb.create(tid, name, access, s3.FILE_SHARE_READ | s3.FILE_SHARE_WRITE | s3.FILE_SHARE_DELETE,
                      options, disposition, 0)


def close(smb, tid, fid):
    # impacket keys its file table by name: a second open of a name loses
    # the entry on the first close, and the next close raises KeyError
    # after the server has answered it.
    try:
        smb.close(tid, fid)
    except KeyError:
        pass


def ioctl(smb, tid, fid, code, data=b"", max_out=64 * 1024):
    """Sends one FSCTL; returns (NTSTATUS, output bytes or None when the
    reply is an error response without an IOCTL body)."""
    ans = smb.recvSMB(smb.sendSMB(request(smb, tid, s3.SMB2_IOCTL, ioctl_request(fid, code, data, max_out))))
    body = ans["Data"]
    if len(body) < 48 or struct.unpack_from("<H", body)[0] != 49:
        return ans["Status"], None
    out_off, out_count = struct.unpack_from("<II", body, 32)
    start = out_off - 64
    return ans["Status"], bytes(body[start:start + out_count])


def write(smb, tid, fid, data, off):
    step = 64 * 1024
    for i in range(0, len(data), step):
        smb.write(tid, fid, data[i:i + step], off + i, len(data[i:i + step]))


def read(smb, tid, fid, off, length):
    out = b""
    while len(out) < length:
        n = min(MiB, length - len(out))
        out += smb.read(tid, fid, off + len(out), n)
    return out


def attributes(smb, tid, fid):
    info = smb.queryInfo(tid, fid, fileInfoClass=s3.SMB2_FILE_BASIC_INFO)
    return struct.unpack_from("<I", info, 32)[0]


def fs_attributes(smb, tid, fid):
    info = smb.queryInfo(tid, fid, infoType=s3.SMB2_0_INFO_FILESYSTEM,
                         fileInfoClass=s3.SMB2_FILESYSTEM_ATTRIBUTE_INFO)
    return struct.unpack_from("<I", info, 0)[0]


def qar(smb, tid, fid, off, length, max_out=64 * 1024):
    status, out = ioctl(smb, tid, fid, FSCTL_QUERY_ALLOCATED_RANGES, struct.pack("<qq", off, length), max_out)
    ranges = None
    if out is not None:
        ranges = [struct.unpack_from("<qq", out, i) for i in range(0, len(out) - len(out) % 16, 16)]
    return status, ranges


def zero(smb, tid, fid, off, beyond):
    return ioctl(smb, tid, fid, FSCTL_SET_ZERO_DATA, struct.pack("<qq", off, beyond), 0)[0]


def set_sparse(smb, tid, fid, data=None):
    return ioctl(smb, tid, fid, FSCTL_SET_SPARSE, b"" if data is None else data, 0)[0]


def disk_bytes(name):
    return os.stat(os.path.join(share_dir, name)).st_blocks * 512


def pattern(n, seed):
    return bytes((i * 7 + seed + (i >> 12)) & 0xFF for i in range(n))


conn, smb, tid = connect()

# ---- sparse files ----------------------------------------------------------
name = "disk.raw"
fid = create(smb, tid, name)
check(fs_attributes(smb, tid, fid) & FILE_SUPPORTS_SPARSE_FILES, "FileFsAttributeInformation: sparse files")
check(not attributes(smb, tid, fid) & FILE_ATTRIBUTE_SPARSE_FILE, "a new file is not sparse")
check(set_sparse(smb, tid, fid) == OK, "SET_SPARSE without a buffer (means TRUE)")
check(attributes(smb, tid, fid) & FILE_ATTRIBUTE_SPARSE_FILE, "SPARSE_FILE attribute after SET_SPARSE")

head = pattern(64 * 1024, 1)
tail = pattern(64 * 1024, 2)
write(smb, tid, fid, head, 0)
write(smb, tid, fid, tail, 64 * MiB)
size = 64 * MiB + 64 * 1024
check(os.path.getsize(os.path.join(share_dir, name)) == size, "file size %d on disk" % size)
check(disk_bytes(name) < 4 * MiB, "sparse on disk: %d bytes allocated for %d" % (disk_bytes(name), size))

status, ranges = qar(smb, tid, fid, 0, 128 * MiB)
check(status == OK and ranges == [(0, 64 * 1024), (64 * MiB, 64 * 1024)],
      "QUERY_ALLOCATED_RANGES: two ranges (%x %r)" % (status, ranges))
status, ranges = qar(smb, tid, fid, 4096, 64 * MiB)
check(status == OK and ranges == [(4096, 60 * 1024), (64 * MiB, 4096)],
      "QUERY_ALLOCATED_RANGES clipped to the query (%x %r)" % (status, ranges))
status, ranges = qar(smb, tid, fid, 0, 128 * MiB, max_out=16)
check(status == BUFFER_OVERFLOW and ranges == [(0, 64 * 1024)],
      "QUERY_ALLOCATED_RANGES with room for one: BUFFER_OVERFLOW and the first (%x %r)" % (status, ranges))
status, ranges = qar(smb, tid, fid, 0, 128 * MiB, max_out=24)
check(status == BUFFER_OVERFLOW and ranges == [(0, 64 * 1024)],
      "QUERY_ALLOCATED_RANGES with room for 1.5: whole entries only (%x %r)" % (status, ranges))
status, _ = qar(smb, tid, fid, 0, 128 * MiB, max_out=8)
check(status == BUFFER_TOO_SMALL, "QUERY_ALLOCATED_RANGES with room for none: BUFFER_TOO_SMALL (%x)" % status)
status, ranges = qar(smb, tid, fid, 1 * MiB, 1 * MiB, max_out=0)
check(status == OK and not ranges, "QUERY_ALLOCATED_RANGES over a hole, no room needed (%x)" % status)
status, _ = ioctl(smb, tid, fid, FSCTL_QUERY_ALLOCATED_RANGES, struct.pack("<q", 0))
check(status == INVALID_PARAMETER, "QUERY_ALLOCATED_RANGES with 8 input bytes: INVALID_PARAMETER (%x)" % status)
status, _ = qar(smb, tid, fid, 512, -1)
check(status == INVALID_PARAMETER, "QUERY_ALLOCATED_RANGES with a wrapping range: INVALID_PARAMETER (%x)" % status)

before = disk_bytes(name)
check(zero(smb, tid, fid, 16 * 1024, 48 * 1024) == OK, "SET_ZERO_DATA 16K-48K")
back = read(smb, tid, fid, 0, 64 * 1024)
check(back == head[:16 * 1024] + bytes(32 * 1024) + head[48 * 1024:], "zeroed range reads as zeros, the rest intact")
status, ranges = qar(smb, tid, fid, 0, 128 * MiB)
check(status == OK and ranges == [(0, 16 * 1024), (48 * 1024, 16 * 1024), (64 * MiB, 64 * 1024)],
      "allocated ranges after the zeroing: the hole shows (%r)" % ranges)
check(disk_bytes(name) <= before - 32 * 1024, "blocks freed on disk: %d -> %d" % (before, disk_bytes(name)))
check(zero(smb, tid, fid, 0, 64 * 1024) == OK, "SET_ZERO_DATA 0-64K")
status, ranges = qar(smb, tid, fid, 0, 128 * MiB)
check(status == OK and ranges == [(64 * MiB, 64 * 1024)], "one range left (%r)" % ranges)
check(zero(smb, tid, fid, size, size + 4096) == OK, "SET_ZERO_DATA past EOF")
check(os.path.getsize(os.path.join(share_dir, name)) == size, "SET_ZERO_DATA does not grow the file")
check(zero(smb, tid, fid, 8192, 4096) == INVALID_PARAMETER, "SET_ZERO_DATA with offset > beyond: INVALID_PARAMETER")
check(zero(smb, tid, fid, -1, 4096) == INVALID_PARAMETER, "SET_ZERO_DATA with a negative offset: INVALID_PARAMETER")

ro = create(smb, tid, name, access=READ_DATA | READ_ATTRIBUTES | SYNCHRONIZE, disposition=s3.FILE_OPEN)
check(zero(smb, tid, ro, 0, 4096) == ACCESS_DENIED, "SET_ZERO_DATA without WRITE_DATA: ACCESS_DENIED")
check(set_sparse(smb, tid, ro) == ACCESS_DENIED, "SET_SPARSE without write access: ACCESS_DENIED")
close(smb, tid, ro)
wa = create(smb, tid, name, access=WRITE_ATTRIBUTES | SYNCHRONIZE, disposition=s3.FILE_OPEN)
status, _ = qar(smb, tid, wa, 0, 4096)
check(status == ACCESS_DENIED, "QUERY_ALLOCATED_RANGES without READ_DATA: ACCESS_DENIED")
check(set_sparse(smb, tid, wa, b"\x00") == OK, "SET_SPARSE(FALSE) with WRITE_ATTRIBUTES only")
close(smb, tid, wa)
check(not attributes(smb, tid, fid) & FILE_ATTRIBUTE_SPARSE_FILE, "SPARSE_FILE cleared")
status, ranges = qar(smb, tid, fid, 0, 128 * MiB)
check(status == OK and ranges == [(0, size)], "a non-sparse file is allocated throughout (%r)" % ranges)
check(set_sparse(smb, tid, fid, b"\x01" + bytes(99)) == OK, "SET_SPARSE with an oversized buffer")
check(attributes(smb, tid, fid) & FILE_ATTRIBUTE_SPARSE_FILE, "SPARSE_FILE set again")
close(smb, tid, fid)
fid = create(smb, tid, name, disposition=s3.FILE_OPEN)
check(attributes(smb, tid, fid) & FILE_ATTRIBUTE_SPARSE_FILE, "SPARSE_FILE persists across opens")
close(smb, tid, fid)

d = smb.create(tid, "vdisk-dir", ALL_ACCESS, s3.FILE_SHARE_READ, s3.FILE_DIRECTORY_FILE, s3.FILE_OPEN_IF, 0)
check(set_sparse(smb, tid, d) == INVALID_PARAMETER, "SET_SPARSE on a directory: INVALID_PARAMETER")
close(smb, tid, d)

# ---- compression ---------------------------------------------------------
# Nothing is compressed, and the share says so; the FSCTLs answer as
# Windows Server 2016 on ReFS (no per-file compression) does.
name = "plain.vhdx"
fid = create(smb, tid, name)
check(not fs_attributes(smb, tid, fid) & FILE_FILE_COMPRESSION, "FileFsAttributeInformation: no compression")
status, out = ioctl(smb, tid, fid, FSCTL_GET_COMPRESSION, max_out=2)
check(status == OK and out == b"\x00\x00", "GET_COMPRESSION: COMPRESSION_FORMAT_NONE (%x, %r)" % (status, out))
status, _ = ioctl(smb, tid, fid, FSCTL_GET_COMPRESSION, max_out=1)
check(status == INVALID_PARAMETER, "GET_COMPRESSION with room for less than a USHORT: INVALID_PARAMETER (%x)" % status)
check(ioctl(smb, tid, fid, FSCTL_SET_COMPRESSION, b"\x00\x00", 0)[0] == OK, "SET_COMPRESSION(NONE): OK")
for fmt in (1, 2):
    status = ioctl(smb, tid, fid, FSCTL_SET_COMPRESSION, struct.pack("<H", fmt), 0)[0]
    check(status == NOT_SUPPORTED, "SET_COMPRESSION(%d): NOT_SUPPORTED (%x)" % (fmt, status))
for bad in (b"", b"\x00", b"\x03\x00"):
    status = ioctl(smb, tid, fid, FSCTL_SET_COMPRESSION, bad, 0)[0]
    check(status == INVALID_PARAMETER, "SET_COMPRESSION with input %r: INVALID_PARAMETER (%x)" % (bad, status))
check(not attributes(smb, tid, fid) & FILE_ATTRIBUTE_COMPRESSED, "no COMPRESSED attribute")
close(smb, tid, fid)
# The control code's access bits: READ_DATA and WRITE_DATA, both.
for access in (READ_DATA | WRITE_ATTRIBUTES | SYNCHRONIZE, WRITE_DATA | WRITE_ATTRIBUTES | SYNCHRONIZE):
    h = create(smb, tid, name, access=access, disposition=s3.FILE_OPEN)
    status = ioctl(smb, tid, h, FSCTL_SET_COMPRESSION, b"\x00\x00", 0)[0]
    check(status == ACCESS_DENIED, "SET_COMPRESSION with access 0x%x: ACCESS_DENIED (%x)" % (access, status))
    status, out = ioctl(smb, tid, h, FSCTL_GET_COMPRESSION, max_out=2)
    check(status == OK, "GET_COMPRESSION with access 0x%x: OK (%x)" % (access, status))
    close(smb, tid, h)
d = smb.create(tid, "vdisk-dir", ALL_ACCESS, s3.FILE_SHARE_READ, s3.FILE_DIRECTORY_FILE, s3.FILE_OPEN_IF, 0)
status, out = ioctl(smb, tid, d, FSCTL_GET_COMPRESSION, max_out=2)
check(status == OK and out == b"\x00\x00", "GET_COMPRESSION on a directory: NONE (%x)" % status)
close(smb, tid, d)

# ---- server-side copy --------------------------------------------------------
data = os.urandom(5 * MiB)
src = create(smb, tid, "src.vhdx")
write(smb, tid, src, data, 0)
status, key = ioctl(smb, tid, src, FSCTL_SRV_REQUEST_RESUME_KEY, max_out=32)
check(status == OK and key is not None and len(key) == 32 and key[24:28] == bytes(4),
      "REQUEST_RESUME_KEY: 24-byte key, ContextLength 0")
status, key2 = ioctl(smb, tid, src, FSCTL_SRV_REQUEST_RESUME_KEY, max_out=32)
check(status == OK and key2 == key, "the same key the second time")
status, _ = ioctl(smb, tid, src, FSCTL_SRV_REQUEST_RESUME_KEY, max_out=31)
check(status == INVALID_PARAMETER, "REQUEST_RESUME_KEY without room: INVALID_PARAMETER")
key = key[:24]


def copychunk(dst, chunks, code=FSCTL_SRV_COPYCHUNK, source_key=None, max_out=12, count=None):
    body = (source_key or key) + struct.pack("<II", len(chunks) if count is None else count, 0)
    body += b"".join(struct.pack("<QQII", s, t, n, 0) for s, t, n in chunks)
    status, out = ioctl(smb, tid, dst, code, body, max_out)
    return status, (struct.unpack("<III", out) if out is not None and len(out) == 12 else None)


dst = create(smb, tid, "dst.vhdx")
chunks = [(i * MiB, i * MiB, MiB) for i in range(5)]
status, rsp = copychunk(dst, chunks)
check(status == OK and rsp == (5, 0, 5 * MiB), "COPYCHUNK 5 x 1 MiB: %x %r" % (status, rsp))
check(read(smb, tid, dst, 0, 5 * MiB) == data, "copied bytes match (read over SMB)")
with open(os.path.join(share_dir, "dst.vhdx"), "rb") as f:
    check(f.read() == data, "copied bytes match (on the server's disk)")

# Chunks out of order, and one to a new place past the end.
status, rsp = copychunk(dst, [(4 * MiB, 0, 4096), (0, 6 * MiB, 8192)])
check(status == OK and rsp == (2, 0, 12288), "COPYCHUNK mixed chunks: %x %r" % (status, rsp))
check(read(smb, tid, dst, 0, 4096) == data[4 * MiB:4 * MiB + 4096], "first chunk in place")
check(read(smb, tid, dst, 6 * MiB, 8192) == data[:8192], "second chunk past the old end")

limits = (256, 1048576, 16777216)
status, rsp = copychunk(dst, [(0, 0, MiB + 1)])
check(status == INVALID_PARAMETER and rsp == limits, "chunk > 1 MiB: INVALID_PARAMETER with the limits %r" % (rsp,))
status, rsp = copychunk(dst, [(0, 0, 4096)] * 257)
check(status == INVALID_PARAMETER and rsp == limits, "257 chunks: INVALID_PARAMETER with the limits %r" % (rsp,))
status, rsp = copychunk(dst, [(0, i * MiB, MiB) for i in range(17)])
check(status == INVALID_PARAMETER and rsp == limits, "17 MiB in all: INVALID_PARAMETER with the limits %r" % (rsp,))
status, rsp = copychunk(dst, [(0, 0, 0)])
check(status == INVALID_PARAMETER and rsp == limits, "a zero-length chunk: INVALID_PARAMETER with the limits")
status, rsp = copychunk(dst, [(0, 0, 4096)], count=2)
check(status == INVALID_PARAMETER and rsp == limits, "ChunkCount beyond the buffer: INVALID_PARAMETER")
status, rsp = copychunk(dst, [(0, 0, 4096)], max_out=11)
check(status == INVALID_PARAMETER and rsp is None, "MaxOutputResponse 11: INVALID_PARAMETER, no response body")

status, rsp = copychunk(dst, [(0, 0, 4096), (5 * MiB - 4096, 0, 8192)])
check(status == INVALID_VIEW_SIZE and rsp == (1, 0, 4096),
      "second chunk past the source's EOF: INVALID_VIEW_SIZE after the first (%x %r)" % (status, rsp))

status, rsp = copychunk(dst, [(0, 0, 4096)], source_key=b"deadbeefdeadbeefdeadbeef")
check(status == OBJECT_NAME_NOT_FOUND, "an unknown resume key: OBJECT_NAME_NOT_FOUND (%x)" % status)

# Access: COPYCHUNK needs READ_DATA on the target, COPYCHUNK_WRITE does not.
wo = create(smb, tid, "dst2.vhdx", access=WRITE_DATA | APPEND_DATA | READ_ATTRIBUTES | SYNCHRONIZE)
status, rsp = copychunk(wo, [(0, 0, 4096)])
check(status == ACCESS_DENIED, "COPYCHUNK to a write-only target: ACCESS_DENIED (%x)" % status)
status, rsp = copychunk(wo, [(0, 0, 4096)], code=FSCTL_SRV_COPYCHUNK_WRITE)
check(status == OK and rsp == (1, 0, 4096), "COPYCHUNK_WRITE to a write-only target (%x %r)" % (status, rsp))
close(smb, tid, wo)
rd = create(smb, tid, "dst.vhdx", access=READ_DATA | READ_ATTRIBUTES | SYNCHRONIZE, disposition=s3.FILE_OPEN)
status, rsp = copychunk(rd, [(0, 0, 4096)])
check(status == ACCESS_DENIED, "COPYCHUNK to a read-only open: ACCESS_DENIED (%x)" % status)
close(smb, tid, rd)

# The source in another session (another connection): MS-SMB2 3.3.5.15.6
# looks the key up among all the server's opens.
conn2, smb2c, tid2 = connect()
src2 = create(smb2c, tid2, "src.vhdx", access=READ_DATA | SYNCHRONIZE, disposition=s3.FILE_OPEN)
status, key_other = ioctl(smb2c, tid2, src2, FSCTL_SRV_REQUEST_RESUME_KEY, max_out=32)
status, rsp = copychunk(dst, [(MiB, 0, 4096)], source_key=key_other[:24])
check(status == OK and rsp == (1, 0, 4096), "a resume key from another session (%x %r)" % (status, rsp))
close(smb2c, tid2, src2)
status, rsp = copychunk(dst, [(0, 0, 4096)], source_key=key_other[:24])
check(status == OBJECT_NAME_NOT_FOUND, "the key of a closed open: OBJECT_NAME_NOT_FOUND (%x)" % status)
conn2.logoff()

# Source is the destination, overlapping: read first, then written (as Windows 2012).
status, rsp = copychunk(src, [(0, 4096, 65536)])
check(status == OK, "COPYCHUNK within one file, overlapping")
check(read(smb, tid, src, 4096, 65536) == data[:65536], "overlapping copy reads the old bytes")

close(smb, tid, src)
status, rsp = copychunk(dst, [(0, 0, 4096)])
check(status == OBJECT_NAME_NOT_FOUND, "resume key after its open closed: OBJECT_NAME_NOT_FOUND (%x)" % status)
close(smb, tid, dst)

# ---- block cloning ---------------------------------------------------------
def free_bytes(directory):
    st = os.statvfs(directory)
    return st.f_bfree * st.f_frsize


def block_cloning(smb, tid, directory, must_work):
    """DUPLICATE_EXTENTS_TO_FILE on a share: it works where the file system
    shares blocks and the share advertises it, else NOT_SUPPORTED and not
    advertised. must_work: the share is on such a file system (XFS)."""
    src = create(smb, tid, "clone-src.raw")
    dst = create(smb, tid, "clone-dst.raw")
    blob = os.urandom(MiB)
    write(smb, tid, src, blob, 0)
    write(smb, tid, dst, b"\0", MiB - 1)  # 1 MiB long, one block allocated
    refcount = fs_attributes(smb, tid, dst) & FILE_SUPPORTS_BLOCK_REFCOUNTING
    dup = struct.pack("<16sqqq", src, 0, 0, MiB)
    free_before = free_bytes(directory)
    status, _ = ioctl(smb, tid, dst, FSCTL_DUPLICATE_EXTENTS_TO_FILE, dup, 0)
    if must_work:
        check(status == OK and refcount, "DUPLICATE_EXTENTS_TO_FILE works and is advertised (%x)" % status)
        # Shared, not copied: a copy would have allocated 1 MiB more.
        used = free_before - free_bytes(directory)
        check(used < MiB // 2, "the clone shares the source's blocks (%d bytes more in use)" % used)
    if status == OK:
        check(read(smb, tid, dst, 0, MiB) == blob, "DUPLICATE_EXTENTS_TO_FILE: cloned bytes match")
        # A range past the target's EOF does not extend it (Windows Server 2016).
        status, _ = ioctl(smb, tid, dst, FSCTL_DUPLICATE_EXTENTS_TO_FILE,
                          struct.pack("<16sqqq", src, 0, MiB, 65536), 0)
        check(status == OK and os.path.getsize(os.path.join(directory, "clone-dst.raw")) == MiB,
              "DUPLICATE_EXTENTS_TO_FILE past the target's EOF: OK, size unchanged (%x)" % status)
        # A source ending in a partial block, cloned into the middle of a file.
        write(smb, tid, src, b"tail" * 25, MiB)
        write(smb, tid, dst, bytes(2 * MiB), 0)
        status, _ = ioctl(smb, tid, dst, FSCTL_DUPLICATE_EXTENTS_TO_FILE,
                          struct.pack("<16sqqq", src, 0, 0, MiB + 100), 0)
        check(status == OK and read(smb, tid, dst, 0, MiB + 104) == blob + b"tail" * 25 + bytes(4),
              "DUPLICATE_EXTENTS_TO_FILE with a partial last block (%x)" % status)
    else:
        check(status == NOT_SUPPORTED, "DUPLICATE_EXTENTS_TO_FILE: OK or NOT_SUPPORTED (got %x)" % status)
        check(not refcount, "FILE_SUPPORTS_BLOCK_REFCOUNTING is not advertised where cloning fails")
    print("block cloning on %s:" % directory, "works" if status == OK else "not supported",
          "(advertised)" if refcount else "(not advertised)")
    status, _ = ioctl(smb, tid, dst, FSCTL_DUPLICATE_EXTENTS_TO_FILE,
                      struct.pack("<16sqqq", b"\xff" * 16, 0, 0, 4096), 0)
    # Where cloning is not advertised the request is refused before any handle is looked at.
    check(status == (0xC0000008 if refcount else NOT_SUPPORTED),
          "DUPLICATE_EXTENTS_TO_FILE with an unknown source handle: INVALID_HANDLE or NOT_SUPPORTED (%x)" % status)
    close(smb, tid, src)
    close(smb, tid, dst)


block_cloning(smb, tid, share_dir, False)
if reflink_share:
    rs = Session(host, port, user, password, reflink_share, s3.SMB2_DIALECT_30)
    block_cloning(rs.smb, rs.tid, reflink_dir, True)
    rs.conn.logoff()

conn.logoff()
if failures:
    print("vdisk_ops: %d check(s) failed" % len(failures))
    sys.exit(1)
print("vdisk_ops: all checks passed")
