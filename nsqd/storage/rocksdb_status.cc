#include "nsqd/storage/rocksdb_status.h"

#include <string>

#include "absl/strings/str_format.h"

namespace nsq::nsqd::storage {

absl::Status FromRocksDb(const rocksdb::Status& status, std::string_view context) {
  if (status.ok()) return absl::OkStatus();
  const std::string text = absl::StrFormat("%s: %s", context, status.ToString());
  using Code = rocksdb::Status::Code;
  switch (status.code()) {
    case Code::kIOError:
      if (status.IsNoSpace()) return absl::ResourceExhaustedError(text);
      return absl::UnavailableError(text);
    case Code::kCorruption:
      return absl::DataLossError(text);
    case Code::kNotFound:
      return absl::NotFoundError(text);
    case Code::kInvalidArgument:
      return absl::InvalidArgumentError(text);
    case Code::kNotSupported:
      return absl::UnimplementedError(text);
    case Code::kBusy:
    case Code::kTimedOut:
    case Code::kTryAgain:
    case Code::kShutdownInProgress:
      return absl::UnavailableError(text);
    case Code::kAborted:
    case Code::kIncomplete:
      return absl::AbortedError(text);
    default:
      return absl::InternalError(text);
  }
}

}  // namespace nsq::nsqd::storage
