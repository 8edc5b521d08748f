// GroupCommitWriter: the store's writer thread. Publishers on any thread Submit a StoreBatch
// with a completion callback and return at once; the thread merges everything pending into
// one RocksDB write with at most one WAL fsync (group commit: concurrent publishers share
// it), then completes every member with the write's status.
//
//   GroupCommitWriter writer(store.get(), {
//       .sync_policy = {.sync_every = flags.sync_every, .sync_timeout = flags.sync_timeout},
//       .posts = {[&io](std::function<void()> f) { asio::post(io, std::move(f)); }}});
//   writer.Submit(std::move(batch), /*sync=*/durable, [conn](absl::Status s) {
//     conn->Reply(s.ok() ? "OK" : "E_PUB_FAILED");   // runs on the event loop via posts[0]
//   });
//
// Lifecycle: created after the Store, destroyed (or Stop()ped) before it. Stop completes
// everything already submitted. Submit never blocks on disk, so the event loop can call it.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "nsqd/storage/store_batch.h"
#include "nsqd/storage/sync_policy.h"

namespace nsq::nsqd::storage {

class Store;

struct GroupCommitOptions {
  // Syncs for writes whose submitters did not ask for one. Default: nsqd's 2500 / 2 s.
  SyncPolicy sync_policy;
  // Where callbacks run: one poster per event loop (nsqd's shards), each of which queues what
  // it is given on its loop and returns. Submit names the loop of its callback; the writer
  // hands each write group's callbacks for one loop, in submission order, to one call of that
  // loop's poster. When empty, callbacks run on the writer thread. Default: empty.
  using Post = std::function<void(std::function<void()>)>;
  std::vector<Post> posts;
  // A write group stops growing at this many bytes (one batch always fits). Default: 8 MiB.
  size_t max_group_bytes = 8 << 20;
};

// Upper bounds, in seconds, of the buckets of the write-group duration histogram: how long one
// RocksDB write of a group took, its WAL fsync included when it had one.
inline constexpr std::array<double, 12> kWriteGroupSecondsBounds = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0};

struct GroupCommitStats {
  uint64_t batches_submitted = 0;
  uint64_t batches_committed = 0;  // completed with OK
  uint64_t batches_failed = 0;     // completed with an error
  uint64_t writes = 0;             // RocksDB writes (write groups)
  uint64_t wal_syncs = 0;          // synced writes plus timeout syncs
  // Write-group durations: [i] counts the writes that took at most kWriteGroupSecondsBounds[i]
  // (cumulative, as Prometheus buckets are); the total count is write_seconds_count.
  std::array<uint64_t, kWriteGroupSecondsBounds.size()> write_seconds_buckets{};
  uint64_t write_seconds_count = 0;
  double write_seconds_sum = 0;
};

class GroupCommitWriter {
 public:
  using Done = std::function<void(absl::Status)>;

  // Starts the writer thread. `store` must outlive the writer.
  GroupCommitWriter(Store* store, GroupCommitOptions options = {});
  ~GroupCommitWriter();  // Stop()

  GroupCommitWriter(const GroupCommitWriter&) = delete;
  GroupCommitWriter& operator=(const GroupCommitWriter&) = delete;

  // Queues `batch`; `done` gets its status once it is written (and synced when `sync`, or
  // when the sync policy says so), through posts[loop] when there are posters. Any thread;
  // never blocks on disk. After Stop, `done` gets FailedPrecondition. An empty batch
  // completes with OK (after the writes before it).
  void Submit(StoreBatch batch, bool sync, Done done, size_t loop = 0);

  // Writes and completes everything submitted so far, syncs unsynced writes, and joins the
  // thread. Idempotent.
  void Stop();

  GroupCommitStats stats() const;

 private:
  struct Pending {
    StoreBatch batch;
    bool sync;
    Done done;
    size_t loop;
  };
  struct Callback {
    Done done;
    size_t loop;
  };

  void Run();
  // Runs the callbacks (with one post per loop that has any), in order per loop.
  void Complete(std::vector<Callback> callbacks, const absl::Status& status);
  // Adds one write group's duration to the histogram.
  void RecordWriteTime(std::chrono::nanoseconds elapsed);

  Store* const store_;
  const GroupCommitOptions options_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Pending> pending_;
  size_t pending_bytes_ = 0;
  bool stopping_ = false;

  std::atomic<uint64_t> batches_submitted_{0};
  std::atomic<uint64_t> batches_committed_{0};
  std::atomic<uint64_t> batches_failed_{0};
  std::atomic<uint64_t> writes_{0};
  std::atomic<uint64_t> wal_syncs_{0};
  // Per bucket (not cumulative); the last one counts writes above every bound. Only the writer
  // thread adds; stats() reads from any thread.
  std::array<std::atomic<uint64_t>, kWriteGroupSecondsBounds.size() + 1> write_buckets_{};
  std::atomic<uint64_t> write_ns_sum_{0};

  std::thread thread_;  // last: starts after everything above is initialised
};

}  // namespace nsq::nsqd::storage
