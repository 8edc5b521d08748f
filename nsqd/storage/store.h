// Store: the broker's durable state in one RocksDB database under --data-path. It holds the
// metadata (topics, channels, paused flags, queue ids), the backlogs of topics and channels
// (messages beyond the memory queue) and deferred messages. This directory is the only code
// that includes RocksDB headers; see README.md for the key layouts and threading rules.
//
//   StoreOptions options;
//   NSQ_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, Store::Open("/var/lib/nsqd", options));
//   uint64_t queue = store->AllocateQueueId();
//   StoreBatch batch = store->NewBatch();
//   batch.Append(queue, message);                         // one batch per PUB/MPUB
//   NSQ_RETURN_IF_ERROR(std::move(batch).Commit(/*sync=*/false));
//   std::unique_ptr<BacklogCursor> cursor = store->NewCursor(queue);
//
// Lifecycle: opened once at start-up, destroyed at shutdown after every BacklogCursor and
// GroupCommitWriter that uses it. Thread-safety is per method, below; the usual split is that
// the event-loop thread builds batches and reads, a GroupCommitWriter thread writes.
#pragma once

#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/protocol/message.h"
#include "nsqd/storage/fault_injector.h"
#include "nsqd/storage/keys.h"
#include "nsqd/storage/metadata.h"
#include "nsqd/storage/store_batch.h"

namespace nsq::nsqd::storage {

class BacklogCursor;
struct QueueState;

// Every field's comment gives its default. Options double as the configuration reference.
struct StoreOptions {
  // Create the directory and an empty store when `path` holds none. Default: true.
  bool create_if_missing = true;
  // Consumed backlog messages gathered before BacklogCursor::Consume adds one DeleteRange to
  // a batch. Larger means fewer tombstones; smaller means fewer redeliveries after a crash.
  // Default: 1024.
  uint64_t consume_delete_batch = 1024;
  // Messages of one queue removed (backlog ranges or deferred entries) before the store
  // compacts that key range in the background, so the database shrinks when a backlog
  // drains. 0 disables it. Default: 65536.
  uint64_t compact_after_deleted = 65536;
  // RocksDB memtable size per column family. Default: 64 MiB.
  size_t write_buffer_size = 64 << 20;
  // Count RocksDB's internal work during cursor reads (BacklogCursor::last_read_stats).
  // Costs a little per read; for tests and diagnostics. Default: false.
  bool collect_read_stats = false;
  // Test hook: when set, every file write goes through it (see fault_injector.h).
  // Default: null.
  std::shared_ptr<FaultInjector> fault_injector;
};

// Depths count committed messages, exactly (Open counts the stored keys).
struct QueueStats {
  uint64_t depth = 0;           // backlog messages not consumed
  uint64_t deferred_depth = 0;  // deferred messages not removed
  uint64_t head_sequence = 0;   // first backlog sequence not consumed
  uint64_t next_sequence = 0;   // sequence the next Append gets
};

struct StoreStats {
  uint64_t sst_bytes = 0;       // table files, all column families
  uint64_t memtable_bytes = 0;  // memtables, all column families
  uint64_t wal_bytes = 0;       // live write-ahead log files
  uint64_t compactions = 0;     // background range compactions run
  uint64_t compaction_failures = 0;
};

// A deferred message read back from the store; `key` removes it (StoreBatch::RemoveDeferred).
struct DeferredEntry {
  DeferredKey key;
  protocol::Message message;
};

class Store {
 public:
  // Opens (or creates) the store at `path`. Errors:
  //   FailedPrecondition: another process (or another Store here) has it open;
  //   DataLoss: the database is corrupt, with what to do about it;
  //   Unavailable / ResourceExhausted: the directory cannot be read or written.
  static absl::StatusOr<std::unique_ptr<Store>> Open(const std::string& path,
                                                     StoreOptions options = {});
  ~Store();

  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  const std::string& path() const { return path_; }
  const StoreOptions& options() const { return options_; }

  // --- Metadata. Any thread.

  // What SaveMetadata stored last: every shard's topology (TopologyKey) in one, shard by
  // shard; an empty Metadata for a new store. `shards`, when given, gets the shards that have
  // a topology stored (ascending).
  absl::StatusOr<Metadata> LoadMetadata(std::vector<size_t>* shards = nullptr);
  // Replaces shard 0's stored metadata and removes every message of `deleted_queue_ids`, in one
  // synced write (so a crash never leaves metadata and data disagreeing). Blocks on disk;
  // a caller on the event loop uses StoreBatch::PutMetadata with a GroupCommitWriter instead.
  absl::Status SaveMetadata(const Metadata& metadata,
                            const std::vector<uint64_t>& deleted_queue_ids = {});
  // A queue id never handed out before by this store, also across restarts (ids of deleted
  // queues are not reused). Ids start at 1.
  uint64_t AllocateQueueId();

  // --- Writes. Any thread.

  StoreBatch NewBatch();
  // Commits `batch` as one atomic RocksDB write on the calling thread; `sync` waits for the
  // WAL to reach the disk. The batch is left empty. Same as std::move(batch).Commit(sync).
  absl::Status Write(StoreBatch& batch, bool sync);
  // Makes every write so far durable (one WAL fsync).
  absl::Status SyncWal();

  // --- Reads.

  // The cursor of `queue_id`'s backlog, starting at its head. Keep one cursor per queue: the
  // cursor owns the head. It must not outlive the store.
  std::unique_ptr<BacklogCursor> NewCursor(uint64_t queue_id);
  // Up to `max_count` deferred messages of `queue_id`, earliest due first, with deliver_at_ns
  // <= `due_at_or_before_ns`. Any thread.
  absl::StatusOr<std::vector<DeferredEntry>> ReadDeferred(
      uint64_t queue_id, size_t max_count,
      int64_t due_at_or_before_ns = std::numeric_limits<int64_t>::max());

  // --- Statistics and maintenance. Any thread.

  QueueStats GetQueueStats(uint64_t queue_id) const;
  // Queue ids that have a backlog or deferred messages, or had writes since Open. Sorted.
  std::vector<uint64_t> KnownQueueIds() const;
  StoreStats GetStats();
  // The same without wal_bytes (left 0): only figures RocksDB keeps in memory, so the event
  // loop can read them (listing the WAL opens every log file).
  StoreStats GetInMemoryStats();
  // SST + memtable + WAL bytes: what the database takes (for /stats and tests).
  uint64_t ApproximateSize();
  // Flushes and compacts everything now, on the calling thread (tests, maintenance).
  absl::Status CompactAll();
  // Returns once no background compaction is queued or running (tests, shutdown).
  void WaitForCompactions();
  // Drops queued compactions, waits for a running one and starts no other (shutdown, before
  // BacklogCursor::ReplaceRead writes below a head whose consumed range a compaction would
  // otherwise treat as wholly deleted).
  void StopCompactions();

  // RocksDB objects. Defined in store_internal.h, which only this directory includes.
  struct Rocks;

 private:
  friend class StoreBatch;
  friend class BacklogCursor;
  friend class GroupCommitWriter;

  Store(std::string path, StoreOptions options);
  // Opens the RocksDB database into rocks_ (db and handles); CloseDb undoes it. Callers other
  // than Open hold db_mu_ exclusively.
  absl::Status OpenDb();
  void CloseDb();
  // Writes and syncs a small file next to the database: OK once the disk takes writes again.
  absl::Status ProbeDisk();
  absl::Status Recover();
  // Commits `batches` as one RocksDB write, then applies their effects (depths, compaction
  // hints). On failure none of them took effect.
  absl::Status WriteGroup(StoreBatch* const* batches, size_t count, bool sync);
  void ApplyEffects(StoreBatch& batch);
  std::shared_ptr<QueueState> Queue(uint64_t queue_id);
  // See CompactionRequest (store_internal.h) for `all_deleted` and `full`.
  void ScheduleCompaction(int column_family, std::string begin, std::string end,
                          bool all_deleted, bool full);
  void CompactionLoop();

  const std::string path_;
  const StoreOptions options_;
  std::unique_ptr<Rocks> rocks_;

  mutable std::mutex queues_mu_;
  absl::flat_hash_map<uint64_t, std::shared_ptr<QueueState>> queues_;
  std::atomic<uint64_t> next_queue_id_{1};
  // Every use of rocks_->db holds this shared; reopening after a write error holds it
  // exclusively. rocks_->db is null while a reopen keeps failing.
  mutable std::shared_mutex db_mu_;
  // After a failed write the WAL may end in a torn record and RocksDB may refuse writes (or,
  // in 7.8, reuse a failed log writer); the next write reopens the database first.
  std::atomic<bool> needs_reopen_{false};
};

}  // namespace nsq::nsqd::storage
