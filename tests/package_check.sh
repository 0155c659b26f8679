#!/usr/bin/env bash
# package_check.sh — the Debian package, checked as its users get it (README, "Install";
# .ci/run runs it after the suites).  Configures BUILD_DIR (default build-pkg) for /usr,
# builds, makes the package with cpack, unpacks it into a scratch root and then uses nothing
# but the unpacked files: the installed track's version; a program compiled against the
# installed header through the installed libtrack.pc and linked with -ltrack; that program
# under the installed `track run` (a lock-order finding and its exit status, or none), and
# run linked alone, then reported by the installed track.  Each run says which libtrack it
# mapped: it must be the package's, never a build tree's.  Any mismatch fails, non-zero,
# with one line saying what.
#
# The root is made with `dpkg -x`, not `dpkg --root`/`--instdir`: those need a dpkg database
# in the root, which then lacks every dependency (so --force-depends), and run the maintainer
# scripts (ldconfig) chrooted into a root that has no ldconfig.  dpkg -x lays the files out
# exactly where dpkg would install them, as any user; that the Depends line is met is
# checked apart, against this system's installed packages.
#
#   tests/package_check.sh [BUILD_DIR]
set -euo pipefail
trap 'echo "package_check: FAILED: $BASH_COMMAND" >&2' ERR
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build-pkg}

fail() {
	trap - ERR
	echo "package_check: FAILED: $*" >&2
	exit 1
}

cmake -S "$src" -B "$build" -DCMAKE_INSTALL_PREFIX=/usr -DBUILD_TESTING=OFF \
	-DTRACK_WERROR=ON >/dev/null
cmake --build "$build" -j2 >/dev/null
deb=$(cd "$build" && cpack -G DEB | sed -n 's/^CPack: - package: \(.*\) generated\.$/\1/p')
[ -f "$deb" ] || fail "cpack made no package in $build"

work=$(mktemp -d -t track-pkgcheck.XXXXXX)
segs=$(mktemp -d /dev/shm/track-pkgcheck.XXXXXX)
trap 'rm -rf "$work" "$segs"' EXIT
root=$work/root
dpkg -x "$deb" "$root"
version=$(dpkg-deb -f "$deb" Version)

# Every dependency dpkg-shlibdeps found is installed here, at a version it accepts.
deps=$(dpkg-deb -f "$deb" Depends)
[ -n "$deps" ] || fail "the package has no Depends"
IFS=, read -ra dep_list <<<"$deps"
for dep in "${dep_list[@]}"; do
	read -r name op ver <<<"$(echo "$dep" | tr -d '()')"
	have=$(dpkg-query -W -f='${Version}' "$name" 2>/dev/null) ||
		fail "Depends names $name, which is not installed here"
	[ -z "$op" ] || dpkg --compare-versions "$have" "$op" "$ver" ||
		fail "Depends wants $name $op $ver; installed is $have"
done

# What the package must hold, where Debian puts it.
libdir=usr/lib/$(gcc -print-multiarch)
for f in usr/bin/track usr/include/track.h usr/include/track/check.h \
	usr/include/track/segment.h "$libdir/libtrack.so" "$libdir/libtrack.so.0" \
	"$libdir/pkgconfig/libtrack.pc" usr/share/doc/track/README.md \
	usr/share/man/man1/track.1.gz; do
	[ -e "$root/$f" ] || fail "the package lacks /$f"
done
readelf -d "$root/$libdir/libtrack.so.0" | grep -q 'SONAME.*\[libtrack\.so\.0\]' ||
	fail "/$libdir/libtrack.so.0 has not the SONAME libtrack.so.0"

track=$root/usr/bin/track
out=$("$track" --version)
[[ $out == "track $version "* ]] || fail "track --version says '$out', the package is $version"

# Build flags from the package's libtrack.pc only (PKG_CONFIG_LIBDIR: no system .pc files),
# its /usr paths moved into the root (the sysroot; and kept, though they are the system's).
pcdir=$root/$libdir/pkgconfig
grep -q '^prefix=/usr$' "$pcdir/libtrack.pc" || fail "libtrack.pc's prefix is not /usr"
pc() {
	PKG_CONFIG_LIBDIR=$pcdir PKG_CONFIG_SYSROOT_DIR=$root PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1 \
		PKG_CONFIG_ALLOW_SYSTEM_LIBS=1 pkg-config "$@" libtrack
}
[ "$(pc --modversion)" = "$version" ] || fail "libtrack.pc's version is not $version"
read -ra flags <<<"$(pc --cflags --libs)"
demo=$work/package_demo
cc -o "$demo" "$src/tests/package_demo.c" "${flags[@]}" -pthread
# Every track header it read is the package's, not one installed on this system.
cc -M "$src/tests/package_demo.c" "${flags[@]}" | tr ' \\' '\n\n' | grep -E '/track(\.h|/[a-z_]+\.h)$' |
	grep -v "^$root/" && fail "package_demo.c read a track header from outside the package"
# track/check.h compiles with the package's cflags (and Check's).
read -ra check_flags <<<"$(pkg-config --cflags check)"
echo '#include <track/check.h>' | cc -fsyntax-only -x c - $(pc --cflags) "${check_flags[@]}" ||
	fail "track/check.h from the package does not compile"

# The libtrack lines a run of the demo printed must name the package's file, and only it.
shims_installed() {
	grep -q '^shim: ' "$1" || fail "$2: no libtrack was mapped into the program"
	if grep '^shim: ' "$1" | grep -v "^shim: $root/$libdir/libtrack\.so"; then
		fail "$2: the program mapped a libtrack not the package's (above)"
	fi
}
# The installed track, alone: no TRACK_LIB, no preload of ours, its own segment directory.
run_track() {
	env -u TRACK_LIB -u LD_PRELOAD -u LD_LIBRARY_PATH TRACK_DIR="$segs" "$track" "$@"
}

status=0
run_track run --error-exitcode=42 -- "$demo" inverted >"$work/out" 2>"$work/err" || status=$?
[ "$status" = 42 ] || fail "track run (inverted) exited $status, not 42: $(tail -1 "$work/err")"
grep -q 'lock-order-inversion' "$work/err" || fail "track run (inverted): no lock-order finding"
grep -q '^leak check: leaks$' "$work/out" || fail "track run (inverted): track.h did not see the leaked thread"
shims_installed "$work/out" "track run (inverted)"

status=0
run_track run --error-exitcode=42 -- "$demo" ordered >"$work/out" 2>"$work/err" || status=$?
[ "$status" = 0 ] || fail "track run (ordered) exited $status, not 0: $(tail -1 "$work/err")"
grep -q '^findings: none$' "$work/err" || fail "track run (ordered): the report has findings, or none were listed"
shims_installed "$work/out" "track run (ordered)"

# Linked with -ltrack and run without track: the shim comes from the package's libdir, and
# the installed track reports the segment it left.
LD_LIBRARY_PATH=$root/$libdir TRACK_DIR=$segs "$demo" inverted >"$work/out" </dev/null
grep -q '^leak check: leaks$' "$work/out" || fail "linked run: track.h did not find the shim"
shims_installed "$work/out" "linked run"
pid=$(sed -n 's/^pid //p' "$work/out")
run_track report "$pid" >"$work/report" 2>&1 || fail "track report $pid failed: $(tail -1 "$work/report")"
grep -q 'lock-order-inversion' "$work/report" || fail "track report $pid: no lock-order finding"

echo "package_check: $(basename "$deb") ($(stat -c %s "$deb") bytes) installs and works"
