// Running a user's Handler on a message and answering for it: one place for the Consumer's
// handler threads and nsq/testing.h's RunHandler, so tests of user code see what production does.
// Internal.
#pragma once

#include "absl/status/status.h"
#include "nsq/consumer.h"
#include "nsq/message.h"

namespace nsq::client::internal {

// Calls `handler`; an exception becomes an Internal status. Then, unless the handler called
// DisableAutoResponse(): OK → Finish(), an error → Requeue() (the default delay, with backoff).
// Answers after the handler's own answer are ignored by Message. Returns the handler's status.
absl::Status HandleAndRespond(const Handler& handler, Message& message);

}  // namespace nsq::client::internal
