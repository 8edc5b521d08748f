// ShardedBrokers: the BrokerSet of a running nsqd: shard k's broker lives on ShardSet loop k,
// and work for another shard goes there with ShardSet::Post (batched per turn of the loop).
#pragma once

#include <vector>

#include "nsqd/broker/broker_set.h"
#include "nsqd/shard/shard_set.h"

namespace nsq::nsqd {

class ShardedBrokers final : public BrokerSet {
 public:
  // `brokers[k]` is shard k's; one per shard of `shards`.
  ShardedBrokers(ShardSet* shards, std::vector<Broker*> brokers)
      : shards_(shards), brokers_(std::move(brokers)) {}

  size_t size() const override { return brokers_.size(); }
  size_t current() const override;
  Broker& broker(size_t shard) override { return *brokers_[shard]; }
  void Post(size_t shard, Task task) override;

 private:
  ShardSet* shards_;
  std::vector<Broker*> brokers_;
};

}  // namespace nsq::nsqd
