// Which shard owns a topic: its channels, queues, timers and store writes live on that shard's
// loop alone. A pure function of the name and the shard count (FNV-1a), the same in every run,
// so any shard can tell where a topic lives without asking.
#pragma once

#include <cstddef>
#include <string_view>

namespace nsq::nsqd {

// In [0, shards); 0 when `shards` is 0 or 1.
size_t TopicOwner(std::string_view topic, size_t shards);

}  // namespace nsq::nsqd
