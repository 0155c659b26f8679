# The Debian package (README, "Install"): `cpack -G DEB` in a build directory makes
# track_<version>_<arch>.deb from the install rules: the track command, libtrack.so, the
# headers, libtrack.pc and the README.  Configure with -DCMAKE_INSTALL_PREFIX=/usr so that
# GNUInstallDirs picks Debian's multiarch libdir (lib/x86_64-linux-gnu); the package always
# installs under /usr, and a build configured for another prefix still makes a working one:
# the command finds its shim relative to itself, and libtrack.pc is written at install time.

set(TRACK_PACKAGE_MAINTAINER
  "track maintainers <maintainers@users.noreply.h-seed-35088a23.example>"
  CACHE STRING "the Maintainer field of the Debian package")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME track)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT ${TRACK_PACKAGE_MAINTAINER})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "concurrency diagnostics and leak checks for pthreads programs")
# The extended description: CPack puts the summary first and indents these lines itself.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "track shows what the threads and locks of an unmodified Linux pthreads
program are doing: lock-order inversions and deadlocks, contention and wait
profiles, stalls, misuse, and the threads, locks and descriptors a program
leaves behind.  libtrack.so is preloaded into the program (track run, or
LD_PRELOAD) and records into shared memory; the track command reports, live or
after the program ended, as text, JSON, folded stacks, pprof or Prometheus
metrics, and watches a process with track top.

This package holds the track command, the shim libtrack.so, the headers of its
in-process API (track.h, and track/check.h for Check tests) and libtrack.pc.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Depends from the binaries' needs, by dpkg-shlibdeps; the shlibs file and the ldconfig
# trigger for libtrack.so.0, which other programs may link (-ltrack).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
# dpkg runs ldconfig once after the whole transaction (lintian: lacks-ldconfig-trigger); CPack's
# own postinst and postrm call it too, which is redundant and harmless.
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${CMAKE_CURRENT_LIST_DIR}/debian/triggers)
# track/check.h is for tests written with Check; pkg-config reads libtrack.pc.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "check, pkg-config")
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
include(CPack)
