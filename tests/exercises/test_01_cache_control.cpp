// Check for exercises/01-cache-control: Cache-Control max-age=60 for css, js and images,
// no-cache for html.
#include "tests/exercises/file_site.h"

using namespace exercise;

TEST_CASE("01-cache-control: how long a browser may keep each file", "[ex:01-cache-control]") {
  run_check([] {
    FileSite site;
    site.write("index.html", "<p>home</p>\n");
    site.write("style.css", "body{}\n");
    site.write("app.js", "1;\n");
    site.write("logo.png", "\x89PNG");
    site.write("photo.jpg", "jpeg");
    site.write("docs/index.html", "<p>docs</p>\n");
    site.write("big.css", std::string(size_t{2} * 1024 * 1024, ' '));  // too big to cache
    auto server = site.start();
    const int port = server.port();

    auto cache_control = [&](const std::string& target) {
      return get(port, target).response.header("Cache-Control");
    };
    // `aside` goes after the target in the message (" (html)" for the pages).
    auto need_twice = [&](const std::string& target, const std::string& aside,
                          const std::string& want) {
      std::string first = cache_control(target);
      std::string again = cache_control(target);  // the second answer comes from the cache
      need(first == want && again == want, "GET " + target + aside + " has Cache-Control: " + want +
                                               " (got '" + first + "', then '" + again + "')");
    };
    for (const char* target : {"/style.css", "/app.js", "/logo.png", "/photo.jpg", "/big.css"})
      need_twice(target, "", "max-age=60");
    for (const char* target : {"/index.html", "/", "/docs/"})
      need_twice(target, " (html)", "no-cache");
    Answer css = get(port, "/style.css");
    Answer revalidated = get(port, "/style.css", {{"If-None-Match", css.response.header("ETag")}});
    need(
        revalidated.status() == 304 && revalidated.response.header("Cache-Control") == "max-age=60",
        "a 304 for /style.css carries Cache-Control: max-age=60 too (got " +
            std::to_string(revalidated.status()) + ", '" +
            revalidated.response.header("Cache-Control") + "')");
    Answer missing = get(port, "/missing.css");
    need(missing.status() == 404 &&
             missing.response.header("Cache-Control").find("max-age") == std::string::npos,
         "a 404 is not cached for 60 s (no max-age on it)");
    need(get(port, "/style.css").response.body == "body{}\n", "the files are still served");
  });
}
