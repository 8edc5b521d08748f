// Helpers of the redis_to_nsq tests: run the tool, read what a queue holds, and read back what
// arrived in NSQ.
//
//   auto redis = StartRedis();
//   auto nsqd = StartNsqd();
//   std::vector<std::string> jobs = OldestFirst(*redis, "queue:default");
//   ToolRun run = RunTool({"--redis-url", redis->url(), NsqdFlag(*nsqd)});
//   CHECK(run.status.exit_code == 0);
//   CHECK(Bodies(ReadTopic(*nsqd, "default", jobs.size())) == jobs);
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/protocol/message.h"
#include "tests/testutil/process.h"
#include "tests/testutil/test_nsqd.h"
#include "tests/testutil/test_redis.h"

namespace nsq::testutil {

struct ToolRun {
  ExitStatus status;
  std::string output;  // stdout and stderr
};

std::string ToolPath();
// Runs redis_to_nsq to its end (REQUIREs that it ends within `deadline`).
ToolRun RunTool(std::vector<std::string> args,
                std::chrono::milliseconds deadline = std::chrono::seconds(120));
// Starts it in the background.
std::unique_ptr<Process> StartTool(std::vector<std::string> args);

std::unique_ptr<TestRedis> StartRedis(std::vector<std::string> args = {});
std::string NsqdFlag(const TestNsqd& nsqd);  // --nsqd-tcp-address=127.0.0.1:<port>

// A list's jobs in the order the tool takes them: oldest (the right end) first.
std::vector<std::string> OldestFirst(TestRedis& redis, const std::string& key);
// Keys of the migrator's own that are left (processing keys, quarantine lists), sorted.
std::vector<std::string> MigratorKeys(TestRedis& redis, const std::string& pattern = "*nsqmig:*");

// A message and when it arrived (wall clock, epoch seconds).
struct Received {
  protocol::Message message;
  double arrived = 0;
};

// Subscribes to topic/channel "check" with RDY `rdy` and reads (and FINs) messages until
// `count` have arrived, or fails the test after `timeout` without one. Keep the connection to
// read more later with ReadMore.
class TopicReader {
 public:
  TopicReader(const TestNsqd& nsqd, const std::string& topic, int64_t rdy = 2500);
  ~TopicReader();
  std::vector<Received> Read(size_t count,
                             std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // True when nothing more arrives within `wait`.
  bool NothingMore(std::chrono::milliseconds wait);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::vector<std::string> Bodies(const std::vector<Received>& received);

}  // namespace nsq::testutil
