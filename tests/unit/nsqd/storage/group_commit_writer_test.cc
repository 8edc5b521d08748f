#include "nsqd/storage/group_commit_writer.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "nsqd/storage/backlog_cursor.h"
#include "nsqd/storage/store.h"
#include "tests/testutil/temp_dir.h"
#include "tests/testutil/wait_for.h"
#include "tests/unit/nsqd/storage/store_test_util.h"

namespace nsq::nsqd::storage {
namespace {

using testing::MessageNumber;
using testing::NumberedMessage;
using testing::OpenStore;
using testutil::TempDir;

GroupCommitOptions WithPolicy(uint64_t sync_every, absl::Duration sync_timeout) {
  GroupCommitOptions options;
  options.sync_policy.sync_every = sync_every;
  options.sync_policy.sync_timeout = sync_timeout;
  return options;
}

// Submits one message to `queue` and waits for its completion.
absl::Status AppendAndWait(Store* store, GroupCommitWriter* writer, uint64_t queue,
                           uint64_t number, bool sync) {
  std::promise<absl::Status> result;
  StoreBatch batch = store->NewBatch();
  batch.Append(queue, NumberedMessage(number));
  writer->Submit(std::move(batch), sync, [&](absl::Status s) { result.set_value(s); });
  return result.get_future().get();
}

// Counts completions and wakes a waiter when all expected ones arrived.
class Completions {
 public:
  explicit Completions(size_t expected) : expected_(expected) {}
  GroupCommitWriter::Done Callback() {
    return [this](absl::Status status) {
      std::lock_guard lock(mu_);
      statuses_.push_back(std::move(status));
      cv_.notify_all();
    };
  }
  // All statuses once `expected` arrived (fails the test after 30 s).
  std::vector<absl::Status> Wait() {
    std::unique_lock lock(mu_);
    REQUIRE(cv_.wait_for(lock, std::chrono::seconds(30),
                         [&] { return statuses_.size() >= expected_; }));
    return statuses_;
  }

 private:
  size_t expected_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<absl::Status> statuses_;
};

// A stand-in for the broker's event loop: one thread running posted functions in order.
class Loop {
 public:
  Loop() : thread_([this] { Run(); }) {}
  ~Loop() {
    Post(nullptr);
    thread_.join();
  }
  void Post(std::function<void()> f) {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(f));
    cv_.notify_one();
  }
  std::thread::id id() const { return thread_.get_id(); }
  uint64_t posts() const { return posts_.load(); }

 private:
  void Run() {
    while (true) {
      std::function<void()> f;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return !queue_.empty(); });
        f = std::move(queue_.front());
        queue_.pop_front();
      }
      if (!f) return;
      posts_.fetch_add(1);
      f();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  std::atomic<uint64_t> posts_{0};
  std::thread thread_;
};

TEST_CASE("concurrent submissions from several threads share RocksDB writes and all complete") {
  TempDir dir("store");
  auto store = OpenStore(dir.File("db"));
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50;
  constexpr int kTotal = kThreads * kPerThread;
  std::vector<uint64_t> queues;
  for (int t = 0; t < kThreads; ++t) queues.push_back(store->AllocateQueueId());

  // The first completion holds the writer thread until every thread has submitted, so the
  // rest must be waiting together and go out merged, without relying on timing.
  std::promise<void> all_submitted;
  std::shared_future<void> all_submitted_future = all_submitted.get_future().share();
  std::atomic<bool> first{true};
  Completions completions(kTotal);
  GroupCommitWriter::Done record = completions.Callback();
  GroupCommitWriter::Done done = [&](absl::Status status) {
    if (first.exchange(false)) all_submitted_future.wait();
    record(std::move(status));
  };
  GroupCommitWriter writer(store.get(),
                           WithPolicy(0, absl::ZeroDuration()));

  std::atomic<int> submitted{0};
  std::vector<std::thread> producers;
  for (int t = 0; t < kThreads; ++t) {
    producers.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        StoreBatch batch = store->NewBatch();
        batch.Append(queues[t], NumberedMessage(static_cast<uint64_t>(i)));
        writer.Submit(std::move(batch), /*sync=*/i % 10 == 0, done);
        if (submitted.fetch_add(1) + 1 == kTotal) all_submitted.set_value();
      }
    });
  }
  for (std::thread& p : producers) p.join();
  for (const absl::Status& s : completions.Wait()) CHECK(s.ok());

  const GroupCommitStats stats = writer.stats();
  CHECK(stats.batches_submitted == kTotal);
  CHECK(stats.batches_committed == kTotal);
  CHECK(stats.writes <= 2);
  CHECK(stats.wal_syncs <= stats.writes);
  // Each producer's messages are in its queue, in its submission order.
  for (int t = 0; t < kThreads; ++t) {
    CHECK(store->GetQueueStats(queues[t]).depth == kPerThread);
    auto cursor = store->NewCursor(queues[t]);
    auto read = cursor->ReadBatch(1000, 1 << 30);
    REQUIRE(read.ok());
    REQUIRE(read->size() == kPerThread);
    for (int i = 0; i < kPerThread; ++i) CHECK(MessageNumber((*read)[i].message) == i);
  }
}

TEST_CASE("callbacks hop to the caller's loop through post, once per write group") {
  TempDir dir("store");
  auto store = OpenStore(dir.File("db"));
  const uint64_t queue = store->AllocateQueueId();
  Loop loop;
  GroupCommitOptions options;
  options.posts = {[&loop](std::function<void()> f) { loop.Post(std::move(f)); }};
  GroupCommitWriter writer(store.get(), std::move(options));
  constexpr int kBatches = 20;
  std::atomic<int> on_loop{0};
  Completions completions(kBatches);
  GroupCommitWriter::Done record = completions.Callback();
  for (int i = 0; i < kBatches; ++i) {
    StoreBatch batch = store->NewBatch();
    batch.Append(queue, NumberedMessage(static_cast<uint64_t>(i)));
    writer.Submit(std::move(batch), true, [&](absl::Status s) {
      if (std::this_thread::get_id() == loop.id()) on_loop.fetch_add(1);
      record(std::move(s));
    });
  }
  for (const absl::Status& s : completions.Wait()) CHECK(s.ok());
  CHECK(on_loop.load() == kBatches);
  CHECK(loop.posts() == writer.stats().writes);
}

TEST_CASE("each callback runs on the loop its submitter named, in submission order per loop") {
  TempDir dir("store");
  auto store = OpenStore(dir.File("db"));
  const uint64_t queue = store->AllocateQueueId();
  Loop first;
  Loop second;
  GroupCommitOptions options;
  options.posts = {[&first](std::function<void()> f) { first.Post(std::move(f)); },
                   [&second](std::function<void()> f) { second.Post(std::move(f)); }};
  GroupCommitWriter writer(store.get(), std::move(options));
  constexpr int kBatches = 40;
  std::atomic<int> misplaced{0};
  std::mutex order_mu;
  std::vector<int> order[2];
  Completions completions(kBatches);
  GroupCommitWriter::Done record = completions.Callback();
  for (int i = 0; i < kBatches; ++i) {
    const size_t loop = static_cast<size_t>(i % 3 == 0 ? 1 : 0);
    StoreBatch batch = store->NewBatch();
    batch.Append(queue, NumberedMessage(static_cast<uint64_t>(i)));
    writer.Submit(
        std::move(batch), false,
        [&, i, loop](absl::Status s) {
          const std::thread::id expected = loop == 0 ? first.id() : second.id();
          if (std::this_thread::get_id() != expected) misplaced.fetch_add(1);
          {
            std::lock_guard lock(order_mu);
            order[loop].push_back(i);
          }
          record(std::move(s));
        },
        loop);
  }
  for (const absl::Status& s : completions.Wait()) CHECK(s.ok());
  CHECK(misplaced.load() == 0);
  std::lock_guard lock(order_mu);
  CHECK(std::is_sorted(order[0].begin(), order[0].end()));
  CHECK(std::is_sorted(order[1].begin(), order[1].end()));
  CHECK(order[0].size() + order[1].size() == kBatches);
  CHECK(order[1].size() == 14);
}

TEST_CASE("a sync request in a group costs one WAL sync for the whole group") {
  TempDir dir("store");
  auto store = OpenStore(dir.File("db"));
  const uint64_t queue = store->AllocateQueueId();
  GroupCommitWriter writer(store.get(),
                           WithPolicy(0, absl::ZeroDuration()));
  std::promise<absl::Status> result;
  StoreBatch batch = store->NewBatch();
  batch.Append(queue, NumberedMessage(1));
  writer.Submit(std::move(batch), true, [&](absl::Status s) { result.set_value(s); });
  CHECK(result.get_future().get().ok());
  CHECK(writer.stats().wal_syncs == 1);

  std::promise<absl::Status> unsynced;
  StoreBatch other = store->NewBatch();
  other.Append(queue, NumberedMessage(2));
  writer.Submit(std::move(other), false, [&](absl::Status s) { unsynced.set_value(s); });
  CHECK(unsynced.get_future().get().ok());
  CHECK(writer.stats().wal_syncs == 1);
}

TEST_CASE("sync-every syncs after that many messages of non-durable writes") {
  TempDir dir("store");
  auto store = OpenStore(dir.File("db"));
  const uint64_t queue = store->AllocateQueueId();
  GroupCommitWriter writer(store.get(),
                           WithPolicy(10, absl::ZeroDuration()));
  for (uint64_t i = 0; i < 25; ++i) {
    REQUIRE(AppendAndWait(store.get(), &writer, queue, i, /*sync=*/false).ok());
  }
  CHECK(writer.stats().writes == 25);
  CHECK(writer.stats().wal_syncs == 2);  // at the 10th and the 20th message
}

TEST_CASE("every write group is timed into the duration histogram") {
  TempDir dir("store");
  auto store = OpenStore(dir.File("db"));
  const uint64_t queue = store->AllocateQueueId();
  GroupCommitWriter writer(store.get(), WithPolicy(1, absl::ZeroDuration()));
  for (uint64_t i = 0; i < 5; ++i) {
    REQUIRE(AppendAndWait(store.get(), &writer, queue, i, /*sync=*/true).ok());
  }
  const GroupCommitStats stats = writer.stats();
  CHECK(stats.write_seconds_count == 5);
  CHECK(stats.write_seconds_count == stats.writes);
  CHECK(stats.write_seconds_sum > 0);  // five fsyncs take some time
  CHECK(stats.write_seconds_sum < 5.0);
  for (size_t i = 1; i < stats.write_seconds_buckets.size(); ++i) {
    CHECK(stats.write_seconds_buckets[i] >= stats.write_seconds_buckets[i - 1]);
  }
  CHECK(stats.write_seconds_buckets.back() <= stats.write_seconds_count);
}

TEST_CASE("sync-timeout syncs an unsynced write once it is that old") {
  TempDir dir("store");
  auto store = OpenStore(dir.File("db"));
  const uint64_t queue = store->AllocateQueueId();
  GroupCommitWriter writer(
      store.get(), WithPolicy(0, absl::Milliseconds(20)));
  std::promise<absl::Status> result;
  StoreBatch batch = store->NewBatch();
  batch.Append(queue, NumberedMessage(1));
  writer.Submit(std::move(batch), false, [&](absl::Status s) { result.set_value(s); });
  REQUIRE(result.get_future().get().ok());
  CHECK(testutil::WaitFor([&] { return writer.stats().wal_syncs == 1; },
                          std::chrono::seconds(10)));
}

TEST_CASE("Stop completes everything submitted; later submissions fail without writing") {
  TempDir dir("store");
  auto store = OpenStore(dir.File("db"));
  const uint64_t queue = store->AllocateQueueId();
  Completions completions(100);
  {
    GroupCommitWriter writer(store.get());
    for (int i = 0; i < 100; ++i) {
      StoreBatch batch = store->NewBatch();
      batch.Append(queue, NumberedMessage(static_cast<uint64_t>(i)));
      writer.Submit(std::move(batch), false, completions.Callback());
    }
    writer.Stop();
    std::promise<absl::Status> late;
    StoreBatch batch = store->NewBatch();
    batch.Append(queue, NumberedMessage(100));
    writer.Submit(std::move(batch), false, [&](absl::Status s) { late.set_value(s); });
    CHECK(late.get_future().get().code() == absl::StatusCode::kFailedPrecondition);
  }
  for (const absl::Status& s : completions.Wait()) CHECK(s.ok());
  CHECK(store->GetQueueStats(queue).depth == 100);
}

TEST_CASE("an empty batch completes with OK") {
  TempDir dir("store");
  auto store = OpenStore(dir.File("db"));
  GroupCommitWriter writer(store.get());
  std::promise<absl::Status> result;
  writer.Submit(store->NewBatch(), true, [&](absl::Status s) { result.set_value(s); });
  CHECK(result.get_future().get().ok());
}

}  // namespace
}  // namespace nsq::nsqd::storage
