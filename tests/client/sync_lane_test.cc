// Config::sync_publish_on_caller_thread (on by default) against the real nsqd: blocking calls
// on the caller-thread lane (the producer's only connection unless it also publishes
// asynchronously), its fallbacks to the I/O thread's path, nsqd's errors, concurrent callers,
// an nsqd restart, Stop, and the option turned off.
#include <doctest/doctest.h>

#include <atomic>
#include <future>
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

// The lane dials with this debug line; the I/O thread's connection with "producer connecting"
// alone.
constexpr char kLaneDial[] = "producer connecting (caller-thread lane)";

TEST_CASE("Blocking calls go over the caller-thread connection, the producer's only one") {
  auto nsqd = StartNsqd();
  testing::LogRecorder log;
  const Config config = log.MakeConfig();
  REQUIRE(config.sync_publish_on_caller_thread);  // the default
  Producer producer(NsqdAddress(*nsqd), config);
  CLIENT_REQUIRE_OK(producer.Ping());  // dials the lane
  CHECK(log.Contains(kLaneDial));
  CHECK(producer.Stats().connected_to == NsqdAddress(*nsqd));
  CLIENT_REQUIRE_OK(producer.Ping());  // a NOP on it
  CLIENT_REQUIRE_OK(producer.Publish("lane", "1"));
  CLIENT_REQUIRE_OK(producer.Publish("lane", "2"));
  CHECK(Stat(*nsqd, "lane", "", "message_count") == 2);  // confirmed means stored
  CLIENT_REQUIRE_OK(producer.MultiPublish("lane", {"3", "4"}));
  CLIENT_REQUIRE_OK(producer.DeferredPublish("lane", 60s, "5"));
  CHECK(Stat(*nsqd, "lane", "", "message_count") == 5);
  CHECK(producer.Stats().published == 5);
  // The I/O thread's connection was never opened.
  CHECK(testing::ConnStats(*nsqd).size() == 1);
  for (const std::string& line : log.Lines()) {
    CHECK_MESSAGE(!absl::EndsWith(line, "producer connecting"), line);
  }

  // nsqd's error comes back as on the usual path; the lane reconnects after nsqd closed it.
  const absl::Status empty = producer.Publish("lane", "");
  CHECK_MESSAGE(absl::IsInvalidArgument(empty), empty.ToString());
  CHECK(absl::StrContains(empty.message(), "E_BAD_MESSAGE"));
  CHECK(absl::IsInvalidArgument(producer.Publish("a b", "x")));  // refused, nothing sent
  CLIENT_CHECK_OK(producer.Publish("lane", "6"));
  CHECK(Stat(*nsqd, "lane", "", "message_count") == 6);
  CHECK(producer.Stats().failed == 2);

  // An async publish opens the I/O thread's connection beside it.
  std::promise<absl::Status> async;
  producer.PublishAsync("lane", "7", [&](absl::Status s) { async.set_value(s); });
  CLIENT_CHECK_OK(async.get_future().get());
  CHECK(testing::ConnStats(*nsqd).size() == 2);
  CLIENT_CHECK_OK(producer.Publish("lane", "8"));  // nothing outstanding: the lane again
  CHECK(Stat(*nsqd, "lane", "", "message_count") == 8);

  producer.Stop();
  CHECK(absl::IsFailedPrecondition(producer.Publish("lane", "late")));
  CHECK(producer.Stats().connected_to.empty());
}

TEST_CASE("With the option off every call takes the I/O thread's one connection") {
  auto nsqd = StartNsqd();
  testing::LogRecorder log;
  Config config = log.MakeConfig();
  config.sync_publish_on_caller_thread = false;
  Producer producer(NsqdAddress(*nsqd), config);
  CLIENT_REQUIRE_OK(producer.Ping());
  CLIENT_REQUIRE_OK(producer.Publish("io_thread", "1"));
  CLIENT_REQUIRE_OK(producer.MultiPublish("io_thread", {"2", "3"}));
  std::promise<absl::Status> async;
  producer.PublishAsync("io_thread", "4", [&](absl::Status s) { async.set_value(s); });
  CLIENT_CHECK_OK(async.get_future().get());
  CHECK(Stat(*nsqd, "io_thread", "", "message_count") == 4);
  CHECK(testing::ConnStats(*nsqd).size() == 1);
  CHECK(!log.Contains(kLaneDial));
}

TEST_CASE("An MPUB on the lane, its bodies written from where they are, arrives body for body") {
  auto nsqd = StartNsqd();
  testing::LogRecorder log;
  testing::ReceivedBodies received(*nsqd, "lane_mpub", log);

  Producer producer(NsqdAddress(*nsqd), log.MakeConfig());
  CLIENT_REQUIRE_OK(producer.Publish("lane_mpub", "first"));
  const std::vector<std::string> strings = {"a", std::string(300000, 'b'), "ccc", "a"};
  CLIENT_REQUIRE_OK(producer.MultiPublish("lane_mpub", strings));  // gathered
  CLIENT_REQUIRE_OK(producer.MultiPublish("lane_mpub", {"view-1", "view-2"}));
  CHECK(testing::ConnStats(*nsqd).size() == 2);  // the consumer's and the producer's lane
  std::vector<std::string> expected = {"first"};
  expected.insert(expected.end(), strings.begin(), strings.end());
  expected.insert(expected.end(), {"view-1", "view-2"});
  CHECK(received.WaitFor(expected.size()) == expected);
}

TEST_CASE("With async publishes unanswered a blocking one takes the usual path, in order") {
  auto nsqd = StartNsqd();
  testing::LogRecorder log;
  Producer producer(NsqdAddress(*nsqd), log.MakeConfig());
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
  Producer producer(NsqdAddress(*nsqd), log.MakeConfig());
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
  Producer producer(address, log.MakeConfig());
  CLIENT_REQUIRE_OK(producer.Publish("t", "before"));
  CLIENT_REQUIRE_OK(producer.Publish("t", "before, again"));
  CLIENT_REQUIRE_OK(nsqd->Restart());
  const int attempts = testing::PublishAfterRestart(producer, "t");
  CHECK(attempts >= 1);
  CHECK(attempts <= 2);
}

TEST_CASE("With TLS or compression the option is ignored and publishes take the usual path") {
  auto nsqd = StartNsqd();
  testing::LogRecorder log;
  Config config = log.MakeConfig();
  config.snappy = true;
  Producer producer(NsqdAddress(*nsqd), config);
  CLIENT_REQUIRE_OK(producer.Publish("plain_only", "1"));
  CLIENT_REQUIRE_OK(producer.Publish("plain_only", "2"));
  CHECK(testing::ConnStats(*nsqd).size() == 1);
}

}  // namespace
}  // namespace nsq::client
