// The shared state behind nsq::client::Message, and the interface through which a message's
// FIN/REQ/TOUCH reach the consumer that received it. Internal.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "nsq/message.h"

namespace nsq::client::internal {

enum class Response { kFinish, kRequeue, kRequeueWithoutBackoff, kTouch };

struct MessageState;

// Implemented by the consumer. Called from any thread.
class Responder {
 public:
  virtual ~Responder() = default;
  // `delay` < 0 on a requeue means the default delay for the message's attempts.
  virtual void Respond(const MessageState& message, Response response,
                       std::chrono::milliseconds delay) = 0;
};

struct MessageState {
  std::string id;
  int64_t timestamp = 0;
  uint16_t attempts = 0;
  std::string body;
  std::string nsqd_address;
  // Which connection of the consumer delivered it; responses go back there.
  uint64_t conn_id = 0;
  // Weak: a message may outlive its consumer; then responding does nothing.
  std::weak_ptr<Responder> responder;
  std::atomic<bool> responded{false};
  std::atomic<bool> auto_response_disabled{false};
};

// The state behind a Message (for the consumer and the test helpers).
MessageState& MessageStateOf(const Message& message);

}  // namespace nsq::client::internal
