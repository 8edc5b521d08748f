// nsq/testing.h: handlers of user code tested without nsqd, answered as a Consumer would.
#include "nsq/testing.h"

#include <doctest/doctest.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

namespace nsq::client::testing {
namespace {

using namespace std::chrono_literals;

TEST_CASE("A TestMessage carries its body and the defaults, and the setters change them") {
  TestMessage m("{\"order\": 42}");
  CHECK(m.message().body() == "{\"order\": 42}");
  CHECK(m.message().id() == "0000000000000001");
  CHECK(m.message().attempts() == 1);
  CHECK(m.message().nsqd_address() == "127.0.0.1:4150");
  CHECK(m.message().timestamp() > 0);
  CHECK_FALSE(m.responded());

  m.set_id("abcdefghijklmnop").set_attempts(7).set_timestamp(123).set_nsqd_address("nsqd:4150");
  CHECK(m.message().id() == "abcdefghijklmnop");
  CHECK(m.message().attempts() == 7);
  CHECK(m.message().timestamp() == 123);
  CHECK(m.message().nsqd_address() == "nsqd:4150");
}

TEST_CASE("RunHandler finishes the message when the handler returns OK") {
  TestMessage m("hello");
  std::string seen;
  absl::Status status = RunHandler(
      [&](Message& message) {
        seen = message.body();
        return absl::OkStatus();
      },
      m);
  CHECK(status.ok());
  CHECK(seen == "hello");
  CHECK(m.responded());
  CHECK(m.finished());
  CHECK_FALSE(m.requeued());
  CHECK_FALSE(m.requeue_delay().has_value());
}

TEST_CASE("RunHandler requeues with backoff and the default delay when the handler fails") {
  TestMessage m("x");
  absl::Status status =
      RunHandler([](Message&) { return absl::UnavailableError("db down"); }, m);
  CHECK(absl::IsUnavailable(status));
  CHECK_FALSE(m.finished());
  CHECK(m.requeued());
  CHECK(m.requeued_with_backoff());
  REQUIRE(m.requeue_delay().has_value());
  CHECK(*m.requeue_delay() < 0ms);  // the consumer's default for the attempts
}

TEST_CASE("RunHandler turns an exception into Internal and requeues") {
  TestMessage m("x");
  absl::Status status =
      RunHandler([](Message&) -> absl::Status { throw std::runtime_error("boom"); }, m);
  CHECK(absl::IsInternal(status));
  CHECK(std::string(status.message()).find("boom") != std::string::npos);
  CHECK(m.requeued());
}

TEST_CASE("A handler's own answer wins over the automatic one") {
  TestMessage m("x");
  absl::Status status = RunHandler(
      [](Message& message) {
        message.Touch();
        message.Touch();
        message.RequeueWithoutBackoff(5s);
        return absl::OkStatus();
      },
      m);
  CHECK(status.ok());
  CHECK(m.touches() == 2);
  CHECK_FALSE(m.finished());
  CHECK(m.requeued());
  CHECK_FALSE(m.requeued_with_backoff());
  CHECK(m.requeue_delay() == std::chrono::milliseconds(5s));
}

TEST_CASE("With DisableAutoResponse nothing is answered until the code answers later") {
  TestMessage m("x");
  Message kept = m.message();
  absl::Status status = RunHandler(
      [&](Message& message) {
        message.DisableAutoResponse();
        return absl::InternalError("ignored: auto response is off");
      },
      m);
  CHECK_FALSE(status.ok());
  CHECK_FALSE(m.responded());

  std::thread later([kept]() mutable { kept.Finish(); });
  later.join();
  CHECK(m.finished());
  CHECK_FALSE(m.requeued());
  kept.Touch();  // after the answer: ignored
  CHECK(m.touches() == 0);
}

}  // namespace
}  // namespace nsq::client::testing
