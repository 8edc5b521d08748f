// A user's unit test of a handler, built against the installed package: exits 0 when the
// handler's answers are what nsq/testing.h reports.
#include <cstdio>

#include "nsq/testing.h"

namespace {

absl::Status StoreOrder(nsq::client::Message& message) {
  if (message.body().empty()) return absl::InvalidArgumentError("empty order");
  return absl::OkStatus();
}

}  // namespace

int main() {
  nsq::client::testing::TestMessage good("{\"order\": 42}");
  nsq::client::testing::TestMessage bad("");
  const bool ok = nsq::client::testing::RunHandler(StoreOrder, good).ok() && good.finished() &&
                  !nsq::client::testing::RunHandler(StoreOrder, bad).ok() && bad.requeued();
  std::puts(ok ? "handler test passed" : "handler test FAILED");
  return ok ? 0 : 1;
}
