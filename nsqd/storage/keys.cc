#include "nsqd/storage/keys.h"

#include "common/protocol/big_endian.h"

namespace nsq::nsqd::storage {
namespace {

using protocol::LoadBigEndian64;
using protocol::StoreBigEndian64;

// Flipping the sign bit maps int64 order onto uint64 order: INT64_MIN -> 0, -1 -> 2^63 - 1,
// 0 -> 2^63. A plain cast would sort negative due times after every positive one.
uint64_t OrderedDeliverAt(int64_t ns) { return static_cast<uint64_t>(ns) ^ (uint64_t{1} << 63); }
int64_t DeliverAtFromOrdered(uint64_t v) { return static_cast<int64_t>(v ^ (uint64_t{1} << 63)); }

std::string Key3(uint64_t a, uint64_t b, uint64_t c) {
  std::string key(kDeferredKeySize, '\0');
  StoreBigEndian64(key.data(), a);
  StoreBigEndian64(key.data() + 8, b);
  StoreBigEndian64(key.data() + 16, c);
  return key;
}

}  // namespace

std::string BacklogKey(uint64_t queue_id, uint64_t sequence) {
  std::string key(kBacklogKeySize, '\0');
  StoreBigEndian64(key.data(), queue_id);
  StoreBigEndian64(key.data() + 8, sequence);
  return key;
}

bool ParseBacklogKey(std::string_view key, uint64_t* queue_id, uint64_t* sequence) {
  if (key.size() != kBacklogKeySize) return false;
  *queue_id = LoadBigEndian64(key.data());
  *sequence = LoadBigEndian64(key.data() + 8);
  return true;
}

std::string EncodeDeferredKey(const DeferredKey& key) {
  return Key3(key.queue_id, OrderedDeliverAt(key.deliver_at_ns), key.sequence);
}

bool ParseDeferredKey(std::string_view bytes, DeferredKey* out) {
  if (bytes.size() != kDeferredKeySize) return false;
  out->queue_id = LoadBigEndian64(bytes.data());
  out->deliver_at_ns = DeliverAtFromOrdered(LoadBigEndian64(bytes.data() + 8));
  out->sequence = LoadBigEndian64(bytes.data() + 16);
  return true;
}

std::string DeferredKeyAfter(uint64_t queue_id, int64_t deliver_at_ns) {
  const uint64_t ordered = OrderedDeliverAt(deliver_at_ns);
  if (ordered == kMaxSequence) return DeferredQueueEnd(queue_id);
  return Key3(queue_id, ordered + 1, 0);
}

std::string DeferredQueueEnd(uint64_t queue_id) {
  // Queue ids never reach the maximum (see Store::AllocateQueueId), so +1 cannot wrap.
  std::string key(8, '\0');
  StoreBigEndian64(key.data(), queue_id + 1);
  return key;
}

std::string HeadKey(uint64_t queue_id) {
  std::string key(kHeadKeyPrefix);
  key.resize(kHeadKeyPrefix.size() + 8);
  StoreBigEndian64(key.data() + kHeadKeyPrefix.size(), queue_id);
  return key;
}

bool ParseHeadKey(std::string_view key, uint64_t* queue_id) {
  if (key.size() != kHeadKeyPrefix.size() + 8 || !key.starts_with(kHeadKeyPrefix)) return false;
  *queue_id = LoadBigEndian64(key.data() + kHeadKeyPrefix.size());
  return true;
}

std::string TopologyKey(size_t shard) {
  std::string key(kTopologyKey);
  if (shard != 0) {
    key += '/';
    key += std::to_string(shard);
  }
  return key;
}

bool ParseTopologyKey(std::string_view key, size_t* shard) {
  if (key == kTopologyKey) {
    *shard = 0;
    return true;
  }
  if (key.size() <= kTopologyKey.size() + 1 || key.substr(0, kTopologyKey.size()) != kTopologyKey ||
      key[kTopologyKey.size()] != '/') {
    return false;
  }
  key.remove_prefix(kTopologyKey.size() + 1);
  // Canonical decimal only (no sign, no leading zero), so one shard has one key.
  if (key.front() == '0' || key.size() > 9) return false;
  size_t value = 0;
  for (char c : key) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<size_t>(c - '0');
  }
  *shard = value;
  return true;
}

std::string EncodeUint64(uint64_t value) {
  std::string out(8, '\0');
  StoreBigEndian64(out.data(), value);
  return out;
}

bool DecodeUint64(std::string_view bytes, uint64_t* value) {
  if (bytes.size() != 8) return false;
  *value = LoadBigEndian64(bytes.data());
  return true;
}

}  // namespace nsq::nsqd::storage
