# llhttp, the HTTP parser Node uses. In order of preference:
#  1. an installed library with a CMake package (llhttp::llhttp), e.g. libllhttp-dev on newer systems;
#  2. the generated C sources that Debian 12's node-llhttp package ships, built here as a static library.
# The result is always the target `llhttp`.
find_package(llhttp QUIET CONFIG)
if(TARGET llhttp::llhttp_static OR TARGET llhttp::llhttp)
  add_library(llhttp INTERFACE)
  if(TARGET llhttp::llhttp_static)
    target_link_libraries(llhttp INTERFACE llhttp::llhttp_static)
  else()
    target_link_libraries(llhttp INTERFACE llhttp::llhttp)
  endif()
  message(STATUS "llhttp: installed CMake package")
  return()
endif()

find_path(LLHTTP_SOURCE_DIR NAMES llhttp.c api.c http.c PATHS /usr/share/llhttp NO_DEFAULT_PATH)
find_path(LLHTTP_INCLUDE_DIR NAMES llhttp.h PATHS /usr/share/include/llhttp /usr/include /usr/local/include)
if(LLHTTP_SOURCE_DIR AND LLHTTP_INCLUDE_DIR)
  add_library(llhttp STATIC ${LLHTTP_SOURCE_DIR}/api.c ${LLHTTP_SOURCE_DIR}/http.c ${LLHTTP_SOURCE_DIR}/llhttp.c)
  target_include_directories(llhttp SYSTEM PUBLIC ${LLHTTP_INCLUDE_DIR})
  set_target_properties(llhttp PROPERTIES C_STANDARD 99 POSITION_INDEPENDENT_CODE ON)
  if(TUTORIAL_ENABLE_ASAN)
    target_compile_options(llhttp PRIVATE -fsanitize=address)
  endif()
  message(STATUS "llhttp: built from ${LLHTTP_SOURCE_DIR}")
  return()
endif()

find_library(LLHTTP_LIBRARY NAMES llhttp)
if(LLHTTP_LIBRARY AND LLHTTP_INCLUDE_DIR)
  add_library(llhttp INTERFACE)
  target_include_directories(llhttp SYSTEM INTERFACE ${LLHTTP_INCLUDE_DIR})
  target_link_libraries(llhttp INTERFACE ${LLHTTP_LIBRARY})
  message(STATUS "llhttp: ${LLHTTP_LIBRARY}")
  return()
endif()

message(FATAL_ERROR "llhttp not found: install it with `apt-get install node-llhttp` (Debian 12) or `apt-get install libllhttp-dev` (or run scripts/setup)")
