#!/usr/bin/python3
"""Picture for the README: a 7-step interpolation between two 64x64 shapes by
the shipped learned model (`wbary grid-predict`, top row) and by the
convolutional solver that made its training data (`wbary grid-barycenter`,
eps = 2e-3, bottom row). Writes docs/grid_predict_strip.png; no PIL needed.

  /usr/bin/python3 bench/grid_strip_picture.py build/wbary docs/grid_predict_strip.png
"""
import struct
import subprocess
import sys
import tempfile
import zlib

import numpy as np


def write_png(path, grey):
    img = (255 * np.clip(grey, 0, 1)).astype(np.uint8)
    h, w = img.shape
    raw = b"".join(b"\x00" + img[y].tobytes() for y in range(h))

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def main():
    wbary, out = sys.argv[1], sys.argv[2]
    n = 64
    yy, xx = (np.mgrid[0:n, 0:n] + 0.5) / n
    ring = (np.hypot(xx - 0.5, yy - 0.5) < 0.3) & (np.hypot(xx - 0.5, yy - 0.5) > 0.2)
    cross = ((np.abs(xx - 0.5) < 0.07) & (np.abs(yy - 0.5) < 0.3)) | ((np.abs(yy - 0.5) < 0.07) & (np.abs(xx - 0.5) < 0.3))
    with tempfile.TemporaryDirectory() as t:
        np.save(f"{t}/a.npy", ring.astype(float))
        np.save(f"{t}/b.npy", cross.astype(float))
        subprocess.run([wbary, "grid-predict", f"{t}/a.npy", f"{t}/b.npy", "--steps", "7", "--out", f"{t}/p.npy"], check=True)
        subprocess.run([wbary, "grid-barycenter", f"{t}/a.npy", f"{t}/b.npy", "--steps", "7", "--eps", "2e-3",
                        "--out", f"{t}/s.npy"], check=True)
        rows = []
        for name in ("p", "s"):
            strip = np.load(f"{t}/{name}.npy")
            rows.append(np.concatenate([np.pad(1 - s / s.max(), 2, constant_values=0.8) for s in strip], axis=1))
        write_png(out, np.concatenate(rows, axis=0))


if __name__ == "__main__":
    main()
