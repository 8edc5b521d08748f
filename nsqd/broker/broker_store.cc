#include "nsqd/broker/broker_store.h"

#include <memory>
#include <utility>

#include "common/log/logger.h"
#include "nsqd/storage/group_commit_writer.h"

namespace nsq::nsqd {

void StoreHealth::Record(const absl::Status& status) {
  std::lock_guard<std::mutex> lock(mu_);
  if (status.ok()) {
    error_.clear();
  } else {
    error_ = std::string(status.message());
  }
}

std::string StoreHealth::error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return error_;
}

BrokerStore::BrokerStore(storage::Store* store, storage::GroupCommitWriter* writer,
                         std::shared_ptr<StoreHealth> health, size_t loop)
    : store_(store), writer_(writer), health_(std::move(health)), loop_(loop) {}

void BrokerStore::Submit(storage::StoreBatch batch, bool sync, const char* what,
                         std::function<void(absl::Status)> done) {
  writer_->Submit(
      std::move(batch), sync,
      [health = health_, what, done = std::move(done)](absl::Status status) {
        if (!status.ok()) NSQ_LOG_ERROR("store: %s failed - %s", what, status.message());
        health->Record(status);
        if (done) done(status);
      },
      loop_);
}

storage::StoreBatch& StoreWrite::batch() {
  if (!batch_) batch_.emplace(store_->store()->NewBatch());
  return *batch_;
}

void StoreWrite::Submit(const char* what, std::function<void(absl::Status)> done) && {
  if (empty()) {
    for (auto& fn : committed_) fn(true);
    if (done) done(absl::OkStatus());
    return;
  }
  store_->Submit(std::move(*batch_), /*sync=*/false, what,
                 [committed = std::move(committed_), done = std::move(done)](absl::Status status) {
                   for (const auto& fn : committed) fn(status.ok());
                   if (done) done(status);
                 });
}

}  // namespace nsq::nsqd
