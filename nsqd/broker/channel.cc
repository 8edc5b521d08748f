#include "nsqd/broker/channel.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "common/log/logger.h"
#include "common/protocol/names.h"
#include "nsqd/broker/broker.h"
#include "nsqd/broker/broker_store.h"
#include "nsqd/broker/consumer.h"
#include "nsqd/broker/topic.h"
#include "nsqd/storage/backlog_cursor.h"
#include "nsqd/storage/store.h"

namespace nsq::nsqd {
namespace {

// The read-ahead window: store messages are read in batches of up to this many (and bytes)
// once the ready queue is down to half of it and a consumer can take more.
constexpr size_t kReadAheadCount = 4096;
constexpr size_t kReadAheadBytes = 4 << 20;
// After a failed store read, the next try (the timer's; any event tries earlier).
constexpr int64_t kStoreRetryNs = 1'000'000'000;

}  // namespace

Channel::Channel(Topic* topic, std::string name, BrokerContext* context)
    : topic_(topic),
      name_(std::move(name)),
      context_(context),
      ephemeral_(protocol::IsEphemeralName(name_)),
      timer_(context->timers->Create([this] { ProcessTimers(); })),
      sample_state_(static_cast<uint64_t>(context->clock->NowNs()) | 1) {
  if (context_->store != nullptr && !ephemeral_) {
    queue_id_ = context_->store->store()->AllocateQueueId();
    cursor_ = context_->store->store()->NewCursor(queue_id_);
  }
  if (!context_->options->e2e_quantiles.empty()) {
    e2e_.emplace(absl::ToInt64Nanoseconds(context_->options->e2e_processing_latency_window_time));
  }
}

Channel::~Channel() { *alive_ = nullptr; }

absl::Status Channel::UseStoredQueue(uint64_t queue_id) {
  storage::Store* store = context_->store->store();
  queue_id_ = queue_id;
  cursor_ = store->NewCursor(queue_id);
  store_unread_ = store->GetQueueStats(queue_id).depth;
  absl::StatusOr<std::vector<storage::DeferredEntry>> deferred =
      store->ReadDeferred(queue_id, std::numeric_limits<size_t>::max());
  if (!deferred.ok()) return deferred.status();
  for (storage::DeferredEntry& entry : *deferred) {
    store_refs_[entry.message.id] = entry.key;
    deferred_.Push(std::move(entry.message), entry.key.deliver_at_ns);
  }
  ArmTimer();
  return absl::OkStatus();
}

bool Channel::HasRoomFor(size_t count) const {
  if (ephemeral_ || cursor_ != nullptr) return true;
  return ready_.size() + count <= static_cast<size_t>(context_->options->mem_queue_size);
}

void Channel::PutFromTopic(const std::vector<protocol::Message>& messages, int64_t defer_ns,
                           StoreWrite* write) {
  if (closing_) return;
  message_count_ += messages.size();
  const size_t mem_limit = static_cast<size_t>(context_->options->mem_queue_size);
  if (defer_ns > 0) {
    const int64_t due = context_->clock->NowNs() + defer_ns;
    // Deferred messages wait in memory, as in nsqd; with --mem-queue-size=0 (everything on
    // disk) they are stored too.
    const bool store = cursor_ != nullptr && mem_limit == 0;
    for (const protocol::Message& message : messages) {
      if (store) store_refs_[message.id] = write->batch().AppendDeferred(queue_id_, due, message);
      deferred_.Push(message, due);
    }
    ArmTimer();
    return;
  }
  if (cursor_ == nullptr) {
    for (const protocol::Message& message : messages) {
      if (ready_.size() >= mem_limit) {
        // nsqd drops ephemeral overflow: such channels serve transient readers (nsq_tail)
        // that must never make publishing fail. Counted so /stats can show it. (A durable
        // channel without a store never gets here: HasRoomFor refused the publish.)
        ++dropped_count_;
        continue;
      }
      ready_.push_back(message);
    }
    Pump();
    return;
  }
  // Memory only while nothing older waits in the store: order is kept.
  if (store_unread_ == 0 && pending_appends_ == 0 && ready_.size() + messages.size() <= mem_limit) {
    ready_.insert(ready_.end(), messages.begin(), messages.end());
    Pump();
    return;
  }
  write->batch().Append(queue_id_, messages);
  pending_appends_ += messages.size();
  write->OnCommitted([alive = alive_, generation = store_generation_,
                      count = messages.size()](bool ok) {
    if (*alive != nullptr) (*alive)->AppendsCommitted(generation, count, ok);
  });
}

void Channel::AppendsCommitted(uint64_t generation, uint64_t count, bool ok) {
  if (generation != store_generation_) return;  // emptied meanwhile
  pending_appends_ -= count;
  if (ok) store_unread_ += count;
  Pump();
}

void Channel::FillFromStore() {
  const size_t want = kReadAheadCount - std::min(kReadAheadCount, ready_.size());
  if (want == 0) return;
  absl::StatusOr<std::vector<storage::BacklogEntry>> entries =
      cursor_->ReadBatch(want, kReadAheadBytes);
  if (!entries.ok()) {
    // Logged once per episode: Pump tries again at every chance it gets.
    if (!store_read_failing_) {
      NSQ_LOG_ERROR("CHANNEL(%s:%s): reading the store failed - %s", topic_->name(), name_,
                    entries.status().message());
    }
    store_read_failing_ = true;
    store_retry_ns_ = context_->clock->NowNs() + kStoreRetryNs;
    ArmTimer();
    return;
  }
  if (store_read_failing_) {
    NSQ_LOG_INFO("CHANNEL(%s:%s): reading the store works again", topic_->name(), name_);
    store_read_failing_ = false;
    store_retry_ns_ = 0;
  }
  if (entries->empty()) {
    store_unread_ = 0;  // everything committed was read
    return;
  }
  store_unread_ -= std::min<uint64_t>(store_unread_, entries->size());
  StoreWrite duplicates(context_->store);
  for (storage::BacklogEntry& entry : *entries) {
    if (!store_refs_.try_emplace(entry.message.id, entry.sequence).second) {
      // The same message twice (a crash between a copy and its source's removal): keep one.
      cursor_->Finish(entry.sequence, &duplicates.batch());
      continue;
    }
    ready_.push_back(std::move(entry.message));
  }
  std::move(duplicates).Submit("consuming", nullptr);
}

void Channel::ReleaseStoreRef(const protocol::MessageId& id, StoreWrite* write) {
  auto it = store_refs_.find(id);
  if (it == store_refs_.end()) return;
  if (const uint64_t* sequence = std::get_if<uint64_t>(&it->second)) {
    cursor_->Finish(*sequence, &write->batch());
  } else {
    write->batch().RemoveDeferred(std::get<storage::DeferredKey>(it->second));
  }
  store_refs_.erase(it);
  // Drained after a burst: remove the last finished messages now rather than with the next
  // 1024, so the store can reclaim the whole range. (Not after every message of a trickle:
  // each removal is a range tombstone that reads must step over until compaction.)
  if (store_refs_.empty() && store_unread_ == 0 && cursor_->pending_deletes() >= 64) {
    cursor_->FlushConsumed(&write->batch());
  }
}

void Channel::ReleaseStoreRefNow(const protocol::MessageId& id) {
  if (store_refs_.empty()) return;
  StoreWrite write(context_->store);
  ReleaseStoreRef(id, &write);
  std::move(write).Submit("consuming", nullptr);
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
  // Counted as requeues (Go counts them as timeouts, later), and on their own for metrics.
  requeue_count_ += orphans.size();
  disconnect_requeue_count_ += orphans.size();

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
  if (e2e_) {
    const int64_t now = context_->clock->NowNs();
    e2e_->Add(now, now - entry->message.timestamp_ns);
  }
  in_flight_.Remove(id);
  ReleaseStoreRefNow(id);
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
    const int64_t due = context_->clock->NowNs() + delay_ns;
    if (store_refs_.contains(id)) {
      // A stored message moves to the store's deferred set (one write), so a crash keeps the
      // delay and the backlog's head is not held back for it.
      StoreWrite write(context_->store);
      ReleaseStoreRef(id, &write);
      store_refs_[id] = write.batch().AppendDeferred(queue_id_, due, message);
      std::move(write).Submit("requeueing", nullptr);
    }
    deferred_.Push(std::move(message), due);
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
  store_refs_.clear();
  for (Consumer* consumer : consumers_) consumer->InFlightReset();
  if (cursor_ != nullptr) {
    StoreWrite write(context_->store);
    cursor_->DiscardAll(&write.batch());
    std::move(write).Submit("emptying a channel", nullptr);
    store_unread_ = 0;
    pending_appends_ = 0;
    ++store_generation_;
  }
}

void Channel::DropStoredMessages() {
  if (cursor_ == nullptr) return;
  StoreWrite write(context_->store);
  write.batch().DeleteQueue(queue_id_);
  std::move(write).Submit("deleting a channel", nullptr);
  cursor_.reset();
  store_refs_.clear();
  store_unread_ = 0;
  ++store_generation_;
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
  if (store_retry_ns_ != 0 && store_retry_ns_ <= now) store_retry_ns_ = 0;  // Pump retries
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

absl::StatusOr<size_t> Channel::PersistForShutdown(storage::StoreBatch* batch) {
  if (cursor_ == nullptr) return 0;
  // Everything the channel holds in memory goes in front of its unread backlog, in delivery
  // order: in-flight first (with their attempts), then the ready queue. What was read from the
  // backlog is among them, so the read part of the backlog is replaced. Messages whose stored
  // copy is a deferred entry stay there (due now or later), not twice.
  std::vector<protocol::Message> memory;
  memory.reserve(in_flight_.size() + ready_.size());
  auto keep = [&](const protocol::Message& message) {
    auto ref = store_refs_.find(message.id);
    if (ref != store_refs_.end() && std::holds_alternative<storage::DeferredKey>(ref->second)) {
      return;
    }
    memory.push_back(message);
  };
  for (const InFlightQueue::Entry* entry : in_flight_.ByDeliveryTime()) keep(entry->message);
  for (const protocol::Message& message : ready_) keep(message);
  if (absl::Status replaced = cursor_->ReplaceRead(memory, batch); !replaced.ok()) {
    return replaced;
  }
  size_t persisted = memory.size();
  for (const auto& [due, message] : deferred_.Items()) {
    if (store_refs_.contains(message.id)) continue;
    batch->AppendDeferred(queue_id_, due, message);
    ++persisted;
  }
  return persisted;
}

void Channel::Pump() {
  // Delivery calls into connections; a connection never calls back into Pump synchronously,
  // but the guard keeps a future change from recursing.
  if (pumping_ || paused_ || closing_) return;
  pumping_ = true;
  bool delivered = false;
  StoreWrite sampled_out(context_->store);
  while (true) {
    if (ready_.empty() && store_unread_ == 0) break;
    Consumer* consumer = NextReadyConsumer();
    if (consumer == nullptr) break;
    if (store_unread_ > 0 && ready_.size() <= kReadAheadCount / 2) FillFromStore();
    if (ready_.empty()) break;
    protocol::Message message = std::move(ready_.front());
    ready_.pop_front();
    const int64_t rate = consumer->SampleRate();
    if (rate > 0 && NextSample() > rate) {
      ReleaseStoreRef(message.id, &sampled_out);  // sampled out: consumed for this channel
      continue;
    }
    ++message.attempts;
    const int64_t now = context_->clock->NowNs();
    switch (consumer->locality()) {  // every delivery, redeliveries too, counted once
      case Locality::kZone:
        ++zone_local_msg_count_;
        break;
      case Locality::kRegion:
        ++region_local_msg_count_;
        break;
      case Locality::kGlobal:
        ++global_msg_count_;
        break;
    }
    consumer->DeliverMessage(message);
    in_flight_.Push(std::move(message), consumer, now, now + consumer->MsgTimeoutNs());
    delivered = true;
  }
  pumping_ = false;
  std::move(sampled_out).Submit("consuming", nullptr);
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
  // Under the topology-aware experiment a ready consumer in nsqd's zone comes first, then one in
  // its region, then any (round-robin within each); otherwise any, round-robin.
  if (context_->options->TopologyAware()) {
    for (Locality wanted : {Locality::kZone, Locality::kRegion}) {
      if (Consumer* consumer = NextReadyConsumer(wanted)) return consumer;
    }
  }
  return NextReadyConsumer(std::nullopt);
}

Consumer* Channel::NextReadyConsumer(std::optional<Locality> wanted) {
  const size_t n = consumers_.size();
  for (size_t i = 0; i < n; ++i) {
    size_t index = (next_consumer_ + i) % n;
    Consumer* consumer = consumers_[index];
    if (wanted && consumer->locality() != *wanted) continue;
    if (consumer->ReadyForMessage()) {
      next_consumer_ = (index + 1) % n;
      return consumer;
    }
  }
  return nullptr;
}

void Channel::ArmTimer() {
  std::optional<int64_t> next = in_flight_.NextDeadline();
  std::optional<int64_t> due = deferred_.NextDue();
  if (due && (!next || *due < *next)) next = due;
  if (store_retry_ns_ != 0 && (!next || store_retry_ns_ < *next)) next = store_retry_ns_;
  if (!next) return;
  if (armed_deadline_ns_ != 0 && armed_deadline_ns_ <= *next) return;
  armed_deadline_ns_ = *next;
  timer_->ArmAt(*next);
}

LatencyHistogram Channel::E2eLatency() const {
  return e2e_ ? e2e_->Snapshot(context_->clock->NowNs()) : LatencyHistogram();
}

LatencySummary SummarizeLatency(const LatencyHistogram& histogram,
                                const std::vector<double>& quantiles) {
  LatencySummary summary;
  summary.count = histogram.count();
  for (double q : quantiles) summary.percentiles.emplace_back(q, histogram.Quantile(q));
  return summary;
}

ChannelStats Channel::Stats(bool include_clients) const {
  ChannelStats stats;
  if (e2e_) stats.e2e = SummarizeLatency(E2eLatency(), context_->options->e2e_quantiles);
  stats.channel_name = name_;
  stats.depth = depth();
  stats.backend_depth = backend_depth();
  stats.in_flight_count = static_cast<int64_t>(in_flight_.size());
  stats.deferred_count = static_cast<int64_t>(deferred_.size());
  stats.message_count = message_count_;
  stats.requeue_count = requeue_count_;
  stats.disconnect_requeue_count = disconnect_requeue_count_;
  stats.timeout_count = timeout_count_;
  stats.zone_local_msg_count = zone_local_msg_count_;
  stats.region_local_msg_count = region_local_msg_count_;
  stats.global_msg_count = global_msg_count_;
  stats.client_count = static_cast<int64_t>(consumers_.size());
  stats.paused = paused_;
  if (include_clients) {
    for (const Consumer* consumer : consumers_) stats.clients.push_back(consumer->Stats());
  }
  return stats;
}

}  // namespace nsq::nsqd
