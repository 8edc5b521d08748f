#include "nsqd/broker/channel.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/log/logger.h"
#include "common/protocol/names.h"
#include "nsqd/broker/broker.h"
#include "nsqd/broker/consumer.h"
#include "nsqd/broker/topic.h"

namespace nsq::nsqd {

Channel::Channel(Topic* topic, std::string name, BrokerContext* context)
    : topic_(topic),
      name_(std::move(name)),
      context_(context),
      ephemeral_(protocol::IsEphemeralName(name_)),
      timer_(context->timers->Create([this] { ProcessTimers(); })),
      sample_state_(static_cast<uint64_t>(context->clock->NowNs()) | 1) {}

Channel::~Channel() = default;

bool Channel::HasRoomFor(size_t count) const {
  if (ephemeral_) return true;
  return ready_.size() + count <= static_cast<size_t>(context_->options->mem_queue_size);
}

void Channel::PutFromTopic(const protocol::Message& message, int64_t defer_ns) {
  if (closing_) return;
  ++message_count_;
  if (defer_ns > 0) {
    deferred_.Push(message, context_->clock->NowNs() + defer_ns);
    ArmTimer();
    return;
  }
  if (ephemeral_ && ready_.size() >= static_cast<size_t>(context_->options->mem_queue_size)) {
    // nsqd drops ephemeral overflow: such channels serve transient readers (nsq_tail) that
    // must never make publishing fail. Counted so /stats can show it.
    ++dropped_count_;
    return;
  }
  ready_.push_back(message);
  Pump();
}

absl::Status Channel::AddConsumer(Consumer* consumer) {
  if (closing_) return absl::FailedPreconditionError("exiting");
  const int64_t limit = context_->options->max_channel_consumers;
  if (limit > 0 && static_cast<int64_t>(consumers_.size()) >= limit) {
    return absl::ResourceExhaustedError(absl::StrCat("consumers for ", topic_->name(), ":", name_,
                                                     " exceeds limit of ", limit));
  }
  consumers_.push_back(consumer);
  return absl::OkStatus();
}

void Channel::RemoveConsumer(Consumer* consumer) {
  auto it = std::find(consumers_.begin(), consumers_.end(), consumer);
  if (it == consumers_.end()) return;
  consumers_.erase(it);
  if (next_consumer_ >= consumers_.size()) next_consumer_ = 0;

  // Its unacknowledged messages go back to the front of the queue now, oldest first: the
  // connection is gone, so waiting for their timeouts would only delay them.
  std::vector<InFlightQueue::Entry> orphans = in_flight_.RemoveOwnedBy(consumer);
  for (auto it2 = orphans.rbegin(); it2 != orphans.rend(); ++it2) {
    ready_.push_front(std::move(it2->message));
  }

  if (ephemeral_ && consumers_.empty()) {
    Broker* broker = topic_->broker();
    std::string topic_name = topic_->name();
    std::string channel_name = name_;
    context_->post([broker, topic_name, channel_name] {
      broker->DeleteEphemeralChannelIfUnused(topic_name, channel_name);
    });
  }
  Pump();
}

void Channel::ConsumerReady() { Pump(); }

absl::Status Channel::Finish(Consumer* consumer, const protocol::MessageId& id) {
  InFlightQueue::Entry* entry = in_flight_.Find(id);
  if (entry == nullptr) return absl::NotFoundError("ID not in flight");
  if (entry->owner != consumer) return absl::PermissionDeniedError("client does not own message");
  in_flight_.Remove(id);
  return absl::OkStatus();
}

absl::Status Channel::Requeue(Consumer* consumer, const protocol::MessageId& id,
                              int64_t delay_ns) {
  InFlightQueue::Entry* entry = in_flight_.Find(id);
  if (entry == nullptr) return absl::NotFoundError("ID not in flight");
  if (entry->owner != consumer) return absl::PermissionDeniedError("client does not own message");
  if (closing_) return absl::FailedPreconditionError("exiting");
  protocol::Message message = std::move(in_flight_.Remove(id)->message);
  ++requeue_count_;
  if (delay_ns > 0) {
    deferred_.Push(std::move(message), context_->clock->NowNs() + delay_ns);
    ArmTimer();
  } else {
    ready_.push_back(std::move(message));
    Pump();
  }
  return absl::OkStatus();
}

absl::Status Channel::Touch(Consumer* consumer, const protocol::MessageId& id) {
  InFlightQueue::Entry* entry = in_flight_.Find(id);
  if (entry == nullptr) return absl::NotFoundError("ID not in flight");
  if (entry->owner != consumer) return absl::PermissionDeniedError("client does not own message");
  const int64_t now = context_->clock->NowNs();
  const int64_t max_deadline =
      entry->delivered_at_ns + absl::ToInt64Nanoseconds(context_->options->max_msg_timeout);
  in_flight_.UpdateDeadline(entry, std::min(now + consumer->MsgTimeoutNs(), max_deadline));
  return absl::OkStatus();
}

void Channel::Pause() {
  paused_ = true;
  topic_->broker()->Notify(
      [&](BrokerListener& listener) { listener.PauseChanged(topic_->name(), name_); });
}

void Channel::Unpause() {
  paused_ = false;
  topic_->broker()->Notify(
      [&](BrokerListener& listener) { listener.PauseChanged(topic_->name(), name_); });
  Pump();
}

void Channel::Empty() {
  ready_.clear();
  deferred_.Clear();
  in_flight_.Clear();
  for (Consumer* consumer : consumers_) consumer->InFlightReset();
}

void Channel::Close() {
  closing_ = true;
  timer_->Cancel();
  std::vector<Consumer*> consumers;
  consumers.swap(consumers_);
  for (Consumer* consumer : consumers) consumer->ChannelClosing();
}

void Channel::ProcessTimers() {
  armed_deadline_ns_ = 0;
  const int64_t now = context_->clock->NowNs();
  while (auto expired = in_flight_.PopExpired(now)) {
    ++timeout_count_;
    expired->owner->MessageTimedOut();
    ready_.push_back(std::move(expired->message));
  }
  while (auto due = deferred_.PopDue(now)) {
    ready_.push_back(std::move(*due));
  }
  Pump();
  ArmTimer();
}

Channel::Snapshot Channel::TakeSnapshot() const {
  Snapshot snapshot;
  snapshot.ready.reserve(in_flight_.size() + ready_.size());
  for (const InFlightQueue::Entry* entry : in_flight_.ByDeliveryTime()) {
    snapshot.ready.push_back(entry->message);
  }
  snapshot.ready.insert(snapshot.ready.end(), ready_.begin(), ready_.end());
  snapshot.deferred = deferred_.Items();
  return snapshot;
}

void Channel::Restore(Snapshot snapshot) {
  for (auto& message : snapshot.ready) ready_.push_back(std::move(message));
  for (auto& [due, message] : snapshot.deferred) deferred_.Push(std::move(message), due);
  ArmTimer();
  Pump();
}

void Channel::Pump() {
  // Delivery calls into connections; a connection never calls back into Pump synchronously,
  // but the guard keeps a future change from recursing.
  if (pumping_ || paused_ || closing_) return;
  pumping_ = true;
  bool delivered = false;
  while (!ready_.empty()) {
    Consumer* consumer = NextReadyConsumer();
    if (consumer == nullptr) break;
    protocol::Message message = std::move(ready_.front());
    ready_.pop_front();
    const int64_t rate = consumer->SampleRate();
    if (rate > 0 && NextSample() > rate) continue;  // sampled out: consumed for this channel
    ++message.attempts;
    const int64_t now = context_->clock->NowNs();
    consumer->DeliverMessage(message);
    in_flight_.Push(std::move(message), consumer, now, now + consumer->MsgTimeoutNs());
    delivered = true;
  }
  pumping_ = false;
  if (delivered) ArmTimer();
}

int64_t Channel::NextSample() {
  // xorshift64: a uniform draw in [0, 99] without a shared generator.
  sample_state_ ^= sample_state_ << 13;
  sample_state_ ^= sample_state_ >> 7;
  sample_state_ ^= sample_state_ << 17;
  return static_cast<int64_t>(sample_state_ % 100);
}

Consumer* Channel::NextReadyConsumer() {
  const size_t n = consumers_.size();
  for (size_t i = 0; i < n; ++i) {
    size_t index = (next_consumer_ + i) % n;
    if (consumers_[index]->ReadyForMessage()) {
      next_consumer_ = (index + 1) % n;
      return consumers_[index];
    }
  }
  return nullptr;
}

void Channel::ArmTimer() {
  std::optional<int64_t> next = in_flight_.NextDeadline();
  std::optional<int64_t> due = deferred_.NextDue();
  if (due && (!next || *due < *next)) next = due;
  if (!next) return;
  if (armed_deadline_ns_ != 0 && armed_deadline_ns_ <= *next) return;
  armed_deadline_ns_ = *next;
  timer_->ArmAt(*next);
}

ChannelStats Channel::Stats(bool include_clients) const {
  ChannelStats stats;
  stats.channel_name = name_;
  stats.depth = depth();
  stats.backend_depth = 0;
  stats.in_flight_count = static_cast<int64_t>(in_flight_.size());
  stats.deferred_count = static_cast<int64_t>(deferred_.size());
  stats.message_count = message_count_;
  stats.requeue_count = requeue_count_;
  stats.timeout_count = timeout_count_;
  stats.client_count = static_cast<int64_t>(consumers_.size());
  stats.paused = paused_;
  if (include_clients) {
    for (const Consumer* consumer : consumers_) stats.clients.push_back(consumer->Stats());
  }
  return stats;
}

}  // namespace nsq::nsqd
