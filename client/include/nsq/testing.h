// Test helpers for code that handles nsq::client::Message: build a Message without nsqd or a
// Consumer, run a handler on it exactly as a Consumer's handler thread would, and see what the
// code answered.
//
//   #include "nsq/testing.h"
//
//   nsq::client::testing::TestMessage m("{\"order\": 42}");
//   m.set_attempts(3);
//   absl::Status s = nsq::client::testing::RunHandler(MyHandler, m);
//   EXPECT_TRUE(m.finished());            // or m.requeued(), m.requeue_delay(), m.touches()
//
// A TestMessage is not thread-safe to configure, but the Message it hands out may be answered
// from any thread, as in production. Only the first Finish/Requeue counts, as with nsqd.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "nsq/consumer.h"
#include "nsq/message.h"

namespace nsq::client::testing {

class TestMessage {
 public:
  // A message with this body, id "0000000000000001", attempts 1, timestamp now, from
  // "127.0.0.1:4150".
  explicit TestMessage(std::string body);
  ~TestMessage();
  TestMessage(const TestMessage&) = delete;
  TestMessage& operator=(const TestMessage&) = delete;

  // Set before handing the message out.
  TestMessage& set_id(std::string id);
  TestMessage& set_attempts(uint16_t attempts);
  TestMessage& set_timestamp(int64_t nanoseconds_since_epoch);
  TestMessage& set_nsqd_address(std::string address);

  // The Message to pass to the code under test (a handle: copies share it).
  Message& message();

  // What the code under test answered.
  bool responded() const;
  bool finished() const;
  // Requeue() or RequeueWithoutBackoff().
  bool requeued() const;
  // True for Requeue(), which counts toward the consumer's backoff.
  bool requeued_with_backoff() const;
  // The delay given to the requeue; negative means "the consumer's default"
  // (default_requeue_delay * attempts). Empty when not requeued.
  std::optional<std::chrono::milliseconds> requeue_delay() const;
  int touches() const;

 private:
  class Recorder;
  std::shared_ptr<Recorder> recorder_;
  Message message_;
};

// Runs `handler` on the message as a Consumer does: OK → Finish(); an error (or an exception)
// → Requeue(); nothing when the handler called DisableAutoResponse() or answered itself.
// Returns the handler's status (an exception as Internal).
absl::Status RunHandler(const Handler& handler, TestMessage& message);

}  // namespace nsq::client::testing
