#include "tools/redis_to_nsq/redis_client.h"

#include <fcntl.h>
#include <hiredis.h>

#include <cstdio>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/util/status_macros.h"

namespace nsq::redis_to_nsq {
namespace {


// Copies hiredis' reply tree; error replies come back as the error text with `failed` set.
RedisReply Convert(const redisReply* reply, std::string* error) {
  RedisReply out;
  switch (reply->type) {
    case REDIS_REPLY_STRING:
      out.type = RedisReply::Type::kString;
      out.str.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::kStatus;
      out.str.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::kInteger;
      out.integer = reply->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::kArray;
      out.elements.reserve(reply->elements);
      for (size_t i = 0; i < reply->elements; ++i) {
        out.elements.push_back(Convert(reply->element[i], error));
      }
      break;
    case REDIS_REPLY_ERROR:
      if (error->empty()) error->assign(reply->str, reply->len);
      break;
    default:
      break;
  }
  return out;
}

void AppendCommand(redisContext* context, const std::vector<std::string>& argv) {
  std::vector<const char*> pointers;
  std::vector<size_t> lengths;
  pointers.reserve(argv.size());
  lengths.reserve(argv.size());
  for (const std::string& arg : argv) {
    pointers.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  redisAppendCommandArgv(context, static_cast<int>(argv.size()), pointers.data(),
                         lengths.data());
}

}  // namespace

std::string RedisReply::ToString() const {
  // Cut so that a message about a large reply (a whole queue, a DUMP) stays readable.
  constexpr size_t kMaxShownBytes = 200;
  constexpr size_t kMaxShownElements = 20;
  switch (type) {
    case Type::kNil:
      return "nil";
    case Type::kInteger:
      return absl::StrCat(integer);
    case Type::kString: {
      const bool cut = str.size() > kMaxShownBytes;
      return absl::StrCat("\"", absl::CHexEscape(cut ? str.substr(0, kMaxShownBytes) : str),
                          cut ? "\"..." : "\"");
    }
    case Type::kStatus:
      return absl::StrCat("+", str);
    case Type::kArray: {
      std::vector<std::string> parts;
      for (const RedisReply& element : elements) {
        if (parts.size() == kMaxShownElements) {
          parts.push_back(absl::StrCat("... (", elements.size(), " elements)"));
          break;
        }
        parts.push_back(element.ToString());
      }
      return absl::StrCat("[", absl::StrJoin(parts, ", "), "]");
    }
  }
  return "?";
}

absl::StatusOr<std::unique_ptr<RedisClient>> RedisClient::Connect(const RedisEndpoint& endpoint,
                                                                  absl::Duration timeout,
                                                                  absl::Duration command_timeout) {
  const std::string where = endpoint.Describe();
  const timeval connect_timeout = absl::ToTimeval(timeout);
  redisContext* context =
      endpoint.unix_path.empty()
          ? redisConnectWithTimeout(endpoint.host.c_str(), endpoint.port, connect_timeout)
          : redisConnectUnixWithTimeout(endpoint.unix_path.c_str(), connect_timeout);
  if (context == nullptr) return absl::ResourceExhaustedError("cannot allocate a Redis context");
  if (context->err != 0) {
    std::string why = context->errstr;
    redisFree(context);
    return absl::UnavailableError(absl::StrFormat("cannot connect to Redis at %s: %s", where, why));
  }
  redisSetTimeout(context, absl::ToTimeval(command_timeout));
  // hiredis 0.14 opens the socket without SOCK_CLOEXEC: a child started later (the tests start
  // the migrator and fixtures while holding a connection) would keep it open on the server.
  fcntl(context->fd, F_SETFD, fcntl(context->fd, F_GETFD) | FD_CLOEXEC);
  std::unique_ptr<RedisClient> client(new RedisClient(context, where));

  if (!endpoint.password.empty()) {
    std::vector<std::string> auth = {"AUTH"};
    if (!endpoint.username.empty()) auth.push_back(endpoint.username);
    auth.push_back(endpoint.password);
    absl::StatusOr<RedisReply> reply = client->Command(auth);
    if (!reply.ok()) {
      if (absl::IsUnavailable(reply.status())) return reply.status();
      return absl::PermissionDeniedError(absl::StrFormat(
          "Redis at %s refused the credentials: %s", where, reply.status().message()));
    }
  }
  if (endpoint.db != 0) {
    absl::StatusOr<RedisReply> reply = client->Command({"SELECT", std::to_string(endpoint.db)});
    if (!reply.ok()) {
      return absl::Status(reply.status().code(),
                          absl::StrFormat("Redis at %s: SELECT %d: %s", where, endpoint.db,
                                          reply.status().message()));
    }
  }
  absl::StatusOr<RedisReply> info = client->Command({"INFO", "server"});
  if (!info.ok()) {
    if (absl::IsFailedPrecondition(info.status()) &&
        info.status().message().find("NOAUTH") != std::string_view::npos) {
      return absl::PermissionDeniedError(absl::StrFormat(
          "Redis at %s needs a password: give it in --redis-url (redis://:password@host:port)",
          where));
    }
    return absl::Status(info.status().code(),
                        absl::StrFormat("Redis at %s: %s", where, info.status().message()));
  }
  const size_t at = info->str.find("redis_version:");
  if (at != std::string::npos) {
    const size_t start = at + 14;
    client->version_ = info->str.substr(start, info->str.find_first_of("\r\n", start) - start);
  }
  return client;
}

RedisClient::~RedisClient() { redisFree(context_); }

bool RedisClient::AtLeast(int major, int minor) const {
  int have_major = 0;
  int have_minor = 0;
  if (std::sscanf(version_.c_str(), "%d.%d", &have_major, &have_minor) != 2) return false;
  return have_major > major || (have_major == major && have_minor >= minor);
}

absl::StatusOr<bool> RedisClient::HasCommand(const std::string& command) {
  absl::StatusOr<RedisReply> info = Command({"COMMAND", "INFO", command});
  if (!info.ok()) return info.status();
  return !info->elements.empty() && !info->elements[0].is_nil();
}

absl::StatusOr<RedisReply> RedisClient::ReadReply() {
  void* raw = nullptr;
  if (redisGetReply(context_, &raw) != REDIS_OK || raw == nullptr) {
    broken_ = true;
    return absl::UnavailableError(absl::StrFormat(
        "Redis at %s: %s", description_,
        context_->errstr[0] != '\0' ? context_->errstr : "connection lost"));
  }
  redisReply* reply = static_cast<redisReply*>(raw);
  std::string error;
  RedisReply converted = Convert(reply, &error);
  freeReplyObject(reply);
  if (!error.empty()) return absl::FailedPreconditionError(error);
  return converted;
}

absl::StatusOr<RedisReply> RedisClient::Command(const std::vector<std::string>& argv) {
  if (broken_) return absl::UnavailableError(absl::StrFormat("Redis at %s: broken", description_));
  AppendCommand(context_, argv);
  return ReadReply();
}

absl::StatusOr<std::vector<RedisReply>> RedisClient::Pipeline(
    const std::vector<std::vector<std::string>>& commands) {
  if (broken_) return absl::UnavailableError(absl::StrFormat("Redis at %s: broken", description_));
  for (const std::vector<std::string>& argv : commands) AppendCommand(context_, argv);
  std::vector<RedisReply> replies;
  replies.reserve(commands.size());
  absl::Status first_error;
  for (size_t i = 0; i < commands.size(); ++i) {
    absl::StatusOr<RedisReply> reply = ReadReply();
    if (absl::IsUnavailable(reply.status())) return reply.status();
    if (!reply.ok()) {
      if (first_error.ok()) first_error = reply.status();
      continue;
    }
    replies.push_back(std::move(*reply));
  }
  if (!first_error.ok()) return first_error;
  return replies;
}

absl::StatusOr<RedisReply> RedisScript::Run(RedisClient& redis,
                                            const std::vector<std::string>& keys,
                                            const std::vector<std::string>& args) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (sha_.empty()) {
      NSQ_ASSIGN_OR_RETURN(RedisReply loaded, redis.Command({"SCRIPT", "LOAD", source_}));
      sha_ = loaded.str;
    }
    std::vector<std::string> argv = {"EVALSHA", sha_, std::to_string(keys.size())};
    argv.insert(argv.end(), keys.begin(), keys.end());
    argv.insert(argv.end(), args.begin(), args.end());
    absl::StatusOr<RedisReply> reply = redis.Command(argv);
    if (!reply.ok() && absl::IsFailedPrecondition(reply.status()) &&
        reply.status().message().rfind("NOSCRIPT", 0) == 0) {
      sha_.clear();  // the server forgot it: load again
      continue;
    }
    return reply;
  }
  return absl::InternalError("Redis keeps forgetting a script");
}

}  // namespace nsq::redis_to_nsq
