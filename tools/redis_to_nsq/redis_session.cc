#include "tools/redis_to_nsq/redis_session.h"

#include <optional>

#include "tools/redis_to_nsq/run_state.h"

namespace nsq::redis_to_nsq {

absl::StatusOr<RedisReply> RedisSession::Attempt(
    const std::function<absl::StatusOr<RedisReply>(RedisClient&)>& call, std::string_view what) {
  std::optional<absl::StatusOr<RedisReply>> result;
  absl::Status status = Retrying(what, [&]() -> absl::Status {
    if (client_ == nullptr || client_->broken()) {
      client_.reset();
      absl::StatusOr<std::unique_ptr<RedisClient>> connected =
          RedisClient::Connect(endpoint_, kRedisConnectTimeout, kRedisCommandTimeout);
      if (!connected.ok()) return connected.status();
      client_ = std::move(*connected);
    }
    result = call(*client_);
    return result->status();
  });
  if (!status.ok()) return status;
  return std::move(*result);
}

absl::StatusOr<RedisReply> RedisSession::Call(std::string_view what,
                                              const std::vector<std::string>& argv) {
  return Attempt([&](RedisClient& client) { return client.Command(argv); }, what);
}

absl::StatusOr<RedisReply> RedisSession::Run(std::string_view what, RedisScript& script,
                                             const std::vector<std::string>& keys,
                                             const std::vector<std::string>& args) {
  return Attempt([&](RedisClient& client) { return script.Run(client, keys, args); }, what);
}

}  // namespace nsq::redis_to_nsq
