# pcfile.cmake — libtrack.pc for the prefix being installed to, included by the install step
# (install(CODE) in CMakeLists.txt), where CMAKE_INSTALL_PREFIX is the prefix of this install:
# `cmake --install --prefix DIR`'s, or CPack's /usr, not necessarily the one configured.
# Absolute paths, as Debian's .pc files have them: pkg-config leaves out the system's own
# (-I/usr/include, -L/usr/lib/x86_64-linux-gnu), and PKG_CONFIG_SYSROOT_DIR relocates them.
set(TRACK_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
foreach(var TRACK_PC_LIBDIR TRACK_PC_INCLUDEDIR)
  if(NOT IS_ABSOLUTE "${${var}}")
    set(${var} "\${prefix}/${${var}}")
  endif()
endforeach()
configure_file("${TRACK_PC_IN}" "${TRACK_PC_OUT}" @ONLY)
