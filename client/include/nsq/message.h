// Message: one message a Consumer received, as its handler sees it.
//
//   absl::Status Handle(nsq::client::Message& m) {
//     if (m.body().empty()) return absl::InvalidArgumentError("empty");   // → REQ with backoff
//     return absl::OkStatus();                                           // → FIN
//   }
//
// Responding: when the handler returns, the consumer sends FIN (OK status) or REQ (error), unless
// the message was answered already or DisableAutoResponse() was called; then the code that
// holds the message must call Finish() or Requeue() itself, from any thread, before nsqd's
// msg_timeout (Touch() extends it). Only the first response counts.
//
// A Message is a cheap handle: copies share one message. It may outlive its Consumer; responses
// after the consumer stopped (or after the connection it came on dropped) are ignored, and nsqd
// redelivers the message.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace nsq::client {

class Message;

namespace internal {
struct MessageState;
MessageState& MessageStateOf(const Message& message);
}

class Message {
 public:
  // Made by the Consumer (tests of handlers: nsq/testing.h's TestMessage).
  explicit Message(std::shared_ptr<internal::MessageState> state);

  // The 16-character id nsqd assigned.
  const std::string& id() const;
  // Publish time, nanoseconds since the Unix epoch.
  int64_t timestamp() const;
  // Deliveries so far, this one included (1 on the first delivery).
  uint16_t attempts() const;
  const std::string& body() const;
  // The nsqd address ("host:port") the message came from.
  const std::string& nsqd_address() const;

  // Take over responding: the handler's return value no longer sends FIN/REQ.
  void DisableAutoResponse();
  bool IsAutoResponseDisabled() const;
  bool HasResponded() const;

  // FIN: done with the message.
  void Finish();
  // REQ: deliver again after `delay`; a negative delay means default_requeue_delay * attempts,
  // at most max_requeue_delay. Counts as a failure for the consumer's backoff.
  void Requeue(std::chrono::milliseconds delay = std::chrono::milliseconds(-1));
  // REQ without counting as a failure (no backoff).
  void RequeueWithoutBackoff(std::chrono::milliseconds delay);
  // TOUCH: reset nsqd's timeout for this message.
  void Touch();

 private:
  friend internal::MessageState& internal::MessageStateOf(const Message& message);
  std::shared_ptr<internal::MessageState> state_;
};

}  // namespace nsq::client
