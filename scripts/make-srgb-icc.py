#!/usr/bin/env python3
"""Writes assets/icc/sRGB-v2.icc: a minimal ICC v2 display profile for sRGB (IEC 61966-2-1).

report.pdf names it as its PDF/A output intent. The profile is our own work (the published sRGB
primaries adapted to D50, and the sRGB transfer curve sampled at 1024 points), written by this
script so anyone can regenerate and check it: `python3 scripts/make-srgb-icc.py` must leave the
committed file unchanged. No licence restricts it (see assets/icc/README.md).
"""
import os
import struct


def s15(v):
    return struct.pack(">i", int(round(v * 65536)))


def xyz(x, y, z):
    return b"XYZ " + b"\0" * 4 + s15(x) + s15(y) + s15(z)


def desc(text):
    a = text.encode("ascii") + b"\0"
    return (b"desc" + b"\0" * 4 + struct.pack(">I", len(a)) + a
            + struct.pack(">II", 0, 0) + struct.pack(">HB", 0, 0) + b"\0" * 67)


def text(t):
    return b"text" + b"\0" * 4 + t.encode("ascii") + b"\0"


def curve(n=1024):
    def eotf(v):
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4
    points = [int(round(eotf(i / (n - 1)) * 65535)) for i in range(n)]
    return b"curv" + b"\0" * 4 + struct.pack(">I", n) + struct.pack(">%dH" % n, *points)


def main():
    trc = curve()
    tags = [
        (b"desc", desc("sRGB IEC61966-2.1 (phi-audit)")),
        (b"cprt", text("No copyright, use freely (phi-audit project)")),
        (b"wtpt", xyz(0.9505, 1.0, 1.0891)),
        (b"rXYZ", xyz(0.4361, 0.2225, 0.0139)),
        (b"gXYZ", xyz(0.3851, 0.7169, 0.0971)),
        (b"bXYZ", xyz(0.1431, 0.0606, 0.7141)),
        (b"rTRC", trc),
        (b"gTRC", trc),
        (b"bTRC", trc),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table = struct.pack(">I", len(tags))
    data = b""
    seen = {}
    for sig, body in tags:
        if body in seen:  # the three curves share one element
            table += sig + struct.pack(">II", *seen[body])
            continue
        while (offset + len(data)) % 4:
            data += b"\0"
        at = offset + len(data)
        seen[body] = (at, len(body))
        table += sig + struct.pack(">II", at, len(body))
        data += body
    while len(data) % 4:
        data += b"\0"
    size = 128 + len(table) + len(data)
    header = (struct.pack(">I", size) + b"\0" * 4 + struct.pack(">I", 0x02100000)
              + b"mntrRGB XYZ " + struct.pack(">6H", 2026, 1, 1, 0, 0, 0) + b"acsp"
              + b"\0" * 4 + b"\0" * 4 + b"\0" * 8 + b"\0" * 8 + struct.pack(">I", 0)
              + s15(0.9642) + s15(1.0) + s15(0.8249) + b"\0" * 4 + b"\0" * 16 + b"\0" * 28)
    assert len(header) == 128, len(header)
    out = os.path.join(os.path.dirname(__file__), "..", "assets", "icc", "sRGB-v2.icc")
    with open(out, "wb") as f:
        f.write(header + table + data)


if __name__ == "__main__":
    main()
