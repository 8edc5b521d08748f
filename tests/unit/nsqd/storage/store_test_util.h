// Helpers shared by the store tests: numbered messages and a store opened in a temp dir.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "common/protocol/message.h"
#include "nsqd/storage/store.h"

namespace nsq::nsqd::storage::testing {

// Message number `n`: id, timestamp and body all derive from `n`, so order is checkable.
// The body is padded to `body_size` bytes when that is longer.
inline protocol::Message NumberedMessage(uint64_t n, size_t body_size = 0) {
  protocol::Message m;
  m.id = protocol::MessageId::FromUint64(n);
  m.timestamp_ns = static_cast<int64_t>(1'700'000'000'000'000'000 + n);
  m.attempts = static_cast<uint16_t>(n % 7);
  std::string body = absl::StrCat("message-", n);
  if (body.size() < body_size) body.resize(body_size, 'x');
  m.body = protocol::Body::Copy(body);
  return m;
}

// The number NumberedMessage encoded in a message's body.
inline uint64_t MessageNumber(const protocol::Message& m) {
  std::string_view body = m.body.view();
  body.remove_prefix(std::string_view("message-").size());
  uint64_t n = 0;
  for (char c : body) {
    if (c < '0' || c > '9') break;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  return n;
}

inline std::unique_ptr<Store> OpenStore(const std::string& path, StoreOptions options = {}) {
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(path, std::move(options));
  REQUIRE_MESSAGE(store.ok(), store.status().ToString());
  return std::move(store).value();
}

// Appends messages [first, first + count) to `queue` in batches of `per_batch`.
inline void AppendNumbered(Store& store, uint64_t queue, uint64_t first, uint64_t count,
                           uint64_t per_batch = 100, size_t body_size = 0) {
  for (uint64_t done = 0; done < count;) {
    StoreBatch batch = store.NewBatch();
    for (uint64_t i = 0; i < per_batch && done < count; ++i, ++done) {
      batch.Append(queue, NumberedMessage(first + done, body_size));
    }
    absl::Status status = std::move(batch).Commit(/*sync=*/false);
    REQUIRE_MESSAGE(status.ok(), status.ToString());
  }
}

}  // namespace nsq::nsqd::storage::testing
