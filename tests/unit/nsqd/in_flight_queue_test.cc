#include "nsqd/broker/in_flight_queue.h"

#include <doctest/doctest.h>

#include <random>

namespace nsq::nsqd {
namespace {

protocol::Message MessageWithId(uint64_t n) {
  protocol::Message message;
  message.id = protocol::MessageId::FromUint64(n);
  return message;
}

TEST_CASE("in-flight entries expire in deadline order whatever the insertion order") {
  InFlightQueue queue;
  std::vector<int64_t> deadlines = {50, 10, 40, 30, 20};
  for (size_t i = 0; i < deadlines.size(); ++i) {
    REQUIRE(queue.Push(MessageWithId(i), nullptr, 0, deadlines[i]));
  }
  CHECK(queue.NextDeadline() == 10);
  CHECK_FALSE(queue.PopExpired(9).has_value());
  std::vector<int64_t> popped;
  while (auto entry = queue.PopExpired(100)) popped.push_back(entry->deadline_ns);
  CHECK(popped == std::vector<int64_t>{10, 20, 30, 40, 50});
  CHECK(queue.empty());
}

TEST_CASE("a message id can be in flight only once") {
  InFlightQueue queue;
  CHECK(queue.Push(MessageWithId(7), nullptr, 0, 5));
  CHECK_FALSE(queue.Push(MessageWithId(7), nullptr, 0, 9));
  CHECK(queue.size() == 1);
}

TEST_CASE("removing entries by id keeps the deadline order of the rest") {
  InFlightQueue queue;
  std::mt19937_64 rng(42);
  std::vector<int64_t> deadlines;
  for (uint64_t i = 0; i < 500; ++i) {
    int64_t deadline = static_cast<int64_t>(rng() % 10000);
    deadlines.push_back(deadline);
    REQUIRE(queue.Push(MessageWithId(i), nullptr, 0, deadline));
  }
  for (uint64_t i = 0; i < 500; i += 3) REQUIRE(queue.Remove(protocol::MessageId::FromUint64(i)));
  CHECK_FALSE(queue.Remove(protocol::MessageId::FromUint64(0)).has_value());
  int64_t last = -1;
  size_t count = 0;
  while (auto entry = queue.PopExpired(1 << 30)) {
    CHECK(entry->deadline_ns >= last);
    last = entry->deadline_ns;
    ++count;
  }
  CHECK(count == 500 - 167);
}

TEST_CASE("moving a deadline later or earlier re-sorts the entry") {
  InFlightQueue queue;
  REQUIRE(queue.Push(MessageWithId(1), nullptr, 0, 10));
  REQUIRE(queue.Push(MessageWithId(2), nullptr, 0, 20));
  queue.UpdateDeadline(queue.Find(protocol::MessageId::FromUint64(1)), 30);
  CHECK(queue.PopExpired(25)->message.id == protocol::MessageId::FromUint64(2));
  queue.UpdateDeadline(queue.Find(protocol::MessageId::FromUint64(1)), 5);
  CHECK(queue.NextDeadline() == 5);
}

TEST_CASE("entries owned by one consumer are removed together, oldest deadline first") {
  InFlightQueue queue;
  int a = 0, b = 0;
  auto* owner_a = reinterpret_cast<Consumer*>(&a);
  auto* owner_b = reinterpret_cast<Consumer*>(&b);
  REQUIRE(queue.Push(MessageWithId(1), owner_a, 0, 30));
  REQUIRE(queue.Push(MessageWithId(2), owner_b, 0, 10));
  REQUIRE(queue.Push(MessageWithId(3), owner_a, 0, 20));
  auto removed = queue.RemoveOwnedBy(owner_a);
  REQUIRE(removed.size() == 2);
  CHECK(removed[0].deadline_ns == 20);
  CHECK(removed[1].deadline_ns == 30);
  CHECK(queue.size() == 1);
  CHECK(queue.NextDeadline() == 10);
}

}  // namespace
}  // namespace nsq::nsqd
