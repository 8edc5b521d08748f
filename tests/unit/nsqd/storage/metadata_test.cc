#include "nsqd/storage/metadata.h"

#include <doctest/doctest.h>

#include <set>

#include "nsqd/storage/backlog_cursor.h"
#include "nsqd/storage/store.h"
#include "tests/testutil/temp_dir.h"
#include "tests/unit/nsqd/storage/store_test_util.h"

namespace nsq::nsqd::storage {
namespace {

using testing::AppendNumbered;
using testing::NumberedMessage;
using testing::OpenStore;
using testutil::TempDir;

Metadata SampleMetadata() {
  Metadata m;
  m.topics.push_back({.name = "orders",
                      .paused = false,
                      .queue_id = 1,
                      .channels = {{.name = "billing", .paused = true, .queue_id = 2},
                                   {.name = "audit", .paused = false, .queue_id = 3}}});
  m.topics.push_back({.name = "paused.topic_x-1", .paused = true, .queue_id = 4, .channels = {}});
  return m;
}

TEST_CASE("metadata encodes and decodes to the same value") {
  const Metadata m = SampleMetadata();
  absl::StatusOr<Metadata> decoded = DecodeMetadata(EncodeMetadata(m));
  REQUIRE(decoded.ok());
  CHECK(*decoded == m);

  absl::StatusOr<Metadata> empty = DecodeMetadata(EncodeMetadata({}));
  REQUIRE(empty.ok());
  CHECK(empty->topics.empty());
}

TEST_CASE("truncated, padded or unknown-version metadata is DataLoss") {
  const std::string bytes = EncodeMetadata(SampleMetadata());
  for (size_t cut : {size_t{0}, size_t{1}, size_t{5}, bytes.size() / 2, bytes.size() - 1}) {
    CAPTURE(cut);
    CHECK(DecodeMetadata(bytes.substr(0, cut)).status().code() == absl::StatusCode::kDataLoss);
  }
  CHECK(DecodeMetadata(bytes + "x").status().code() == absl::StatusCode::kDataLoss);
  std::string future = bytes;
  future[0] = 2;
  absl::Status status = DecodeMetadata(future).status();
  CHECK(status.code() == absl::StatusCode::kDataLoss);
  CHECK(std::string(status.message()).find("version") != std::string::npos);
}

TEST_CASE("a new store has empty metadata") {
  TempDir dir("store");
  auto store = OpenStore(dir.File("db"));
  absl::StatusOr<Metadata> m = store->LoadMetadata();
  REQUIRE(m.ok());
  CHECK(m->topics.empty());
}

TEST_CASE("saved metadata survives a reopen") {
  TempDir dir("store");
  Metadata saved;
  {
    auto store = OpenStore(dir.File("db"));
    saved.topics.push_back({.name = "t", .queue_id = store->AllocateQueueId(), .channels = {}});
    saved.topics[0].channels.push_back(
        {.name = "c", .paused = true, .queue_id = store->AllocateQueueId()});
    REQUIRE(store->SaveMetadata(saved).ok());
  }
  auto store = OpenStore(dir.File("db"));
  absl::StatusOr<Metadata> loaded = store->LoadMetadata();
  REQUIRE(loaded.ok());
  CHECK(*loaded == saved);
}

TEST_CASE("queue ids are unique and never reused across reopens") {
  TempDir dir("store");
  std::set<uint64_t> ids;
  uint64_t written_without_metadata = 0;
  {
    auto store = OpenStore(dir.File("db"));
    for (int i = 0; i < 3; ++i) CHECK(ids.insert(store->AllocateQueueId()).second);
    Metadata m;
    m.topics.push_back({.name = "t", .queue_id = *ids.begin(), .channels = {}});
    REQUIRE(store->SaveMetadata(m).ok());
    // An id handed out and used for data, but never saved in metadata (a crash between).
    written_without_metadata = store->AllocateQueueId();
    ids.insert(written_without_metadata);
    AppendNumbered(*store, written_without_metadata, 0, 1);
  }
  auto store = OpenStore(dir.File("db"));
  for (int i = 0; i < 3; ++i) {
    const uint64_t id = store->AllocateQueueId();
    CHECK(id > written_without_metadata);
    CHECK(ids.insert(id).second);
  }
  CHECK(*ids.begin() >= 1);
}

TEST_CASE("deleting a topic and its channel removes their metadata and every message") {
  TempDir dir("store");
  StoreOptions options;
  options.compact_after_deleted = 1;
  uint64_t topic_queue = 0;
  uint64_t channel_queue = 0;
  uint64_t kept_queue = 0;
  {
    auto store = OpenStore(dir.File("db"), options);
    topic_queue = store->AllocateQueueId();
    channel_queue = store->AllocateQueueId();
    kept_queue = store->AllocateQueueId();
    Metadata m;
    m.topics.push_back({.name = "gone", .queue_id = topic_queue, .channels = {}});
    m.topics[0].channels.push_back({.name = "c", .queue_id = channel_queue});
    m.topics.push_back({.name = "kept", .queue_id = kept_queue, .channels = {}});
    REQUIRE(store->SaveMetadata(m).ok());

    AppendNumbered(*store, topic_queue, 0, 500);
    AppendNumbered(*store, channel_queue, 0, 500);
    AppendNumbered(*store, kept_queue, 0, 10);
    StoreBatch deferred = store->NewBatch();
    deferred.AppendDeferred(channel_queue, 123, NumberedMessage(1));
    REQUIRE(std::move(deferred).Commit(false).ok());

    Metadata after;
    after.topics.push_back(m.topics[1]);
    REQUIRE(store->SaveMetadata(after, {topic_queue, channel_queue}).ok());
    CHECK(store->GetQueueStats(topic_queue).depth == 0);
    CHECK(store->GetQueueStats(channel_queue).deferred_depth == 0);
    CHECK(store->GetQueueStats(kept_queue).depth == 10);
    store->WaitForCompactions();
  }
  auto store = OpenStore(dir.File("db"));
  absl::StatusOr<Metadata> loaded = store->LoadMetadata();
  REQUIRE(loaded.ok());
  REQUIRE(loaded->topics.size() == 1);
  CHECK(loaded->topics[0].name == "kept");
  // Nothing of the deleted queues is left to recover; the kept one is intact.
  const std::vector<uint64_t> known = store->KnownQueueIds();
  CHECK(std::find(known.begin(), known.end(), topic_queue) == known.end());
  CHECK(std::find(known.begin(), known.end(), channel_queue) == known.end());
  auto cursor = store->NewCursor(channel_queue);
  auto read = cursor->ReadBatch(10, 1 << 20);
  REQUIRE(read.ok());
  CHECK(read->empty());
  auto deferred = store->ReadDeferred(channel_queue, 10);
  REQUIRE(deferred.ok());
  CHECK(deferred->empty());
  CHECK(store->GetQueueStats(kept_queue).depth == 10);
}

}  // namespace
}  // namespace nsq::nsqd::storage
