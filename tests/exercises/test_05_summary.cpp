// Check for exercises/05-summary: GET /summary/:userId → {"user":name,"posts":N,"comments":M},
// posts and comments fetched at once with all/spread.
#include "tests/exercises/exercise_support.h"

using namespace exercise;

TEST_CASE("05-summary: a summary route built from promises", "[ex:05-summary]") {
  run_check([] {
    auto server = start_stage("05-promises");
    Answer answer = get(server.port(), "/summary/1?trace=1");
    if (!need(answer.status() == 200, "GET /summary/1 answers 200 (got " + answer.text() + ")"))
      return;
    need(answer.has("user") && answer["user"].IsString() &&
             std::string(answer["user"].GetString()) == "Ada Lovelace",
         "\"user\" is the user's name, \"Ada Lovelace\"");
    need(answer.has("posts") && answer["posts"].IsInt() && answer["posts"].GetInt() == 2,
         "\"posts\" is the number of posts, 2");
    need(answer.has("comments") && answer["comments"].IsInt() && answer["comments"].GetInt() == 2,
         "\"comments\" is the number of comments, 2");
    need(answer.body && answer.body->IsObject() && answer.body->MemberCount() == 4,
         "the answer has user, posts, comments (and trace with ?trace=1), nothing else (got " +
             answer.text() + ")");
    if (need(answer.traced("posts") && answer.traced("comments"),
             "?trace=1 lists the queries (through db_query)"))
      need(overlap(answer.trace.at("posts"), answer.trace.at("comments")),
           "posts and comments are fetched at the same time (all)");

    Answer two = get(server.port(), "/summary/2");
    need(two.status() == 200 && two.has("posts") && two["posts"].IsInt() &&
             two["posts"].GetInt() == 1,
         "GET /summary/2 counts Alan Turing's one post (got " + two.text() + ")");
    need(get(server.port(), "/summary/4242").status() == 404, "an unknown user answers 404");
    need(get(server.port(), "/summary/abc").status() == 400, "a bad userId answers 400");
    need(user_one_answered(get(server.port(), "/promise/1")), "/promise/:userId still works");
  });
}
