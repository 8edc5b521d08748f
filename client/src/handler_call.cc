#include "client/src/handler_call.h"

#include <exception>

#include "absl/strings/str_cat.h"

namespace nsq::client::internal {

absl::Status HandleAndRespond(const Handler& handler, Message& message) {
  absl::Status status;
  try {
    status = handler(message);
  } catch (const std::exception& e) {
    status = absl::InternalError(absl::StrCat("handler threw: ", e.what()));
  } catch (...) {
    status = absl::InternalError("handler threw");
  }
  if (message.IsAutoResponseDisabled()) return status;
  if (status.ok()) {
    message.Finish();
  } else {
    message.Requeue();
  }
  return status;
}

}  // namespace nsq::client::internal
