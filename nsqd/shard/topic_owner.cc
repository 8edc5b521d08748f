#include "nsqd/shard/topic_owner.h"

#include <cstdint>

namespace nsq::nsqd {

size_t TopicOwner(std::string_view topic, size_t shards) {
  if (shards <= 1) return 0;
  uint64_t hash = 14695981039346656037ull;  // FNV-1a, 64 bits
  for (char c : topic) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ull;
  }
  return static_cast<size_t>(hash % shards);
}

}  // namespace nsq::nsqd
