#include "nsqd/broker_persistence.h"

#include <set>

#include "common/log/logger.h"
#include "common/protocol/names.h"
#include "common/util/status_macros.h"
#include "nsqd/storage/group_commit_writer.h"
#include "nsqd/storage/metadata.h"
#include "nsqd/storage/store.h"
#include "nsqd/storage/store_batch.h"

namespace nsq::nsqd {

absl::StatusOr<std::unique_ptr<BrokerPersistence>> BrokerPersistence::Open(
    const std::string& data_path, std::function<void(std::function<void()>)> post,
    const storage::SyncPolicy& sync_policy) {
  return Open(data_path, std::move(post), sync_policy, storage::StoreOptions{});
}

absl::StatusOr<std::unique_ptr<BrokerPersistence>> BrokerPersistence::Open(
    const std::string& data_path, std::function<void(std::function<void()>)> post,
    const storage::SyncPolicy& sync_policy, const storage::StoreOptions& store_options) {
  NSQ_ASSIGN_OR_RETURN(std::unique_ptr<storage::Store> store,
                       storage::Store::Open(data_path, store_options));
  storage::GroupCommitOptions options;
  options.sync_policy = sync_policy;
  options.post = std::move(post);
  auto writer = std::make_unique<storage::GroupCommitWriter>(store.get(), options);
  return std::unique_ptr<BrokerPersistence>(
      new BrokerPersistence(std::move(store), std::move(writer)));
}

BrokerPersistence::BrokerPersistence(std::unique_ptr<storage::Store> store,
                                     std::unique_ptr<storage::GroupCommitWriter> writer)
    : store_(std::move(store)),
      writer_(std::move(writer)),
      broker_store_(std::make_unique<BrokerStore>(store_.get(), writer_.get())) {}

BrokerPersistence::~BrokerPersistence() {
  writer_.reset();  // before the store it writes to; completes what is pending
  broker_store_.reset();
}

storage::GroupCommitStats BrokerPersistence::writer_stats() const { return writer_->stats(); }

storage::StoreStats BrokerPersistence::store_stats() const { return store_->GetInMemoryStats(); }

absl::Status BrokerPersistence::Restore(Broker* broker) {
  broker_ = broker;
  NSQ_ASSIGN_OR_RETURN(storage::Metadata metadata, store_->LoadMetadata());
  std::set<uint64_t> referenced;
  for (const storage::TopicMetadata& stored : metadata.topics) {
    if (!protocol::IsValidTopicName(stored.name) || protocol::IsEphemeralName(stored.name)) {
      NSQ_LOG_WARN("store: skipping topic %s (invalid name)", stored.name);
      continue;
    }
    Topic* topic = broker->GetOrCreateTopic(stored.name);
    // Held until every channel is back, so the topic's backlog reaches all of them.
    topic->HoldForChannelDiscovery();
    topic->UseStoredQueue(stored.queue_id);
    referenced.insert(stored.queue_id);
    if (stored.paused) topic->Pause();
    for (const storage::ChannelMetadata& channel_meta : stored.channels) {
      if (!protocol::IsValidChannelName(channel_meta.name) ||
          protocol::IsEphemeralName(channel_meta.name)) {
        continue;
      }
      Channel* channel = topic->GetOrCreateChannel(channel_meta.name);
      NSQ_RETURN_IF_ERROR(channel->UseStoredQueue(channel_meta.queue_id));
      referenced.insert(channel_meta.queue_id);
      if (channel_meta.paused) channel->Pause();
    }
    topic->ReleaseHold();
  }

  // Data no topology refers to: a deletion that crashed half-way. Remove it.
  storage::StoreBatch cleanup = store_->NewBatch();
  for (uint64_t queue : store_->KnownQueueIds()) {
    if (!referenced.contains(queue)) cleanup.DeleteQueue(queue);
  }
  if (!cleanup.empty()) NSQ_RETURN_IF_ERROR(store_->Write(cleanup, /*sync=*/true));

  int64_t waiting = 0;
  for (Topic* topic : broker->Topics()) {
    waiting += topic->depth();
    for (Channel* channel : topic->Channels()) {
      waiting += channel->depth() + static_cast<int64_t>(channel->deferred_count());
    }
  }
  NSQ_LOG_INFO("store: restored %d topics, %d messages waiting, from %s", metadata.topics.size(),
               waiting, store_->path());
  return absl::OkStatus();
}

storage::Metadata BrokerPersistence::CurrentMetadata() const {
  storage::Metadata metadata;
  for (Topic* topic : broker_->Topics()) {
    if (topic->queue_id() == 0) continue;  // ephemeral
    storage::TopicMetadata stored{topic->name(), topic->paused(), topic->queue_id(), {}};
    for (Channel* channel : topic->Channels()) {
      if (channel->queue_id() == 0) continue;
      stored.channels.push_back({channel->name(), channel->paused(), channel->queue_id()});
    }
    metadata.topics.push_back(std::move(stored));
  }
  return metadata;
}

void BrokerPersistence::SaveTopology(const char* what) {
  storage::StoreBatch batch = store_->NewBatch();
  batch.PutMetadata(CurrentMetadata());
  broker_store_->Submit(std::move(batch), /*sync=*/true, what, nullptr);
}

void BrokerPersistence::TopicCreated(const std::string& topic) {
  if (!protocol::IsEphemeralName(topic)) SaveTopology("saving topology");
}

void BrokerPersistence::TopicDeleted(const std::string& topic) {
  if (!protocol::IsEphemeralName(topic)) SaveTopology("deleting a topic");
}

void BrokerPersistence::ChannelCreated(const std::string& topic, const std::string& channel) {
  if (!protocol::IsEphemeralName(topic) && !protocol::IsEphemeralName(channel)) {
    SaveTopology("saving topology");
  }
}

void BrokerPersistence::ChannelDeleted(const std::string& topic, const std::string& channel) {
  if (!protocol::IsEphemeralName(topic) && !protocol::IsEphemeralName(channel)) {
    SaveTopology("deleting a channel");
  }
}

void BrokerPersistence::PauseChanged(const std::string& topic, const std::string& channel) {
  SaveTopology("saving topology");
}

absl::Status BrokerPersistence::PersistAll() {
  writer_->Stop();  // writes still queued go first; from here on this thread writes alone
  store_->StopCompactions();
  size_t persisted = 0;
  for (Topic* topic : broker_->Topics()) {
    storage::StoreBatch batch = store_->NewBatch();
    NSQ_ASSIGN_OR_RETURN(const size_t from_topic, topic->PersistForShutdown(&batch));
    persisted += from_topic;
    for (Channel* channel : topic->Channels()) {
      NSQ_ASSIGN_OR_RETURN(const size_t from_channel, channel->PersistForShutdown(&batch));
      persisted += from_channel;
    }
    if (!batch.empty()) NSQ_RETURN_IF_ERROR(store_->Write(batch, /*sync=*/false));
  }
  storage::StoreBatch topology = store_->NewBatch();
  topology.PutMetadata(CurrentMetadata());
  NSQ_RETURN_IF_ERROR(store_->Write(topology, /*sync=*/true));
  NSQ_LOG_INFO("store: persisted %d messages held in memory", persisted);
  return absl::OkStatus();
}

}  // namespace nsq::nsqd
