// A RocksDB FileSystem that routes every writable file through a FaultInjector. Internal to
// nsqd/storage: Store::Open installs it when StoreOptions::fault_injector is set.
#pragma once

#include <memory>

#include "nsqd/storage/fault_injector.h"
#include "rocksdb/file_system.h"

namespace nsq::nsqd::storage {

std::shared_ptr<rocksdb::FileSystem> NewFaultInjectingFileSystem(
    std::shared_ptr<rocksdb::FileSystem> base, std::shared_ptr<FaultInjector> injector);

}  // namespace nsq::nsqd::storage
