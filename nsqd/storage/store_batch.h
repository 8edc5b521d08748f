// StoreBatch: the writes of one broker operation (a PUB, an MPUB, a requeue, consumed
// ranges, a metadata change), committed as one atomic RocksDB write: all or nothing.
//
//   StoreBatch batch = store->NewBatch();
//   for (const Message& m : mpub) batch.Append(topic_queue, m);
//   writer->Submit(std::move(batch), /*sync=*/durable, [](absl::Status s) { ... });
//
// Built by one thread at a time; the sequence numbers of a queue are handed out at Append,
// so appends to one queue from one thread keep their order. A batch that fails to commit
// leaves a gap in its queue's sequences, which readers never notice.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "common/protocol/message.h"
#include "nsqd/storage/keys.h"
#include "nsqd/storage/metadata.h"

namespace nsq::nsqd::storage {

class Store;
struct QueueState;

class StoreBatch {
 public:
  StoreBatch(StoreBatch&& other) noexcept;
  StoreBatch& operator=(StoreBatch&& other) noexcept;
  ~StoreBatch();

  // Adds `messages` at the tail of `queue_id`'s backlog, as one key (chunk.h); returns the
  // first one's sequence (the others follow it).
  uint64_t Append(uint64_t queue_id, std::span<const protocol::Message> messages);
  uint64_t Append(uint64_t queue_id, const protocol::Message& message) {
    return Append(queue_id, std::span<const protocol::Message>(&message, 1));
  }
  // Stores `message` as deferred until `deliver_at_ns`; returns the key that removes it.
  DeferredKey AppendDeferred(uint64_t queue_id, int64_t deliver_at_ns,
                             const protocol::Message& message);
  // Removes a deferred entry that AppendDeferred or Store::ReadDeferred returned.
  void RemoveDeferred(const DeferredKey& key);
  // Replaces the stored metadata of `shard` (TopologyKey) and records the queue id allocator.
  void PutMetadata(const Metadata& metadata, size_t shard = 0);
  // Removes the stored metadata of `shard` (a restart with fewer shards moved its topics).
  void DeleteMetadata(size_t shard);
  // Removes every backlog and deferred message of `queue_id` (a deleted topic or channel).
  void DeleteQueue(uint64_t queue_id);

  // Commits on the calling thread (blocks on disk); see Store::Write.
  absl::Status Commit(bool sync) &&;

  bool empty() const { return ops_.empty(); }
  // Messages appended (backlog and deferred): what --sync-every counts.
  uint64_t message_count() const { return message_count_; }
  // Keys and values in bytes.
  size_t byte_size() const { return data_.size(); }

 private:
  friend class Store;
  friend class BacklogCursor;
  friend class GroupCommitWriter;

  // What a successful commit changes in the store's in-memory accounting.
  struct QueueEffect {
    std::shared_ptr<QueueState> queue;
    int64_t appended = 0;
    int64_t deferred = 0;          // added minus removed
    uint64_t backlog_deleted = 0;  // sequences covered by DeleteRange
    uint64_t delete_end = 0;       // exclusive end of the last DeleteRange
    uint64_t deferred_removed = 0;
    bool queue_deleted = false;
  };

  // One write, by column family index (store_internal.h). Kept in our own form and turned
  // into a RocksDB WriteBatch at commit, so a batch never refers to a particular DB handle.
  // Keys and values live back to back in `data_` (one allocation for the whole batch rather
  // than two per message).
  struct Op {
    enum Kind : uint8_t { kPut, kDelete, kDeleteRange } kind;
    uint8_t column_family;
    uint32_t key_size;
    uint32_t value_size;  // kPut: the value; kDeleteRange: the exclusive end key
    size_t offset;        // of the key in data_; the value follows it
  };
  std::string_view key(const Op& op) const { return {data_.data() + op.offset, op.key_size}; }
  std::string_view value(const Op& op) const {
    return {data_.data() + op.offset + op.key_size, op.value_size};
  }

  explicit StoreBatch(Store* store);
  void AddOp(Op::Kind kind, int column_family, std::string_view key, std::string_view value = {});
  // A kPut of `message`, encoded straight into data_.
  void AddMessagePut(int column_family, std::string_view key, const protocol::Message& message);
  QueueEffect& Effect(uint64_t queue_id);
  // Removes the backlog keys [begin, end) of `queue_id` (begin may equal end) and records
  // `head` (>= the start of the first key left) as its first unconsumed sequence.
  void DeleteBacklogRange(uint64_t queue_id, uint64_t begin, uint64_t end, uint64_t head);
  // Writes `messages` as one key at sequence `first` (Append, or a put-back below the head).
  void PutChunk(uint64_t queue_id, uint64_t first, std::span<const protocol::Message> messages);
  // Removes every deferred message of `queue_id`.
  void DeleteAllDeferred(uint64_t queue_id);
  void Clear();

  Store* store_;
  std::vector<Op> ops_;
  std::string data_;
  std::vector<std::pair<uint64_t, QueueEffect>> effects_;  // few entries: a linear scan
  uint64_t message_count_ = 0;
};

}  // namespace nsq::nsqd::storage
