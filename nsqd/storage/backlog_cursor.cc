#include "nsqd/storage/backlog_cursor.h"

#include <algorithm>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <utility>

#include "absl/strings/str_format.h"
#include "nsqd/storage/chunk.h"
#include "nsqd/storage/keys.h"
#include "nsqd/storage/rocksdb_status.h"
#include "nsqd/storage/store.h"
#include "nsqd/storage/store_batch.h"
#include "nsqd/storage/store_internal.h"
#include "rocksdb/perf_context.h"
#include "rocksdb/perf_level.h"

namespace nsq::nsqd::storage {

BacklogCursor::BacklogCursor(Store* store, uint64_t queue_id, std::shared_ptr<QueueState> queue)
    : store_(store), queue_id_(queue_id), queue_(std::move(queue)) {
  head_ = queue_->head.load();
  read_ = std::min(head_, queue_->head_chunk.load());
  delete_from_ = read_;
}

BacklogCursor::~BacklogCursor() = default;

absl::StatusOr<std::vector<BacklogEntry>> BacklogCursor::ReadBatch(size_t max_count,
                                                                  size_t max_bytes) {
  std::vector<BacklogEntry> out;
  if (max_count == 0) return out;

  // The bounds keep the iterator inside [read position, end of this queue): it never visits
  // the consumed range before it nor the next queue after it.
  const std::string lower = BacklogKey(queue_id_, read_);
  const std::string upper = BacklogKey(queue_id_, kMaxSequence);
  const rocksdb::Slice lower_slice(lower);
  const rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions read_options;
  read_options.iterate_lower_bound = &lower_slice;
  read_options.iterate_upper_bound = &upper_slice;

  std::shared_lock lock(store_->db_mu_);
  Store::Rocks& rocks = *store_->rocks_;
  if (rocks.db == nullptr) {
    return absl::UnavailableError("the store is closed after a write error");
  }

  const bool collect = store_->options().collect_read_stats;
  const rocksdb::PerfLevel previous_level = rocksdb::GetPerfLevel();
  if (collect) {
    rocksdb::SetPerfLevel(rocksdb::PerfLevel::kEnableCount);
    rocksdb::get_perf_context()->Reset();
  }

  std::unique_ptr<rocksdb::Iterator> it(
      rocks.db->NewIterator(read_options, rocks.cf(kQueueCf)));
  size_t bytes = 0;
  absl::Status status;
  const uint64_t read_before = read_;
  std::vector<std::string_view> encoded;
  for (it->Seek(lower_slice); it->Valid() && out.size() < max_count && bytes < max_bytes;
       it->Next()) {
    uint64_t queue_id = 0;
    uint64_t first = 0;
    if (!ParseBacklogKey({it->key().data(), it->key().size()}, &queue_id, &first)) {
      status = absl::DataLossError("a backlog key has the wrong size");
      break;
    }
    if (!SplitChunk({it->value().data(), it->value().size()}, &encoded)) {
      status = absl::DataLossError(
          absl::StrFormat("backlog chunk %d/%d is malformed", queue_id_, first));
      break;
    }
    for (size_t i = 0; i < encoded.size() && status.ok(); ++i) {
      const uint64_t sequence = first + i;
      if (sequence < head_) continue;  // the consumed start of the head's chunk
      absl::StatusOr<protocol::Message> message = protocol::DecodeMessage(encoded[i]);
      if (!message.ok()) {
        status = absl::DataLossError(absl::StrFormat("backlog message %d/%d is undecodable: %s",
                                                     queue_id_, sequence,
                                                     message.status().message()));
        break;
      }
      out.push_back({sequence, *std::move(message)});
      unconsumed_.push_back({sequence, first, false});
    }
    if (!status.ok()) break;
    bytes += it->value().size();
    read_ = first + encoded.size();
  }
  if (status.ok()) status = FromRocksDb(it->status(), "reading a backlog");

  if (collect) {
    const rocksdb::PerfContext& perf = *rocksdb::get_perf_context();
    last_read_stats_.keys_returned = out.size();
    last_read_stats_.internal_keys_skipped = perf.internal_key_skipped_count;
    last_read_stats_.point_tombstones_skipped = perf.internal_delete_skipped_count;
    last_read_stats_.range_tombstone_reseeks = perf.internal_range_del_reseek_count;
    last_read_stats_.memtable_nexts = perf.next_on_memtable_count;
    last_read_stats_.key_comparisons = perf.user_key_comparison_count;
    last_read_stats_.blocks_read = perf.block_read_count;
    rocksdb::SetPerfLevel(previous_level);
  }
  if (!status.ok()) {
    // Nothing of this read counts: the next read starts over where this one did.
    unconsumed_.resize(unconsumed_.size() - out.size());
    read_ = read_before;
    return status;
  }
  return out;
}

void BacklogCursor::Consume(uint64_t up_to_sequence, StoreBatch* batch) {
  int64_t newly_consumed = 0;
  uint64_t popped = 0;
  while (!unconsumed_.empty() && unconsumed_.front().sequence <= up_to_sequence) {
    if (!unconsumed_.front().finished) ++newly_consumed;
    head_ = unconsumed_.front().sequence + 1;
    unconsumed_.pop_front();
    ++popped;
  }
  popped += PopFinishedPrefix();
  queue_->depth -= newly_consumed;
  AfterHeadMoved(popped, batch);
}

bool BacklogCursor::Finish(uint64_t sequence, StoreBatch* batch) {
  auto it = std::lower_bound(
      unconsumed_.begin(), unconsumed_.end(), sequence,
      [](const ReadEntry& entry, uint64_t wanted) { return entry.sequence < wanted; });
  if (it == unconsumed_.end() || it->sequence != sequence || it->finished) return false;
  it->finished = true;
  queue_->depth -= 1;
  AfterHeadMoved(PopFinishedPrefix(), batch);
  return true;
}

uint64_t BacklogCursor::PopFinishedPrefix() {
  uint64_t popped = 0;
  while (!unconsumed_.empty() && unconsumed_.front().finished) {
    head_ = unconsumed_.front().sequence + 1;
    unconsumed_.pop_front();
    ++popped;
  }
  return popped;
}

void BacklogCursor::AfterHeadMoved(uint64_t popped, StoreBatch* batch) {
  if (popped == 0) return;
  queue_->head = head_;
  pending_deletes_ += popped;
  if (pending_deletes_ >= store_->options().consume_delete_batch) FlushConsumed(batch);
}

uint64_t BacklogCursor::DeletableEnd() const {
  return unconsumed_.empty() ? read_ : unconsumed_.front().chunk_start;
}

void BacklogCursor::FlushConsumed(StoreBatch* batch) {
  const uint64_t end = std::max(delete_from_, DeletableEnd());
  if (end == delete_from_ && pending_deletes_ == 0) return;
  batch->DeleteBacklogRange(queue_id_, delete_from_, end, head_);
  delete_from_ = end;
  queue_->head_chunk = end;
  pending_deletes_ = 0;
}

absl::Status BacklogCursor::ReplaceRead(std::span<const protocol::Message> messages,
                                        StoreBatch* batch) {
  std::vector<protocol::Message> all(messages.begin(), messages.end());
  if (unconsumed_.empty() && head_ > read_) {
    // The head is inside a chunk nobody read since the start: the range deleted below covers
    // that chunk, so its unconsumed messages are read and put back too.
    absl::StatusOr<std::vector<BacklogEntry>> head_chunk = ReadBatch(1, 1);
    if (!head_chunk.ok()) return head_chunk.status();
    for (BacklogEntry& entry : *head_chunk) all.push_back(std::move(entry.message));
  }
  // Read messages not consumed yet leave the depth now; `all` joins it at the commit.
  int64_t unfinished = 0;
  for (const ReadEntry& entry : unconsumed_) unfinished += entry.finished ? 0 : 1;
  queue_->depth -= unfinished;
  const uint64_t new_head = read_ - all.size();
  batch->DeleteBacklogRange(queue_id_, delete_from_, read_, new_head);
  if (!all.empty()) batch->PutChunk(queue_id_, new_head, all);
  head_ = new_head;
  delete_from_ = new_head;
  queue_->head = new_head;
  queue_->head_chunk = new_head;
  pending_deletes_ = 0;
  Rewind();
  return absl::OkStatus();
}

void BacklogCursor::DiscardAll(StoreBatch* batch) {
  const uint64_t end = queue_->next_sequence.load();
  batch->DeleteBacklogRange(queue_id_, delete_from_, end, end);
  batch->DeleteAllDeferred(queue_id_);
  head_ = end;
  delete_from_ = end;
  pending_deletes_ = 0;
  queue_->head = end;
  queue_->head_chunk = end;
  queue_->depth = 0;
  Rewind();
}

void BacklogCursor::Rewind() {
  read_ = delete_from_;  // a chunk start at or before the head; reads skip what is before it
  unconsumed_.clear();
}

}  // namespace nsq::nsqd::storage
