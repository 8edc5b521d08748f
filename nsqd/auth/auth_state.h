// What an auth server answered for a client's AUTH secret (NSQ-REFERENCE §10), and nsqd's rules
// for it. Pure: parsing and matching only; the request is made by AuthClient.
//
//   absl::StatusOr<AuthState> state = ParseAuthResponse(body);
//   state->Allowed(AuthState::kSubscribe, "orders", "billing");   // SUB orders billing
//   state->Allowed(AuthState::kPublish, "orders", "");            // PUB orders
//
// The auth server's answer:
//   {"ttl": 3600, "identity": "...", "identity_url": "...",
//    "authorizations": [{"topic": "<regex>", "channels": ["<regex>", ...],
//                        "permissions": ["subscribe", "publish"]}]}
// Regexes match anywhere in the name (Go's regexp.MatchString), so "test" allows "mytest1". They
// are RE2's, whose syntax is Go's and whose matching takes time linear in the name, as Go's does:
// a backtracking engine (std::regex) let an answer like "(a+)+$" hang the event loop.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace re2 {
class RE2;
}

namespace nsq::nsqd {

struct AuthState {
  enum Permission { kSubscribe, kPublish };

  struct Authorization {
    std::string topic_pattern;
    // Compiled once; shared, so that an AuthState copies cheaply (RE2 is not copyable, and
    // matching through a const RE2 is thread-safe).
    std::shared_ptr<const re2::RE2> topic;
    std::vector<std::shared_ptr<const re2::RE2>> channels;
    bool subscribe = false;
    bool publish = false;
  };

  std::string identity;
  std::string identity_url;
  std::vector<Authorization> authorizations;
  int64_t ttl_ns = 0;         // how long the answer holds (the server's "ttl")
  int64_t expires_at_ns = 0;  // set by the connection when the answer arrives: now + ttl

  bool Expired(int64_t now_ns) const { return now_ns >= expires_at_ns; }
  // SUB: an entry with "subscribe" whose topic regex matches `topic` and one of whose channel
  // regexes matches `channel`. PUB (kPublish, channel ""): an entry with "publish" whose topic
  // regex matches, and one of whose channel regexes matches the empty string (nsqd's quirk: an
  // entry with "channels": [] cannot publish; [".*"] can).
  bool Allowed(Permission permission, std::string_view topic, std::string_view channel) const;
};

// Parses the auth server's JSON. InvalidArgument (nsqd then answers E_AUTH_FAILED) when ttl is
// not positive, a permission is not subscribe/publish, or a regex does not compile.
absl::StatusOr<AuthState> ParseAuthResponse(std::string_view json);

}  // namespace nsq::nsqd
