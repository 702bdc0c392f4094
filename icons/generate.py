#!/usr/bin/env python3
"""Draws CinemaHalal's icon (a film reel with a play triangle for its hub) with ImageMagick
and writes every size Tauri bundles: 32x32.png, 128x128.png, 128x128@2x.png, icon.png
(512), icon.ico (16-256) and icon.icns (16-1024).

Needs ImageMagick's `convert` (Debian: apt-get install imagemagick). Run from anywhere:
    python3 icons/generate.py
The outputs are committed; run this again only to change the design.
"""

import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
S = 1024  # master size; every other size is resized from it

BG_TOP, BG_BOTTOM = "#27335c", "#0d1226"
REEL = "#f3ede2"
HOLE = "#141b36"
PLAY = "#e9a23b"


def convert():
    for candidate in ("/usr/bin/convert", shutil.which("magick"), shutil.which("convert")):
        if candidate and os.path.exists(candidate):
            return candidate
    sys.exit("generate.py: ImageMagick's convert is needed (apt-get install imagemagick)")


def run(*args):
    subprocess.run([convert(), *map(str, args)], check=True)


def master(path):
    c = S / 2
    reel_r = 0.34 * S
    hole_orbit, hole_r = 0.228 * S, 0.058 * S
    holes = []
    for k in range(5):
        a = math.radians(-90 + 72 * k + 36)  # a hole at the bottom, none straight above
        x, y = c + hole_orbit * math.cos(a), c + hole_orbit * math.sin(a)
        holes += ["-draw", f"circle {x:.1f},{y:.1f} {x + hole_r:.1f},{y:.1f}"]
    # The play triangle, centred on its centroid, pointing right.
    t = 0.082 * S
    tri = [(c - t * 0.8, c - t * 1.2), (c - t * 0.8, c + t * 1.2), (c + t * 1.3, c)]
    tri_pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in tri)
    m, r = 0.055 * S, 0.2 * S  # margin and corner radius of the tile
    with tempfile.TemporaryDirectory() as tmp:
        bg, mask = os.path.join(tmp, "bg.png"), os.path.join(tmp, "mask.png")
        run("-size", f"{S}x{S}", f"gradient:{BG_TOP}-{BG_BOTTOM}", bg)
        run("-size", f"{S}x{S}", "xc:black", "-fill", "white",
            "-draw", f"roundrectangle {m},{m} {S - m - 1},{S - m - 1} {r},{r}", mask)
        run(bg, mask, "-alpha", "off", "-compose", "CopyOpacity", "-composite",
            # the reel: a disc, its rim, five holes and the play hub
            "-fill", REEL, "-stroke", "none",
            "-draw", f"circle {c},{c} {c + reel_r},{c}",
            "-fill", "none", "-stroke", HOLE, "-strokewidth", f"{0.012 * S:.1f}",
            "-draw", f"circle {c},{c} {c + reel_r * 0.9},{c}",
            "-stroke", "none", "-fill", HOLE, *holes,
            "-fill", PLAY, "-stroke", PLAY, "-strokewidth", f"{0.02 * S:.1f}",
            "-draw", f"polygon {tri_pts}",
            "-define", "png:color-type=6", f"PNG32:{path}")


def resized(src, size, dst):
    run(src, "-filter", "Lanczos", "-resize", f"{size}x{size}", "-define", "png:color-type=6", f"PNG32:{dst}")


def icns(pngs_by_size, dst):
    """Apple's .icns with PNG payloads: one entry per type code."""
    types = [("icp4", 16), ("icp5", 32), ("icp6", 64), ("ic07", 128), ("ic08", 256),
             ("ic09", 512), ("ic10", 1024), ("ic11", 32), ("ic12", 64), ("ic13", 256), ("ic14", 512)]
    body = b""
    for code, size in types:
        with open(pngs_by_size[size], "rb") as f:
            data = f.read()
        body += code.encode() + struct.pack(">I", len(data) + 8) + data
    with open(dst, "wb") as f:
        f.write(b"icns" + struct.pack(">I", len(body) + 8) + body)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        big = os.path.join(tmp, "1024.png")
        master(big)
        sizes = {}
        for size in (16, 24, 32, 48, 64, 128, 256, 512):
            sizes[size] = os.path.join(tmp, f"{size}.png")
            resized(big, size, sizes[size])
        sizes[1024] = big
        out = lambda name: os.path.join(HERE, name)  # noqa: E731
        shutil.copy(sizes[32], out("32x32.png"))
        shutil.copy(sizes[128], out("128x128.png"))
        shutil.copy(sizes[256], out("128x128@2x.png"))
        shutil.copy(sizes[512], out("icon.png"))
        # ICO: 16-48 as BMP layers for old readers, 256 as PNG (convert picks per size).
        run(*(sizes[s] for s in (16, 24, 32, 48, 64, 128, 256)), out("icon.ico"))
        icns(sizes, out("icon.icns"))
    for name in ("32x32.png", "128x128.png", "128x128@2x.png", "icon.png", "icon.ico", "icon.icns"):
        print(f"{name}: {os.path.getsize(out(name))} bytes")


if __name__ == "__main__":
    main()
