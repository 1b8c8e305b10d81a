# cmake -DPROGRAM=path -DNAME=tearline-x -DVERSION=v -DOUT=page.1.gz -P TearlineManPage.cmake
# Writes a man(7) page holding the program's --help text verbatim, gzipped reproducibly (no name
# or time in the gzip header), so `man tearline-x` works wherever the program is installed.
execute_process(COMMAND "${PROGRAM}" --help OUTPUT_VARIABLE help RESULT_VARIABLE rc
                ERROR_VARIABLE help_err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${NAME} --help failed (${rc}): ${help_err}")
endif()
# The first line of CLI11's help is the program's description.
string(REGEX MATCH "^[^\n]*" summary "${help}")
string(REPLACE "\\" "\\e" help "${help}")
string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" help "${help}")
string(REPLACE "-" "\\-" summary "${summary}")
set(page ".TH ${NAME} 1 \"\" \"Tearline ${VERSION}\" \"Tearline\"\n")
string(APPEND page ".SH NAME\n${NAME} \\- ${summary}\n")
string(APPEND page ".SH DESCRIPTION\nThe text of\n.B ${NAME} \\-\\-help\n(each subcommand also takes \\-\\-help):\n")
string(APPEND page ".PP\n.nf\n${help}.fi\n")
string(APPEND page ".SH SEE ALSO\nThe Tearline operations guide, docs/OPERATIONS.md in the source tree.\n")
get_filename_component(out_dir "${OUT}" DIRECTORY)
file(MAKE_DIRECTORY "${out_dir}")
string(REGEX REPLACE "\\.gz$" "" plain "${OUT}")
file(WRITE "${plain}" "${page}")
execute_process(COMMAND gzip -9 -n -f "${plain}" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "gzip ${plain} failed")
endif()
