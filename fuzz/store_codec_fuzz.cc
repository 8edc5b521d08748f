// Fuzzes the store's byte codecs (nsqd/storage/keys.h, chunk.h, metadata.h) on arbitrary
// bytes, as a damaged or foreign database would hand them over: nothing may crash or read out
// of bounds, and whatever parses must re-encode to the same bytes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/protocol/message.h"
#include "fuzz/fuzz_util.h"
#include "nsqd/storage/chunk.h"
#include "nsqd/storage/keys.h"
#include "nsqd/storage/metadata.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nsq::fuzz;
  namespace storage = nsq::nsqd::storage;
  namespace protocol = nsq::protocol;
  const std::string_view input = AsView(data, size);

  uint64_t queue_id = 0;
  uint64_t sequence = 0;
  if (storage::ParseBacklogKey(input, &queue_id, &sequence)) {
    FUZZ_CHECK(storage::BacklogKey(queue_id, sequence) == input);
  }
  storage::DeferredKey deferred;
  if (storage::ParseDeferredKey(input, &deferred)) {
    FUZZ_CHECK(storage::EncodeDeferredKey(deferred) == input);
    // The read bounds around it sort as documented (queue ids never reach the maximum:
    // Store::AllocateQueueId).
    if (deferred.queue_id != ~uint64_t{0}) {
      FUZZ_CHECK(storage::DeferredQueueEnd(deferred.queue_id) > std::string(input));
      FUZZ_CHECK(storage::DeferredKeyAfter(deferred.queue_id, deferred.deliver_at_ns) >
                 std::string(input));
    }
  }
  if (storage::ParseHeadKey(input, &queue_id)) {
    FUZZ_CHECK(storage::HeadKey(queue_id) == input);
  }
  uint64_t value = 0;
  if (storage::DecodeUint64(input, &value)) {
    FUZZ_CHECK(storage::EncodeUint64(value) == input);
  }

  uint32_t count = 0;
  const bool has_count = storage::ChunkCount(input, &count);
  std::vector<std::string_view> encoded;
  if (storage::SplitChunk(input, &encoded)) {
    FUZZ_CHECK(has_count && count == encoded.size());
    std::vector<protocol::Message> messages;
    bool all_decode = true;
    for (std::string_view bytes : encoded) {
      FUZZ_CHECK(bytes.data() >= input.data() &&
                 bytes.data() + bytes.size() <= input.data() + size);
      absl::StatusOr<protocol::Message> message = protocol::DecodeMessage(bytes);
      if (!message.ok()) {
        all_decode = false;
        continue;
      }
      std::string again;
      protocol::EncodeMessage(*message, &again);
      FUZZ_CHECK(again == bytes);
      messages.push_back(std::move(*message));
    }
    if (all_decode) {
      std::string chunk;
      storage::AppendChunk(messages, &chunk);
      FUZZ_CHECK(chunk == input);
    }
  }

  if (absl::StatusOr<storage::Metadata> metadata = storage::DecodeMetadata(input); metadata.ok()) {
    const std::string encoded_metadata = storage::EncodeMetadata(*metadata);
    absl::StatusOr<storage::Metadata> again = storage::DecodeMetadata(encoded_metadata);
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(storage::EncodeMetadata(*again) == encoded_metadata);
  }
  return 0;
}
