// A blocking Redis connection on hiredis (Debian's libhiredis 0.14: RESP2, no TLS), for the
// migrator's threads: each thread owns its own RedisClient. hiredis types stay in the .cc file.
//
//   absl::StatusOr<std::unique_ptr<RedisClient>> redis = RedisClient::Connect(endpoint, timeout);
//   absl::StatusOr<RedisReply> length = (*redis)->Command({"LLEN", "queue:default"});
//   RedisScript claim(kClaimSource);
//   absl::StatusOr<RedisReply> batch = claim.Run(**redis, {source, processing}, {"500"});
//
// Errors: Unavailable when the connection failed (the client is then unusable: connect a new
// one), FailedPrecondition carrying Redis's text for an error reply ("WRONGTYPE ..."). Not
// thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tools/redis_to_nsq/redis_url.h"

struct redisContext;

namespace nsq::redis_to_nsq {

struct RedisReply {
  enum class Type { kNil, kInteger, kString, kStatus, kArray };
  Type type = Type::kNil;
  int64_t integer = 0;
  std::string str;  // kString (binary-safe) and kStatus
  std::vector<RedisReply> elements;

  bool is_nil() const { return type == Type::kNil; }
  // A readable rendering for messages and test failures: 42, "bytes" (escaped, long ones cut),
  // +OK, [a, b] (long arrays cut), nil.
  std::string ToString() const;
};

class RedisClient {
 public:
  // Connects within `timeout`, authenticates, selects the database and reads the server's
  // version. Commands then time out after `command_timeout` (it must exceed any blocking
  // command's own timeout). The error names the endpoint.
  static absl::StatusOr<std::unique_ptr<RedisClient>> Connect(const RedisEndpoint& endpoint,
                                                              absl::Duration timeout,
                                                              absl::Duration command_timeout);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  absl::StatusOr<RedisReply> Command(const std::vector<std::string>& argv);
  // Sends every command, then reads every reply (one round trip). An error reply fails the
  // whole call with the first error.
  absl::StatusOr<std::vector<RedisReply>> Pipeline(
      const std::vector<std::vector<std::string>>& commands);

  // "7.0.15": the redis_version of INFO server.
  const std::string& server_version() const { return version_; }
  // Whether the server's version is at least `major.minor` (SCAN's TYPE filter: 6.0).
  bool AtLeast(int major, int minor) const;
  // Whether the server runs `command` under that name: it may be older than the command, or
  // the operator may have disabled or renamed it (rename-command). Asks COMMAND INFO.
  absl::StatusOr<bool> HasCommand(const std::string& command);
  bool broken() const { return broken_; }

 private:
  RedisClient(redisContext* context, std::string description)
      : context_(context), description_(std::move(description)) {}
  absl::StatusOr<RedisReply> ReadReply();

  redisContext* context_;
  std::string description_;
  std::string version_;
  bool broken_ = false;
};

// A Lua script run with EVALSHA, loaded on first use and again after the server forgot it
// (a restart, SCRIPT FLUSH).
class RedisScript {
 public:
  explicit RedisScript(std::string source) : source_(std::move(source)) {}

  absl::StatusOr<RedisReply> Run(RedisClient& redis, const std::vector<std::string>& keys,
                                 const std::vector<std::string>& args);

 private:
  std::string source_;
  std::string sha_;
};

}  // namespace nsq::redis_to_nsq
