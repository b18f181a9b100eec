# Finds what the project needs, all from the system's packages; nothing is downloaded.
# When something is missing, configuration stops with one line naming the package to install.
find_package(PkgConfig)
if(NOT PkgConfig_FOUND)
  message(FATAL_ERROR "pkg-config not found: install it with `apt-get install pkg-config` (or run scripts/setup)")
endif()

pkg_check_modules(LIBUV IMPORTED_TARGET libuv>=1.40)
if(NOT LIBUV_FOUND)
  message(FATAL_ERROR "libuv not found: install it with `apt-get install libuv1-dev` (or run scripts/setup)")
endif()

find_package(RapidJSON QUIET)
if(NOT RapidJSON_FOUND)
  message(FATAL_ERROR "RapidJSON not found: install it with `apt-get install rapidjson-dev` (or run scripts/setup)")
endif()
add_library(rapidjson INTERFACE)
# RapidJSON's config exports variables, not a target; its std::string support is what we use.
target_include_directories(rapidjson SYSTEM INTERFACE ${RAPIDJSON_INCLUDE_DIRS})
target_compile_definitions(rapidjson INTERFACE RAPIDJSON_HAS_STDSTRING=1)

include(${CMAKE_CURRENT_LIST_DIR}/FindLlhttp.cmake)

if(TUTORIAL_BUILD_TESTS)
  find_package(Catch2 QUIET)
  if(NOT Catch2_FOUND)
    message(FATAL_ERROR "Catch2 not found: install it with `apt-get install catch2` (or run scripts/setup)")
  endif()
endif()
