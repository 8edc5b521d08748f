#include "tests/testutil/test_redis.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <set>
#include <stdexcept>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "tools/redis_to_nsq/redis_url.h"

namespace nsq::testutil {
namespace {

constexpr std::chrono::seconds kStartupDeadline(15);
// Attempts at a fresh port when another process took the one we picked before redis bound it.
constexpr int kPortAttempts = 5;
// How long one command may take before the connection is given up (a hung server must fail the
// test, not hang it). Blocking commands (BLPOP ...) must use shorter timeouts than this.
constexpr absl::Duration kCommandTimeout = absl::Seconds(30);
constexpr absl::Duration kConnectTimeout = absl::Seconds(5);
// Keys whose TYPE/PTTL/DUMP Snapshot() asks for in one pipelined round trip.
constexpr size_t kSnapshotBatch = 200;



// A port the kernel considers free right now: bind 127.0.0.1:0, read it, close. Another process
// may take it before redis-server binds it; Start() retries then.
absl::StatusOr<uint16_t> PickFreePort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = 0;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    int error = errno;
    close(fd);
    return absl::InternalError(absl::StrCat("bind 127.0.0.1:0: ", std::strerror(error)));
  }
  close(fd);
  return ntohs(address.sin_port);
}

// RedisClient (hiredis underneath) writes with write(2), so a server that closed the connection
// would kill the test with SIGPIPE. While one of these lives, SIGPIPE is blocked for this thread,
// and one raised by our own write is consumed before unblocking; the write then fails with EPIPE
// instead.
class ScopedSigpipeBlock {
 public:
  ScopedSigpipeBlock() {
    sigemptyset(&pipe_set_);
    sigaddset(&pipe_set_, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_set_, &old_mask_);
  }
  ~ScopedSigpipeBlock() {
    if (!was_pending_) {
      const timespec zero{0, 0};
      while (sigtimedwait(&pipe_set_, nullptr, &zero) > 0) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
  }
  ScopedSigpipeBlock(const ScopedSigpipeBlock&) = delete;
  ScopedSigpipeBlock& operator=(const ScopedSigpipeBlock&) = delete;

 private:
  sigset_t pipe_set_;
  sigset_t old_mask_;
  bool was_pending_ = false;
};

// A short rendering of a command for messages: arguments escaped, long ones cut.
std::string DescribeCommand(const std::vector<std::string>& argv) {
  std::vector<std::string> parts;
  for (const std::string& arg : argv) {
    if (parts.size() == 8) {
      parts.push_back(absl::StrCat("... (", argv.size(), " arguments)"));
      break;
    }
    std::string escaped = absl::CHexEscape(arg.size() > 60 ? arg.substr(0, 60) : arg);
    parts.push_back(arg.size() > 60 ? absl::StrCat(escaped, "...") : escaped);
  }
  return absl::StrJoin(parts, " ");
}

bool IsCommand(const std::vector<std::string>& argv, const char* name) {
  return !argv.empty() && absl::EqualsIgnoreCase(argv[0], name);
}

}  // namespace

std::string DescribeSnapshotDiff(const RedisSnapshot& before, const RedisSnapshot& after) {
  // The "<type> <ttl>" prefix of a snapshot value, and a readable hint of the DUMP bytes.
  auto header = [](const std::string& value) {
    size_t second_space = value.find(' ', value.find(' ') + 1);
    return value.substr(0, second_space);
  };
  std::string out;
  for (const auto& [key, value] : before) {
    auto it = after.find(key);
    if (it == after.end()) {
      absl::StrAppend(&out, "removed: ", absl::CHexEscape(key), " (", header(value), ")\n");
    } else if (it->second != value) {
      absl::StrAppend(&out, "changed: ", absl::CHexEscape(key), " (", header(value), " -> ",
                      header(it->second), ", ", value.size(), " -> ", it->second.size(),
                      " bytes)\n");
    }
  }
  for (const auto& [key, value] : after) {
    if (before.find(key) == before.end()) {
      absl::StrAppend(&out, "added: ", absl::CHexEscape(key), " (", header(value), ")\n");
    }
  }
  return out;
}

std::string TestRedis::BinaryPath() {
  const char* env = std::getenv("REDIS_SERVER");
  if (env != nullptr && *env != '\0') return env;
  return FindOnPath("redis-server", "/usr/bin/redis-server");
}

absl::StatusOr<std::unique_ptr<TestRedis>> TestRedis::Start(std::vector<std::string> extra_args) {
  std::unique_ptr<TestRedis> redis(new TestRedis());
  redis->dir_ = std::make_unique<TempDir>("redis-test");
  redis->unix_socket_ = redis->dir_->File("redis.sock");
  redis->extra_args_ = std::move(extra_args);
  // The last --requirepass wins, as in redis-server's own argument parsing.
  for (size_t i = 0; i + 1 < redis->extra_args_.size(); ++i) {
    if (redis->extra_args_[i] == "--requirepass") redis->password_ = redis->extra_args_[i + 1];
  }

  absl::Status status;
  for (int attempt = 0; attempt < kPortAttempts; ++attempt) {
    absl::StatusOr<uint16_t> port = PickFreePort();
    if (!port.ok()) return port.status();
    redis->port_ = *port;
    status = redis->Launch();
    // Unavailable: the port was taken in the meantime; anything else will not get better.
    if (status.ok() || !absl::IsUnavailable(status)) break;
  }
  if (!status.ok()) return status;
  return redis;
}

std::string TestRedis::url(int db) const {
  return absl::StrCat("redis://127.0.0.1:", port_, "/", db);
}

absl::Status TestRedis::Launch() {
  const std::string binary = BinaryPath();
  if (access(binary.c_str(), X_OK) != 0) {
    return absl::NotFoundError(absl::StrCat(
        "no redis-server at ", binary,
        " (install the redis-server package, see scripts/setup.sh, or set REDIS_SERVER)"));
  }
  Process::Options options;
  options.argv = {binary};
  const std::pair<const char*, std::string> flags[] = {
      {"--port", absl::StrCat(port_)}, {"--bind", "127.0.0.1"}, {"--unixsocket", unix_socket_},
      {"--unixsocketperm", "700"},     {"--save", ""},          {"--appendonly", "no"},
      {"--dir", dir_->path()},         {"--daemonize", "no"},
  };
  for (const auto& [flag, value] : flags) {
    options.argv.push_back(flag);
    options.argv.push_back(value);
  }
  options.argv.insert(options.argv.end(), extra_args_.begin(), extra_args_.end());
  options.log_path = dir_->File("redis.log");
  options.echo_to_stderr = EchoRequested();
  ++launches_;
  options.echo_prefix = absl::StrCat("  redis#", launches_, "| ");

  Disconnect();
  process_.reset();
  stopped_on_purpose_ = false;
  absl::StatusOr<std::unique_ptr<Process>> process = Process::Start(std::move(options));
  if (!process.ok()) return process.status();
  process_ = std::move(*process);

  // Redis 7.0 logs "Ready to accept connections" once every listener is up (7.2 adds the
  // listener's name: "... tcp", "... unix").
  if (!process_->WaitForOutput("Ready to accept connections", kStartupDeadline).has_value()) {
    std::optional<ExitStatus> ended = process_->Wait(std::chrono::seconds(1));
    stopped_on_purpose_ = true;
    process_->Kill();
    std::string message =
        absl::StrCat("redis-server (", binary, ") on port ", port_,
                     ended.has_value() ? absl::StrCat(" ended (", ended->ToString(), ")")
                                       : std::string(" did not log"),
                     " before \"Ready to accept connections\"; its output:\n", process_->Tail(30));
    if (process_->Output().find("Address already in use") != std::string::npos) {
      return absl::UnavailableError(message);
    }
    return ended.has_value() ? absl::InternalError(message) : absl::DeadlineExceededError(message);
  }
  // Also proves that the client side works: connect, AUTH when a password is set, PING.
  absl::StatusOr<RedisValue> pong = Command({"PING"});
  if (!pong.ok()) return pong.status();
  if (pong->type != RedisValue::Type::kStatus || pong->str != "PONG") {
    return absl::InternalError(absl::StrCat("redis-server answered PING with ", pong->ToString()));
  }
  return absl::OkStatus();
}

TestRedis::~TestRedis() {
  Disconnect();
  if (process_ == nullptr) return;
  std::optional<ExitStatus> ended = process_->Wait(std::chrono::milliseconds(0));
  if (ended.has_value() && !stopped_on_purpose_) {
    std::cerr << "TestRedis: redis-server ended on its own (" << ended->ToString()
              << "); last lines of its log:\n"
              << process_->Tail(30);
  }
  process_->Kill();
}

absl::StatusOr<int> TestRedis::Stop(std::chrono::milliseconds deadline) {
  stopped_on_purpose_ = true;
  Disconnect();
  if (process_ == nullptr) return absl::FailedPreconditionError("redis-server is not running");
  process_->Signal(SIGTERM);
  std::optional<ExitStatus> status = process_->Wait(deadline);
  if (!status.has_value()) {
    process_->Kill();
    return absl::DeadlineExceededError(absl::StrCat("redis-server did not exit within ",
                                                    deadline.count(), " ms of SIGTERM; log tail:\n",
                                                    process_->Tail(20)));
  }
  if (!status->exited()) {
    return absl::InternalError(absl::StrCat("redis-server ", status->ToString(), " after SIGTERM"));
  }
  return status->exit_code;
}

void TestRedis::Kill9() {
  stopped_on_purpose_ = true;
  Disconnect();
  if (process_ != nullptr) process_->Kill();
}

absl::Status TestRedis::Restart() {
  Disconnect();
  if (process_ != nullptr && process_->Running()) {
    absl::StatusOr<int> code = Stop();
    if (!code.ok()) return code.status();
  }
  return Launch();
}

bool TestRedis::Running() { return process_ != nullptr && process_->Running(); }

absl::Status TestRedis::Connect() {
  Disconnect();
  redis_to_nsq::RedisEndpoint endpoint;
  endpoint.host = "127.0.0.1";
  endpoint.port = port_;
  endpoint.password = password_;
  ScopedSigpipeBlock no_sigpipe;
  absl::StatusOr<std::unique_ptr<redis_to_nsq::RedisClient>> client =
      redis_to_nsq::RedisClient::Connect(endpoint, kConnectTimeout, kCommandTimeout);
  if (!client.ok()) return client.status();
  client_ = std::move(*client);
  return absl::OkStatus();
}

void TestRedis::Disconnect() {
  client_.reset();
  selected_db_ = 0;
}

absl::StatusOr<std::vector<RedisValue>> TestRedis::Pipeline(
    const std::vector<std::vector<std::string>>& commands, int db) {
  for (const std::vector<std::string>& argv : commands) {
    if (argv.empty()) return absl::InvalidArgumentError("TestRedis: empty command");
  }
  // A broken client (connection lost, timed out) refuses every command: start over.
  if (client_ == nullptr || client_->broken()) {
    absl::Status status = Connect();
    if (!status.ok()) return status;
  }
  ScopedSigpipeBlock no_sigpipe;
  if (db != selected_db_) {
    absl::StatusOr<RedisValue> select = client_->Command({"SELECT", absl::StrCat(db)});
    if (!select.ok()) {
      if (client_->broken()) Disconnect();
      return absl::Status(select.status().code(),
                          absl::StrCat("SELECT ", db, " failed: ", select.status().message()));
    }
    selected_db_ = db;
  }
  absl::StatusOr<std::vector<RedisValue>> replies = client_->Pipeline(commands);
  bool sent_select = false;
  for (const std::vector<std::string>& argv : commands) sent_select |= IsCommand(argv, "SELECT");
  if (!replies.ok()) {
    // The connection's state is unknown (half a reply read, server gone): start over next time.
    if (client_->broken()) {
      Disconnect();
    } else if (sent_select) {
      // An error reply fails the whole pipeline, yet the test's own SELECT may have run.
      selected_db_ = -1;
    }
    return replies.status();
  }
  // A SELECT sent by the test itself moves the connection to another db; remember where it is
  // so the next call's `db` is honoured.
  for (size_t i = 0; i < commands.size(); ++i) {
    int selected = 0;
    if (IsCommand(commands[i], "SELECT") && commands[i].size() == 2 &&
        absl::SimpleAtoi(commands[i][1], &selected)) {
      selected_db_ = selected;
    }
  }
  return replies;
}

absl::StatusOr<RedisValue> TestRedis::Command(const std::vector<std::string>& argv, int db) {
  absl::StatusOr<std::vector<RedisValue>> replies = Pipeline({argv}, db);
  if (!replies.ok()) return replies.status();
  return std::move((*replies)[0]);
}

int64_t TestRedis::Integer(const std::vector<std::string>& argv, int db) {
  absl::StatusOr<RedisValue> reply = Command(argv, db);
  if (!reply.ok()) {
    throw std::runtime_error(absl::StrCat("TestRedis::Integer(", DescribeCommand(argv),
                                          ") failed: ", reply.status().ToString()));
  }
  if (reply->type != RedisValue::Type::kInteger) {
    throw std::runtime_error(absl::StrCat("TestRedis::Integer(", DescribeCommand(argv),
                                          "): expected an integer reply, got ", reply->ToString()));
  }
  return reply->integer;
}

std::vector<std::string> TestRedis::Strings(const std::vector<std::string>& argv, int db) {
  absl::StatusOr<RedisValue> reply = Command(argv, db);
  if (!reply.ok()) {
    throw std::runtime_error(absl::StrCat("TestRedis::Strings(", DescribeCommand(argv),
                                          ") failed: ", reply.status().ToString()));
  }
  std::vector<std::string> out;
  auto bad = [&] {
    return std::runtime_error(absl::StrCat("TestRedis::Strings(", DescribeCommand(argv),
                                           "): expected strings, got ", reply->ToString()));
  };
  switch (reply->type) {
    case RedisValue::Type::kNil:
      return out;
    case RedisValue::Type::kString:
      out.push_back(reply->str);
      return out;
    case RedisValue::Type::kArray:
      for (const RedisValue& element : reply->elements) {
        if (element.type != RedisValue::Type::kString) throw bad();
        out.push_back(element.str);
      }
      return out;
    default:
      throw bad();
  }
}

absl::StatusOr<RedisSnapshot> TestRedis::Snapshot(int db) {
  // SCAN may return a key more than once; the set removes the repeats.
  std::set<std::string> keys;
  std::string cursor = "0";
  do {
    absl::StatusOr<RedisValue> page = Command({"SCAN", cursor, "COUNT", "1000"}, db);
    if (!page.ok()) return page.status();
    if (page->type != RedisValue::Type::kArray || page->elements.size() != 2 ||
        page->elements[1].type != RedisValue::Type::kArray) {
      return absl::InternalError(absl::StrCat("unexpected SCAN reply: ", page->ToString()));
    }
    cursor = page->elements[0].str;
    for (const RedisValue& key : page->elements[1].elements) keys.insert(key.str);
  } while (cursor != "0");

  RedisSnapshot snapshot;
  std::vector<std::string> batch;
  auto flush = [&]() -> absl::Status {
    if (batch.empty()) return absl::OkStatus();
    std::vector<std::vector<std::string>> commands;
    for (const std::string& key : batch) {
      commands.push_back({"TYPE", key});
      commands.push_back({"PTTL", key});
      commands.push_back({"DUMP", key});
    }
    absl::StatusOr<std::vector<RedisValue>> replies = Pipeline(commands, db);
    if (!replies.ok()) return replies.status();
    for (size_t i = 0; i < batch.size(); ++i) {
      const RedisValue& type = (*replies)[3 * i];
      const RedisValue& pttl = (*replies)[3 * i + 1];
      const RedisValue& dump = (*replies)[3 * i + 2];
      // Gone since SCAN saw it (expired or deleted by someone else): not part of the data set.
      if (type.str == "none" || dump.is_nil() || pttl.integer == -2) continue;
      snapshot[batch[i]] =
          absl::StrCat(type.str, pttl.integer >= 0 ? " expiring " : " persistent ", dump.str);
    }
    batch.clear();
    return absl::OkStatus();
  };
  for (const std::string& key : keys) {
    batch.push_back(key);
    if (batch.size() == kSnapshotBatch) {
      absl::Status status = flush();
      if (!status.ok()) return status;
    }
  }
  absl::Status status = flush();
  if (!status.ok()) return status;
  return snapshot;
}

}  // namespace nsq::testutil
