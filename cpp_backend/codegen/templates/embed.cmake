# Embeds text templates into a C++ header at build time, so the built extension carries them and
# needs no template files at run time (DESIGN.md §1: file templates as files, not strings).
#
#   cmake -DTEMPLATE_DIR=<dir of *.in files> -DNAMESPACE=<C++ namespace> -DOUTPUT=<header>
#         -P embed.cmake
#
# Each <dir>/<name>.in becomes `inline constexpr std::string_view <name as a C identifier>`
# holding the file's exact bytes (e.g. CMakeLists.txt.in -> CMakeLists_txt), as a raw string
# literal. A template that contains the literal's closing delimiter is an error.
cmake_minimum_required(VERSION 3.18)

foreach(var TEMPLATE_DIR NAMESPACE OUTPUT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "embed.cmake: -D${var}=... is required")
  endif()
endforeach()

set(delim "pto_tmpl")
file(GLOB templates RELATIVE "${TEMPLATE_DIR}" "${TEMPLATE_DIR}/*.in")
list(SORT templates)
if(NOT templates)
  message(FATAL_ERROR "embed.cmake: no *.in templates in ${TEMPLATE_DIR}")
endif()

set(text "// Generated at build time by cpp_backend/codegen/templates/embed.cmake from\n")
string(APPEND text "// ${TEMPLATE_DIR}/*.in. Do not edit: edit the templates.\n")
string(APPEND text "#pragma once\n\n#include <string_view>\n\nnamespace ${NAMESPACE} {\n")
foreach(name IN LISTS templates)
  file(READ "${TEMPLATE_DIR}/${name}" body)
  string(FIND "${body}" ")${delim}\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "embed.cmake: ${TEMPLATE_DIR}/${name} contains ')${delim}\"', "
                        "which would end the raw string literal it is embedded in")
  endif()
  string(REGEX REPLACE "\\.in$" "" stem "${name}")
  string(MAKE_C_IDENTIFIER "${stem}" ident)
  string(APPEND text "\n// ${name}\ninline constexpr std::string_view ${ident} = R\"${delim}(${body})${delim}\";\n")
endforeach()
string(APPEND text "\n}  // namespace ${NAMESPACE}\n")
file(WRITE "${OUTPUT}" "${text}")
