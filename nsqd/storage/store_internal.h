// Internals shared by the store's .cc files: the RocksDB objects and per-queue counters.
// Never include this outside nsqd/storage.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "nsqd/storage/store.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"

namespace nsq::nsqd::storage {

enum ColumnFamily : int { kDefaultCf = 0, kMetaCf = 1, kQueueCf = 2, kDeferredCf = 3 };
inline constexpr const char* kColumnFamilyNames[] = {"default", "meta", "queue", "deferred"};

// The counters of one queue. Sequences are handed out by the batch-building thread and
// depths change on commit (any writer thread), so every field is atomic.
struct QueueState {
  std::atomic<uint64_t> next_sequence{kFirstSequence};
  std::atomic<uint64_t> head{kFirstSequence};
  // The first sequence of the key that holds the head (keys are chunks of several messages).
  std::atomic<uint64_t> head_chunk{kFirstSequence};
  std::atomic<int64_t> depth{0};
  std::atomic<uint64_t> next_deferred_sequence{0};
  std::atomic<int64_t> deferred_depth{0};
  std::atomic<uint64_t> deleted_since_compaction{0};       // since drained files were dropped
  std::atomic<uint64_t> deleted_since_full_compaction{0};  // since a CompactRange
  std::atomic<uint64_t> deferred_removed_since_compaction{0};
};

struct CompactionRequest {
  int column_family;
  std::string begin;
  std::string end;
  // Every key in [begin, end) is deleted: table files wholly inside it can be dropped (cheap,
  // nothing rewritten). Not so for a deferred set, where live entries remain.
  bool all_deleted;
  // Flush and CompactRange, which rewrites the files at the range's edges.
  bool full;
};

struct Store::Rocks {
  std::unique_ptr<rocksdb::Env> env;  // only with a fault injector; outlives `db`
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;  // indexed by ColumnFamily; then others

  rocksdb::ColumnFamilyHandle* cf(int which) const { return handles[which]; }

  // Background compaction of drained ranges.
  std::mutex compaction_mu;
  std::condition_variable compaction_cv;
  std::deque<CompactionRequest> compaction_queue;
  bool compaction_running = false;
  bool compaction_stop = false;
  std::thread compaction_thread;
  std::atomic<uint64_t> compactions{0};
  std::atomic<uint64_t> compaction_failures{0};
};

}  // namespace nsq::nsqd::storage
