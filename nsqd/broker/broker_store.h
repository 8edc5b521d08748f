// BrokerStore: how topics and channels reach the RocksDB store (nsqd/storage). They build one
// StoreWrite per operation (a publish, a FIN, a requeue, a drain step), add to its batch, and
// submit it; the group-commit writer thread commits it and the outcome comes back on the
// event loop. The event loop never waits on disk. Also keeps the store's health (StoreHealth:
// /ping and /stats report it, as nsqd does for disk errors).
//
//   StoreWrite write(broker_store);
//   write.batch().Append(queue_id, message);
//   write.OnCommitted([alive](bool ok) { ... });   // loop thread, before `done`
//   std::move(write).Submit([](absl::Status s) { reply(s.ok() ? "OK" : "E_PUB_FAILED"); });
//
// Loop thread only, except that the Store and writer it points to are thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "nsqd/storage/store.h"
#include "nsqd/storage/store_batch.h"

namespace nsq::nsqd {

namespace storage {
class GroupCommitWriter;
}

// The store's health as every shard's writes leave it: the last write error, until a write
// succeeds again. Any thread.
class StoreHealth {
 public:
  void Record(const absl::Status& status);
  // Empty while healthy.
  std::string error() const;

 private:
  mutable std::mutex mu_;
  std::string error_;
};

class BrokerStore {
 public:
  // The store as the broker of shard `loop` uses it: completions run on that shard's loop
  // (the writer's posts[loop]).
  BrokerStore(storage::Store* store, storage::GroupCommitWriter* writer,
              std::shared_ptr<StoreHealth> health, size_t loop);
  BrokerStore(const BrokerStore&) = delete;
  BrokerStore& operator=(const BrokerStore&) = delete;

  storage::Store* store() const { return store_; }
  // Submits `batch`; `done` runs on the loop with its status (after the write is synced when
  // the sync policy asks, which --sync-every=1 does for every write carrying a message). A
  // failure is logged with `what` and marks the store unhealthy until a write succeeds.
  void Submit(storage::StoreBatch batch, bool sync, const char* what,
              std::function<void(absl::Status)> done);

 private:
  storage::Store* store_;
  storage::GroupCommitWriter* writer_;
  std::shared_ptr<StoreHealth> health_;  // shared with write callbacks, which may outlive this
  size_t loop_;
};

// The store write of one broker operation: a batch created on first use, plus what the
// parties to it do once it is committed (a channel learns its new messages can be read).
// Without a batch, Submit completes at once, synchronously.
class StoreWrite {
 public:
  // `store` may be null (a broker without a store): then batch() must not be called.
  explicit StoreWrite(BrokerStore* store) : store_(store) {}
  StoreWrite(StoreWrite&&) = default;

  storage::StoreBatch& batch();
  bool empty() const { return !batch_ || batch_->empty(); }
  // Runs on the loop after the commit, with whether it succeeded, in the order added.
  void OnCommitted(std::function<void(bool ok)> fn) { committed_.push_back(std::move(fn)); }
  // Commits and then runs the OnCommitted actions and `done` (which may be empty).
  void Submit(const char* what, std::function<void(absl::Status)> done) &&;

 private:
  BrokerStore* store_;
  std::optional<storage::StoreBatch> batch_;
  std::vector<std::function<void(bool)>> committed_;
};

}  // namespace nsq::nsqd
