// Converts RocksDB statuses to absl::Status. Internal to nsqd/storage: nothing above the store
// sees a RocksDB type.
#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "rocksdb/status.h"

namespace nsq::nsqd::storage {

// `context` says what the store was doing ("writing a batch"); the RocksDB text follows it.
// Disk full -> ResourceExhausted, other I/O errors -> Unavailable, corruption -> DataLoss,
// anything unexpected -> Internal.
absl::Status FromRocksDb(const rocksdb::Status& status, std::string_view context);

}  // namespace nsq::nsqd::storage
