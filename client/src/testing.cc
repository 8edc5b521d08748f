#include "nsq/testing.h"

#include <mutex>
#include <utility>

#include "client/src/handler_call.h"
#include "client/src/message_state.h"

namespace nsq::client::testing {

// Stands in for the Consumer: records the answers instead of sending them.
class TestMessage::Recorder : public internal::Responder {
 public:
  void Respond(const internal::MessageState&, internal::Response response,
               std::chrono::milliseconds delay) override {
    std::lock_guard<std::mutex> lock(mu_);
    switch (response) {
      case internal::Response::kTouch:
        ++touches_;
        return;
      case internal::Response::kFinish:
        finished_ = true;
        return;
      case internal::Response::kRequeue:
      case internal::Response::kRequeueWithoutBackoff:
        requeued_with_backoff_ = response == internal::Response::kRequeue;
        requeue_delay_ = delay;
        return;
    }
  }

  mutable std::mutex mu_;
  bool finished_ = false;
  bool requeued_with_backoff_ = false;
  std::optional<std::chrono::milliseconds> requeue_delay_;
  int touches_ = 0;
};

namespace {

std::shared_ptr<internal::MessageState> NewState(std::string body) {
  auto state = std::make_shared<internal::MessageState>();
  state->id = "0000000000000001";
  state->attempts = 1;
  state->timestamp = std::chrono::duration_cast<std::chrono::nanoseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  state->body = std::move(body);
  state->nsqd_address = "127.0.0.1:4150";
  return state;
}

}  // namespace

TestMessage::TestMessage(std::string body)
    : recorder_(std::make_shared<Recorder>()), message_(NewState(std::move(body))) {
  internal::MessageStateOf(message_).responder = recorder_;
}

TestMessage::~TestMessage() = default;

TestMessage& TestMessage::set_id(std::string id) {
  internal::MessageStateOf(message_).id = std::move(id);
  return *this;
}

TestMessage& TestMessage::set_attempts(uint16_t attempts) {
  internal::MessageStateOf(message_).attempts = attempts;
  return *this;
}

TestMessage& TestMessage::set_timestamp(int64_t nanoseconds_since_epoch) {
  internal::MessageStateOf(message_).timestamp = nanoseconds_since_epoch;
  return *this;
}

TestMessage& TestMessage::set_nsqd_address(std::string address) {
  internal::MessageStateOf(message_).nsqd_address = std::move(address);
  return *this;
}

Message& TestMessage::message() { return message_; }

bool TestMessage::responded() const { return message_.HasResponded(); }

bool TestMessage::finished() const {
  std::lock_guard<std::mutex> lock(recorder_->mu_);
  return recorder_->finished_;
}

bool TestMessage::requeued() const {
  std::lock_guard<std::mutex> lock(recorder_->mu_);
  return recorder_->requeue_delay_.has_value();
}

bool TestMessage::requeued_with_backoff() const {
  std::lock_guard<std::mutex> lock(recorder_->mu_);
  return recorder_->requeued_with_backoff_;
}

std::optional<std::chrono::milliseconds> TestMessage::requeue_delay() const {
  std::lock_guard<std::mutex> lock(recorder_->mu_);
  return recorder_->requeue_delay_;
}

int TestMessage::touches() const {
  std::lock_guard<std::mutex> lock(recorder_->mu_);
  return recorder_->touches_;
}

absl::Status RunHandler(const Handler& handler, TestMessage& message) {
  return internal::HandleAndRespond(handler, message.message());
}

}  // namespace nsq::client::testing
