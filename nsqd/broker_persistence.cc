#include "nsqd/broker_persistence.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "common/log/logger.h"
#include "common/protocol/names.h"
#include "common/util/status_macros.h"
#include "nsqd/storage/backlog_cursor.h"
#include "nsqd/storage/group_commit_writer.h"
#include "nsqd/storage/metadata.h"
#include "nsqd/storage/store.h"
#include "nsqd/storage/store_batch.h"

namespace nsq::nsqd {
namespace {

// Start-up reads and shutdown writes go in pieces of this many bytes, so a big backlog never
// needs one giant RocksDB batch.
constexpr size_t kChunkBytes = 32 << 20;
constexpr size_t kReadCount = 4096;

// Reads a whole backlog, in order.
absl::StatusOr<std::vector<protocol::Message>> ReadBacklog(storage::Store* store,
                                                           uint64_t queue) {
  std::vector<protocol::Message> messages;
  std::unique_ptr<storage::BacklogCursor> cursor = store->NewCursor(queue);
  while (true) {
    NSQ_ASSIGN_OR_RETURN(auto entries, cursor->ReadBatch(kReadCount, kChunkBytes));
    if (entries.empty()) break;
    for (auto& entry : entries) messages.push_back(std::move(entry.message));
  }
  return messages;
}

absl::StatusOr<std::vector<storage::DeferredEntry>> ReadAllDeferred(storage::Store* store,
                                                                    uint64_t queue) {
  return store->ReadDeferred(queue, std::numeric_limits<size_t>::max());
}

}  // namespace

absl::StatusOr<std::unique_ptr<BrokerPersistence>> BrokerPersistence::Open(
    const std::string& data_path, std::function<void(std::function<void()>)> post) {
  return Open(data_path, std::move(post), storage::StoreOptions{});
}

absl::StatusOr<std::unique_ptr<BrokerPersistence>> BrokerPersistence::Open(
    const std::string& data_path, std::function<void(std::function<void()>)> post,
    const storage::StoreOptions& store_options) {
  NSQ_ASSIGN_OR_RETURN(std::unique_ptr<storage::Store> store,
                       storage::Store::Open(data_path, store_options));
  storage::GroupCommitOptions options;
  options.post = std::move(post);
  auto writer = std::make_unique<storage::GroupCommitWriter>(store.get(), options);
  return std::unique_ptr<BrokerPersistence>(
      new BrokerPersistence(std::move(store), std::move(writer)));
}

BrokerPersistence::BrokerPersistence(std::unique_ptr<storage::Store> store,
                                     std::unique_ptr<storage::GroupCommitWriter> writer)
    : store_(std::move(store)), writer_(std::move(writer)) {}

BrokerPersistence::~BrokerPersistence() {
  *self_ = nullptr;
  writer_.reset();  // before the store it writes to
}

void BrokerPersistence::SubmitTopology(storage::StoreBatch batch, const char* what) {
  writer_->Submit(std::move(batch), /*sync=*/true,
                  [self = self_, what](absl::Status status) {
                    if (!status.ok()) {
                      NSQ_LOG_ERROR("store: %s failed - %s", what, status.message());
                    }
                    if (*self == nullptr) return;
                    (*self)->health_error_ = status.ok() ? "" : std::string(status.message());
                  });
}

absl::Status BrokerPersistence::Restore(Broker* broker) {
  broker_ = broker;
  NSQ_ASSIGN_OR_RETURN(storage::Metadata metadata, store_->LoadMetadata());
  const int64_t now = broker->context()->clock->NowNs();
  std::set<uint64_t> referenced;
  size_t restored_messages = 0;
  for (const storage::TopicMetadata& stored : metadata.topics) {
    if (!protocol::IsValidTopicName(stored.name) || protocol::IsEphemeralName(stored.name)) {
      NSQ_LOG_WARN("store: skipping topic %s (invalid name)", stored.name);
      continue;
    }
    Topic* topic = broker->GetOrCreateTopic(stored.name);
    topic_queues_[stored.name] = stored.queue_id;
    referenced.insert(stored.queue_id);
    if (stored.paused) topic->Pause();
    for (const storage::ChannelMetadata& channel_meta : stored.channels) {
      if (!protocol::IsValidChannelName(channel_meta.name) ||
          protocol::IsEphemeralName(channel_meta.name)) {
        continue;
      }
      Channel* channel = topic->GetOrCreateChannel(channel_meta.name);
      channel_queues_[{stored.name, channel_meta.name}] = channel_meta.queue_id;
      referenced.insert(channel_meta.queue_id);
      if (channel_meta.paused) channel->Pause();
      Channel::Snapshot snapshot;
      NSQ_ASSIGN_OR_RETURN(snapshot.ready, ReadBacklog(store_.get(), channel_meta.queue_id));
      NSQ_ASSIGN_OR_RETURN(auto deferred, ReadAllDeferred(store_.get(), channel_meta.queue_id));
      for (auto& entry : deferred) {
        snapshot.deferred.emplace_back(entry.key.deliver_at_ns, std::move(entry.message));
      }
      restored_messages += snapshot.ready.size() + snapshot.deferred.size();
      channel->Restore(std::move(snapshot));
    }
    // The topic's own queue: messages that had not reached a channel. A deferred one keeps
    // what is left of its delay.
    std::vector<Topic::Pending> pending;
    NSQ_ASSIGN_OR_RETURN(auto backlog, ReadBacklog(store_.get(), stored.queue_id));
    for (auto& message : backlog) pending.push_back({std::move(message), 0});
    NSQ_ASSIGN_OR_RETURN(auto deferred, ReadAllDeferred(store_.get(), stored.queue_id));
    for (auto& entry : deferred) {
      pending.push_back({std::move(entry.message), std::max<int64_t>(0, entry.key.deliver_at_ns - now)});
    }
    restored_messages += pending.size();
    topic->Restore(std::move(pending));
  }

  // Data no topology refers to: left by a shutdown that died half-way. Remove it.
  storage::StoreBatch cleanup = store_->NewBatch();
  for (uint64_t queue : store_->KnownQueueIds()) {
    if (!referenced.contains(queue)) cleanup.DeleteQueue(queue);
  }
  if (!cleanup.empty()) NSQ_RETURN_IF_ERROR(store_->Write(cleanup, /*sync=*/true));
  NSQ_LOG_INFO("store: restored %d topics, %d messages from %s", metadata.topics.size(),
               restored_messages, store_->path());
  return absl::OkStatus();
}

storage::Metadata BrokerPersistence::CurrentMetadata() const {
  storage::Metadata metadata;
  for (Topic* topic : broker_->Topics()) {
    auto topic_id = topic_queues_.find(topic->name());
    if (topic->ephemeral() || topic_id == topic_queues_.end()) continue;
    storage::TopicMetadata stored{topic->name(), topic->paused(), topic_id->second, {}};
    for (Channel* channel : topic->Channels()) {
      auto channel_id = channel_queues_.find({topic->name(), channel->name()});
      if (channel->ephemeral() || channel_id == channel_queues_.end()) continue;
      stored.channels.push_back({channel->name(), channel->paused(), channel_id->second});
    }
    metadata.topics.push_back(std::move(stored));
  }
  return metadata;
}

void BrokerPersistence::SaveTopology(uint64_t deleted_queue) {
  storage::StoreBatch batch = store_->NewBatch();
  batch.PutMetadata(CurrentMetadata());
  if (deleted_queue != 0) batch.DeleteQueue(deleted_queue);
  SubmitTopology(std::move(batch), "saving topology");
}

void BrokerPersistence::TopicCreated(const std::string& topic) {
  if (protocol::IsEphemeralName(topic)) return;
  topic_queues_[topic] = store_->AllocateQueueId();
  SaveTopology(0);
}

void BrokerPersistence::TopicDeleted(const std::string& topic) {
  auto it = topic_queues_.find(topic);
  if (it == topic_queues_.end()) return;
  const uint64_t queue = it->second;
  topic_queues_.erase(it);
  // Its channels' messages go with it.
  std::vector<uint64_t> channel_queues;
  for (auto channel = channel_queues_.begin(); channel != channel_queues_.end();) {
    if (channel->first.first == topic) {
      channel_queues.push_back(channel->second);
      channel_queues_.erase(channel++);
    } else {
      ++channel;
    }
  }
  storage::StoreBatch batch = store_->NewBatch();
  batch.PutMetadata(CurrentMetadata());
  batch.DeleteQueue(queue);
  for (uint64_t channel_queue : channel_queues) batch.DeleteQueue(channel_queue);
  SubmitTopology(std::move(batch), "deleting a topic");
}

void BrokerPersistence::ChannelCreated(const std::string& topic, const std::string& channel) {
  if (protocol::IsEphemeralName(topic) || protocol::IsEphemeralName(channel)) return;
  channel_queues_[{topic, channel}] = store_->AllocateQueueId();
  SaveTopology(0);
}

void BrokerPersistence::ChannelDeleted(const std::string& topic, const std::string& channel) {
  auto it = channel_queues_.find({topic, channel});
  if (it == channel_queues_.end()) return;
  const uint64_t queue = it->second;
  channel_queues_.erase(it);
  SaveTopology(queue);
}

void BrokerPersistence::PauseChanged(const std::string& topic, const std::string& channel) {
  SaveTopology(0);
}

absl::Status BrokerPersistence::PersistAll() {
  writer_->Stop();  // topology writes still queued go first; from here on, one thread writes
  const int64_t now = broker_->context()->clock->NowNs();
  std::vector<uint64_t> old_queues;
  for (const auto& [name, queue] : topic_queues_) old_queues.push_back(queue);
  for (const auto& [names, queue] : channel_queues_) old_queues.push_back(queue);

  // Every queue's messages go under a fresh queue id, in pieces; the last write switches the
  // topology to the new ids and removes the old ones, so a crash part-way keeps the previous
  // state and the pieces are removed at the next start.
  storage::StoreBatch batch = store_->NewBatch();
  size_t persisted = 0;
  auto flush_if_big = [&]() -> absl::Status {
    if (batch.byte_size() < kChunkBytes) return absl::OkStatus();
    return store_->Write(batch, /*sync=*/false);
  };
  for (Topic* topic : broker_->Topics()) {
    if (topic->ephemeral() || !topic_queues_.contains(topic->name())) continue;
    const uint64_t topic_queue = store_->AllocateQueueId();
    topic_queues_[topic->name()] = topic_queue;
    for (const Topic::Pending& pending : topic->queued()) {
      if (pending.defer_ns > 0) {
        batch.AppendDeferred(topic_queue, now + pending.defer_ns, pending.message);
      } else {
        batch.Append(topic_queue, pending.message);
      }
      ++persisted;
      NSQ_RETURN_IF_ERROR(flush_if_big());
    }
    for (Channel* channel : topic->Channels()) {
      auto key = std::make_pair(topic->name(), channel->name());
      if (channel->ephemeral() || !channel_queues_.contains(key)) continue;
      const uint64_t channel_queue = store_->AllocateQueueId();
      channel_queues_[key] = channel_queue;
      Channel::Snapshot snapshot = channel->TakeSnapshot();
      for (const protocol::Message& message : snapshot.ready) {
        batch.Append(channel_queue, message);
        ++persisted;
        NSQ_RETURN_IF_ERROR(flush_if_big());
      }
      for (const auto& [due, message] : snapshot.deferred) {
        batch.AppendDeferred(channel_queue, due, message);
        ++persisted;
        NSQ_RETURN_IF_ERROR(flush_if_big());
      }
    }
  }
  batch.PutMetadata(CurrentMetadata());
  for (uint64_t queue : old_queues) batch.DeleteQueue(queue);
  NSQ_RETURN_IF_ERROR(store_->Write(batch, /*sync=*/true));
  NSQ_LOG_INFO("store: persisted %d messages", persisted);
  return absl::OkStatus();
}

}  // namespace nsq::nsqd
