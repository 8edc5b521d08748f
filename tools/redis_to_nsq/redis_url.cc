#include "tools/redis_to_nsq/redis_url.h"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <charconv>
#include <optional>

#include "absl/strings/str_format.h"

namespace nsq::redis_to_nsq {
namespace {

std::optional<int> ParseNumber(std::string_view text, int min, int max) {
  int value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  if (value < min || value > max) return std::nullopt;
  return value;
}

}  // namespace

std::string RedisEndpoint::Describe() const {
  if (!unix_path.empty()) return absl::StrFormat("unix://%s?db=%d", unix_path, db);
  const bool v6 = host.find(':') != std::string::npos;
  return absl::StrFormat("redis://%s%s%s:%d/%d", v6 ? "[" : "", host, v6 ? "]" : "", port, db);
}

absl::StatusOr<RedisEndpoint> ParseRedisUrl(std::string_view url) {
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "invalid --redis-url \"%s\": %s (want redis://[user:password@]host:port/db or "
        "unix:///path/to/redis.sock?db=N)",
        url, why));
  };
  auto parsed = boost::urls::parse_uri(boost::core::string_view(url.data(), url.size()));
  if (!parsed) return bad("not a URL");
  const boost::urls::url_view& u = *parsed;
  RedisEndpoint endpoint;
  if (u.has_userinfo()) {
    endpoint.username = u.user();
    endpoint.password = u.password();
  }
  std::string db_text;
  for (auto param : u.params()) {
    if (param.key == "db") db_text = param.value;
    if (param.key == "password" && endpoint.password.empty()) endpoint.password = param.value;
  }

  const std::string scheme(u.scheme());
  if (scheme == "redis") {
    endpoint.host = u.host_address();
    if (endpoint.host.empty()) return bad("no host");
    if (u.has_port()) {
      std::optional<int> port = ParseNumber(std::string(u.port()), 1, 65535);
      if (!port) return bad("bad port");
      endpoint.port = *port;
    }
    std::string path = u.path();
    if (!path.empty() && path.front() == '/') path.erase(0, 1);
    if (!path.empty()) db_text = path;
  } else if (scheme == "unix") {
    endpoint.unix_path = u.path();
    if (endpoint.unix_path.empty()) return bad("no socket path");
  } else {
    return bad("the scheme must be redis or unix (TLS, rediss://, is not supported)");
  }
  if (!db_text.empty()) {
    std::optional<int> db = ParseNumber(db_text, 0, 1 << 20);
    if (!db) return bad("the database must be a number");
    endpoint.db = *db;
  }
  return endpoint;
}

}  // namespace nsq::redis_to_nsq
