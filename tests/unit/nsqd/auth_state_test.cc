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

TEST_CASE("expiry") {
  AuthState state;
  state.expires_at_ns = 100;
  CHECK_FALSE(state.Expired(99));
  CHECK(state.Expired(100));
}

}  // namespace
}  // namespace nsq::nsqd
