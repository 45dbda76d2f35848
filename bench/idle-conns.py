#!/usr/bin/python3
"""Open N idle, authenticated SMB connections and hold them.

    idle-conns.py HOST PORT SHARE USER PASSWORD N

Each connection negotiates SMB 3.0, logs on (NTLM) and connects SHARE, so
the server holds one connection, one session and one tree connect per
client.  When all N are up it prints "ready N" on stdout and waits until its
stdin reaches end of file, then logs everything off and exits.  run-bench
reads the servers' memory in between.  Needs impacket (Debian's python3).
"""
import resource
import sys
import time

from impacket import smb3structs
from impacket.smbconnection import SMBConnection


def main():
    if len(sys.argv) != 7:
        sys.exit(__doc__)
    host, port, share, user, password, n = sys.argv[1:]
    port, n = int(port), int(n)
    # one socket per connection, plus headroom
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = n + 64
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))

    conns = []
    t0 = time.monotonic()
    for i in range(n):
        try:
            c = SMBConnection(host, host, sess_port=port,
                              preferredDialect=smb3structs.SMB2_DIALECT_30,
                              timeout=60)
            c.login(user, password)
            c.connectTree(share)
        except Exception as e:  # report which one failed, then give up
            print(f"idle-conns: connection {i + 1} of {n} failed: {e}",
                  file=sys.stderr)
            sys.exit(1)
        conns.append(c)
    took = time.monotonic() - t0
    print(f"ready {len(conns)} secs={took:.1f}", flush=True)

    sys.stdin.read()  # hold until the caller closes our stdin

    for c in conns:
        try:
            c.logoff()
            c.close()
        except Exception:
            pass


if __name__ == "__main__":
    main()
