// Config::sync_publish_on_caller_thread against the real nsqd: blocking publishes on the
// caller-thread lane (a second connection), its fallbacks to the usual path, nsqd's errors,
// concurrent callers, an nsqd restart, and Stop.
#include <doctest/doctest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "nsq/consumer.h"
#include "nsq/producer.h"
#include "tests/client/client_test_util.h"
#include "tests/testutil/wait_for.h"

namespace nsq::client {
namespace {

using namespace std::chrono_literals;
using testing::NsqdAddress;
using testing::StartNsqd;
using testing::Stat;
using testutil::WaitFor;

Config LaneConfig(testing::LogRecorder& log) {
  Config config = log.MakeConfig();
  config.sync_publish_on_caller_thread = true;
  return config;
}

TEST_CASE("Blocking publishes go over a second connection once the producer is connected") {
  auto nsqd = StartNsqd();
  testing::LogRecorder log;
  Producer producer(NsqdAddress(*nsqd), LaneConfig(log));
  CLIENT_REQUIRE_OK(producer.Publish("lane", "1"));  // the usual path connects
  CLIENT_REQUIRE_OK(producer.Publish("lane", "2"));  // the lane
  CHECK(Stat(*nsqd, "lane", "", "message_count") == 2);  // confirmed means stored
  CLIENT_REQUIRE_OK(producer.MultiPublish("lane", {"3", "4"}));
  CLIENT_REQUIRE_OK(producer.DeferredPublish("lane", 60s, "5"));
  CHECK(Stat(*nsqd, "lane", "", "message_count") == 5);
  CHECK(producer.Stats().published == 5);
  // Both connections published, so nsqd lists both as producers.
  CHECK(testing::ConnStats(*nsqd).size() == 2);

  // nsqd's error comes back as on the usual path; the lane reconnects after nsqd closed it.
  const absl::Status empty = producer.Publish("lane", "");
  CHECK_MESSAGE(absl::IsInvalidArgument(empty), empty.ToString());
  CHECK(absl::StrContains(empty.message(), "E_BAD_MESSAGE"));
  CHECK(absl::IsInvalidArgument(producer.Publish("a b", "x")));  // refused, nothing sent
  CLIENT_CHECK_OK(producer.Publish("lane", "6"));
  CHECK(Stat(*nsqd, "lane", "", "message_count") == 6);
  CHECK(producer.Stats().failed == 2);

  producer.Stop();
  CHECK(absl::IsFailedPrecondition(producer.Publish("lane", "late")));
}

TEST_CASE("An MPUB on the lane, its bodies written from where they are, arrives body for body") {
  auto nsqd = StartNsqd();
  testing::LogRecorder log;
  testing::ReceivedBodies received(*nsqd, "lane_mpub", log);

  Producer producer(NsqdAddress(*nsqd), LaneConfig(log));
  CLIENT_REQUIRE_OK(producer.Publish("lane_mpub", "first"));  // connects the usual way
  const std::vector<std::string> strings = {"a", std::string(300000, 'b'), "ccc", "a"};
  CLIENT_REQUIRE_OK(producer.MultiPublish("lane_mpub", strings));  // the lane, gathered
  CLIENT_REQUIRE_OK(producer.MultiPublish("lane_mpub", {"view-1", "view-2"}));
  CHECK(testing::ConnStats(*nsqd).size() >= 2);  // the consumer's and both producers'
  std::vector<std::string> expected = {"first"};
  expected.insert(expected.end(), strings.begin(), strings.end());
  expected.insert(expected.end(), {"view-1", "view-2"});
  CHECK(received.WaitFor(expected.size()) == expected);
}

TEST_CASE("With async publishes unanswered a blocking one takes the usual path, in order") {
  auto nsqd = StartNsqd();
  testing::LogRecorder log;
  Producer producer(NsqdAddress(*nsqd), LaneConfig(log));
  CLIENT_REQUIRE_OK(producer.Ping());
  std::atomic<int> confirmed{0};
  for (int i = 0; i < 500; ++i) {
    producer.PublishAsync("order", "async", [&](absl::Status s) { confirmed += s.ok(); });
  }
  CLIENT_CHECK_OK(producer.Publish("order", "sync"));
  producer.Stop();
  CHECK(confirmed == 500);
  CHECK(Stat(*nsqd, "order", "", "message_count") == 501);
}

TEST_CASE("Many threads publishing at once with the lane all get their confirmation") {
  auto nsqd = StartNsqd();
  testing::LogRecorder log;
  Producer producer(NsqdAddress(*nsqd), LaneConfig(log));
  CLIENT_REQUIRE_OK(producer.Ping());
  constexpr int kThreads = 4;
  constexpr int kEach = 300;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) ok += producer.Publish("many", "m").ok();
    });
  }
  for (std::thread& thread : threads) thread.join();
  CHECK(ok == kThreads * kEach);
  CHECK(Stat(*nsqd, "many", "", "message_count") == kThreads * kEach);
  CHECK(producer.Stats().published == static_cast<uint64_t>(kThreads * kEach));
}

TEST_CASE("After nsqd restarts, the lane notices its closed connection and publishes again") {
  const std::string address = absl::StrCat("127.0.0.1:", testing::FreePort());
  auto nsqd = StartNsqd({absl::StrCat("--tcp-address=", address)});
  testing::LogRecorder log;
  Producer producer(address, LaneConfig(log));
  CLIENT_REQUIRE_OK(producer.Publish("t", "before"));
  CLIENT_REQUIRE_OK(producer.Publish("t", "before, on the lane"));
  CLIENT_REQUIRE_OK(nsqd->Restart());
  const int attempts = testing::PublishAfterRestart(producer, "t");
  CHECK(attempts >= 1);
  CHECK(attempts <= 2);
}

TEST_CASE("With TLS or compression the option is ignored and publishes take the usual path") {
  auto nsqd = StartNsqd();
  testing::LogRecorder log;
  Config config = LaneConfig(log);
  config.snappy = true;
  Producer producer(NsqdAddress(*nsqd), config);
  CLIENT_REQUIRE_OK(producer.Publish("plain_only", "1"));
  CLIENT_REQUIRE_OK(producer.Publish("plain_only", "2"));
  CHECK(testing::ConnStats(*nsqd).size() == 1);
}

}  // namespace
}  // namespace nsq::client
