#include "nsqd/storage/fault_injector.h"

#include <algorithm>

namespace nsq::nsqd::storage {

void FaultInjector::FailWrites(FaultKind kind, uint64_t allowed_bytes) {
  std::lock_guard lock(mu_);
  armed_ = true;
  kind_ = kind;
  budget_ = allowed_bytes;
}

void FaultInjector::Heal() {
  std::lock_guard lock(mu_);
  armed_ = false;
}

bool FaultInjector::armed() const {
  std::lock_guard lock(mu_);
  return armed_;
}

uint64_t FaultInjector::failures() const {
  std::lock_guard lock(mu_);
  return failures_;
}

FaultKind FaultInjector::kind() const {
  std::lock_guard lock(mu_);
  return kind_;
}

uint64_t FaultInjector::AdmitWrite(uint64_t size) {
  std::lock_guard lock(mu_);
  if (!armed_) return size;
  const uint64_t allowed = std::min(size, budget_);
  budget_ -= allowed;
  if (allowed < size) ++failures_;
  return allowed;
}

bool FaultInjector::AdmitOther() {
  std::lock_guard lock(mu_);
  if (!armed_ || budget_ > 0) return true;
  ++failures_;
  return false;
}

}  // namespace nsq::nsqd::storage
