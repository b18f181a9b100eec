// Check for exercises/01-listing: a directory without index.html is listed as HTML — names
// escaped in the text, percent-encoded in the links, dotfiles hidden, nothing outside ROOT.
#include <set>

#include "tests/exercises/file_site.h"

using namespace exercise;

namespace {

// The href="…" of every link in the page, in order. (A plain search, not std::regex: GCC 12
// warns inside <regex> at -O2.)
std::vector<std::string> links_in(const std::string& page) {
  std::vector<std::string> links;
  const std::string open = "href=\"";
  for (size_t at = page.find(open); at != std::string::npos; at = page.find(open, at)) {
    at += open.size();
    size_t end = page.find('"', at);
    if (end == std::string::npos) break;
    links.push_back(page.substr(at, end - at));
  }
  return links;
}

// A link of the page at /docs/, as a request target: relative links are resolved against it.
std::string target_of(const std::string& link) {
  if (link.starts_with("/")) return link;
  std::string relative = link.starts_with("./") ? link.substr(2) : link;
  return "/docs/" + relative;
}

}  // namespace

TEST_CASE("01-listing: directories without index.html list their entries", "[ex:01-listing]") {
  run_check([] {
    FileSite site;
    site.write("docs/a.txt", "plain\n");
    site.write("docs/sp ace.txt", "spaced\n");
    site.write("docs/100%.txt", "percent\n");
    site.write("docs/<b>&x.txt", "markup\n");
    site.write("docs/.secret", "hidden\n");
    site.directory("docs/sub");
    site.write("withindex/index.html", "<p>index</p>\n");
    site.link(site.base / "outside", "leakdir");
    auto server = site.start();
    const int port = server.port();

    Answer page = get(port, "/docs/");
    if (!need(page.status() == 200,
              "GET /docs/ (no index.html) answers 200 with a listing (got " + page.text() + ")"))
      return;
    const std::string& html = page.response.body;
    need(page.response.header("Content-Type").starts_with("text/html"),
         "the listing is text/html (got Content-Type: " + page.response.header("Content-Type") +
             ")");
    need(html.find("a.txt") != std::string::npos && html.find("sub") != std::string::npos,
         "the listing names the entries (a.txt, sub, …)");
    need(html.find("<b>&x") == std::string::npos &&
             html.find("&lt;b&gt;&amp;x.txt") != std::string::npos,
         "names are HTML-escaped in the text: \"<b>&x.txt\" shows as &lt;b&gt;&amp;x.txt");
    need(html.find(".secret") == std::string::npos, "dotfiles (.secret) are not listed");

    // Every link must lead somewhere that answers, and each visible file must be linked.
    std::set<std::string> reached;
    for (const std::string& link : links_in(html)) {
      if (link.find("..") != std::string::npos) continue;  // the parent directory, if linked
      Answer followed = get(port, target_of(link));
      if (need(followed.status() == 200,
               "the link href=\"" + link + "\" answers 200 (got " + followed.text() + ")"))
        reached.insert(followed.response.body);
    }
    for (std::string content : {"plain\n", "spaced\n", "percent\n", "markup\n"}) {
      content.pop_back();  // the newline
      need(reached.count(content + "\n") == 1,
           "a link leads to the file containing \"" + content +
               "\" (names are percent-encoded in links: sp%20ace.txt, 100%25.txt, "
               "%3Cb%3E%26x.txt)");
    }

    Answer empty = get(port, "/docs/sub/");
    need(empty.status() == 200 && empty.response.body.find("a.txt") == std::string::npos,
         "an empty directory is listed too, without entries (got " + empty.text() + ")");
    Answer index = get(port, "/withindex/");
    need(index.status() == 200 && index.response.body == "<p>index</p>\n",
         "a directory with an index.html still answers its index.html");
    need(get(port, "/docs").status() == 301, "/docs without the slash still redirects to /docs/");
    Answer outside = get(port, "/leakdir/");
    need(outside.status() == 404 && outside.response.body.find("secret") == std::string::npos,
         "a symlink to a directory outside ROOT is 404, never listed (got " + outside.text() + ")");
    need(get(port, "/missing/").status() == 404, "a directory that does not exist is 404");
    need(server.stop() == 0, "the server still stops cleanly (exit 0)");
  });
}
