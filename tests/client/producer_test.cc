// Producer against the real nsqd: confirmations, error codes, pipelining from many threads,
// reconnecting after a restart, and Stop() flushing what was accepted.
#include "nsq/producer.h"

#include <doctest/doctest.h>

#include <atomic>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/client/client_test_util.h"
#include "tests/testutil/wait_for.h"

namespace nsq::client {
namespace {

using namespace std::chrono_literals;
using testing::NsqdAddress;
using testing::StartNsqd;
using testing::Stat;
using testutil::WaitFor;

TEST_CASE("Publish, MultiPublish and DeferredPublish return after nsqd confirmed them") {
  auto nsqd = StartNsqd();
  testing::LogRecorder log;
  Producer producer(NsqdAddress(*nsqd), log.MakeConfig());
  CLIENT_REQUIRE_OK(producer.Publish("events", "one"));
  // Confirmed means stored: the count is there without waiting.
  CHECK(Stat(*nsqd, "events", "", "message_count") == 1);
  CLIENT_REQUIRE_OK(producer.MultiPublish("events", {"two", "three", "four"}));
  CHECK(Stat(*nsqd, "events", "", "message_count") == 4);
  CLIENT_REQUIRE_OK(producer.DeferredPublish("events", 60s, "five"));
  CHECK(Stat(*nsqd, "events", "", "message_count") == 5);

  std::promise<absl::Status> done;
  producer.PublishAsync("events", "six", [&](absl::Status s) { done.set_value(s); });
  CLIENT_CHECK_OK(done.get_future().get());
  CHECK(Stat(*nsqd, "events", "", "message_count") == 6);
}

TEST_CASE("An invalid topic fails with E_BAD_TOPIC and the producer goes on afterwards") {
  auto nsqd = StartNsqd();
  testing::LogRecorder log;
  Producer producer(NsqdAddress(*nsqd), log.MakeConfig());
  absl::Status status = producer.Publish("bad!topic", "x");
  CHECK(absl::IsInvalidArgument(status));
  CHECK_MESSAGE(std::string(status.message()).rfind("E_BAD_TOPIC", 0) == 0, status.ToString());
  // nsqd closed the connection after the fatal error; the next command opens a new one.
  CLIENT_CHECK_OK(producer.Publish("good", "x"));
}

TEST_CASE("An empty body fails with E_BAD_MESSAGE") {
  auto nsqd = StartNsqd();
  testing::LogRecorder log;
  Producer producer(NsqdAddress(*nsqd), log.MakeConfig());
  absl::Status status = producer.Publish("t", "");
  CHECK(absl::IsInvalidArgument(status));
  CHECK_MESSAGE(std::string(status.message()).rfind("E_BAD_MESSAGE", 0) == 0, status.ToString());
  status = producer.MultiPublish("t", {"a", ""});
  CHECK_MESSAGE(std::string(status.message()).rfind("E_BAD_MESSAGE", 0) == 0, status.ToString());
  CHECK(Stat(*nsqd, "t", "", "message_count") <= 0);  // -1: the topic was never created
}

TEST_CASE("Commands pipelined after a fatal error fail as Unavailable, not as its error") {
  auto nsqd = StartNsqd();
  testing::LogRecorder log;
  Producer producer(NsqdAddress(*nsqd), log.MakeConfig());
  CLIENT_REQUIRE_OK(producer.Publish("t", "warm up the connection"));
  std::promise<absl::Status> bad;
  std::promise<absl::Status> after;
  producer.PublishAsync("bad!topic", "x", [&](absl::Status s) { bad.set_value(s); });
  producer.PublishAsync("t", "y", [&](absl::Status s) { after.set_value(s); });
  CHECK(absl::IsInvalidArgument(bad.get_future().get()));
  absl::Status second = after.get_future().get();
  // nsqd may have read the second command before closing, or not: either it was confirmed or
  // the client reports that the connection went away under it.
  CHECK_MESSAGE((second.ok() || absl::IsUnavailable(second)), second.ToString());
}

TEST_CASE("Many threads publishing at once all get their confirmation") {
  auto nsqd = StartNsqd();
  testing::LogRecorder log;
  Producer producer(NsqdAddress(*nsqd), log.MakeConfig());
  constexpr int kThreads = 8;
  constexpr int kPerThread = 250;
  std::atomic<int> ok{0};
  std::atomic<int> async_ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string body = absl::StrCat("thread ", t, " message ", i);
        if (i % 2 == 0) {
          if (producer.Publish("load", body).ok()) ++ok;
        } else {
          producer.PublishAsync("load", body, [&](absl::Status s) {
            if (s.ok()) ++async_ok;
          });
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  producer.Stop();  // waits for the async ones
  CHECK(ok == kThreads * kPerThread / 2);
  CHECK(async_ok == kThreads * kPerThread / 2);
  CHECK(Stat(*nsqd, "load", "", "message_count") == kThreads * kPerThread);
}

TEST_CASE("Stop waits for every accepted command, and later commands are refused") {
  auto nsqd = StartNsqd();
  testing::LogRecorder log;
  Producer producer(NsqdAddress(*nsqd), log.MakeConfig());
  constexpr int kCount = 500;
  std::atomic<int> answered{0};
  std::atomic<int> confirmed{0};
  for (int i = 0; i < kCount; ++i) {
    producer.PublishAsync("flush", "m", [&](absl::Status s) {
      ++answered;
      if (s.ok()) ++confirmed;
    });
  }
  producer.Stop();
  CHECK(answered == kCount);
  CHECK(confirmed == kCount);
  CHECK(Stat(*nsqd, "flush", "", "message_count") == kCount);
  CHECK(absl::IsFailedPrecondition(producer.Publish("flush", "late")));
}

TEST_CASE("Publishing where nothing listens fails with Unavailable") {
  testing::LogRecorder log;
  Producer producer(absl::StrCat("127.0.0.1:", testing::FreePort()), log.MakeConfig());
  absl::Status status = producer.Publish("t", "x");
  CHECK_MESSAGE(absl::IsUnavailable(status), status.ToString());
}

TEST_CASE("After nsqd restarts, the producer reconnects and publishes again") {
  const std::string address = absl::StrCat("127.0.0.1:", testing::FreePort());
  auto nsqd = StartNsqd({absl::StrCat("--tcp-address=", address)});
  REQUIRE(NsqdAddress(*nsqd) == address);
  testing::LogRecorder log;
  Producer producer(address, log.MakeConfig());
  CLIENT_REQUIRE_OK(producer.Publish("t", "before"));

  CLIENT_REQUIRE_OK(nsqd->Restart());
  REQUIRE(NsqdAddress(*nsqd) == address);
  // The first command may still meet the old connection (nsqd closed it, the client may not
  // have noticed yet); it fails as Unavailable and the next one reconnects.
  int attempts = 0;
  absl::Status last;
  CHECK(WaitFor(
      [&] {
        ++attempts;
        last = producer.Publish("t", "after");
        CHECK_MESSAGE((last.ok() || absl::IsUnavailable(last)), last.ToString());
        return last.ok();
      },
      10s));
  CHECK(attempts <= 2);
  CHECK(Stat(*nsqd, "t", "", "message_count") >= 1);
}

}  // namespace
}  // namespace nsq::client
