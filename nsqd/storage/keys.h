// Key layouts of the store's column families, as pure byte functions (no RocksDB) so the
// layout is in one place and unit-testable. All integers are fixed-width big-endian, so
// RocksDB's default bytewise order is numeric order.
//
//   queue:    queue_id(8) | first sequence(8)                 -> chunk (chunk.h)
//   deferred: queue_id(8) | deliver_at(8, offset) | sequence(8) -> encoded message
//   meta:     "topology"            -> EncodeMetadata(...) of shard 0's topics
//             "topology/" shard     -> the same for shard 1, 2, ... (decimal)
//             "next_queue_id"       -> uint64
//             "head/" queue_id(8)   -> uint64: first sequence not yet consumed
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace nsq::nsqd::storage {

inline constexpr size_t kBacklogKeySize = 16;
inline constexpr size_t kDeferredKeySize = 24;

// A new queue's first sequence is kFirstSequence, not 0, so there is room before the head
// for BacklogCursor::ReplaceRead (a clean shutdown puts memory messages in front of the
// backlog). kMaxSequence is never assigned, so BacklogKey(q, kMaxSequence) is an exclusive
// upper bound for every key of queue q.
inline constexpr uint64_t kFirstSequence = uint64_t{1} << 62;
inline constexpr uint64_t kMaxSequence = ~uint64_t{0};

inline constexpr std::string_view kTopologyKey = "topology";
inline constexpr std::string_view kNextQueueIdKey = "next_queue_id";
inline constexpr std::string_view kHeadKeyPrefix = "head/";

// Each of nsqd's shards keeps the topology of the topics it owns under a key of its own, so
// shards save theirs without coordinating. Shard 0's is kTopologyKey (a store written before
// there were shards has only that one).
std::string TopologyKey(size_t shard);
// Returns false unless `key` is one TopologyKey made.
bool ParseTopologyKey(std::string_view key, size_t* shard);

std::string BacklogKey(uint64_t queue_id, uint64_t sequence);
// Returns false unless `key` is exactly kBacklogKeySize bytes.
bool ParseBacklogKey(std::string_view key, uint64_t* queue_id, uint64_t* sequence);

// Where one deferred message lives; returned by StoreBatch::AppendDeferred and needed to remove
// the entry again.
struct DeferredKey {
  uint64_t queue_id = 0;
  int64_t deliver_at_ns = 0;  // unix ns; negative values sort before positive ones
  uint64_t sequence = 0;      // tie-break: insertion order among equal due times

  auto operator<=>(const DeferredKey&) const = default;
};

std::string EncodeDeferredKey(const DeferredKey& key);
bool ParseDeferredKey(std::string_view bytes, DeferredKey* out);
// The smallest key of queue `queue_id` due after `deliver_at_ns` (an exclusive read bound).
std::string DeferredKeyAfter(uint64_t queue_id, int64_t deliver_at_ns);
// The first key of the next queue: exclusive upper bound of all of `queue_id`'s entries.
std::string DeferredQueueEnd(uint64_t queue_id);

std::string HeadKey(uint64_t queue_id);
bool ParseHeadKey(std::string_view key, uint64_t* queue_id);

std::string EncodeUint64(uint64_t value);
bool DecodeUint64(std::string_view bytes, uint64_t* value);

}  // namespace nsq::nsqd::storage
