// Where the Redis server is, from a URL as Redis clients spell it:
//
//   redis://[[user]:password@]host[:port][/db]     (port 6379, db 0 by default)
//   unix://[[user]:password@]/path/to/redis.sock[?db=N]
//
//   absl::StatusOr<RedisEndpoint> endpoint = ParseRedisUrl("redis://:secret@10.0.0.5:6379/2");
//   endpoint->Describe();  // "redis://10.0.0.5:6379/2" (never the password)
//
// Pure: nothing is resolved or connected.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace nsq::redis_to_nsq {

struct RedisEndpoint {
  std::string host;       // TCP; empty for a unix socket
  int port = 6379;
  std::string unix_path;  // unix socket; empty for TCP
  std::string username;   // ACL user (Redis 6+); empty: AUTH with the password alone
  std::string password;   // empty: no AUTH
  int db = 0;             // SELECTed after connecting

  // The URL without credentials, for messages.
  std::string Describe() const;
};

absl::StatusOr<RedisEndpoint> ParseRedisUrl(std::string_view url);

}  // namespace nsq::redis_to_nsq
