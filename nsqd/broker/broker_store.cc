#include "nsqd/broker/broker_store.h"

#include <memory>
#include <utility>

#include "common/log/logger.h"
#include "nsqd/storage/group_commit_writer.h"

namespace nsq::nsqd {

BrokerStore::BrokerStore(storage::Store* store, storage::GroupCommitWriter* writer)
    : store_(store), writer_(writer) {}

void BrokerStore::Submit(storage::StoreBatch batch, bool sync, const char* what,
                         std::function<void(absl::Status)> done) {
  writer_->Submit(std::move(batch), sync,
                  [self = self_, what, done = std::move(done)](absl::Status status) {
                    if (!status.ok()) {
                      NSQ_LOG_ERROR("store: %s failed - %s", what, status.message());
                    }
                    if (*self != nullptr) {
                      (*self)->health_error_ = status.ok() ? "" : std::string(status.message());
                    }
                    if (done) done(status);
                  });
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
