#include "nsqd/broker/broker_set.h"

#include <algorithm>
#include <utility>

#include "nsqd/shard/topic_owner.h"

namespace nsq::nsqd {

size_t BrokerSet::OwnerOf(std::string_view topic) const { return TopicOwner(topic, size()); }

void BrokerSet::OnOwner(std::string_view topic, BrokerTask task) {
  const size_t owner = OwnerOf(topic);
  Post(owner, [this, owner, task = std::move(task)]() mutable { std::move(task)(broker(owner)); });
}

void BrokerSet::OnEach(std::function<void(Broker&)> task) {
  for (size_t shard = 0; shard < size(); ++shard) {
    Post(shard, [this, shard, task] { task(broker(shard)); });
  }
}

namespace {

// What GatherStats has collected so far. Lives on the asking shard, which deletes it after the
// last answer: `done` may hold what must be released there.
struct StatsGathering {
  size_t waiting = 0;
  BrokerStats merged;
  std::function<void(BrokerStats)> done;

  // True when this was the last answer (done has run).
  bool Add(BrokerStats stats, bool found) {
    if (found) merged.topic_found = true;
    for (TopicStats& topic : stats.topics) merged.topics.push_back(std::move(topic));
    for (ClientStats& producer : stats.producers) merged.producers.push_back(std::move(producer));
    if (--waiting > 0) return false;
    std::sort(merged.topics.begin(), merged.topics.end(),
              [](const TopicStats& a, const TopicStats& b) { return a.topic_name < b.topic_name; });
    done(std::move(merged));
    return true;
  }
};

}  // namespace

void GatherStats(BrokerSet& brokers, const std::string& topic_filter,
                 const std::string& channel_filter, bool include_clients,
                 std::function<void(BrokerStats)> done) {
  const size_t home = brokers.current();
  auto* gathering = new StatsGathering;
  gathering->waiting = brokers.size();
  gathering->done = std::move(done);
  gathering->merged.topic_found = topic_filter.empty();
  const size_t owner = topic_filter.empty() ? 0 : brokers.OwnerOf(topic_filter);
  for (size_t shard = 0; shard < brokers.size(); ++shard) {
    brokers.Post(shard, [&brokers, shard, home, owner, gathering, topic_filter, channel_filter,
                         include_clients] {
      // With a filter, the other shards give only their producers (with their publish counts
      // to that topic, as Broker::Stats keeps them).
      BrokerStats stats = brokers.broker(shard).Stats(topic_filter, channel_filter,
                                                      include_clients);
      const bool found = !topic_filter.empty() && shard == owner && stats.topic_found;
      if (!topic_filter.empty() && shard != owner) stats.topics.clear();
      brokers.Post(home, [gathering, stats = std::move(stats), found]() mutable {
        if (gathering->Add(std::move(stats), found)) delete gathering;
      });
    });
  }
}

}  // namespace nsq::nsqd
