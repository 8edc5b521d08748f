#include "nsqd/broker/topic.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "common/log/logger.h"
#include "common/protocol/names.h"
#include "nsqd/broker/broker.h"
#include "nsqd/broker/broker_store.h"
#include "nsqd/storage/backlog_cursor.h"
#include "nsqd/storage/store.h"

namespace nsq::nsqd {
namespace {

// One step of moving a stored topic backlog to the channels; steps are posted to the loop so a
// big backlog never blocks it.
constexpr size_t kDrainCount = 1024;
constexpr size_t kDrainBytes = 4 << 20;
// After a failed store read, the next try (a publish or commit tries earlier).
constexpr int64_t kStoreRetryNs = 1'000'000'000;

}  // namespace

Topic::Topic(Broker* broker, std::string name, BrokerContext* context)
    : broker_(broker),
      name_(std::move(name)),
      context_(context),
      ephemeral_(protocol::IsEphemeralName(name_)),
      guid_(context->options->node_id) {
  if (context_->store != nullptr && !ephemeral_) {
    queue_id_ = context_->store->store()->AllocateQueueId();
    cursor_ = context_->store->store()->NewCursor(queue_id_);
    retry_timer_ = context_->timers->Create([this] { DrainBacklogStep(); });
  }
}

Topic::~Topic() { *alive_ = nullptr; }

void Topic::UseStoredQueue(uint64_t queue_id) {
  storage::Store* store = context_->store->store();
  queue_id_ = queue_id;
  cursor_ = store->NewCursor(queue_id);
  const storage::QueueStats stats = store->GetQueueStats(queue_id);
  store_unread_ = stats.depth;
  stored_deferred_ = stats.deferred_depth;
  Flush();
}

void Topic::Publish(const std::vector<protocol::Body>& bodies, int64_t defer_ns,
                    PublishDone done) {
  if (broker_->closing()) return done(absl::UnavailableError("exiting"));
  const bool direct = Running() && Idle();
  // A channel without a store cannot overflow: refuse the whole publish rather than drop
  // anything that would be acknowledged.
  if (direct && defer_ns == 0) {
    for (const auto& [channel_name, channel] : channels_) {
      if (!channel->HasRoomFor(bodies.size())) {
        return done(absl::ResourceExhaustedError(
            absl::StrCat("channel ", name_, ":", channel_name,
                         " memory queue is full (--mem-queue-size=",
                         context_->options->mem_queue_size, ")")));
      }
    }
  }

  const int64_t now = context_->clock->NowNs();
  std::vector<protocol::Message> messages;
  messages.reserve(bodies.size());
  uint64_t bytes = 0;
  for (const protocol::Body& body : bodies) {
    protocol::Message message;
    message.id = guid_.Next(now);
    message.timestamp_ns = now;
    message.body = body;
    bytes += body.size();
    messages.push_back(std::move(message));
  }

  StoreWrite write(context_->store);
  if (direct) {
    Distribute(messages, defer_ns, &write);
  } else if (absl::Status held = Hold(std::move(messages), defer_ns, &write); !held.ok()) {
    return done(held);
  }
  message_count_ += bodies.size();
  message_bytes_ += bytes;
  std::move(write).Submit("publishing", [done = std::move(done)](absl::Status status) {
    // Internal, whatever the store said: Unavailable means "exiting" to the publish paths.
    if (!status.ok()) {
      status = absl::InternalError(absl::StrCat("store write failed - ", status.message()));
    }
    done(status);
  });
}

absl::Status Topic::Hold(std::vector<protocol::Message> messages, int64_t defer_ns,
                         StoreWrite* write) {
  const size_t mem_limit = static_cast<size_t>(context_->options->mem_queue_size);
  if (cursor_ == nullptr) {
    if (!ephemeral_ && queue_.size() + messages.size() > mem_limit) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "topic ", name_, " memory queue is full (--mem-queue-size=", mem_limit, ")"));
    }
    for (protocol::Message& message : messages) {
      if (queue_.size() >= mem_limit) break;  // ephemeral overflow is dropped, as in nsqd
      queue_.push_back(Pending{std::move(message), defer_ns});
    }
    return absl::OkStatus();
  }
  // Memory while nothing older waits in the store, so order is kept.
  const bool store_empty = store_unread_ == 0 && stored_deferred_ == 0 && pending_appends_ == 0;
  if (store_empty && queue_.size() + messages.size() <= mem_limit) {
    for (protocol::Message& message : messages) {
      queue_.push_back(Pending{std::move(message), defer_ns});
    }
    return absl::OkStatus();
  }
  const int64_t due = context_->clock->NowNs() + defer_ns;
  if (defer_ns > 0) {
    for (const protocol::Message& message : messages) {
      write->batch().AppendDeferred(queue_id_, due, message);
    }
  } else {
    write->batch().Append(queue_id_, messages);
  }
  const uint64_t count = messages.size();
  const uint64_t backlog_count = defer_ns > 0 ? 0 : count;
  stored_deferred_ += count - backlog_count;
  pending_appends_ += count;
  write->OnCommitted([alive = alive_, generation = store_generation_, backlog_count,
                      count](bool ok) {
    if (*alive != nullptr) (*alive)->AppendsCommitted(generation, backlog_count, count, ok);
  });
  return absl::OkStatus();
}

void Topic::AppendsCommitted(uint64_t generation, uint64_t backlog_count, uint64_t total,
                             bool ok) {
  if (generation != store_generation_) return;  // emptied meanwhile
  pending_appends_ -= total;
  if (ok) store_unread_ += backlog_count;
  Flush();
}

void Topic::Distribute(const std::vector<protocol::Message>& messages, int64_t defer_ns,
                       StoreWrite* write) {
  for (auto& [channel_name, channel] : channels_) channel->PutFromTopic(messages, defer_ns, write);
}

void Topic::Flush() {
  if (!Running()) return;
  StoreWrite write(context_->store);
  // The memory queue, in order, in runs of messages with the same delay.
  std::vector<protocol::Message> run;
  int64_t run_defer = 0;
  auto flush_run = [&] {
    if (!run.empty()) Distribute(run, run_defer, &write);
    run.clear();
  };
  while (!queue_.empty()) {
    Pending pending = std::move(queue_.front());
    queue_.pop_front();
    if (pending.defer_ns != run_defer || run.size() >= kDrainCount) flush_run();
    run_defer = pending.defer_ns;
    run.push_back(std::move(pending.message));
  }
  flush_run();

  // Stored deferred messages, with what is left of their delay. Only once their writes are
  // committed (pending_appends_ == 0), so none is left behind.
  if (stored_deferred_ > 0 && pending_appends_ == 0) {
    absl::StatusOr<std::vector<storage::DeferredEntry>> deferred =
        context_->store->store()->ReadDeferred(queue_id_, std::numeric_limits<size_t>::max());
    if (deferred.ok()) {
      const int64_t now = context_->clock->NowNs();
      for (storage::DeferredEntry& entry : *deferred) {
        Distribute({entry.message}, std::max<int64_t>(0, entry.key.deliver_at_ns - now), &write);
        write.batch().RemoveDeferred(entry.key);
      }
      stored_deferred_ = 0;
    } else {
      NSQ_LOG_ERROR("TOPIC(%s): reading deferred messages from the store failed - %s", name_,
                    deferred.status().message());
    }
  }
  std::move(write).Submit("moving topic messages to channels", nullptr);
  DrainBacklogStep();
}

void Topic::DrainBacklogStep() {
  if (!Running() || store_unread_ == 0 || drain_scheduled_) return;
  absl::StatusOr<std::vector<storage::BacklogEntry>> entries =
      cursor_->ReadBatch(kDrainCount, kDrainBytes);
  if (!entries.ok()) {
    // Logged once per episode: the next publish or commit tries again.
    if (!store_read_failing_) {
      NSQ_LOG_ERROR("TOPIC(%s): reading the store failed - %s", name_,
                    entries.status().message());
    }
    store_read_failing_ = true;
    retry_timer_->ArmAt(context_->clock->NowNs() + kStoreRetryNs);
    return;
  }
  if (store_read_failing_) {
    NSQ_LOG_INFO("TOPIC(%s): reading the store works again", name_);
    store_read_failing_ = false;
  }
  if (entries->empty()) {
    store_unread_ = 0;  // everything committed was moved
    return;
  }
  store_unread_ -= std::min<uint64_t>(store_unread_, entries->size());
  std::vector<protocol::Message> messages;
  messages.reserve(entries->size());
  for (storage::BacklogEntry& entry : *entries) messages.push_back(std::move(entry.message));
  // The channels' copies and the removal from the topic are one write: a crash leaves the
  // messages either in the topic or in the channels, never lost, never twice.
  StoreWrite write(context_->store);
  Distribute(messages, 0, &write);
  cursor_->Consume(entries->back().sequence, &write.batch());
  cursor_->FlushConsumed(&write.batch());
  std::move(write).Submit("moving topic messages to channels", nullptr);
  if (store_unread_ > 0) {
    drain_scheduled_ = true;
    context_->post([alive = alive_] {
      if (*alive == nullptr) return;
      (*alive)->drain_scheduled_ = false;
      (*alive)->DrainBacklogStep();
    });
  }
}

Channel* Topic::FindChannel(const std::string& name) {
  auto it = channels_.find(name);
  return it == channels_.end() ? nullptr : it->second.get();
}

Channel* Topic::GetOrCreateChannel(const std::string& name) {
  if (Channel* existing = FindChannel(name)) return existing;
  auto [it, inserted] =
      channels_.emplace(name, std::make_unique<Channel>(this, name, context_));
  NSQ_LOG_INFO("TOPIC(%s): new channel(%s)", name_, name);
  broker_->Notify([&](BrokerListener& listener) { listener.ChannelCreated(name_, name); });
  // The first channel receives everything the topic kept while it had none.
  Flush();
  return it->second.get();
}

absl::Status Topic::DeleteChannel(const std::string& name) {
  auto it = channels_.find(name);
  if (it == channels_.end()) return absl::NotFoundError("CHANNEL_NOT_FOUND");
  std::unique_ptr<Channel> channel = std::move(it->second);
  channel->Close();
  channels_.erase(it);
  NSQ_LOG_INFO("TOPIC(%s): deleting channel %s", name_, name);
  broker_->Notify([&](BrokerListener& listener) { listener.ChannelDeleted(name_, name); });
  // After the topology no longer lists it, so a crash in between leaves unlisted data (removed
  // at the next start), never a listed channel without its messages.
  channel->DropStoredMessages();
  return absl::OkStatus();
}

std::vector<Channel*> Topic::Channels() const {
  std::vector<Channel*> out;
  out.reserve(channels_.size());
  for (const auto& [name, channel] : channels_) out.push_back(channel.get());
  return out;
}

void Topic::Pause() {
  paused_ = true;
  broker_->Notify([&](BrokerListener& listener) { listener.PauseChanged(name_, ""); });
}

void Topic::Unpause() {
  paused_ = false;
  broker_->Notify([&](BrokerListener& listener) { listener.PauseChanged(name_, ""); });
  Flush();
}

void Topic::ReleaseHold() {
  held_ = false;
  Flush();
}

void Topic::Empty() {
  queue_.clear();
  if (cursor_ == nullptr) return;
  StoreWrite write(context_->store);
  cursor_->DiscardAll(&write.batch());
  std::move(write).Submit("emptying a topic", nullptr);
  store_unread_ = 0;
  stored_deferred_ = 0;
  pending_appends_ = 0;
  ++store_generation_;
}

void Topic::Close() {
  for (auto& [name, channel] : channels_) channel->Close();
}

void Topic::DropStoredMessages() {
  for (auto& [name, channel] : channels_) channel->DropStoredMessages();
  if (cursor_ == nullptr) return;
  StoreWrite write(context_->store);
  write.batch().DeleteQueue(queue_id_);
  std::move(write).Submit("deleting a topic", nullptr);
  cursor_.reset();
  store_unread_ = 0;
  stored_deferred_ = 0;
  ++store_generation_;
}

absl::StatusOr<size_t> Topic::PersistForShutdown(storage::StoreBatch* batch) {
  if (cursor_ == nullptr) return 0;
  const int64_t now = context_->clock->NowNs();
  std::vector<protocol::Message> backlog;
  size_t deferred = 0;
  for (const Pending& pending : queue_) {
    if (pending.defer_ns > 0) {
      batch->AppendDeferred(queue_id_, now + pending.defer_ns, pending.message);
      ++deferred;
    } else {
      backlog.push_back(pending.message);
    }
  }
  // What the topic read from its backlog went to its channels; the memory queue is older
  // than what is still unread.
  if (absl::Status replaced = cursor_->ReplaceRead(backlog, batch); !replaced.ok()) {
    return replaced;
  }
  return backlog.size() + deferred;
}

TopicStats Topic::Stats(const std::string& channel_filter, bool include_clients) const {
  TopicStats stats;
  stats.topic_name = name_;
  stats.depth = depth();
  stats.backend_depth = static_cast<int64_t>(store_unread_ + stored_deferred_);
  stats.message_count = message_count_;
  stats.message_bytes = message_bytes_;
  stats.paused = paused_;
  const std::vector<double>& quantiles = context_->options->e2e_quantiles;
  LatencyHistogram e2e;  // the topic's: its channels' together, as nsqd aggregates them
  for (const auto& [name, channel] : channels_) {
    if (!quantiles.empty()) e2e.Merge(channel->E2eLatency());
    if (!channel_filter.empty() && name != channel_filter) continue;
    stats.channels.push_back(channel->Stats(include_clients));
  }
  if (!quantiles.empty()) stats.e2e = SummarizeLatency(e2e, quantiles);
  return stats;
}

}  // namespace nsq::nsqd
