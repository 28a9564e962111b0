# Stub of CANN's AscendC CMake module (compiler/tikcpp/ascendc_kernel_cmake/ascendc.cmake).
#
# Lets the CMakeLists.txt of an emitted ascend_npu tree configure on a machine without CANN:
#   cmake -S <tree> -B <build> -DASCEND_CANN_PACKAGE_PATH=<repo>/resources/ascend_stubs
# The functions check their arguments as the real ones need them (library kind, existing kernel
# sources, known targets) and fail the configure step with a message naming the problem. The
# AICore library becomes a custom target that lists its sources; nothing is compiled for the
# device (that needs the real toolkit).
cmake_minimum_required(VERSION 3.16)

set(PTO_ASCENDC_STUB ON)

function(_pto_ascendc_check_target fn target)
  get_property(known GLOBAL PROPERTY PTO_ASCENDC_LIBRARIES)
  if(NOT target IN_LIST known)
    message(FATAL_ERROR "${fn}: '${target}' is not an ascendc_library target")
  endif()
endfunction()

# ascendc_library(<target> SHARED|STATIC|OBJECT <kernel source>...)
function(ascendc_library target kind)
  if(NOT kind MATCHES "^(SHARED|STATIC|OBJECT)$")
    message(FATAL_ERROR "ascendc_library(${target}): kind must be SHARED, STATIC or OBJECT, got '${kind}'")
  endif()
  set(sources ${ARGN})
  if(NOT sources)
    message(FATAL_ERROR "ascendc_library(${target}): no kernel sources")
  endif()
  foreach(src IN LISTS sources)
    get_filename_component(path "${src}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    if(NOT EXISTS "${path}")
      message(FATAL_ERROR "ascendc_library(${target}): kernel source ${src} does not exist")
    endif()
    if(NOT src MATCHES "\\.(cpp|cc|cxx|asc)$")
      message(FATAL_ERROR "ascendc_library(${target}): ${src} is not a C++ kernel source")
    endif()
  endforeach()
  add_custom_target(${target} SOURCES ${sources}
    COMMENT "AscendC library ${target} (stub: the AICore build needs the CANN toolkit)")
  set_property(GLOBAL APPEND PROPERTY PTO_ASCENDC_LIBRARIES ${target})
endfunction()

# ascendc_compile_definitions(<target> PRIVATE|PUBLIC|INTERFACE <definition>...)
function(ascendc_compile_definitions target scope)
  _pto_ascendc_check_target(ascendc_compile_definitions ${target})
endfunction()

# ascendc_include_directories(<target> PRIVATE|PUBLIC|INTERFACE <dir>...)
function(ascendc_include_directories target scope)
  _pto_ascendc_check_target(ascendc_include_directories ${target})
endfunction()
