// catch.h: include this instead of Catch2's own header, so tests build with Catch2 2.x and 3.x.
#pragma once
#if __has_include(<catch2/catch_all.hpp>)
#include <catch2/catch_all.hpp>
#else
#include <catch2/catch.hpp>
#endif
