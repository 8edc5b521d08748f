#include "nsqd/auth/auth_state.h"

#include <doctest/doctest.h>

namespace nsq::nsqd {
namespace {

TEST_CASE("an auth answer is parsed: ttl, identity, authorizations") {
  auto state = ParseAuthResponse(
      R"({"ttl":3600,"identity":"who","identity_url":"u","authorizations":[)"
      R"({"topic":"test","channels":["^ch.*","x"],"permissions":["subscribe"]},)"
      R"({"topic":".*","channels":[".*"],"permissions":["publish"]}]})");
  REQUIRE(state.ok());
  CHECK(state->ttl_ns == 3600'000'000'000);
  CHECK(state->identity == "who");
  CHECK(state->authorizations.size() == 2);
}

TEST_CASE("matching is unanchored; SUB needs subscribe, PUB publish and a channel matching ''") {
  auto state = ParseAuthResponse(
      R"({"ttl":1,"authorizations":[)"
      R"({"topic":"test","channels":["^ch"],"permissions":["subscribe"]},)"
      R"({"topic":"^pub$","channels":[],"permissions":["publish"]},)"
      R"({"topic":"^pub2$","channels":[".*"],"permissions":["publish"]}]})");
  REQUIRE(state.ok());
  CHECK(state->Allowed(AuthState::kSubscribe, "mytest1", "channel"));
  CHECK_FALSE(state->Allowed(AuthState::kSubscribe, "mytest1", "other"));
  CHECK_FALSE(state->Allowed(AuthState::kPublish, "mytest1", ""));
  // nsqd's quirk: "channels": [] cannot publish, [".*"] can.
  CHECK_FALSE(state->Allowed(AuthState::kPublish, "pub", ""));
  CHECK(state->Allowed(AuthState::kPublish, "pub2", ""));
}

TEST_CASE("bad answers are refused") {
  for (const char* json : {R"({"ttl":0,"authorizations":[]})", R"({"authorizations":[]})",
                           R"({"ttl":5,"authorizations":[{"topic":"(","permissions":[]}]})",
                           R"({"ttl":5,"authorizations":[{"topic":"a","permissions":["admin"]}]})",
                           "not json", "[]"}) {
    CAPTURE(json);
    CHECK_FALSE(ParseAuthResponse(json).ok());
  }
}

// A rule with `pattern` as its topic, allowing publish to any channel.
absl::StatusOr<AuthState> RuleFor(const std::string& pattern) {
  return ParseAuthResponse(std::string(R"({"ttl":5,"authorizations":[{"topic":")") + pattern +
                           R"(","channels":[".*"],"permissions":["publish"]}]})");
}

TEST_CASE("Go's regexp syntax: backreferences and repeat counts over 1000 are refused") {
  for (std::string pattern : {R"(\\1)", "a{1001}", "(a{1000}){1000}", "(", "a**"}) {
    CAPTURE(pattern);
    CHECK_FALSE(RuleFor(pattern).ok());
  }
  // \777 is an octal escape in Go's syntax (then literal 7s); a leading zero makes "{0099}"
  // literal text, as in Go.
  for (std::string pattern : {"a{1000}", "a{2,1000}", "a{0099}", R"(\\d{3})",
                              R"(a\\77777777777777777777)"}) {
    CAPTURE(pattern);
    CHECK(RuleFor(pattern).ok());
  }
  auto octal = RuleFor(R"(^a\\101$)");
  REQUIRE(octal.ok());
  CHECK(octal->Allowed(AuthState::kPublish, "aA", ""));
  // Counts too big for an int (std::regex, used before RE2, overflowed one here: undefined
  // behaviour) are refused by Go and read as literal text by RE2; never as a huge repeat.
  for (std::string pattern : {"^a{2,99999999999999}$", "^a{99999999999999999999,}$"}) {
    CAPTURE(pattern);
    auto state = RuleFor(pattern);
    if (!state.ok()) continue;
    CHECK_FALSE(state->Allowed(AuthState::kPublish, "aaa", ""));
  }
}

TEST_CASE("a pattern that makes a backtracking engine take exponential time matches at once") {
  // std::regex took minutes on these with a 64-byte name (found by fuzz/identify_json_fuzz as a
  // hang); RE2, like Go's regexp, takes time linear in the name.
  for (const char* pattern : {"(a+)+$", "(a|aa)+b", "(a*)*c", "(.*a){20}"}) {
    CAPTURE(pattern);
    const std::string json = std::string(R"({"ttl":5,"authorizations":[{"topic":")") + pattern +
                             R"(","channels":[".*"],"permissions":["publish","subscribe"]}]})";
    auto state = ParseAuthResponse(json);
    REQUIRE(state.ok());
    const std::string name = std::string(63, 'a') + "!";
    (void)state->Allowed(AuthState::kSubscribe, name, name);
    (void)state->Allowed(AuthState::kPublish, name, "");
  }
}

TEST_CASE("a huge ttl is capped at 100 years instead of overflowing") {
  for (const char* json : {R"({"ttl":9223372036854775807})", R"({"ttl":366666666666666600})",
                           R"({"ttl":3153600001})"}) {
    auto state = ParseAuthResponse(json);
    REQUIRE(state.ok());
    CHECK(state->ttl_ns == int64_t{100} * 365 * 24 * 3600 * 1'000'000'000);
  }
}

TEST_CASE("expiry") {
  AuthState state;
  state.expires_at_ns = 100;
  CHECK_FALSE(state.Expired(99));
  CHECK(state.Expired(100));
}

}  // namespace
}  // namespace nsq::nsqd
