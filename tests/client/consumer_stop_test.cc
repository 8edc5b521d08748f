// Consumer::Stop() that cannot hang: messages held unanswered past drain_timeout, a handler that
// never returns, Stop() from inside a handler, and StopAsync() / Stopped() / WaitStopped().
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "nsq/consumer.h"
#include "tests/client/client_test_util.h"
#include "tests/testutil/wait_for.h"

namespace nsq::client {
namespace {

using namespace std::chrono_literals;
using testing::NsqdAddress;
using testing::PublishAll;
using testing::StartNsqd;
using testing::Stat;
using testutil::WaitFor;
using Clock = std::chrono::steady_clock;

std::chrono::milliseconds Since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
}

TEST_CASE("Stop() with messages held unanswered returns at drain_timeout; nsqd gets them back") {
  auto nsqd = StartNsqd();
  PublishAll(*nsqd, "held", "m", 3);
  testing::LogRecorder log;
  Config config = log.MakeConfig();
  config.max_in_flight = 3;
  config.drain_timeout = 300ms;
  Consumer consumer("held", "c", config);
  std::mutex mu;
  std::vector<Message> held;
  consumer.SetHandler([&](Message& m) {
    m.DisableAutoResponse();  // answered "later", by the thread that then calls Stop()
    std::lock_guard<std::mutex> lock(mu);
    held.push_back(m);
    return absl::OkStatus();
  });
  CLIENT_REQUIRE_OK(consumer.ConnectToNsqd(NsqdAddress(*nsqd)));
  REQUIRE(WaitFor(
      [&] {
        std::lock_guard<std::mutex> lock(mu);
        return held.size() == 3;
      },
      10s));
  const Clock::time_point start = Clock::now();
  consumer.Stop();
  const std::chrono::milliseconds took = Since(start);
  MESSAGE("Stop() took ", took.count(), " ms");
  CHECK(took >= 250ms);  // it did wait for the held messages
  CHECK(took < 2500ms);  // and no longer than the drain timeout (plus a loaded machine's slack)
  CHECK(consumer.Stopped());
  CHECK(log.Contains("3 messages unanswered"));
  // The connection closed with them in flight: nsqd requeued them.
  CHECK(WaitFor([&] { return Stat(*nsqd, "held", "c", "depth") == 3; }, 5s));
  CHECK(Stat(*nsqd, "held", "c", "in_flight_count") == 0);
  // Answering now is ignored (the connection is gone), and harmless.
  std::lock_guard<std::mutex> lock(mu);
  for (Message& m : held) m.Finish();
  CHECK(consumer.Stats().messages_finished == 0);
}

TEST_CASE("Stop() from inside a handler starts stopping; the rest is requeued, not handled") {
  auto nsqd = StartNsqd();
  PublishAll(*nsqd, "inside", "m", 20);
  testing::LogRecorder log;
  Config config = log.MakeConfig();
  config.max_in_flight = 20;
  Consumer consumer("inside", "c", config);
  std::atomic<int> handled{0};
  std::promise<std::chrono::milliseconds> stop_call;
  consumer.SetHandler([&](Message&) {
    if (handled++ == 0) {
      const Clock::time_point start = Clock::now();
      consumer.Stop();  // cannot wait for its own thread: returns at once
      stop_call.set_value(Since(start));
      // Hold this message until stopping has begun on the io thread, so that the others are
      // still unstarted then.
      CHECK(WaitFor([&] { return log.Contains("stopping consumer"); }, 5s));
    }
    return absl::OkStatus();
  });
  CLIENT_REQUIRE_OK(consumer.ConnectToNsqd(NsqdAddress(*nsqd)));
  std::future<std::chrono::milliseconds> returned = stop_call.get_future();
  REQUIRE(returned.wait_for(10s) == std::future_status::ready);
  CHECK(returned.get() < 1000ms);
  REQUIRE(consumer.WaitStopped(10s));
  consumer.Stop();  // joins the threads; returns at once now
  CHECK(handled == 1);
  CHECK(consumer.Stats().messages_finished == 1);
  CHECK(consumer.Stats().messages_requeued == consumer.Stats().messages_received - 1);
  // What the handler did not take went back to nsqd, none of it in flight.
  CHECK(WaitFor([&] { return Stat(*nsqd, "inside", "c", "depth") == 19; }, 5s));
  CHECK(Stat(*nsqd, "inside", "c", "in_flight_count") == 0);
}

TEST_CASE("A handler stuck past drain_timeout does not hold Stop(); StopAsync returns at once") {
  auto nsqd = StartNsqd();
  PublishAll(*nsqd, "stuck", "m", 1);
  testing::LogRecorder log;
  Config config = log.MakeConfig();
  config.drain_timeout = 200ms;
  Consumer consumer("stuck", "c", config);
  std::mutex mu;
  std::condition_variable cv;
  bool entered = false;
  bool release = false;
  std::atomic<bool> returned{false};
  consumer.SetHandler([&](Message&) {
    {
      std::unique_lock<std::mutex> lock(mu);
      entered = true;
      cv.notify_all();
      cv.wait(lock, [&] { return release; });
    }
    returned = true;  // the last use of the test's variables
    return absl::OkStatus();
  });
  CLIENT_REQUIRE_OK(consumer.ConnectToNsqd(NsqdAddress(*nsqd)));
  {
    std::unique_lock<std::mutex> lock(mu);
    REQUIRE(cv.wait_for(lock, 10s, [&] { return entered; }));
  }
  Clock::time_point start = Clock::now();
  consumer.StopAsync();
  CHECK(Since(start) < 100ms);
  CHECK(!consumer.Stopped());
  CHECK(!consumer.WaitStopped(50ms));
  start = Clock::now();
  consumer.Stop();
  const std::chrono::milliseconds took = Since(start);
  MESSAGE("Stop() took ", took.count(), " ms with a handler that never returns");
  CHECK(took < 2000ms);  // drain_timeout, plus a loaded machine's slack
  CHECK(log.Contains("1 handlers still running past drain_timeout"));
  CHECK(WaitFor([&] { return Stat(*nsqd, "stuck", "c", "depth") == 1; }, 5s));
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  // The detached handler thread ends; its FIN goes nowhere.
  CHECK(WaitFor([&] { return returned.load(); }, 5s));
  CHECK(Stat(*nsqd, "stuck", "c", "depth") == 1);
}

}  // namespace
}  // namespace nsq::client
