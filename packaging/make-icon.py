#!/usr/bin/env python3
"""Draws packaging/icon.png, the packages' icon: a buffer of pages shared between two devices.

Standard library only (zlib for the PNG stream), so anyone can regenerate it: python3 packaging/make-icon.py
"""
import os
import struct
import zlib

SIZE = 128
BACKGROUND = (22, 56, 92)      # deep blue
PAGE = (236, 242, 248)         # pages of the buffer
MAPPED = (255, 176, 32)        # the page the CPU has mapped
LINK = (120, 200, 255)         # the devices sharing the buffer


def inside_rounded(x, y, x0, y0, x1, y1, r):
    if not (x0 <= x < x1 and y0 <= y < y1):
        return False
    cx = min(max(x, x0 + r), x1 - 1 - r)
    cy = min(max(y, y0 + r), y1 - 1 - r)
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r


def pixel(x, y):
    if not inside_rounded(x, y, 0, 0, SIZE, SIZE, 22):
        return (0, 0, 0, 0)
    # Four pages of one buffer, side by side; the third is mapped.
    for i in range(4):
        x0 = 16 + i * 25
        if inside_rounded(x, y, x0, 34, x0 + 20, 94, 3):
            return (*(MAPPED if i == 2 else PAGE), 255)
    # Two devices, above and below, joined to the buffer.
    if inside_rounded(x, y, 40, 10, 88, 24, 4) or inside_rounded(x, y, 40, 104, 88, 118, 4):
        return (*LINK, 255)
    if 61 <= x < 67 and (24 <= y < 34 or 94 <= y < 104):
        return (*LINK, 255)
    return (*BACKGROUND, 255)


def png(width, height, rows):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + bytes(c for px in row for c in px) for row in rows)
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


if __name__ == "__main__":
    rows = [[pixel(x, y) for x in range(SIZE)] for y in range(SIZE)]
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "icon.png")
    with open(out, "wb") as f:
        f.write(png(SIZE, SIZE, rows))
    print(out)
