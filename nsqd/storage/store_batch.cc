#include "nsqd/storage/store_batch.h"

#include <algorithm>
#include <limits>

#include "nsqd/storage/chunk.h"
#include "nsqd/storage/store.h"
#include "nsqd/storage/store_internal.h"

namespace nsq::nsqd::storage {
namespace {

std::string DeferredQueueBegin(uint64_t queue_id) {
  return EncodeDeferredKey({queue_id, std::numeric_limits<int64_t>::min(), 0});
}

}  // namespace

StoreBatch::StoreBatch(Store* store) : store_(store) {}

StoreBatch::StoreBatch(StoreBatch&& other) noexcept = default;
StoreBatch& StoreBatch::operator=(StoreBatch&& other) noexcept = default;
StoreBatch::~StoreBatch() = default;

StoreBatch::QueueEffect& StoreBatch::Effect(uint64_t queue_id) {
  for (auto& [id, effect] : effects_) {
    if (id == queue_id) return effect;
  }
  effects_.emplace_back(queue_id, QueueEffect{.queue = store_->Queue(queue_id)});
  return effects_.back().second;
}

void StoreBatch::AddOp(Op::Kind kind, int column_family, std::string_view key,
                       std::string_view value) {
  ops_.push_back({kind, static_cast<uint8_t>(column_family), static_cast<uint32_t>(key.size()),
                  static_cast<uint32_t>(value.size()), data_.size()});
  data_.append(key);
  data_.append(value);
}

void StoreBatch::AddMessagePut(int column_family, std::string_view key,
                               const protocol::Message& message) {
  const size_t offset = data_.size();
  data_.append(key);
  protocol::EncodeMessage(message, &data_);
  ops_.push_back({Op::kPut, static_cast<uint8_t>(column_family),
                  static_cast<uint32_t>(key.size()),
                  static_cast<uint32_t>(data_.size() - offset - key.size()), offset});
}

uint64_t StoreBatch::Append(uint64_t queue_id, std::span<const protocol::Message> messages) {
  QueueEffect& effect = Effect(queue_id);
  const uint64_t first = effect.queue->next_sequence.fetch_add(messages.size());
  PutChunk(queue_id, first, messages);
  return first;
}

void StoreBatch::PutChunk(uint64_t queue_id, uint64_t first,
                          std::span<const protocol::Message> messages) {
  QueueEffect& effect = Effect(queue_id);
  const std::string key = BacklogKey(queue_id, first);
  ops_.push_back({Op::kPut, static_cast<uint8_t>(kQueueCf), static_cast<uint32_t>(key.size()), 0,
                  data_.size()});
  data_.append(key);
  const size_t value_start = data_.size();
  AppendChunk(messages, &data_);
  ops_.back().value_size = static_cast<uint32_t>(data_.size() - value_start);
  effect.appended += static_cast<int64_t>(messages.size());
  message_count_ += messages.size();
  // A put-back below a range deleted in this batch: the range is no longer all deleted, so it
  // must not be treated as such (compaction drops files of wholly deleted ranges).
  if (first < effect.delete_end) effect.delete_end = first;
}

DeferredKey StoreBatch::AppendDeferred(uint64_t queue_id, int64_t deliver_at_ns,
                                       const protocol::Message& message) {
  QueueEffect& effect = Effect(queue_id);
  const DeferredKey key{queue_id, deliver_at_ns, effect.queue->next_deferred_sequence.fetch_add(1)};
  AddMessagePut(kDeferredCf, EncodeDeferredKey(key), message);
  ++effect.deferred;
  ++message_count_;
  return key;
}

void StoreBatch::RemoveDeferred(const DeferredKey& key) {
  QueueEffect& effect = Effect(key.queue_id);
  AddOp(Op::kDelete, kDeferredCf, EncodeDeferredKey(key));
  --effect.deferred;
  ++effect.deferred_removed;
}

void StoreBatch::PutMetadata(const Metadata& metadata, size_t shard) {
  // Make sure the saved allocator is past every id the metadata mentions.
  uint64_t max_id = 0;
  for (const TopicMetadata& topic : metadata.topics) {
    max_id = std::max(max_id, topic.queue_id);
    for (const ChannelMetadata& channel : topic.channels) {
      max_id = std::max(max_id, channel.queue_id);
    }
  }
  uint64_t next = store_->next_queue_id_.load();
  while (next <= max_id && !store_->next_queue_id_.compare_exchange_weak(next, max_id + 1)) {
  }
  AddOp(Op::kPut, kMetaCf, TopologyKey(shard), EncodeMetadata(metadata));
  AddOp(Op::kPut, kMetaCf, std::string(kNextQueueIdKey),
        EncodeUint64(store_->next_queue_id_.load()));
}

void StoreBatch::DeleteMetadata(size_t shard) {
  AddOp(Op::kDelete, kMetaCf, TopologyKey(shard));
}

void StoreBatch::DeleteQueue(uint64_t queue_id) {
  QueueEffect& effect = Effect(queue_id);
  AddOp(Op::kDeleteRange, kQueueCf, BacklogKey(queue_id, 0), BacklogKey(queue_id, kMaxSequence));
  AddOp(Op::kDeleteRange, kDeferredCf, DeferredQueueBegin(queue_id), DeferredQueueEnd(queue_id));
  AddOp(Op::kDelete, kMetaCf, HeadKey(queue_id));
  effect.queue_deleted = true;
}

void StoreBatch::DeleteBacklogRange(uint64_t queue_id, uint64_t begin, uint64_t end,
                                    uint64_t head) {
  QueueEffect& effect = Effect(queue_id);
  if (begin < end) {
    AddOp(Op::kDeleteRange, kQueueCf, BacklogKey(queue_id, begin), BacklogKey(queue_id, end));
    effect.backlog_deleted += end - begin;
    effect.delete_end = std::max(effect.delete_end, end);
  }
  // The watermark keeps sequences increasing across a restart even when the range is empty,
  // and says where in the first key left the unconsumed messages start.
  AddOp(Op::kPut, kMetaCf, HeadKey(queue_id), EncodeUint64(head));
}

void StoreBatch::DeleteAllDeferred(uint64_t queue_id) {
  QueueEffect& effect = Effect(queue_id);
  AddOp(Op::kDeleteRange, kDeferredCf, DeferredQueueBegin(queue_id), DeferredQueueEnd(queue_id));
  effect.queue->deferred_depth = 0;
}

absl::Status StoreBatch::Commit(bool sync) && { return store_->Write(*this, sync); }

void StoreBatch::Clear() {
  ops_.clear();
  data_.clear();
  effects_.clear();
  message_count_ = 0;
}

}  // namespace nsq::nsqd::storage
