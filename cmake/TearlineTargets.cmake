# Shared per-target settings for Tearline's own targets (never for imported ones).

set(_tearline_warnings
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
    -Wnon-virtual-dtor -Wold-style-cast -Woverloaded-virtual
    -Wformat=2 -Wimplicit-fallthrough)

# The linker. About 140 executables link the same static libraries, and each sanitizer tree links
# them again: lld does it in about a third of the time of the default (bfd) linker, which is most
# of a build's wall-clock time once ccache has the objects.
include(CheckLinkerFlag)
set(_tearline_linker_flag "")
if(TEARLINE_LINKER STREQUAL "auto")
  check_linker_flag(CXX "-fuse-ld=lld" TEARLINE_HAVE_LLD)
  if(TEARLINE_HAVE_LLD)
    set(_tearline_linker_flag "-fuse-ld=lld")
  endif()
elseif(TEARLINE_LINKER STREQUAL "lld" OR TEARLINE_LINKER STREQUAL "gold")
  set(_tearline_linker_flag "-fuse-ld=${TEARLINE_LINKER}")
elseif(NOT TEARLINE_LINKER STREQUAL "default")
  message(FATAL_ERROR "TEARLINE_LINKER must be auto, lld, gold or default, not '${TEARLINE_LINKER}'")
endif()

function(tearline_target_defaults target)
  target_compile_features(${target} PUBLIC cxx_std_20)
  set_target_properties(${target} PROPERTIES CXX_EXTENSIONS OFF)
  target_compile_options(${target} PRIVATE ${_tearline_warnings})
  if(TEARLINE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(_tearline_linker_flag)
    target_link_options(${target} PRIVATE ${_tearline_linker_flag})
  endif()
  if(TEARLINE_FUZZ)
    # Coverage feedback for the library code the fuzz targets reach, not only their entry points.
    target_compile_options(${target} PRIVATE -fsanitize=fuzzer-no-link)
  endif()
  if(TEARLINE_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=${TEARLINE_SANITIZE}
                                             -fno-omit-frame-pointer -fno-sanitize-recover=all)
    target_link_options(${target} PRIVATE -fsanitize=${TEARLINE_SANITIZE})
  endif()
endfunction()

# Executables and tests link the sanitizer runtime too, so give them the same treatment.
function(tearline_executable target)
  add_executable(${target} ${ARGN})
  tearline_target_defaults(${target})
endfunction()
