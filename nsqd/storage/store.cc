#include "nsqd/storage/store.h"

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "common/util/status_macros.h"
#include "nsqd/storage/backlog_cursor.h"
#include "nsqd/storage/chunk.h"
#include "nsqd/storage/fault_injection_fs.h"
#include "nsqd/storage/rocksdb_status.h"
#include "nsqd/storage/store_internal.h"
#include "rocksdb/convenience.h"
#include "rocksdb/file_system.h"
#include "rocksdb/options.h"
#include "rocksdb/table.h"
#include "rocksdb/write_batch.h"

namespace nsq::nsqd::storage {
namespace {

std::string_view View(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

absl::Status Closed() {
  return absl::UnavailableError(
      "the store is closed after a write error and could not be reopened yet; the next write "
      "retries");
}

// Turns a failed DB::Open into a message an operator can act on.
absl::Status OpenError(const std::string& path, const rocksdb::Status& s) {
  const std::string text = s.ToString();
  if (s.IsIOError() && absl::StrContains(absl::AsciiStrToLower(text), "lock")) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "data path %s is in use by another nsqd (cannot lock %s/LOCK: %s); stop the other "
        "nsqd or run with --data-path pointing elsewhere",
        path, path, text));
  }
  if (s.IsCorruption()) {
    return absl::DataLossError(absl::StrFormat(
        "the store at %s is corrupt (%s); restore it from a backup, or move it aside (messages "
        "in it are then lost) or run with --data-path pointing elsewhere",
        path, text));
  }
  if (s.IsInvalidArgument() && absl::StrContains(text, "does not exist")) {
    return absl::NotFoundError(absl::StrFormat("no store at %s: %s", path, text));
  }
  return FromRocksDb(s, absl::StrFormat("opening the store at %s", path));
}

}  // namespace

Store::Store(std::string path, StoreOptions options)
    : path_(std::move(path)), options_(std::move(options)), rocks_(std::make_unique<Rocks>()) {}

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const std::string& path, StoreOptions options) {
  std::unique_ptr<Store> store(new Store(path, std::move(options)));
  if (store->options_.create_if_missing) {
    // RocksDB creates the last directory only; --data-path may name a deeper one.
    std::error_code error;
    std::filesystem::create_directories(path, error);
    if (error) {
      return absl::UnavailableError(
          absl::StrFormat("cannot create the data path %s: %s", path, error.message()));
    }
  }
  NSQ_RETURN_IF_ERROR(store->OpenDb());
  NSQ_RETURN_IF_ERROR(store->Recover());
  Rocks* rocks = store->rocks_.get();
  rocks->compaction_thread = std::thread([s = store.get()] { s->CompactionLoop(); });
  return store;
}

Store::~Store() {
  {
    std::lock_guard lock(rocks_->compaction_mu);
    rocks_->compaction_stop = true;
  }
  rocks_->compaction_cv.notify_all();
  // Aborts a running CompactRange rather than waiting for it to finish.
  if (rocks_->db) rocks_->db->DisableManualCompaction();
  if (rocks_->compaction_thread.joinable()) rocks_->compaction_thread.join();
  CloseDb();
}

void Store::CloseDb() {
  if (rocks_->db == nullptr) return;
  for (rocksdb::ColumnFamilyHandle* h : rocks_->handles) {
    rocks_->db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  }
  rocks_->handles.clear();
  // A failed close (a dirty WAL on a broken disk) leaves nothing to do: the WAL is recovered
  // at the next open.
  rocks_->db->Close().PermitUncheckedError();
  rocks_->db.reset();
}

absl::Status Store::OpenDb() {
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = options_.create_if_missing;
  db_options.create_missing_column_families = true;
  // A WAL file is kept until every column family with data in it has flushed; the meta
  // family changes rarely, so bound the WAL or a drained backlog would keep its log forever.
  db_options.max_total_wal_size = 4 * static_cast<uint64_t>(options_.write_buffer_size);
  db_options.max_background_jobs = 2;
  db_options.keep_log_file_num = 3;
  // Recovery after a write error is ours (WriteGroup reopens); RocksDB's background
  // auto-resume would race with it.
  db_options.max_bgerror_resume_count = 0;
  if (options_.fault_injector != nullptr) {
    if (rocks_->env == nullptr) {
      rocks_->env = rocksdb::NewCompositeEnv(
          NewFaultInjectingFileSystem(rocksdb::FileSystem::Default(), options_.fault_injector));
    }
    db_options.env = rocks_->env.get();
  }

  rocksdb::ColumnFamilyOptions cf_options;
  cf_options.write_buffer_size = options_.write_buffer_size;
  // Table files keep RocksDB's default Snappy compression (job payloads are mostly JSON, and
  // it cost 2% of the CPU in the profile); XXH3 block checksums are cheaper than CRC32c on
  // builds without SSE4.2 (Debian's librocksdb computes CRC32c in software).
  rocksdb::BlockBasedTableOptions table_options;
  table_options.checksum = rocksdb::kXXH3;
  cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table_options));
  // Small table files: a drained range then covers whole files, which are dropped without
  // being rewritten (see CompactionLoop), and a compaction rewrites little live data.
  cf_options.target_file_size_base = 8 << 20;
  // A backlog is mostly read once and deleted: let level 0 hold more of it (8 memtables)
  // before compacting, so a drain often deletes data before it is ever rewritten.
  cf_options.level0_file_num_compaction_trigger = 8;

  // Every column family of an existing database must be opened, also ones a later version
  // added; a missing database lists none and is created below.
  std::vector<std::string> existing;
  rocksdb::DB::ListColumnFamilies(db_options, path_, &existing).PermitUncheckedError();
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const char* name : kColumnFamilyNames) descriptors.emplace_back(name, cf_options);
  for (const std::string& name : existing) {
    if (std::find(std::begin(kColumnFamilyNames), std::end(kColumnFamilyNames), name) ==
        std::end(kColumnFamilyNames)) {
      descriptors.emplace_back(name, cf_options);
    }
  }

  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, path_, descriptors, &rocks_->handles, &db);
  if (!s.ok()) {
    rocks_->handles.clear();
    return OpenError(path_, s);
  }
  rocks_->db.reset(db);
  return absl::OkStatus();
}

absl::Status Store::Recover() {
  rocksdb::DB* db = rocks_->db.get();
  uint64_t max_queue_id = 0;

  // Meta: the id allocator and the consumed watermark of every queue.
  std::string value;
  rocksdb::Status s = db->Get({}, rocks_->cf(kMetaCf), kNextQueueIdKey, &value);
  if (s.ok()) {
    uint64_t next = 0;
    if (!DecodeUint64(value, &next)) return absl::DataLossError("stored next_queue_id is malformed");
    next_queue_id_ = std::max<uint64_t>(next, 1);
  } else if (!s.IsNotFound()) {
    return FromRocksDb(s, "reading the queue id allocator");
  }
  {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator({}, rocks_->cf(kMetaCf)));
    for (it->Seek(kHeadKeyPrefix); it->Valid() && it->key().starts_with(kHeadKeyPrefix);
         it->Next()) {
      uint64_t queue_id = 0;
      uint64_t head = 0;
      if (!ParseHeadKey(View(it->key()), &queue_id) || !DecodeUint64(View(it->value()), &head)) {
        return absl::DataLossError("a stored queue head is malformed");
      }
      std::shared_ptr<QueueState> q = Queue(queue_id);
      q->head = head;
      q->next_sequence = head;
      q->head_chunk = head;
      max_queue_id = std::max(max_queue_id, queue_id);
    }
    NSQ_RETURN_IF_ERROR(FromRocksDb(it->status(), "reading queue heads"));
  }

  // Backlogs: one pass over the keys (chunks: the count is the value's first 4 bytes) gives
  // each queue's head chunk, tail and exact depth; the head watermark says how much of the
  // first chunk is consumed. About 0.1 s per million messages on a warm page cache.
  {
    rocksdb::ReadOptions options;
    options.fill_cache = false;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(options, rocks_->cf(kQueueCf)));
    std::shared_ptr<QueueState> q;
    uint64_t current = 0;
    uint64_t first_key = 0;
    uint32_t first_count = 0;
    int64_t depth = 0;
    auto finish_queue = [&] {
      if (q == nullptr) return;
      const uint64_t watermark = q->head.load();
      uint64_t head = first_key;
      if (watermark > first_key) {
        head = std::min<uint64_t>(watermark, first_key + first_count);
        depth -= static_cast<int64_t>(head - first_key);
      }
      q->head = head;
      q->head_chunk = first_key;
      q->depth = depth;
    };
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      uint64_t queue_id = 0;
      uint64_t first = 0;
      uint32_t count = 0;
      if (!ParseBacklogKey(View(it->key()), &queue_id, &first)) {
        return absl::DataLossError("a backlog key has the wrong size");
      }
      if (!ChunkCount(View(it->value()), &count)) {
        return absl::DataLossError("a backlog value is too short");
      }
      if (q == nullptr || queue_id != current) {
        finish_queue();
        q = Queue(queue_id);
        current = queue_id;
        max_queue_id = std::max(max_queue_id, queue_id);
        first_key = first;  // keys below the head's chunk are deleted
        first_count = count;
        depth = 0;
      }
      depth += count;
      if (first + count > q->next_sequence) q->next_sequence = first + count;
    }
    finish_queue();
    NSQ_RETURN_IF_ERROR(FromRocksDb(it->status(), "recovering backlogs"));
  }

  // Deferred messages: their count and the next tie-break sequence need a key scan. Deferred
  // sets are small next to backlogs (they are bounded by what the broker holds in memory).
  {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator({}, rocks_->cf(kDeferredCf)));
    std::shared_ptr<QueueState> q;
    uint64_t current = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      DeferredKey key;
      if (!ParseDeferredKey(View(it->key()), &key)) {
        return absl::DataLossError("a deferred key has the wrong size");
      }
      if (q == nullptr || key.queue_id != current) {
        q = Queue(key.queue_id);
        current = key.queue_id;
        max_queue_id = std::max(max_queue_id, key.queue_id);
      }
      q->deferred_depth.fetch_add(1);
      if (key.sequence >= q->next_deferred_sequence) q->next_deferred_sequence = key.sequence + 1;
    }
    NSQ_RETURN_IF_ERROR(FromRocksDb(it->status(), "recovering deferred messages"));
  }

  // Ids in saved metadata or in data are taken, even if the allocator was not saved after
  // handing them out (a crash between allocation and SaveMetadata).
  absl::StatusOr<Metadata> metadata = LoadMetadata();
  if (!metadata.ok()) return metadata.status();
  for (const TopicMetadata& topic : metadata->topics) {
    max_queue_id = std::max(max_queue_id, topic.queue_id);
    for (const ChannelMetadata& channel : topic.channels) {
      max_queue_id = std::max(max_queue_id, channel.queue_id);
    }
  }
  if (next_queue_id_ <= max_queue_id) next_queue_id_ = max_queue_id + 1;
  return absl::OkStatus();
}

std::shared_ptr<QueueState> Store::Queue(uint64_t queue_id) {
  std::lock_guard lock(queues_mu_);
  std::shared_ptr<QueueState>& q = queues_[queue_id];
  if (q == nullptr) q = std::make_shared<QueueState>();
  return q;
}

absl::StatusOr<Metadata> Store::LoadMetadata(std::vector<size_t>* shards) {
  std::shared_lock lock(db_mu_);
  if (rocks_->db == nullptr) return Closed();
  Metadata all;
  std::unique_ptr<rocksdb::Iterator> it(rocks_->db->NewIterator({}, rocks_->cf(kMetaCf)));
  for (it->Seek(kTopologyKey); it->Valid() && it->key().starts_with(kTopologyKey); it->Next()) {
    size_t shard = 0;
    if (!ParseTopologyKey(View(it->key()), &shard)) continue;  // not a topology key
    NSQ_ASSIGN_OR_RETURN(Metadata one, DecodeMetadata(View(it->value())));
    for (TopicMetadata& topic : one.topics) all.topics.push_back(std::move(topic));
    if (shards != nullptr) shards->push_back(shard);
  }
  NSQ_RETURN_IF_ERROR(FromRocksDb(it->status(), "reading metadata"));
  if (shards != nullptr) std::sort(shards->begin(), shards->end());
  return all;
}

absl::Status Store::SaveMetadata(const Metadata& metadata,
                                 const std::vector<uint64_t>& deleted_queue_ids) {
  StoreBatch batch = NewBatch();
  batch.PutMetadata(metadata);
  for (uint64_t queue_id : deleted_queue_ids) batch.DeleteQueue(queue_id);
  return Write(batch, /*sync=*/true);
}

uint64_t Store::AllocateQueueId() { return next_queue_id_.fetch_add(1); }

StoreBatch Store::NewBatch() { return StoreBatch(this); }

absl::Status Store::Write(StoreBatch& batch, bool sync) {
  StoreBatch* one = &batch;
  return WriteGroup(&one, 1, sync);
}

absl::Status Store::WriteGroup(StoreBatch* const* batches, size_t count, bool sync) {
  if (needs_reopen_) {
    // Only give up the open database (which still serves reads) once the disk takes writes
    // again; until then publishers get the error and consumers keep reading.
    NSQ_RETURN_IF_ERROR(ProbeDisk());
    std::unique_lock lock(db_mu_);
    if (needs_reopen_) {
      CloseDb();
      absl::Status reopened = OpenDb();
      if (!reopened.ok()) {
        return absl::UnavailableError(absl::StrFormat(
            "the store is reopening after a write error: %s", reopened.message()));
      }
      needs_reopen_ = false;
    }
  }

  std::shared_lock lock(db_mu_);
  if (rocks_->db == nullptr) return Closed();
  size_t bytes = 0;
  for (size_t i = 0; i < count; ++i) bytes += batches[i]->byte_size() + 16 * batches[i]->ops_.size();
  rocksdb::WriteBatch batch(/*reserved_bytes=*/bytes + 64);
  for (size_t i = 0; i < count; ++i) {
    const StoreBatch& from = *batches[i];
    for (const StoreBatch::Op& op : from.ops_) {
      rocksdb::ColumnFamilyHandle* cf = rocks_->cf(op.column_family);
      const rocksdb::Slice key(from.key(op).data(), op.key_size);
      const rocksdb::Slice value(from.value(op).data(), op.value_size);
      rocksdb::Status added;
      switch (op.kind) {
        case StoreBatch::Op::kPut:
          added = batch.Put(cf, key, value);
          break;
        case StoreBatch::Op::kDelete:
          added = batch.Delete(cf, key);
          break;
        case StoreBatch::Op::kDeleteRange:
          added = batch.DeleteRange(cf, key, value);
          break;
      }
      NSQ_RETURN_IF_ERROR(FromRocksDb(added, "building a write batch"));
    }
  }

  if (batch.Count() > 0) {
    rocksdb::WriteOptions write_options;
    write_options.sync = sync;
    rocksdb::Status s = rocks_->db->Write(write_options, &batch);
    if (!s.ok()) {
      needs_reopen_ = true;
      return FromRocksDb(s, "writing to the store");
    }
  }
  for (size_t i = 0; i < count; ++i) {
    ApplyEffects(*batches[i]);
    batches[i]->Clear();
  }
  return absl::OkStatus();
}

absl::Status Store::ProbeDisk() {
  const std::shared_ptr<rocksdb::FileSystem> fs =
      rocks_->env != nullptr ? rocks_->env->GetFileSystem() : rocksdb::FileSystem::Default();
  const std::string probe = path_ + "/WRITE_PROBE";
  rocksdb::IOStatus s = rocksdb::WriteStringToFile(fs.get(), "probe", probe, /*should_sync=*/true);
  fs->DeleteFile(probe, rocksdb::IOOptions(), nullptr).PermitUncheckedError();
  return FromRocksDb(s, "the store's disk still fails writes");
}

void Store::ApplyEffects(StoreBatch& batch) {
  const uint64_t threshold = options_.compact_after_deleted;
  for (auto& [queue_id, effect] : batch.effects_) {
    QueueState& q = *effect.queue;
    if (effect.queue_deleted) {
      {
        std::lock_guard lock(queues_mu_);
        auto it = queues_.find(queue_id);
        if (it != queues_.end() && it->second == effect.queue) queues_.erase(it);
      }
      if (threshold > 0) {
        ScheduleCompaction(kQueueCf, BacklogKey(queue_id, 0), BacklogKey(queue_id, kMaxSequence),
                           /*all_deleted=*/true, /*full=*/true);
        ScheduleCompaction(kDeferredCf,
                           EncodeDeferredKey({queue_id, std::numeric_limits<int64_t>::min(), 0}),
                           DeferredQueueEnd(queue_id), /*all_deleted=*/true, /*full=*/true);
      }
      continue;
    }
    q.depth += effect.appended;
    q.deferred_depth += effect.deferred;
    if (threshold == 0) continue;
    // Every `threshold` removed messages the table files wholly inside the removed range are
    // dropped. A full compaction, which rewrites live data at the range's edges, waits until
    // the queue is drained (after a sixteenth of the threshold: a trickle drains all the time)
    // or 16 thresholds went by, so a long backlog is not rewritten over and over as it drains.
    const uint64_t removed = effect.backlog_deleted;
    if (removed > 0) {
      const uint64_t since_files = q.deleted_since_compaction.fetch_add(removed) + removed;
      const uint64_t since_full = q.deleted_since_full_compaction.fetch_add(removed) + removed;
      const bool drained = q.depth.load() == 0 && since_full >= threshold / 16;
      if (drained || since_full >= 16 * threshold) {
        q.deleted_since_compaction = 0;
        q.deleted_since_full_compaction = 0;
        ScheduleCompaction(kQueueCf, BacklogKey(queue_id, 0),
                           BacklogKey(queue_id, effect.delete_end), /*all_deleted=*/true,
                           /*full=*/true);
      } else if (since_files >= threshold) {
        q.deleted_since_compaction = 0;
        ScheduleCompaction(kQueueCf, BacklogKey(queue_id, 0),
                           BacklogKey(queue_id, effect.delete_end), /*all_deleted=*/true,
                           /*full=*/false);
      }
    }
    if (effect.deferred_removed > 0 &&
        q.deferred_removed_since_compaction.fetch_add(effect.deferred_removed) +
                effect.deferred_removed >=
            threshold) {
      q.deferred_removed_since_compaction = 0;
      ScheduleCompaction(kDeferredCf,
                         EncodeDeferredKey({queue_id, std::numeric_limits<int64_t>::min(), 0}),
                         DeferredQueueEnd(queue_id), /*all_deleted=*/false, /*full=*/true);
    }
  }
}

absl::Status Store::SyncWal() {
  std::shared_lock lock(db_mu_);
  if (rocks_->db == nullptr) return Closed();
  return FromRocksDb(rocks_->db->SyncWAL(), "syncing the write-ahead log");
}

std::unique_ptr<BacklogCursor> Store::NewCursor(uint64_t queue_id) {
  return std::unique_ptr<BacklogCursor>(new BacklogCursor(this, queue_id, Queue(queue_id)));
}

absl::StatusOr<std::vector<DeferredEntry>> Store::ReadDeferred(uint64_t queue_id,
                                                               size_t max_count,
                                                               int64_t due_at_or_before_ns) {
  std::shared_lock lock(db_mu_);
  if (rocks_->db == nullptr) return Closed();
  const std::string lower =
      EncodeDeferredKey({queue_id, std::numeric_limits<int64_t>::min(), 0});
  const std::string upper = DeferredKeyAfter(queue_id, due_at_or_before_ns);
  const rocksdb::Slice lower_slice(lower);
  const rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions read_options;
  read_options.iterate_lower_bound = &lower_slice;
  read_options.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(
      rocks_->db->NewIterator(read_options, rocks_->cf(kDeferredCf)));

  std::vector<DeferredEntry> out;
  for (it->Seek(lower_slice); it->Valid() && out.size() < max_count; it->Next()) {
    DeferredEntry entry;
    if (!ParseDeferredKey(View(it->key()), &entry.key)) {
      return absl::DataLossError("a deferred key has the wrong size");
    }
    absl::StatusOr<protocol::Message> message = protocol::DecodeMessage(View(it->value()));
    if (!message.ok()) {
      return absl::DataLossError(absl::StrFormat("deferred message %d/%d is undecodable: %s",
                                                 queue_id, entry.key.sequence,
                                                 message.status().message()));
    }
    entry.message = *std::move(message);
    out.push_back(std::move(entry));
  }
  NSQ_RETURN_IF_ERROR(FromRocksDb(it->status(), "reading deferred messages"));
  return out;
}

QueueStats Store::GetQueueStats(uint64_t queue_id) const {
  std::shared_ptr<QueueState> q;
  {
    std::lock_guard lock(queues_mu_);
    auto it = queues_.find(queue_id);
    if (it == queues_.end()) return {};
    q = it->second;
  }
  QueueStats stats;
  stats.depth = static_cast<uint64_t>(std::max<int64_t>(q->depth.load(), 0));
  stats.deferred_depth = static_cast<uint64_t>(std::max<int64_t>(q->deferred_depth.load(), 0));
  stats.head_sequence = q->head.load();
  stats.next_sequence = q->next_sequence.load();
  return stats;
}

std::vector<uint64_t> Store::KnownQueueIds() const {
  std::vector<uint64_t> ids;
  {
    std::lock_guard lock(queues_mu_);
    for (const auto& [id, q] : queues_) ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

StoreStats Store::GetStats() {
  StoreStats stats = GetInMemoryStats();
  std::shared_lock lock(db_mu_);
  rocksdb::DB* db = rocks_->db.get();
  if (db == nullptr) return stats;
  rocksdb::VectorLogPtr wal_files;
  if (db->GetSortedWalFiles(wal_files).ok()) {
    for (const auto& file : wal_files) stats.wal_bytes += file->SizeFileBytes();
  }
  return stats;
}

StoreStats Store::GetInMemoryStats() {
  StoreStats stats;
  stats.compactions = rocks_->compactions.load();
  stats.compaction_failures = rocks_->compaction_failures.load();
  std::shared_lock lock(db_mu_);
  rocksdb::DB* db = rocks_->db.get();
  if (db == nullptr) return stats;
  for (int cf : {kDefaultCf, kMetaCf, kQueueCf, kDeferredCf}) {
    uint64_t v = 0;
    if (db->GetIntProperty(rocks_->cf(cf), "rocksdb.total-sst-files-size", &v)) {
      stats.sst_bytes += v;
    }
    if (db->GetIntProperty(rocks_->cf(cf), "rocksdb.cur-size-all-mem-tables", &v)) {
      stats.memtable_bytes += v;
    }
  }
  return stats;
}

uint64_t Store::ApproximateSize() {
  const StoreStats stats = GetStats();
  return stats.sst_bytes + stats.memtable_bytes + stats.wal_bytes;
}

absl::Status Store::CompactAll() {
  std::shared_lock lock(db_mu_);
  rocksdb::DB* db = rocks_->db.get();
  if (db == nullptr) return Closed();
  NSQ_RETURN_IF_ERROR(FromRocksDb(db->Flush({}, rocks_->handles), "flushing memtables"));
  rocksdb::CompactRangeOptions options;
  options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForceOptimized;
  for (rocksdb::ColumnFamilyHandle* h : rocks_->handles) {
    NSQ_RETURN_IF_ERROR(FromRocksDb(db->CompactRange(options, h, nullptr, nullptr), "compacting"));
  }
  return absl::OkStatus();
}

void Store::ScheduleCompaction(int column_family, std::string begin, std::string end,
                               bool all_deleted, bool full) {
  {
    std::lock_guard lock(rocks_->compaction_mu);
    if (rocks_->compaction_stop) return;
    for (CompactionRequest& pending : rocks_->compaction_queue) {
      // A queue drains front to back: a newer request for the same start covers the older.
      if (pending.column_family == column_family && pending.begin == begin &&
          pending.all_deleted == all_deleted) {
        pending.end = std::max(pending.end, end);
        pending.full = pending.full || full;
        return;
      }
    }
    rocks_->compaction_queue.push_back(
        {column_family, std::move(begin), std::move(end), all_deleted, full});
  }
  rocks_->compaction_cv.notify_all();
}

void Store::StopCompactions() {
  {
    std::lock_guard lock(rocks_->compaction_mu);
    rocks_->compaction_stop = true;
    rocks_->compaction_queue.clear();
  }
  rocks_->compaction_cv.notify_all();
  {
    // Aborts a running CompactRange rather than waiting for it to finish.
    std::shared_lock db_lock(db_mu_);
    if (rocks_->db) rocks_->db->DisableManualCompaction();
  }
  std::unique_lock lock(rocks_->compaction_mu);
  rocks_->compaction_cv.wait(lock, [&] { return !rocks_->compaction_running; });
}

void Store::WaitForCompactions() {
  std::unique_lock lock(rocks_->compaction_mu);
  rocks_->compaction_cv.wait(lock, [&] {
    return rocks_->compaction_stop ||
           (rocks_->compaction_queue.empty() && !rocks_->compaction_running);
  });
}

void Store::CompactionLoop() {
  Rocks& r = *rocks_;
  std::unique_lock lock(r.compaction_mu);
  while (true) {
    r.compaction_cv.wait(lock, [&] { return r.compaction_stop || !r.compaction_queue.empty(); });
    if (r.compaction_stop) break;  // compaction only saves space; shutdown need not wait
    CompactionRequest request = std::move(r.compaction_queue.front());
    r.compaction_queue.pop_front();
    r.compaction_running = true;
    lock.unlock();

    rocksdb::Status s = rocksdb::Status::Aborted("the store is closed");
    std::shared_lock db_lock(db_mu_);
    const rocksdb::Slice begin(request.begin);
    const rocksdb::Slice end(request.end);
    if (r.db != nullptr) s = rocksdb::Status::OK();
    if (r.db != nullptr && request.all_deleted) {
      // Files wholly inside the drained range go at no cost (levels 1 and up).
      s = rocksdb::DeleteFilesInRange(r.db.get(), r.cf(request.column_family), &begin, &end,
                                      /*include_end=*/false);
    }
    if (s.ok() && request.full) {
      // Flush every family first: a WAL file is only deleted once all of them have flushed
      // what it holds, and the memtable of the drained range holds the deleted messages too.
      s = r.db->Flush(rocksdb::FlushOptions(), r.handles);
      if (s.ok()) {
        rocksdb::CompactRangeOptions options;
        options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForceOptimized;
        s = r.db->CompactRange(options, r.cf(request.column_family), &begin, &end);
      }
    }
    db_lock.unlock();
    (s.ok() ? r.compactions : r.compaction_failures).fetch_add(1);

    lock.lock();
    r.compaction_running = false;
    r.compaction_cv.notify_all();
  }
}

}  // namespace nsq::nsqd::storage
