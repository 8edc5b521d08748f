#include "tests/integration/redis_to_nsq/tool_util.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>

#include "tests/integration/integration_util.h"
#include "tests/testutil/raw_conn.h"

#ifndef REDIS_TO_NSQ_BINARY
#define REDIS_TO_NSQ_BINARY "redis_to_nsq"
#endif

namespace nsq::testutil {

std::string ToolPath() {
  const char* env = std::getenv("REDIS_TO_NSQ_BINARY");
  return env != nullptr && *env != '\0' ? env : REDIS_TO_NSQ_BINARY;
}

std::unique_ptr<Process> StartTool(std::vector<std::string> args) {
  Process::Options options;
  options.argv = {ToolPath()};
  options.argv.insert(options.argv.end(), args.begin(), args.end());
  options.echo_to_stderr = EchoRequested();
  options.echo_prefix = "[tool] ";
  auto process = Process::Start(std::move(options));
  NSQ_REQUIRE_OK(process);
  return std::move(*process);
}

ToolRun RunTool(std::vector<std::string> args, std::chrono::milliseconds deadline) {
  std::unique_ptr<Process> tool = StartTool(std::move(args));
  std::optional<ExitStatus> status = tool->Wait(deadline);
  REQUIRE_MESSAGE(status.has_value(), "redis_to_nsq did not finish; output:\n", tool->Tail(40));
  tool->WaitForOutputEnd(std::chrono::seconds(2));
  return ToolRun{*status, tool->Output()};
}

std::unique_ptr<TestRedis> StartRedis(std::vector<std::string> args) {
  auto redis = TestRedis::Start(std::move(args));
  NSQ_REQUIRE_OK(redis);
  return std::move(*redis);
}

std::string NsqdFlag(const TestNsqd& nsqd) {
  return "--nsqd-tcp-address=127.0.0.1:" + std::to_string(nsqd.tcp_port());
}

std::vector<std::string> OldestFirst(TestRedis& redis, const std::string& key) {
  std::vector<std::string> jobs = redis.Strings({"LRANGE", key, "0", "-1"});
  std::reverse(jobs.begin(), jobs.end());
  return jobs;
}

std::vector<std::string> MigratorKeys(TestRedis& redis, const std::string& pattern) {
  std::vector<std::string> keys = redis.Strings({"KEYS", pattern});
  std::sort(keys.begin(), keys.end());
  return keys;
}

struct TopicReader::Impl {
  std::unique_ptr<RawConn> conn;
};

TopicReader::TopicReader(const TestNsqd& nsqd, const std::string& topic, int64_t rdy)
    : impl_(std::make_unique<Impl>()) {
  impl_->conn = Subscribe(nsqd, topic, "check", rdy);
  impl_->conn->set_heartbeat_policy(HeartbeatPolicy::kAnswer);
}

TopicReader::~TopicReader() = default;

std::vector<Received> TopicReader::Read(size_t count, std::chrono::milliseconds timeout) {
  std::vector<Received> received;
  received.reserve(count);
  while (received.size() < count) {
    absl::StatusOr<protocol::Message> message = impl_->conn->ReadMessage(timeout);
    REQUIRE_MESSAGE(message.ok(), "after ", received.size(), " of ", count,
                    " messages: ", message.status().ToString());
    NSQ_REQUIRE_OK(impl_->conn->Fin(message->id.view()));
    received.push_back(Received{std::move(*message), NowUnixNanos() / 1e9});
  }
  return received;
}

bool TopicReader::NothingMore(std::chrono::milliseconds wait) {
  return impl_->conn->ExpectNoFrame(wait).ok();
}

std::vector<std::string> Bodies(const std::vector<Received>& received) {
  std::vector<std::string> bodies;
  bodies.reserve(received.size());
  for (const Received& r : received) bodies.emplace_back(r.message.body.view());
  return bodies;
}

}  // namespace nsq::testutil
