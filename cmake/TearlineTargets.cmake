# Shared per-target settings for Tearline's own targets (never for imported ones).

set(_tearline_warnings
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
    -Wnon-virtual-dtor -Wold-style-cast -Woverloaded-virtual
    -Wformat=2 -Wimplicit-fallthrough)

function(tearline_target_defaults target)
  target_compile_features(${target} PUBLIC cxx_std_20)
  set_target_properties(${target} PROPERTIES CXX_EXTENSIONS OFF)
  target_compile_options(${target} PRIVATE ${_tearline_warnings})
  if(TEARLINE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
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
