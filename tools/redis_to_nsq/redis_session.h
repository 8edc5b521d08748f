// A Redis connection that outlives outages: each call reconnects when needed and is retried
// (RunState's Retrying) while Redis is away or loading, so a migrator thread simply waits and
// resumes where it was. Errors that are answers (a wrong type, a script error) come back.
// One per thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/redis_to_nsq/redis_client.h"
#include "tools/redis_to_nsq/redis_url.h"

namespace nsq::redis_to_nsq {

class RedisSession {
 public:
  explicit RedisSession(RedisEndpoint endpoint) : endpoint_(std::move(endpoint)) {}

  // `what` names the step in the outage warning ("claiming from queue:default").
  absl::StatusOr<RedisReply> Call(std::string_view what, const std::vector<std::string>& argv);
  absl::StatusOr<RedisReply> Run(std::string_view what, RedisScript& script,
                                 const std::vector<std::string>& keys,
                                 const std::vector<std::string>& args);

 private:
  absl::StatusOr<RedisReply> Attempt(const std::function<absl::StatusOr<RedisReply>(RedisClient&)>&
                                         call,
                                     std::string_view what);

  RedisEndpoint endpoint_;
  std::unique_ptr<RedisClient> client_;
};

// How long one Redis command may take before the connection counts as lost. Blocking waits
// (BLMOVE ... 1) stay well below it.
inline constexpr absl::Duration kRedisCommandTimeout = absl::Seconds(30);
inline constexpr absl::Duration kRedisConnectTimeout = absl::Seconds(5);

}  // namespace nsq::redis_to_nsq
