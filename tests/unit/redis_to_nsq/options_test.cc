#include "tools/redis_to_nsq/options.h"

#include <doctest/doctest.h>

#include <vector>

namespace nsq::redis_to_nsq {
namespace {

absl::StatusOr<CommandLine> Parse(std::vector<std::string> args) {
  std::vector<const char*> argv = {"redis_to_nsq"};
  for (const std::string& arg : args) argv.push_back(arg.c_str());
  return ParseCommandLine(static_cast<int>(argv.size()), argv.data());
}

std::string Error(std::vector<std::string> args) {
  auto parsed = Parse(std::move(args));
  return parsed.ok() ? "" : std::string(parsed.status().message());
}

TEST_CASE("a full command line") {
  auto parsed = Parse({"--redis-url=redis://:pw@127.0.0.1:6390/1", "--namespace=myapp",
                       "--format=go-workers", "--queues=a,b", "--queues", "c",
                       "--nsqd-tcp-address=127.0.0.1:4150", "--nsqd-tcp-address=127.0.0.1:4152",
                       "--topic=a=alpha", "--include-scheduled", "--include-retry",
                       "--horizon=30s", "--batch=100", "--rate=5000", "--id=m1", "--strict"});
  REQUIRE(parsed.ok());
  const Options& o = parsed->options;
  CHECK(o.redis.port == 6390);
  CHECK(o.redis.db == 1);
  CHECK(o.ns == "myapp");
  CHECK(*o.format == Format::kGoWorkers);
  CHECK(o.queues == std::vector<std::string>{"a", "b", "c"});
  CHECK(o.nsqd_tcp_addresses.size() == 2);
  CHECK(o.horizon == absl::Seconds(30));
  CHECK(o.batch == 100);
  CHECK(o.rate == 5000);
  CHECK(o.id == "m1");
}

TEST_CASE("defaults: auto format, horizon = max-req-timeout") {
  auto parsed = Parse({"--nsqd-tcp-address=127.0.0.1:4150"});
  REQUIRE(parsed.ok());
  CHECK_FALSE(parsed->options.format.has_value());
  CHECK(parsed->options.horizon == absl::Hours(1));
  CHECK(parsed->options.redis.Describe() == "redis://127.0.0.1:6379/0");
}

TEST_CASE("usage errors name what is wrong") {
  CHECK(Error({"--nsqd-tcp-address=a:1", "--format=resque"}).find("--format") != std::string::npos);
  CHECK(Error({}).find("--nsqd-tcp-address or --lookupd-http-address") != std::string::npos);
  CHECK(Error({"--nsqd-tcp-address=a:1", "--lookupd-http-address=b:2"}).find("one of the two") !=
        std::string::npos);
  CHECK(Error({"--nsqd-tcp-address=a:1", "--horizon=2h"}).find("--horizon") != std::string::npos);
  CHECK(Error({"--nsqd-tcp-address=a:1", "--batch=0"}).find("--batch") != std::string::npos);
  CHECK(Error({"--nsqd-tcp-address=a:1", "--redis-url=localhost"}).find("--redis-url") !=
        std::string::npos);
  CHECK(Error({"--nsqd-tcp-address=a:1", "--id=two words"}).find("--id") != std::string::npos);
  CHECK(Error({"--nope"}).find("--nope") != std::string::npos);
  // A dry run needs no nsqd.
  CHECK(Error({"--dry-run"}).empty());
}

}  // namespace
}  // namespace nsq::redis_to_nsq
