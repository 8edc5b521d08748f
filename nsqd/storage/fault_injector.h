// FaultInjector: makes the store's file writes fail on demand, so tests can drive the
// E_PUB_FAILED paths (disk full, I/O error, a write torn half-way) against a real RocksDB.
// Production code never sets one (StoreOptions::fault_injector stays null).
//
//   auto faults = std::make_shared<FaultInjector>();
//   StoreOptions options;
//   options.fault_injector = faults;
//   auto store = Store::Open(dir, options);
//   faults->FailWrites(FaultKind::kNoSpace);  // every write fails from now on
//   faults->Heal();                           // and works again
//
// Thread-safe: RocksDB calls it from its own threads while a test arms and heals it.
#pragma once

#include <cstdint>
#include <mutex>

namespace nsq::nsqd::storage {

enum class FaultKind {
  kIoError,  // a generic I/O error (EIO)
  kNoSpace,  // disk full (ENOSPC)
};

class FaultInjector {
 public:
  // Arms the injector: once `allowed_bytes` more bytes have been written, every file write,
  // sync and file creation fails with `kind`. The write that crosses the limit is torn: its
  // first bytes reach the file, the rest does not, as when a disk fills up mid-write.
  void FailWrites(FaultKind kind = FaultKind::kIoError, uint64_t allowed_bytes = 0);
  // Disarms it: writes succeed again.
  void Heal();

  bool armed() const;
  // How many operations were refused since the injector was created.
  uint64_t failures() const;

  // For the file system wrapper. Returns how many of `size` bytes may be written; a result
  // below `size` means the write fails after writing that many bytes.
  uint64_t AdmitWrite(uint64_t size);
  // Whether a sync or file creation may go ahead now.
  bool AdmitOther();
  FaultKind kind() const;

 private:
  mutable std::mutex mu_;
  bool armed_ = false;
  FaultKind kind_ = FaultKind::kIoError;
  uint64_t budget_ = 0;
  uint64_t failures_ = 0;
};

}  // namespace nsq::nsqd::storage
