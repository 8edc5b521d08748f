#include "nsqd/storage/group_commit_writer.h"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <utility>

#include "nsqd/storage/store.h"

namespace nsq::nsqd::storage {

GroupCommitWriter::GroupCommitWriter(Store* store, GroupCommitOptions options)
    : store_(store), options_(std::move(options)), thread_([this] { Run(); }) {}

GroupCommitWriter::~GroupCommitWriter() { Stop(); }

void GroupCommitWriter::Submit(StoreBatch batch, bool sync, Done done, size_t loop) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      batches_submitted_.fetch_add(1);
      pending_bytes_ += batch.byte_size();
      pending_.push_back({std::move(batch), sync, std::move(done), loop});
      cv_.notify_one();
      return;
    }
  }
  std::vector<Callback> callbacks;
  callbacks.push_back({std::move(done), loop});
  Complete(std::move(callbacks), absl::FailedPreconditionError("the store writer has stopped"));
}

void GroupCommitWriter::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

GroupCommitStats GroupCommitWriter::stats() const {
  GroupCommitStats s;
  s.batches_submitted = batches_submitted_.load();
  s.batches_committed = batches_committed_.load();
  s.batches_failed = batches_failed_.load();
  s.writes = writes_.load();
  s.wal_syncs = wal_syncs_.load();
  uint64_t cumulative = 0;
  for (size_t i = 0; i < s.write_seconds_buckets.size(); ++i) {
    cumulative += write_buckets_[i].load();
    s.write_seconds_buckets[i] = cumulative;
  }
  s.write_seconds_count = cumulative + write_buckets_.back().load();
  s.write_seconds_sum = static_cast<double>(write_ns_sum_.load()) / 1e9;
  return s;
}

void GroupCommitWriter::Complete(std::vector<Callback> callbacks, const absl::Status& status) {
  if (options_.posts.empty()) {
    for (Callback& callback : callbacks) callback.done(status);
    return;
  }
  // One hop per write group and loop, not per batch: an MPUB storm wakes a loop once per
  // write.
  std::vector<std::vector<Done>> per_loop(options_.posts.size());
  for (Callback& callback : callbacks) {
    assert(callback.loop < per_loop.size());  // Submit named a loop that has no poster
    per_loop[callback.loop].push_back(std::move(callback.done));
  }
  for (size_t loop = 0; loop < per_loop.size(); ++loop) {
    if (per_loop[loop].empty()) continue;
    options_.posts[loop]([dones = std::move(per_loop[loop]), status]() mutable {
      for (Done& done : dones) done(status);
    });
  }
}

void GroupCommitWriter::RecordWriteTime(std::chrono::nanoseconds elapsed) {
  const double seconds = std::chrono::duration<double>(elapsed).count();
  const size_t bucket =
      std::lower_bound(kWriteGroupSecondsBounds.begin(), kWriteGroupSecondsBounds.end(), seconds) -
      kWriteGroupSecondsBounds.begin();
  write_buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  write_ns_sum_.fetch_add(static_cast<uint64_t>(elapsed.count()), std::memory_order_relaxed);
}

void GroupCommitWriter::Run() {
  SyncTracker tracker(options_.sync_policy);
  std::unique_lock lock(mu_);
  while (true) {
    if (pending_.empty()) {
      if (stopping_) break;
      const absl::Time deadline = tracker.SyncDeadline();
      if (deadline == absl::InfiniteFuture()) {
        cv_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
      } else if (!cv_.wait_until(lock, absl::ToChronoTime(deadline),
                                 [&] { return stopping_ || !pending_.empty(); })) {
        // --sync-timeout: the oldest unsynced write has waited long enough.
        lock.unlock();
        if (store_->SyncWal().ok()) {
          wal_syncs_.fetch_add(1);
          tracker.RecordSynced();
        } else {
          tracker.RecordUnsynced(0, absl::Now());  // retry after another timeout
        }
        lock.lock();
      }
      continue;
    }

    // Take the oldest pending batches up to max_group_bytes (at least one).
    std::vector<Pending> group;
    size_t bytes = 0;
    size_t taken = 0;
    while (taken < pending_.size()) {
      const size_t size = pending_[taken].batch.byte_size();
      if (taken > 0 && bytes + size > options_.max_group_bytes) break;
      bytes += size;
      ++taken;
    }
    if (taken == pending_.size()) {
      group.swap(pending_);
    } else {
      group.assign(std::make_move_iterator(pending_.begin()),
                   std::make_move_iterator(pending_.begin() + static_cast<ptrdiff_t>(taken)));
      pending_.erase(pending_.begin(), pending_.begin() + static_cast<ptrdiff_t>(taken));
    }
    pending_bytes_ -= bytes;
    lock.unlock();

    bool sync = false;
    uint64_t messages = 0;
    std::vector<StoreBatch*> batches;
    std::vector<Callback> callbacks;
    batches.reserve(group.size());
    callbacks.reserve(group.size());
    for (Pending& p : group) {
      sync = sync || p.sync;
      messages += p.batch.message_count();
      batches.push_back(&p.batch);
      callbacks.push_back({std::move(p.done), p.loop});
    }
    sync = sync || tracker.ShouldSync(messages);
    const auto started = std::chrono::steady_clock::now();
    const absl::Status status = store_->WriteGroup(batches.data(), batches.size(), sync);
    RecordWriteTime(std::chrono::steady_clock::now() - started);
    writes_.fetch_add(1);
    if (status.ok()) {
      batches_committed_.fetch_add(group.size());
      if (sync) {
        wal_syncs_.fetch_add(1);
        tracker.RecordSynced();
      } else {
        tracker.RecordUnsynced(messages, absl::Now());
      }
    } else {
      batches_failed_.fetch_add(group.size());
    }
    Complete(std::move(callbacks), status);
    lock.lock();
  }
  lock.unlock();
  if (tracker.dirty() && store_->SyncWal().ok()) wal_syncs_.fetch_add(1);
}

}  // namespace nsq::nsqd::storage
