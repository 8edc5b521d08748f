#include "nsqd/shard/sharded_brokers.h"

#include <utility>

namespace nsq::nsqd {

size_t ShardedBrokers::current() const {
  const int shard = ShardSet::Current();
  return shard < 0 ? 0 : static_cast<size_t>(shard);  // start-up, before the loops run
}

void ShardedBrokers::Post(size_t shard, Task task) {
  if (shard == current()) {
    std::move(task)();
    return;
  }
  shards_->Post(static_cast<int>(shard), std::move(task));
}

}  // namespace nsq::nsqd
