#include "nsqd/storage/keys.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

namespace nsq::nsqd::storage {
namespace {

TEST_CASE("backlog keys sort by queue id, then by sequence, as bytes") {
  const std::vector<std::pair<uint64_t, uint64_t>> ordered = {
      {1, 0}, {1, 1}, {1, 255}, {1, 256}, {1, uint64_t{1} << 40}, {2, 0}, {256, 3}};
  for (size_t i = 1; i < ordered.size(); ++i) {
    CHECK(BacklogKey(ordered[i - 1].first, ordered[i - 1].second) <
          BacklogKey(ordered[i].first, ordered[i].second));
  }
  CHECK(BacklogKey(1, kMaxSequence - 1) < BacklogKey(1, kMaxSequence));
  CHECK(BacklogKey(1, kMaxSequence) < BacklogKey(2, 0));
}

TEST_CASE("a backlog key parses back to its queue id and sequence") {
  uint64_t queue = 0;
  uint64_t sequence = 0;
  REQUIRE(ParseBacklogKey(BacklogKey(0x0102030405060708, 42), &queue, &sequence));
  CHECK(queue == 0x0102030405060708);
  CHECK(sequence == 42);
  CHECK(BacklogKey(1, 2).size() == kBacklogKeySize);
  CHECK_FALSE(ParseBacklogKey("short", &queue, &sequence));
}

TEST_CASE("deferred keys sort by queue, then due time (negative before positive), then sequence") {
  const int64_t kMin = std::numeric_limits<int64_t>::min();
  const int64_t kMax = std::numeric_limits<int64_t>::max();
  const std::vector<DeferredKey> ordered = {
      {1, kMin, 0}, {1, -5, 9}, {1, -1, 0}, {1, 0, 0}, {1, 0, 1},
      {1, 1, 0},    {1, 1000, 0}, {1, kMax, 0}, {2, kMin, 0}};
  for (size_t i = 1; i < ordered.size(); ++i) {
    CHECK(EncodeDeferredKey(ordered[i - 1]) < EncodeDeferredKey(ordered[i]));
  }
}

TEST_CASE("a deferred key round-trips, including negative due times") {
  for (const DeferredKey& key : {DeferredKey{7, -123456789, 3}, DeferredKey{7, 1'700'000'000, 0},
                                 DeferredKey{1, std::numeric_limits<int64_t>::min(), 5}}) {
    DeferredKey parsed;
    REQUIRE(ParseDeferredKey(EncodeDeferredKey(key), &parsed));
    CHECK(parsed == key);
  }
  DeferredKey parsed;
  CHECK_FALSE(ParseDeferredKey(BacklogKey(1, 1), &parsed));
}

TEST_CASE("deferred read bounds include the due time and exclude the next queue") {
  const std::string at_10 = EncodeDeferredKey({4, 10, kMaxSequence});
  const std::string at_11 = EncodeDeferredKey({4, 11, 0});
  CHECK(at_10 < DeferredKeyAfter(4, 10));
  CHECK_FALSE(at_11 < DeferredKeyAfter(4, 10));
  CHECK(EncodeDeferredKey({4, std::numeric_limits<int64_t>::max(), kMaxSequence}) <
        DeferredQueueEnd(4));
  CHECK_FALSE(EncodeDeferredKey({5, std::numeric_limits<int64_t>::min(), 0}) <
              DeferredQueueEnd(4));
  CHECK(DeferredKeyAfter(4, std::numeric_limits<int64_t>::max()) == DeferredQueueEnd(4));
}

TEST_CASE("each shard's topology key is its own, and nothing else parses as one") {
  CHECK(TopologyKey(0) == kTopologyKey);  // the key of a store written before shards
  size_t shard = 99;
  for (size_t k : {size_t{0}, size_t{1}, size_t{7}, size_t{10}, size_t{123}}) {
    REQUIRE(ParseTopologyKey(TopologyKey(k), &shard));
    CHECK(shard == k);
  }
  CHECK(TopologyKey(1) != TopologyKey(10));
  for (const char* other : {"topology/", "topology/0", "topology/01", "topology/x", "topology1",
                            "topology/1x", "topologies", "head/", "topology/1234567890"}) {
    CAPTURE(other);
    CHECK_FALSE(ParseTopologyKey(other, &shard));
  }
}

TEST_CASE("head keys and integers round-trip") {
  uint64_t queue = 0;
  REQUIRE(ParseHeadKey(HeadKey(99), &queue));
  CHECK(queue == 99);
  CHECK_FALSE(ParseHeadKey("head/", &queue));
  CHECK_FALSE(ParseHeadKey(std::string(kTopologyKey), &queue));
  uint64_t value = 0;
  REQUIRE(DecodeUint64(EncodeUint64(0xdeadbeefcafe), &value));
  CHECK(value == 0xdeadbeefcafe);
  CHECK_FALSE(DecodeUint64("1234567", &value));
}

}  // namespace
}  // namespace nsq::nsqd::storage
