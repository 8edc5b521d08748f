// BacklogCursor: reads one queue's backlog in order and removes what was consumed.
//
// The cursor keeps the head (first unconsumed sequence) and the read position in memory. Each
// read seeks straight to the read position with iterate_lower_bound/iterate_upper_bound set
// to [read position, end of queue), so the tombstones of consumed messages are never scanned
// again. A key holds the messages of one append (chunk.h), so reads return whole chunks and
// a chunk is deleted once all its messages are consumed: one DeleteRange per
// `consume_delete_batch` consumed messages, added to a batch the caller commits, with the
// exact head, so a restart skips the consumed start of a chunk.
//
//   auto cursor = store->NewCursor(queue);
//   NSQ_ASSIGN_OR_RETURN(auto entries, cursor->ReadBatch(256, 1 << 20));
//   ... deliver entries[i].message ...
//   StoreBatch batch = store->NewBatch();
//   cursor->Consume(entries.back().sequence, &batch);
//   if (!batch.empty()) writer->Submit(std::move(batch), false, done);
//
// Owned by whoever drains the queue; one thread at a time; must not outlive the Store.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "common/protocol/message.h"

namespace nsq::nsqd::storage {

class Store;
class StoreBatch;
struct QueueState;

struct BacklogEntry {
  uint64_t sequence = 0;
  protocol::Message message;
};

// RocksDB's own counters for the last ReadBatch (StoreOptions::collect_read_stats).
// A read that walked over consumed messages shows it in `memtable_nexts` and
// `key_comparisons` (recent data) or `blocks_read` (flushed data), not in the skip counters:
// RocksDB hides keys covered by a DeleteRange without counting them as skipped.
struct ReadStats {
  uint64_t keys_returned = 0;
  uint64_t internal_keys_skipped = 0;    // hidden versions stepped over
  uint64_t point_tombstones_skipped = 0;
  uint64_t range_tombstone_reseeks = 0;  // seeks past a DeleteRange
  uint64_t memtable_nexts = 0;           // entries stepped over in memtables
  uint64_t key_comparisons = 0;
  uint64_t blocks_read = 0;              // SST blocks read from disk or page cache
};

class BacklogCursor {
 public:
  ~BacklogCursor();
  BacklogCursor(const BacklogCursor&) = delete;
  BacklogCursor& operator=(const BacklogCursor&) = delete;

  // The next committed messages after the read position, in order: whole keys (chunks) until
  // `max_count` messages or `max_bytes` are reached, so possibly a chunk more than asked.
  // An empty result means the backlog is read to its end for now.
  absl::StatusOr<std::vector<BacklogEntry>> ReadBatch(size_t max_count, size_t max_bytes);

  // Marks every read message up to and including `up_to_sequence` consumed (later sequences
  // than what was read are not consumed). Depth drops at once; once `consume_delete_batch`
  // messages are pending, their DeleteRange goes into `batch`.
  void Consume(uint64_t up_to_sequence, StoreBatch* batch);
  // Marks one read message consumed, in any order (a consumer's FIN). Depth drops at once; the
  // head moves over the consumed prefix and, as with Consume, a DeleteRange goes into `batch`
  // every `consume_delete_batch` messages. False when `sequence` was not read or is consumed.
  bool Finish(uint64_t sequence, StoreBatch* batch);
  // Adds the DeleteRange of every chunk consumed so far, and the head, to `batch` (idle
  // queues, shutdown).
  void FlushConsumed(StoreBatch* batch);

  // Clean shutdown: every read message goes (finished or not), and `messages` (those of the
  // queue that live in memory: the unfinished read ones with their attempts, and older ones
  // that never reached the store, in delivery order) go in front of what was not read yet, so
  // the next reader reads them first. Rewinds the cursor. Call after Store::StopCompactions.
  // Fails only when it has to read the head's chunk and cannot.
  absl::Status ReplaceRead(std::span<const protocol::Message> messages, StoreBatch* batch);
  // Removes the whole backlog and every deferred message of the queue (channel empty),
  // including appends already in batches built before this call. The cursor then reads only
  // what is appended afterwards.
  void DiscardAll(StoreBatch* batch);

  // Reads again from the head: messages read but not consumed come back (after a restart
  // of the consumer side, for example).
  void Rewind();

  uint64_t queue_id() const { return queue_id_; }
  uint64_t head_sequence() const { return head_; }
  uint64_t read_sequence() const { return read_; }
  // Consumed messages whose removal FlushConsumed would add.
  uint64_t pending_deletes() const { return pending_deletes_; }
  const ReadStats& last_read_stats() const { return last_read_stats_; }

 private:
  friend class Store;
  BacklogCursor(Store* store, uint64_t queue_id, std::shared_ptr<QueueState> queue);

  Store* store_;
  uint64_t queue_id_;
  std::shared_ptr<QueueState> queue_;
  uint64_t head_;          // first sequence not consumed
  uint64_t read_;          // where the next read seeks: a chunk's first sequence
  uint64_t delete_from_;   // first chunk not deleted yet
  uint64_t pending_deletes_ = 0;
  struct ReadEntry {
    uint64_t sequence;
    uint64_t chunk_start;  // the sequence of its chunk's key
    bool finished;         // by Finish, out of order: waits for its predecessors
  };
  std::deque<ReadEntry> unconsumed_;  // read and not consumed, ascending by sequence

  // Pops the finished prefix of unconsumed_, moving the head; returns how many.
  uint64_t PopFinishedPrefix();
  void AfterHeadMoved(uint64_t popped, StoreBatch* batch);
  // Where the chunks that are wholly consumed end.
  uint64_t DeletableEnd() const;
  ReadStats last_read_stats_;
};

}  // namespace nsq::nsqd::storage
