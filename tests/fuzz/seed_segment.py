#!/usr/bin/env python3
"""seed_segment.py TRACK FX_ORDER CORPUS: a real segment for fuzz_segread's corpus.

Runs fx_order's lock-order inversion under `track run --keep` with every table at its
smallest, in a private TRACK_DIR removed afterwards, and writes the segment to CORPUS
prefixed by the target's mode byte (0: the file as it is)."""
import os, shutil, subprocess, sys, tempfile

track, fx, corpus = sys.argv[1:4]
d = tempfile.mkdtemp(prefix="track-fuzz-seed.", dir="/dev/shm")
try:
    env = dict(os.environ, TRACK_DIR=d, TRACK_MAX_THREADS="16", TRACK_MAX_OBJECTS="16",
               TRACK_MAX_MODULES="8", TRACK_MAX_FINDINGS="4", TRACK_MAX_STACKS="64",
               TRACK_MAX_EDGES="64", TRACK_MAX_PROFILES="64")
    r = subprocess.run([track, "run", "--keep", "--", fx, "ab_ba"], env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)
    segs = [f for f in os.listdir(d) if f.startswith("track.")]
    if len(segs) != 1:
        sys.exit("expected one segment from fx_order ab_ba, found %r (status %d: %s)"
                 % (segs, r.returncode, r.stderr.decode(errors="replace")))
    with open(os.path.join(d, segs[0]), "rb") as f:
        seg = f.read()
    with open(os.path.join(corpus, "ab_ba.seg"), "wb") as f:
        f.write(b"\0" + seg)
    print("ab_ba.seg: %d bytes" % len(seg))
finally:
    shutil.rmtree(d)
