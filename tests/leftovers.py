#!/usr/bin/python3
"""leftovers.py: the suites leave no segment in the user's real segment directories.

Tests keep their segments in a private TRACK_DIR that the harness removes; a test that needs
the default directory gives itself a private /dev/shm.  This check is what holds them to it,
run by CTest before and after every suite (tests/CMakeLists.txt, fixture "leftovers"):

  leftovers.py before STATE TRACK BUILD   note the segments in the default directories now
  leftovers.py after  STATE TRACK BUILD   fail, naming them, if segments of this build's
                                          programs appeared there since

The default directories (/dev/shm/track-<uid>, /tmp/track-<uid>) are shared by everything the
user runs, other builds' tests included: only segments whose program or arguments lie in BUILD
(this build tree) are this run's doing.  Listed with TRACK (track ls --json), the sweep off.
"""
import json
import os
import subprocess
import sys


def segments(track):
    env = dict(os.environ)
    for name in ("TRACK_DIR", "LD_PRELOAD"):
        env.pop(name, None)
    env["TRACK_SWEEP_AFTER"] = "off"
    out = subprocess.run([track, "ls", "--json"], env=env, check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out)


def of_build(seg, build):
    words = [seg.get("exe") or ""] + (seg.get("argv") or [])
    return any(build in w for w in words)


def main():
    if len(sys.argv) != 5 or sys.argv[1] not in ("before", "after"):
        sys.exit("usage: leftovers.py before|after STATE TRACK BUILD")
    what, state, track, build = sys.argv[1:]
    now = segments(track)
    if what == "before":
        with open(state, "w") as f:
            json.dump([s["segment"] for s in now], f)
        print("%d segments in the default directories before the suites" % len(now))
        return
    try:
        with open(state) as f:
            before = set(json.load(f))
    except FileNotFoundError:
        before = set()
    left = [s for s in now if s["segment"] not in before and of_build(s, build)]
    for s in left:
        print("left behind: %s (%s, %s)" % (s["segment"], s["state"],
                                            " ".join(s.get("argv") or [])), file=sys.stderr)
    if left:
        sys.exit("%d segments of this build's programs were left in the default "
                 "directories: a test ran without a private TRACK_DIR" % len(left))
    print("no segment of this build's programs left in the default directories")


main()
