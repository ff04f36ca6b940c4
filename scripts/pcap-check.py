#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Count RDMA packets in a link capture: RoCEv2 (UDP port 4791) for rxe, TCP
for siw (iWARP).  Usage: pcap-check.py FILE rxe|siw [MIN].  Exits 0 when at
least MIN (default 10) such packets, over both IPv4 and IPv6, are present."""
import struct
import sys


def packets(path):
    with open(path, 'rb') as f:
        hdr = f.read(24)
        if len(hdr) < 24:
            return
        endian = '<' if struct.unpack('<I', hdr[:4])[0] in (0xa1b2c3d4, 0xa1b23c4d) else '>'
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                return
            incl = struct.unpack(endian + 'IIII', rec)[2]
            yield f.read(incl)


def classify(frame):
    """Returns (ip version, l4 protocol, destination port) or None."""
    if len(frame) < 14:
        return None
    etype = struct.unpack('!H', frame[12:14])[0]
    if etype == 0x0800 and len(frame) >= 34:
        ihl = (frame[14] & 0x0f) * 4
        proto, l4 = frame[23], 14 + ihl
        ver = 4
    elif etype == 0x86dd and len(frame) >= 54:
        proto, l4, ver = frame[20], 54, 6
    else:
        return None
    if len(frame) < l4 + 4:
        return None
    sport, dport = struct.unpack('!HH', frame[l4:l4 + 4])
    return ver, proto, sport, dport


def main():
    path, link = sys.argv[1], sys.argv[2]
    need = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    count = {4: 0, 6: 0}
    for frame in packets(path):
        c = classify(frame)
        if not c:
            continue
        ver, proto, sport, dport = c
        if link == 'rxe' and proto == 17 and 4791 in (sport, dport):
            count[ver] += 1
        elif link == 'siw' and proto == 6:
            count[ver] += 1
    print(f'{path}: {link} packets IPv4 {count[4]}, IPv6 {count[6]}')
    sys.exit(0 if count[4] >= need and count[6] >= need else 1)


if __name__ == '__main__':
    main()
