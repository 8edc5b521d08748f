#include "common/protocol/guid.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <set>

namespace nsq::protocol {
namespace {

constexpr int64_t kEpoch = 1288834974288;

// The Unix time, in ns, at the start of the tick `ticks` after the guid epoch.
int64_t TickStart(int64_t ticks) { return (kEpoch + ticks) << 20; }

TEST_CASE("an id packs the tick, the node id and the sequence") {
  GuidGenerator generator(5);
  CHECK(generator.NextRaw(TickStart(1000)) == (uint64_t{1000} << 22 | 5 << 12 | 0));
  CHECK(generator.NextRaw(TickStart(1000) + 1) == (uint64_t{1000} << 22 | 5 << 12 | 1));
  // A new tick resets the sequence.
  CHECK(generator.NextRaw(TickStart(1001)) == (uint64_t{1001} << 22 | 5 << 12 | 0));
}

TEST_CASE("Next is the hex form of the raw id") {
  GuidGenerator raw(7);
  GuidGenerator hex(7);
  const int64_t now = TickStart(123456);
  for (int i = 0; i < 3; ++i) {
    CHECK(hex.Next(now) == MessageId::FromUint64(raw.NextRaw(now)));
  }
}

TEST_CASE("10000 ids in one tick are unique and strictly increasing") {
  GuidGenerator generator(1);
  const int64_t now = TickStart(5000);
  uint64_t previous = 0;
  std::set<uint64_t> seen;
  for (int i = 0; i < 10000; ++i) {
    const uint64_t id = generator.NextRaw(now);
    CHECK(id > previous);
    previous = id;
    seen.insert(id);
  }
  CHECK(seen.size() == 10000);
  // 10000 ids need three ticks of 4096: the generator borrowed two.
  CHECK((previous >> 22) == 5002);
}

TEST_CASE("after a burst the real clock takes over once it passes the borrowed ticks") {
  GuidGenerator generator(1);
  for (int i = 0; i < 4097; ++i) generator.NextRaw(TickStart(10));
  // The burst borrowed tick 11; tick 11 itself must continue its sequence, not restart it.
  const uint64_t in_borrowed_tick = generator.NextRaw(TickStart(11));
  CHECK(in_borrowed_tick == (uint64_t{11} << 22 | 1 << 12 | 1));
  CHECK(generator.NextRaw(TickStart(12)) == (uint64_t{12} << 22 | 1 << 12 | 0));
}

TEST_CASE("ids keep increasing when the clock goes backwards") {
  GuidGenerator generator(3);
  const uint64_t before = generator.NextRaw(TickStart(2000));
  uint64_t previous = before;
  for (int64_t ticks : {1990, 1500, 1999, 2000}) {
    const uint64_t id = generator.NextRaw(TickStart(ticks));
    CHECK(id > previous);
    previous = id;
  }
  // Still within the last tick we used: the clock step back only consumed sequence numbers.
  CHECK((previous >> 22) == 2000);
  CHECK(generator.NextRaw(TickStart(2001)) > previous);
}

TEST_CASE("a clock before the guid epoch does not produce negative timestamps") {
  GuidGenerator generator(0);
  CHECK(generator.NextRaw(0) == 0);
  CHECK(generator.NextRaw(0) == 1);
  CHECK(generator.NextRaw(TickStart(1)) == uint64_t{1} << 22);
}

TEST_CASE("generators with different node ids never collide") {
  GuidGenerator a(1);
  GuidGenerator b(2);
  std::set<uint64_t> seen;
  for (int i = 0; i < 5000; ++i) {
    seen.insert(a.NextRaw(TickStart(77)));
    seen.insert(b.NextRaw(TickStart(77)));
  }
  CHECK(seen.size() == 10000);
}

TEST_CASE("the largest node id fits its 10 bits") {
  GuidGenerator generator(1023);
  CHECK(generator.NextRaw(TickStart(1)) == (uint64_t{1} << 22 | uint64_t{1023} << 12));
}

}  // namespace
}  // namespace nsq::protocol
