#include "nsqd/auth/auth_state.h"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <re2/re2.h>

#include "absl/strings/str_format.h"

namespace nsq::nsqd {
namespace {

// RE2 refuses what Go's regexp refuses (backreferences, repeat counts over 1000); a count too
// big for an int ("a{99999999999}") it reads as literal text, where Go refuses it and
// libstdc++'s std::regex, used before, had undefined behaviour.
absl::StatusOr<std::shared_ptr<const re2::RE2>> Compile(std::string_view pattern) {
  re2::RE2::Options options;
  options.set_log_errors(false);  // the error goes back to the caller, not to stderr
  auto compiled = std::make_shared<const re2::RE2>(re2::StringPiece(pattern.data(), pattern.size()),
                                                   options);
  if (!compiled->ok()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("bad regex \"%s\": %s", pattern, compiled->error()));
  }
  return compiled;
}

std::string StringOf(const boost::json::object& object, std::string_view key) {
  const boost::json::value* value = object.if_contains(key);
  if (value == nullptr || !value->is_string()) return "";
  return std::string(value->as_string().data(), value->as_string().size());
}

}  // namespace

bool AuthState::Allowed(Permission permission, std::string_view topic,
                        std::string_view channel) const {
  const re2::StringPiece topic_name(topic.data(), topic.size());
  const re2::StringPiece channel_name(channel.data(), channel.size());
  for (const Authorization& entry : authorizations) {
    if (permission == kSubscribe ? !entry.subscribe : !entry.publish) continue;
    if (!re2::RE2::PartialMatch(topic_name, *entry.topic)) continue;
    for (const std::shared_ptr<const re2::RE2>& channel_regex : entry.channels) {
      if (re2::RE2::PartialMatch(channel_name, *channel_regex)) return true;
    }
  }
  return false;
}

absl::StatusOr<AuthState> ParseAuthResponse(std::string_view json) {
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(json, ec);
  if (ec || !value.is_object()) return absl::InvalidArgumentError("the answer is not a JSON object");
  const boost::json::object& object = value.as_object();
  AuthState state;
  const boost::json::value* ttl = object.if_contains("ttl");
  int64_t ttl_seconds = 0;
  if (ttl != nullptr && ttl->is_int64()) ttl_seconds = ttl->as_int64();
  if (ttl != nullptr && ttl->is_uint64()) ttl_seconds = static_cast<int64_t>(ttl->as_uint64());
  if (ttl_seconds <= 0) return absl::InvalidArgumentError("invalid ttl (it must be > 0)");
  // A longer ttl means "never expires"; capped so that ttl_ns, and now + ttl_ns where the
  // connection sets expires_at_ns, stay within int64 (found by fuzz/identify_json_fuzz).
  constexpr int64_t kMaxTtlSeconds = int64_t{100} * 365 * 24 * 3600;
  state.ttl_ns = std::min(ttl_seconds, kMaxTtlSeconds) * 1'000'000'000;
  state.identity = StringOf(object, "identity");
  state.identity_url = StringOf(object, "identity_url");
  const boost::json::value* list = object.if_contains("authorizations");
  if (list != nullptr && list->is_array()) {
    for (const boost::json::value& item : list->as_array()) {
      if (!item.is_object()) return absl::InvalidArgumentError("an authorization is not an object");
      const boost::json::object& entry = item.as_object();
      AuthState::Authorization authorization;
      authorization.topic_pattern = StringOf(entry, "topic");
      auto topic = Compile(authorization.topic_pattern);
      if (!topic.ok()) return topic.status();
      authorization.topic = std::move(*topic);
      if (const boost::json::value* channels = entry.if_contains("channels");
          channels != nullptr && channels->is_array()) {
        for (const boost::json::value& channel : channels->as_array()) {
          if (!channel.is_string()) return absl::InvalidArgumentError("a channel is not a string");
          auto compiled = Compile(channel.as_string());
          if (!compiled.ok()) return compiled.status();
          authorization.channels.push_back(std::move(*compiled));
        }
      }
      if (const boost::json::value* permissions = entry.if_contains("permissions");
          permissions != nullptr && permissions->is_array()) {
        for (const boost::json::value& permission : permissions->as_array()) {
          const std::string name = permission.is_string() ? std::string(permission.as_string()) : "";
          if (name == "subscribe") {
            authorization.subscribe = true;
          } else if (name == "publish") {
            authorization.publish = true;
          } else {
            return absl::InvalidArgumentError(
                absl::StrFormat("unknown permission \"%s\" (want subscribe or publish)", name));
          }
        }
      }
      state.authorizations.push_back(std::move(authorization));
    }
  }
  return state;
}

}  // namespace nsq::nsqd
