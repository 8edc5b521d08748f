#include "nsq/message.h"

#include <utility>

#include "client/src/message_state.h"

namespace nsq::client {

namespace {

// Sends the first final response (FIN/REQ); later ones are ignored.
void Answer(internal::MessageState& state, internal::Response response,
            std::chrono::milliseconds delay) {
  if (state.responded.exchange(true)) return;
  if (std::shared_ptr<internal::Responder> responder = state.responder.lock()) {
    responder->Respond(state, response, delay);
  }
}

}  // namespace

namespace internal {
MessageState& MessageStateOf(const Message& message) { return *message.state_; }
}  // namespace internal

Message::Message(std::shared_ptr<internal::MessageState> state) : state_(std::move(state)) {}

const std::string& Message::id() const { return state_->id; }
int64_t Message::timestamp() const { return state_->timestamp; }
uint16_t Message::attempts() const { return state_->attempts; }
const std::string& Message::body() const { return state_->body; }
const std::string& Message::nsqd_address() const { return state_->nsqd_address; }

void Message::DisableAutoResponse() { state_->auto_response_disabled = true; }
bool Message::IsAutoResponseDisabled() const { return state_->auto_response_disabled; }
bool Message::HasResponded() const { return state_->responded; }

void Message::Finish() { Answer(*state_, internal::Response::kFinish, {}); }

void Message::Requeue(std::chrono::milliseconds delay) {
  Answer(*state_, internal::Response::kRequeue, delay);
}

void Message::RequeueWithoutBackoff(std::chrono::milliseconds delay) {
  Answer(*state_, internal::Response::kRequeueWithoutBackoff, delay);
}

void Message::Touch() {
  if (state_->responded) return;
  if (std::shared_ptr<internal::Responder> responder = state_->responder.lock()) {
    responder->Respond(*state_, internal::Response::kTouch, {});
  }
}

}  // namespace nsq::client
