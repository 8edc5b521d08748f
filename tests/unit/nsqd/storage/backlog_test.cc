#include "nsqd/storage/backlog_cursor.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <vector>

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

// Reads the whole backlog in batches of `per_read`, consuming as it goes, and commits the
// deletes. Returns the message numbers in read order.
std::vector<uint64_t> DrainAll(Store& store, BacklogCursor& cursor, size_t per_read = 500) {
  std::vector<uint64_t> numbers;
  while (true) {
    auto entries = cursor.ReadBatch(per_read, 1 << 30);
    REQUIRE(entries.ok());
    if (entries->empty()) break;
    for (const BacklogEntry& e : *entries) numbers.push_back(MessageNumber(e.message));
    StoreBatch batch = store.NewBatch();
    cursor.Consume(entries->back().sequence, &batch);
    if (!batch.empty()) REQUIRE(std::move(batch).Commit(false).ok());
  }
  StoreBatch batch = store.NewBatch();
  cursor.FlushConsumed(&batch);
  if (!batch.empty()) REQUIRE(std::move(batch).Commit(false).ok());
  return numbers;
}

uint64_t DirectorySize(const std::string& path) {
  uint64_t total = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(path)) {
    if (entry.is_regular_file()) total += entry.file_size();
  }
  return total;
}

TEST_CASE("messages come back in append order, with every field, also after a reopen") {
  TempDir dir("store");
  uint64_t queue = 0;
  {
    auto store = OpenStore(dir.File("db"));
    queue = store->AllocateQueueId();
    AppendNumbered(*store, queue, 0, 5000, 37);
    auto cursor = store->NewCursor(queue);
    auto first = cursor->ReadBatch(3, 1 << 20);
    REQUIRE(first.ok());
    REQUIRE(first->size() == 3);
    const protocol::Message expected = NumberedMessage(0);
    CHECK((*first)[0].message.id == expected.id);
    CHECK((*first)[0].message.timestamp_ns == expected.timestamp_ns);
    CHECK((*first)[0].message.attempts == expected.attempts);
    CHECK((*first)[0].message.body.view() == expected.body.view());
    AppendNumbered(*store, queue, 5000, 5000, 101);
  }
  auto store = OpenStore(dir.File("db"));
  auto cursor = store->NewCursor(queue);
  const std::vector<uint64_t> numbers = DrainAll(*store, *cursor, 333);
  REQUIRE(numbers.size() == 10000);
  for (uint64_t i = 0; i < numbers.size(); ++i) REQUIRE(numbers[i] == i);
}

TEST_CASE("queues do not see each other's messages") {
  TempDir dir("store");
  auto store = OpenStore(dir.File("db"));
  const uint64_t a = store->AllocateQueueId();
  const uint64_t b = store->AllocateQueueId();
  AppendNumbered(*store, a, 0, 10);
  AppendNumbered(*store, b, 100, 5);
  auto cursor_a = store->NewCursor(a);
  auto cursor_b = store->NewCursor(b);
  CHECK(DrainAll(*store, *cursor_a).size() == 10);
  const std::vector<uint64_t> from_b = DrainAll(*store, *cursor_b);
  REQUIRE(from_b.size() == 5);
  CHECK(from_b.front() == 100);
}

TEST_CASE("an MPUB-sized batch becomes visible all at once") {
  TempDir dir("store");
  auto store = OpenStore(dir.File("db"));
  const uint64_t queue = store->AllocateQueueId();
  auto cursor = store->NewCursor(queue);
  StoreBatch batch = store->NewBatch();
  for (uint64_t i = 0; i < 200; ++i) CHECK(batch.Append(queue, NumberedMessage(i)) == kFirstSequence + i);
  CHECK(batch.message_count() == 200);
  // Not committed: nothing to read, no depth.
  auto before = cursor->ReadBatch(1000, 1 << 30);
  REQUIRE(before.ok());
  CHECK(before->empty());
  CHECK(store->GetQueueStats(queue).depth == 0);

  REQUIRE(std::move(batch).Commit(/*sync=*/true).ok());
  CHECK(store->GetQueueStats(queue).depth == 200);
  auto after = cursor->ReadBatch(1000, 1 << 30);
  REQUIRE(after.ok());
  CHECK(after->size() == 200);
}

TEST_CASE("ReadBatch stops at max_count and at max_bytes") {
  TempDir dir("store");
  auto store = OpenStore(dir.File("db"));
  const uint64_t queue = store->AllocateQueueId();
  AppendNumbered(*store, queue, 0, 100, 100, /*body_size=*/1000);
  auto cursor = store->NewCursor(queue);

  auto by_count = cursor->ReadBatch(7, 1 << 30);
  REQUIRE(by_count.ok());
  CHECK(by_count->size() == 7);
  // Each record is 26 + 1000 bytes: the batch ends with the message that reaches 3000.
  auto by_bytes = cursor->ReadBatch(100, 3000);
  REQUIRE(by_bytes.ok());
  CHECK(by_bytes->size() == 3);
  CHECK(MessageNumber(by_bytes->front().message) == 7);
  // A message larger than max_bytes still comes out alone.
  auto tiny = cursor->ReadBatch(100, 1);
  REQUIRE(tiny.ok());
  CHECK(tiny->size() == 1);
  CHECK(cursor->read_sequence() == kFirstSequence + 11);
  CHECK(cursor->head_sequence() == kFirstSequence);
}

TEST_CASE("Consume drops depth at once and deletes in DeleteRange batches, not per message") {
  TempDir dir("store");
  StoreOptions options;
  options.consume_delete_batch = 1024;
  auto store = OpenStore(dir.File("db"), options);
  const uint64_t queue = store->AllocateQueueId();
  AppendNumbered(*store, queue, 0, 5000, 500);
  auto cursor = store->NewCursor(queue);

  int delete_batches = 0;
  for (int i = 0; i < 5000; ++i) {
    auto one = cursor->ReadBatch(1, 1 << 20);
    REQUIRE(one.ok());
    REQUIRE(one->size() == 1);
    StoreBatch batch = store->NewBatch();
    cursor->Consume((*one)[0].sequence, &batch);
    if (!batch.empty()) {
      ++delete_batches;
      REQUIRE(std::move(batch).Commit(false).ok());
    }
  }
  CHECK(delete_batches == 4);  // at 1024, 2048, 3072 and 4096 consumed
  CHECK(store->GetQueueStats(queue).depth == 0);
  CHECK(cursor->head_sequence() == kFirstSequence + 5000);
}

TEST_CASE("Consume never consumes past what was read, and Rewind re-reads the rest") {
  TempDir dir("store");
  auto store = OpenStore(dir.File("db"));
  const uint64_t queue = store->AllocateQueueId();
  AppendNumbered(*store, queue, 0, 10);
  auto cursor = store->NewCursor(queue);
  auto read = cursor->ReadBatch(4, 1 << 20);
  REQUIRE(read.ok());
  StoreBatch batch = store->NewBatch();
  cursor->Consume(kFirstSequence + 100, &batch);  // only the first 4 were read
  CHECK(cursor->head_sequence() == kFirstSequence + 4);
  CHECK(store->GetQueueStats(queue).depth == 6);

  read = cursor->ReadBatch(3, 1 << 20);  // 4, 5, 6 read, not consumed
  REQUIRE(read.ok());
  cursor->Rewind();
  read = cursor->ReadBatch(100, 1 << 20);
  REQUIRE(read.ok());
  REQUIRE(read->size() == 6);
  CHECK(MessageNumber(read->front().message) == 4);
}

TEST_CASE("a reopen restores head, tail and depth") {
  TempDir dir("store");
  uint64_t queue = 0;
  {
    auto store = OpenStore(dir.File("db"));
    queue = store->AllocateQueueId();
    AppendNumbered(*store, queue, 0, 1000);
    auto cursor = store->NewCursor(queue);
    auto read = cursor->ReadBatch(300, 1 << 30);
    REQUIRE(read.ok());
    StoreBatch batch = store->NewBatch();
    cursor->Consume(read->back().sequence, &batch);
    cursor->FlushConsumed(&batch);
    REQUIRE(std::move(batch).Commit(false).ok());
    const QueueStats stats = store->GetQueueStats(queue);
    CHECK(stats.head_sequence == kFirstSequence + 300);
    CHECK(stats.next_sequence == kFirstSequence + 1000);
    CHECK(stats.depth == 700);
  }
  auto store = OpenStore(dir.File("db"));
  const QueueStats stats = store->GetQueueStats(queue);
  CHECK(stats.head_sequence == kFirstSequence + 300);
  CHECK(stats.next_sequence == kFirstSequence + 1000);
  CHECK(stats.depth == 700);
  auto cursor = store->NewCursor(queue);
  auto read = cursor->ReadBatch(1, 1 << 20);
  REQUIRE(read.ok());
  REQUIRE(read->size() == 1);
  CHECK((*read)[0].sequence == kFirstSequence + 300);
  CHECK(MessageNumber((*read)[0].message) == 300);
  // New appends continue the sequence.
  StoreBatch batch = store->NewBatch();
  CHECK(batch.Append(queue, NumberedMessage(1000)) == kFirstSequence + 1000);
}

TEST_CASE("a fully drained queue keeps its sequence numbering across a reopen") {
  TempDir dir("store");
  uint64_t queue = 0;
  {
    auto store = OpenStore(dir.File("db"));
    queue = store->AllocateQueueId();
    AppendNumbered(*store, queue, 0, 50);
    auto cursor = store->NewCursor(queue);
    CHECK(DrainAll(*store, *cursor).size() == 50);
  }
  auto store = OpenStore(dir.File("db"));
  CHECK(store->GetQueueStats(queue).depth == 0);
  CHECK(store->GetQueueStats(queue).head_sequence == kFirstSequence + 50);
  StoreBatch batch = store->NewBatch();
  CHECK(batch.Append(queue, NumberedMessage(50)) == kFirstSequence + 50);
}

TEST_CASE("reading after 100k consumed messages does not rescan their tombstones") {
  TempDir dir("store");
  StoreOptions options;
  options.collect_read_stats = true;
  options.compact_after_deleted = 0;  // keep every tombstone and deleted key around
  auto store = OpenStore(dir.File("db"), options);
  const uint64_t queue = store->AllocateQueueId();
  AppendNumbered(*store, queue, 0, 100'000, 1000);
  auto cursor = store->NewCursor(queue);
  REQUIRE(DrainAll(*store, *cursor, 1000).size() == 100'000);

  AppendNumbered(*store, queue, 100'000, 10);
  auto read = cursor->ReadBatch(100, 1 << 20);
  REQUIRE(read.ok());
  REQUIRE(read->size() == 10);
  CHECK(MessageNumber(read->front().message) == 100'000);
  // The consumed keys are still in the memtable under their DeleteRange: a read seeking from
  // the start of the queue steps over all 100k of them (next_on_memtable_count ~ 100010,
  // 300k key comparisons, measured); one from the head touches only what it returns.
  const ReadStats& stats = cursor->last_read_stats();
  CAPTURE(stats.memtable_nexts);
  CAPTURE(stats.key_comparisons);
  CHECK(stats.keys_returned == 10);
  CHECK(stats.memtable_nexts <= 2 * stats.keys_returned);
  CHECK(stats.key_comparisons < 1000);

  // A cursor opened now starts at the head too (as after a restart).
  auto fresh = store->NewCursor(queue);
  read = fresh->ReadBatch(100, 1 << 20);
  REQUIRE(read.ok());
  CHECK(read->size() == 10);
  CHECK(fresh->last_read_stats().memtable_nexts <= 20);
  CHECK(fresh->last_read_stats().key_comparisons < 1000);
}

TEST_CASE("the database shrinks back after 200k messages are published and consumed") {
  TempDir dir("store");
  StoreOptions options;
  options.compact_after_deleted = 50'000;
  auto store = OpenStore(dir.File("db"), options);
  const uint64_t queue = store->AllocateQueueId();
  AppendNumbered(*store, queue, 0, 200'000, 200, /*body_size=*/100);
  const uint64_t full_size = store->ApproximateSize();
  const uint64_t full_disk = DirectorySize(dir.File("db"));
  CAPTURE(full_size);
  CAPTURE(full_disk);
  REQUIRE(full_size > 200'000 * 100);

  auto cursor = store->NewCursor(queue);
  REQUIRE(DrainAll(*store, *cursor, 1000).size() == 200'000);
  store->WaitForCompactions();
  const StoreStats stats = store->GetStats();
  CHECK(stats.compactions >= 1);
  CHECK(stats.compaction_failures == 0);
  const uint64_t drained_size = store->ApproximateSize();
  const uint64_t drained_disk = DirectorySize(dir.File("db"));
  CAPTURE(drained_size);
  CAPTURE(drained_disk);
  CAPTURE(stats.sst_bytes);
  CAPTURE(stats.memtable_bytes);
  CAPTURE(stats.wal_bytes);
  MESSAGE("200k drained: ApproximateSize ", full_size, " -> ", drained_size, " bytes, directory ",
          full_disk, " -> ", drained_disk, " bytes");
  CHECK(drained_size < full_size / 10);
  CHECK(drained_disk < full_disk / 4);
  CHECK(store->GetQueueStats(queue).depth == 0);
}

TEST_CASE("Finish consumes in any order; the head waits for the oldest unfinished message") {
  TempDir dir("store");
  StoreOptions options;
  options.consume_delete_batch = 4;
  uint64_t queue = 0;
  {
    auto store = OpenStore(dir.File("db"), options);
    queue = store->AllocateQueueId();
    AppendNumbered(*store, queue, 0, 10);
    auto cursor = store->NewCursor(queue);
    auto read = cursor->ReadBatch(10, 1 << 20);
    REQUIRE(read.ok());
    REQUIRE(read->size() == 10);
    const uint64_t s0 = (*read)[0].sequence;
    StoreBatch batch = store->NewBatch();
    CHECK(cursor->Finish(s0 + 2, &batch));
    CHECK(cursor->Finish(s0 + 3, &batch));
    CHECK_FALSE(cursor->Finish(s0 + 3, &batch));   // already finished
    CHECK_FALSE(cursor->Finish(s0 + 50, &batch));  // never read
    CHECK(store->GetQueueStats(queue).depth == 8);
    CHECK(cursor->head_sequence() == s0);  // 0 and 1 are not finished
    CHECK(batch.empty());
    CHECK(cursor->Finish(s0, &batch));
    CHECK(cursor->Finish(s0 + 1, &batch));
    CHECK(cursor->head_sequence() == s0 + 4);  // 0..3 consumed: one DeleteRange of 4
    CHECK_FALSE(batch.empty());
    CHECK(cursor->Finish(s0 + 7, &batch));
    CHECK(store->GetQueueStats(queue).depth == 5);
    cursor->FlushConsumed(&batch);
    REQUIRE(std::move(batch).Commit(true).ok());
  }
  // As after a crash: everything from the head comes back, 7 too (at-least-once).
  auto store = OpenStore(dir.File("db"), options);
  CHECK(store->GetQueueStats(queue).depth == 6);
  auto cursor = store->NewCursor(queue);
  CHECK(DrainAll(*store, *cursor) == std::vector<uint64_t>{4, 5, 6, 7, 8, 9});
}

TEST_CASE("ReplaceRead drops what was read and puts memory's messages in front of the unread") {
  TempDir dir("store");
  uint64_t queue = 0;
  {
    auto store = OpenStore(dir.File("db"));
    queue = store->AllocateQueueId();
    AppendNumbered(*store, queue, 10, 5);  // the backlog: 10..14
    auto cursor = store->NewCursor(queue);
    auto read = cursor->ReadBatch(3, 1 << 20);  // 10, 11, 12 read
    REQUIRE(read.ok());
    StoreBatch batch = store->NewBatch();
    REQUIRE(cursor->Finish((*read)[0].sequence, &batch));
    REQUIRE(cursor->Finish((*read)[2].sequence, &batch));  // out of order: 11 holds the head
    // What the channel holds in memory: older messages 0..2, then 11 (delivered once).
    std::vector<protocol::Message> memory;
    for (uint64_t i = 0; i < 3; ++i) memory.push_back(NumberedMessage(i));
    memory.push_back((*read)[1].message);
    memory.back().attempts = 1;
    REQUIRE(cursor->ReplaceRead(memory, &batch).ok());
    REQUIRE(std::move(batch).Commit(true).ok());
    CHECK(store->GetQueueStats(queue).depth == 6);
  }
  auto store = OpenStore(dir.File("db"));
  CHECK(store->GetQueueStats(queue).depth == 6);
  auto cursor = store->NewCursor(queue);
  auto all = cursor->ReadBatch(100, 1 << 30);
  REQUIRE(all.ok());
  std::vector<uint64_t> numbers;
  for (const BacklogEntry& e : *all) numbers.push_back(MessageNumber(e.message));
  CHECK(numbers == std::vector<uint64_t>{0, 1, 2, 11, 13, 14});
  CHECK((*all)[3].message.attempts == 1);
}

TEST_CASE("an MPUB-sized append is one key; a restart resumes inside it without repeats") {
  TempDir dir("store");
  StoreOptions options;
  options.consume_delete_batch = 16;
  uint64_t queue = 0;
  {
    auto store = OpenStore(dir.File("db"), options);
    queue = store->AllocateQueueId();
    std::vector<protocol::Message> mpub;
    for (uint64_t i = 0; i < 200; ++i) mpub.push_back(NumberedMessage(i));
    StoreBatch batch = store->NewBatch();
    const uint64_t first = batch.Append(queue, mpub);
    CHECK(batch.Append(queue, NumberedMessage(200)) == first + 200);
    REQUIRE(std::move(batch).Commit(false).ok());
    CHECK(store->GetQueueStats(queue).depth == 201);
    auto cursor = store->NewCursor(queue);
    auto read = cursor->ReadBatch(10, 1 << 30);  // whole chunks: all 200 of the first
    REQUIRE(read.ok());
    REQUIRE(read->size() == 200);
    StoreBatch consume = store->NewBatch();
    for (int i = 0; i < 50; ++i) REQUIRE(cursor->Finish((*read)[i].sequence, &consume));
    cursor->FlushConsumed(&consume);  // the chunk stays (150 unconsumed); the head moves
    REQUIRE(std::move(consume).Commit(false).ok());
  }
  {
    auto store = OpenStore(dir.File("db"), options);
    CHECK(store->GetQueueStats(queue).depth == 151);
    // Shut down again before reading anything: the head's chunk is read and put back.
    auto cursor = store->NewCursor(queue);
    StoreBatch batch = store->NewBatch();
    REQUIRE(cursor->ReplaceRead({}, &batch).ok());
    REQUIRE(std::move(batch).Commit(true).ok());
  }
  auto store = OpenStore(dir.File("db"), options);
  CHECK(store->GetQueueStats(queue).depth == 151);
  auto cursor = store->NewCursor(queue);
  std::vector<uint64_t> expected;
  for (uint64_t i = 50; i <= 200; ++i) expected.push_back(i);
  CHECK(DrainAll(*store, *cursor) == expected);
}

TEST_CASE("DiscardAll removes the backlog, deferred messages and appends already built") {
  TempDir dir("store");
  uint64_t queue = 0;
  {
    auto store = OpenStore(dir.File("db"));
    queue = store->AllocateQueueId();
    AppendNumbered(*store, queue, 0, 100);
    auto cursor = store->NewCursor(queue);
    REQUIRE(cursor->ReadBatch(10, 1 << 20).ok());
    StoreBatch deferred = store->NewBatch();
    deferred.AppendDeferred(queue, 1000, NumberedMessage(500));
    REQUIRE(std::move(deferred).Commit(false).ok());
    // Built before the discard, committed after it: still discarded.
    StoreBatch late = store->NewBatch();
    late.Append(queue, NumberedMessage(100));
    StoreBatch discard = store->NewBatch();
    cursor->DiscardAll(&discard);
    REQUIRE(std::move(late).Commit(false).ok());
    REQUIRE(std::move(discard).Commit(false).ok());
    StoreBatch after = store->NewBatch();
    after.Append(queue, NumberedMessage(200));
    REQUIRE(std::move(after).Commit(false).ok());
    CHECK(DrainAll(*store, *cursor) == std::vector<uint64_t>{200});
  }
  auto store = OpenStore(dir.File("db"));
  CHECK(store->GetQueueStats(queue).depth == 0);
  CHECK(store->GetQueueStats(queue).deferred_depth == 0);
  auto deferred = store->ReadDeferred(queue, 10);
  REQUIRE(deferred.ok());
  CHECK(deferred->empty());
}

}  // namespace
}  // namespace nsq::nsqd::storage
