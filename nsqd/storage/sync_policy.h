// SyncPolicy: when non-durable writes reach the disk, with the meaning of Go nsqd's
// --sync-every (messages between fsyncs) and --sync-timeout (longest time a written message
// waits for its fsync). SyncTracker applies it; the GroupCommitWriter thread owns one.
//
// A batch submitted with sync=true is always synced before its callback runs; the policy only
// bounds how much of the rest a power loss can take. --sync-every=1 syncs every write group,
// which makes every acknowledged message durable (concurrent publishers share the fsync).
#pragma once

#include <cstdint>

#include "absl/time/time.h"

namespace nsq::nsqd::storage {

struct SyncPolicy {
  // Messages written before a write is synced; 0 never syncs by count. Default: 2500 (nsqd's).
  uint64_t sync_every = 2500;
  // Longest a written message stays unsynced; zero never syncs by time. Go nsqd syncs on a
  // ticker of this period; we sync this long after the oldest unsynced write, which bounds
  // the exposure the same way. Default: 2 s (nsqd's).
  absl::Duration sync_timeout = absl::Seconds(2);
};

class SyncTracker {
 public:
  explicit SyncTracker(SyncPolicy policy) : policy_(policy) {}

  // Whether a write of `messages` more messages should be a synced write.
  bool ShouldSync(uint64_t messages) const {
    return policy_.sync_every > 0 && unsynced_messages_ + messages >= policy_.sync_every;
  }
  // Records a write that was not synced (a write of zero messages still dirties the WAL).
  void RecordUnsynced(uint64_t messages, absl::Time now) {
    if (!dirty_) oldest_unsynced_ = now;
    dirty_ = true;
    unsynced_messages_ += messages;
  }
  // Records that everything written so far is on disk.
  void RecordSynced() {
    dirty_ = false;
    unsynced_messages_ = 0;
  }

  bool dirty() const { return dirty_; }
  uint64_t unsynced_messages() const { return unsynced_messages_; }
  // When the unsynced writes must be synced; InfiniteFuture when there are none or the
  // policy has no timeout.
  absl::Time SyncDeadline() const {
    if (!dirty_ || policy_.sync_timeout <= absl::ZeroDuration()) return absl::InfiniteFuture();
    return oldest_unsynced_ + policy_.sync_timeout;
  }

 private:
  SyncPolicy policy_;
  bool dirty_ = false;
  uint64_t unsynced_messages_ = 0;
  absl::Time oldest_unsynced_;
};

}  // namespace nsq::nsqd::storage
