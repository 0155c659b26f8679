# manpage.cmake — track.1.gz, the manual page, written from the built command's own help at
# build time (cmake -P, tools/CMakeLists.txt): `track --help`, then `track help COMMAND` for
# each command it lists.  The help is the one source, so the page says what --help says.
#   cmake -DTRACK=bin/track -DOUT=track.1.gz -DVERSION=0.1.0 -P manpage.cmake

function(track_help out)
  execute_process(COMMAND ${TRACK} ${ARGN} OUTPUT_VARIABLE text RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "manpage.cmake: '${TRACK} ${ARGN}' failed (${rc})")
  endif()
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

# Help text as a no-fill block: a backslash is roff's escape, and a line that begins with
# a dot or an apostrophe would be a request; \& before every line keeps each one text.
function(track_roff_block out text)
  string(REPLACE "\\" "\\e" text "${text}")
  string(REGEX REPLACE "\n$" "" text "${text}")
  string(REPLACE "\n" "\n\\&" text "${text}")
  set(${out} ".nf\n\\&${text}\n.fi\n" PARENT_SCOPE)
endfunction()

track_help(main --help)
# The commands: the "  NAME  what it does" lines under "commands:".
string(REGEX REPLACE ".*\ncommands:\n" "" listing "${main}")
string(REPLACE "\n" ";" listing "${listing}")
set(names "")
foreach(line IN LISTS listing)
  if(line MATCHES "^  ([a-z]+) ")
    list(APPEND names ${CMAKE_MATCH_1})
  endif()
endforeach()
set(page ".TH TRACK 1 \"\" \"track ${VERSION}\" \"User Commands\"
.SH NAME
track \\- concurrency diagnostics and leak checks for pthreads programs
.SH SYNOPSIS
.B track
[\\fB\\-\\-help\\fR] [\\fB\\-\\-version\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR]
.SH DESCRIPTION
")
track_roff_block(block "${main}")
string(APPEND page "${block}.SH COMMANDS\n")
foreach(name IN LISTS names)
  track_help(help help ${name})
  track_roff_block(block "${help}")
  string(APPEND page ".SS ${name}\n${block}")
endforeach()
string(APPEND page ".SH SEE ALSO
README.md in track's documentation directory (/usr/share/doc/track in the Debian package):
the reports, every finding, the environment variables and the in-process API (track.h).
")

file(WRITE ${OUT}.tmp "${page}")
find_program(GZIP gzip REQUIRED)
execute_process(COMMAND ${GZIP} -9 -n -c ${OUT}.tmp OUTPUT_FILE ${OUT} RESULT_VARIABLE rc)
file(REMOVE ${OUT}.tmp)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "manpage.cmake: gzip failed (${rc})")
endif()
