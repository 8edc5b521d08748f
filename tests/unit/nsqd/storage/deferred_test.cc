// Deferred messages: DPUB and REQ with a delay, ordered by due time in the store.
#include <doctest/doctest.h>

#include <vector>

#include "nsqd/storage/store.h"
#include "tests/testutil/temp_dir.h"
#include "tests/unit/nsqd/storage/store_test_util.h"

namespace nsq::nsqd::storage {
namespace {

using testing::MessageNumber;
using testing::NumberedMessage;
using testing::OpenStore;
using testutil::TempDir;

std::vector<uint64_t> Numbers(const std::vector<DeferredEntry>& entries) {
  std::vector<uint64_t> out;
  for (const DeferredEntry& e : entries) out.push_back(MessageNumber(e.message));
  return out;
}

TEST_CASE("deferred messages come out earliest due first, ties in insertion order") {
  TempDir dir("store");
  auto store = OpenStore(dir.File("db"));
  const uint64_t queue = store->AllocateQueueId();
  const uint64_t other = store->AllocateQueueId();
  StoreBatch batch = store->NewBatch();
  batch.AppendDeferred(queue, 3000, NumberedMessage(3));
  batch.AppendDeferred(queue, 1000, NumberedMessage(1));
  batch.AppendDeferred(queue, 2000, NumberedMessage(20));
  batch.AppendDeferred(queue, 2000, NumberedMessage(21));
  batch.AppendDeferred(queue, -50, NumberedMessage(0));
  batch.AppendDeferred(other, 1, NumberedMessage(99));
  REQUIRE(std::move(batch).Commit(false).ok());

  auto all = store->ReadDeferred(queue, 100);
  REQUIRE(all.ok());
  CHECK(Numbers(*all) == std::vector<uint64_t>{0, 1, 20, 21, 3});
  CHECK(store->GetQueueStats(queue).deferred_depth == 5);
  CHECK(store->GetQueueStats(other).deferred_depth == 1);

  auto first_two = store->ReadDeferred(queue, 2);
  REQUIRE(first_two.ok());
  CHECK(Numbers(*first_two) == std::vector<uint64_t>{0, 1});
}

TEST_CASE("ReadDeferred with a due time returns only what is due by then") {
  TempDir dir("store");
  auto store = OpenStore(dir.File("db"));
  const uint64_t queue = store->AllocateQueueId();
  StoreBatch batch = store->NewBatch();
  for (uint64_t i = 1; i <= 10; ++i) {
    batch.AppendDeferred(queue, static_cast<int64_t>(i * 100), NumberedMessage(i));
  }
  REQUIRE(std::move(batch).Commit(false).ok());
  auto due = store->ReadDeferred(queue, 100, /*due_at_or_before_ns=*/500);
  REQUIRE(due.ok());
  CHECK(Numbers(*due) == std::vector<uint64_t>{1, 2, 3, 4, 5});
  auto none = store->ReadDeferred(queue, 100, 99);
  REQUIRE(none.ok());
  CHECK(none->empty());
}

TEST_CASE("a delivered deferred message is removed for good") {
  TempDir dir("store");
  uint64_t queue = 0;
  {
    auto store = OpenStore(dir.File("db"));
    queue = store->AllocateQueueId();
    StoreBatch batch = store->NewBatch();
    const DeferredKey first = batch.AppendDeferred(queue, 10, NumberedMessage(1));
    batch.AppendDeferred(queue, 20, NumberedMessage(2));
    REQUIRE(std::move(batch).Commit(false).ok());

    auto due = store->ReadDeferred(queue, 1, 15);
    REQUIRE(due.ok());
    REQUIRE(due->size() == 1);
    CHECK((*due)[0].key == first);
    StoreBatch remove = store->NewBatch();
    remove.RemoveDeferred((*due)[0].key);
    REQUIRE(std::move(remove).Commit(false).ok());
    CHECK(store->GetQueueStats(queue).deferred_depth == 1);
  }
  auto store = OpenStore(dir.File("db"));
  CHECK(store->GetQueueStats(queue).deferred_depth == 1);
  auto rest = store->ReadDeferred(queue, 100);
  REQUIRE(rest.ok());
  CHECK(Numbers(*rest) == std::vector<uint64_t>{2});
}

TEST_CASE("deferred entries added after a reopen never overwrite older ones with the same due time") {
  TempDir dir("store");
  uint64_t queue = 0;
  {
    auto store = OpenStore(dir.File("db"));
    queue = store->AllocateQueueId();
    StoreBatch batch = store->NewBatch();
    batch.AppendDeferred(queue, 500, NumberedMessage(1));
    batch.AppendDeferred(queue, 500, NumberedMessage(2));
    REQUIRE(std::move(batch).Commit(false).ok());
  }
  auto store = OpenStore(dir.File("db"));
  StoreBatch batch = store->NewBatch();
  const DeferredKey key = batch.AppendDeferred(queue, 500, NumberedMessage(3));
  CHECK(key.sequence == 2);
  REQUIRE(std::move(batch).Commit(false).ok());
  auto all = store->ReadDeferred(queue, 100);
  REQUIRE(all.ok());
  CHECK(Numbers(*all) == std::vector<uint64_t>{1, 2, 3});
  CHECK(store->GetQueueStats(queue).deferred_depth == 3);
}

}  // namespace
}  // namespace nsq::nsqd::storage
