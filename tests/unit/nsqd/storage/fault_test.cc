// Write failures (I/O error, disk full, torn writes) injected under a real RocksDB: the store
// returns an error status, never crashes, loses nothing already committed, and recovers once
// the disk works again.
#include <doctest/doctest.h>

#include <future>

#include "nsqd/storage/backlog_cursor.h"
#include "nsqd/storage/fault_injector.h"
#include "nsqd/storage/group_commit_writer.h"
#include "nsqd/storage/store.h"
#include "tests/testutil/temp_dir.h"
#include "tests/unit/nsqd/storage/store_test_util.h"

namespace nsq::nsqd::storage {
namespace {

using testing::AppendNumbered;
using testing::MessageNumber;
using testing::NumberedMessage;
using testing::OpenStore;
using testutil::TempDir;

StoreOptions WithFaults(std::shared_ptr<FaultInjector> faults) {
  StoreOptions options;
  options.fault_injector = std::move(faults);
  return options;
}

absl::Status AppendBatch(Store& store, uint64_t queue, uint64_t first, uint64_t count,
                         bool sync = false) {
  StoreBatch batch = store.NewBatch();
  for (uint64_t i = 0; i < count; ++i) batch.Append(queue, NumberedMessage(first + i, 100));
  return std::move(batch).Commit(sync);
}

std::vector<uint64_t> ReadAll(Store& store, uint64_t queue) {
  auto cursor = store.NewCursor(queue);
  auto read = cursor->ReadBatch(1'000'000, size_t{1} << 40);
  REQUIRE(read.ok());
  std::vector<uint64_t> numbers;
  for (const BacklogEntry& e : *read) numbers.push_back(MessageNumber(e.message));
  return numbers;
}

TEST_CASE("an I/O error fails the write with Unavailable and the store recovers after it heals") {
  TempDir dir("store");
  auto faults = std::make_shared<FaultInjector>();
  auto store = OpenStore(dir.File("db"), WithFaults(faults));
  const uint64_t queue = store->AllocateQueueId();
  REQUIRE(AppendBatch(*store, queue, 0, 10).ok());

  faults->FailWrites(FaultKind::kIoError);
  absl::Status failed = AppendBatch(*store, queue, 10, 200);
  CHECK(failed.code() == absl::StatusCode::kUnavailable);
  CHECK(std::string(failed.message()).find("injected fault") != std::string::npos);
  CHECK(faults->failures() >= 1);
  // Still failing while the disk is bad, and reads keep working.
  CHECK_FALSE(AppendBatch(*store, queue, 10, 1).ok());
  CHECK(ReadAll(*store, queue).size() == 10);
  CHECK(store->GetQueueStats(queue).depth == 10);

  faults->Heal();
  absl::Status healed = AppendBatch(*store, queue, 1000, 5, /*sync=*/true);
  CHECK_MESSAGE(healed.ok(), healed.ToString());
  const std::vector<uint64_t> numbers = ReadAll(*store, queue);
  REQUIRE(numbers.size() == 15);
  CHECK(numbers[9] == 9);
  CHECK(numbers[10] == 1000);  // the failed MPUB left nothing behind
}

TEST_CASE("a full disk fails the write with ResourceExhausted") {
  TempDir dir("store");
  auto faults = std::make_shared<FaultInjector>();
  auto store = OpenStore(dir.File("db"), WithFaults(faults));
  const uint64_t queue = store->AllocateQueueId();
  faults->FailWrites(FaultKind::kNoSpace);
  absl::Status failed = AppendBatch(*store, queue, 0, 1, /*sync=*/true);
  CHECK(failed.code() == absl::StatusCode::kResourceExhausted);
  CHECK(store->GetQueueStats(queue).depth == 0);
  faults->Heal();
  CHECK(AppendBatch(*store, queue, 0, 1).ok());
}

TEST_CASE("a batch torn half-way by a failing disk is absent after a restart, all of it") {
  TempDir dir("store");
  auto faults = std::make_shared<FaultInjector>();
  uint64_t queue = 0;
  {
    auto store = OpenStore(dir.File("db"), WithFaults(faults));
    queue = store->AllocateQueueId();
    REQUIRE(AppendBatch(*store, queue, 0, 50, /*sync=*/true).ok());
    // About half of a 200-message MPUB reaches the WAL, then the disk fails.
    faults->FailWrites(FaultKind::kIoError, /*allowed_bytes=*/200 * 150 / 2);
    CHECK_FALSE(AppendBatch(*store, queue, 50, 200, /*sync=*/true).ok());
  }
  faults->Heal();
  auto store = OpenStore(dir.File("db"));
  const std::vector<uint64_t> numbers = ReadAll(*store, queue);
  REQUIRE(numbers.size() == 50);
  for (uint64_t i = 0; i < 50; ++i) CHECK(numbers[i] == i);
  CHECK(store->GetQueueStats(queue).depth == 50);
}

TEST_CASE("every member of a failed write group gets the error and the writer carries on") {
  TempDir dir("store");
  auto faults = std::make_shared<FaultInjector>();
  auto store = OpenStore(dir.File("db"), WithFaults(faults));
  const uint64_t queue = store->AllocateQueueId();
  GroupCommitWriter writer(store.get());

  faults->FailWrites(FaultKind::kNoSpace);
  std::vector<std::future<absl::Status>> results;
  std::vector<std::shared_ptr<std::promise<absl::Status>>> promises;
  for (int i = 0; i < 10; ++i) {
    auto promise = std::make_shared<std::promise<absl::Status>>();
    results.push_back(promise->get_future());
    StoreBatch batch = store->NewBatch();
    batch.Append(queue, NumberedMessage(static_cast<uint64_t>(i)));
    writer.Submit(std::move(batch), true, [promise](absl::Status s) { promise->set_value(s); });
  }
  for (auto& r : results) CHECK(r.get().code() == absl::StatusCode::kResourceExhausted);
  CHECK(writer.stats().batches_failed == 10);

  faults->Heal();
  std::promise<absl::Status> healed;
  StoreBatch batch = store->NewBatch();
  batch.Append(queue, NumberedMessage(100));
  writer.Submit(std::move(batch), true, [&](absl::Status s) { healed.set_value(s); });
  absl::Status status = healed.get_future().get();
  CHECK_MESSAGE(status.ok(), status.ToString());
  CHECK(store->GetQueueStats(queue).depth == 1);
}

TEST_CASE("metadata saves fail cleanly on a failing disk and keep the old metadata") {
  TempDir dir("store");
  auto faults = std::make_shared<FaultInjector>();
  auto store = OpenStore(dir.File("db"), WithFaults(faults));
  Metadata before;
  before.topics.push_back({.name = "t", .queue_id = store->AllocateQueueId(), .channels = {}});
  REQUIRE(store->SaveMetadata(before).ok());
  faults->FailWrites();
  Metadata after = before;
  after.topics[0].paused = true;
  CHECK_FALSE(store->SaveMetadata(after).ok());
  auto loaded = store->LoadMetadata();
  REQUIRE(loaded.ok());
  CHECK(*loaded == before);
}

}  // namespace
}  // namespace nsq::nsqd::storage
