#include "nsqd/storage/fault_injection_fs.h"

#include <string>
#include <utility>

namespace nsq::nsqd::storage {
namespace {

using rocksdb::FileOptions;
using rocksdb::FSWritableFile;
using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;

IOStatus Injected(const FaultInjector& injector) {
  if (injector.kind() == FaultKind::kNoSpace) {
    // As RocksDB's POSIX file system reports ENOSPC: retryable, so the store can resume
    // once space is back.
    IOStatus s = IOStatus::NoSpace("injected fault", "No space left on device");
    s.SetRetryable(true);
    return s;
  }
  return IOStatus::IOError("injected fault", "Input/output error");
}

class FaultInjectingFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultInjectingFile(std::unique_ptr<FSWritableFile> file, std::shared_ptr<FaultInjector> injector)
      : FSWritableFileOwnerWrapper(std::move(file)), injector_(std::move(injector)) {}

  IOStatus Append(const Slice& data, const IOOptions& options, IODebugContext* dbg) override {
    const uint64_t allowed = injector_->AdmitWrite(data.size());
    if (allowed == data.size()) return target()->Append(data, options, dbg);
    if (allowed > 0) {
      // The torn prefix is best effort: the caller sees the injected error either way.
      IOStatus ignored = target()->Append(Slice(data.data(), allowed), options, dbg);
      ignored.PermitUncheckedError();
    }
    return Injected(*injector_);
  }
  IOStatus Append(const Slice& data, const IOOptions& options,
                  const rocksdb::DataVerificationInfo& /*verification_info*/,
                  IODebugContext* dbg) override {
    return Append(data, options, dbg);
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& options,
                            IODebugContext* dbg) override {
    if (injector_->AdmitWrite(data.size()) != data.size()) return Injected(*injector_);
    return target()->PositionedAppend(data, offset, options, dbg);
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& options,
                            const rocksdb::DataVerificationInfo& /*verification_info*/,
                            IODebugContext* dbg) override {
    return PositionedAppend(data, offset, options, dbg);
  }
  IOStatus Sync(const IOOptions& options, IODebugContext* dbg) override {
    if (!injector_->AdmitOther()) return Injected(*injector_);
    return target()->Sync(options, dbg);
  }
  IOStatus Fsync(const IOOptions& options, IODebugContext* dbg) override {
    if (!injector_->AdmitOther()) return Injected(*injector_);
    return target()->Fsync(options, dbg);
  }

 private:
  std::shared_ptr<FaultInjector> injector_;
};

class FaultInjectingFileSystem : public rocksdb::FileSystemWrapper {
 public:
  FaultInjectingFileSystem(std::shared_ptr<rocksdb::FileSystem> base,
                           std::shared_ptr<FaultInjector> injector)
      : FileSystemWrapper(base), injector_(std::move(injector)) {}

  const char* Name() const override { return "NsqFaultInjectingFileSystem"; }

  IOStatus NewWritableFile(const std::string& name, const FileOptions& options,
                           std::unique_ptr<FSWritableFile>* result,
                           IODebugContext* dbg) override {
    if (!injector_->AdmitOther()) return Injected(*injector_);
    return Wrap(target()->NewWritableFile(name, options, result, dbg), result);
  }
  IOStatus ReopenWritableFile(const std::string& name, const FileOptions& options,
                              std::unique_ptr<FSWritableFile>* result,
                              IODebugContext* dbg) override {
    if (!injector_->AdmitOther()) return Injected(*injector_);
    return Wrap(target()->ReopenWritableFile(name, options, result, dbg), result);
  }
  IOStatus ReuseWritableFile(const std::string& name, const std::string& old_name,
                             const FileOptions& options, std::unique_ptr<FSWritableFile>* result,
                             IODebugContext* dbg) override {
    if (!injector_->AdmitOther()) return Injected(*injector_);
    return Wrap(target()->ReuseWritableFile(name, old_name, options, result, dbg), result);
  }

 private:
  IOStatus Wrap(IOStatus status, std::unique_ptr<FSWritableFile>* result) {
    if (status.ok()) {
      *result = std::make_unique<FaultInjectingFile>(std::move(*result), injector_);
    }
    return status;
  }

  std::shared_ptr<FaultInjector> injector_;
};

}  // namespace

std::shared_ptr<rocksdb::FileSystem> NewFaultInjectingFileSystem(
    std::shared_ptr<rocksdb::FileSystem> base, std::shared_ptr<FaultInjector> injector) {
  return std::make_shared<FaultInjectingFileSystem>(std::move(base), std::move(injector));
}

}  // namespace nsq::nsqd::storage
