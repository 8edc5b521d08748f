#include "nsqd/storage/chunk.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tests/unit/nsqd/storage/store_test_util.h"

namespace nsq::nsqd::storage {
namespace {

using testing::MessageNumber;
using testing::NumberedMessage;

TEST_CASE("a chunk keeps its messages in order, every field intact") {
  std::vector<protocol::Message> messages = {NumberedMessage(7), NumberedMessage(8, 300),
                                             NumberedMessage(9)};
  messages[1].attempts = 4;
  std::string chunk = "prefix";
  AppendChunk(messages, &chunk);
  chunk.erase(0, 6);
  uint32_t count = 0;
  REQUIRE(ChunkCount(chunk, &count));
  CHECK(count == 3);
  std::vector<std::string_view> encoded;
  REQUIRE(SplitChunk(chunk, &encoded));
  REQUIRE(encoded.size() == 3);
  for (size_t i = 0; i < 3; ++i) {
    auto decoded = protocol::DecodeMessage(encoded[i]);
    REQUIRE(decoded.ok());
    CHECK(MessageNumber(*decoded) == 7 + i);
    CHECK(decoded->id == messages[i].id);
    CHECK(decoded->attempts == messages[i].attempts);
    CHECK(decoded->body.view() == messages[i].body.view());
  }
}

TEST_CASE("a truncated or padded chunk is malformed") {
  std::string chunk;
  AppendChunk(std::vector<protocol::Message>{NumberedMessage(1), NumberedMessage(2)}, &chunk);
  std::vector<std::string_view> encoded;
  for (size_t cut : {size_t{0}, size_t{3}, size_t{4}, size_t{10}, chunk.size() - 1}) {
    CHECK_FALSE(SplitChunk(std::string_view(chunk).substr(0, cut), &encoded));
  }
  CHECK_FALSE(SplitChunk(chunk + "x", &encoded));
  uint32_t count = 0;
  CHECK_FALSE(ChunkCount("abc", &count));
}

TEST_CASE("a corrupt count is refused without reserving room for it") {
  // 0xffffffff messages would be 64 GiB of views if the count were trusted.
  std::string chunk("\xff\xff\xff\xff\x00\x00\x00\x01x", 9);
  std::vector<std::string_view> encoded;
  CHECK_FALSE(SplitChunk(chunk, &encoded));
  CHECK(encoded.capacity() <= chunk.size());
}

}  // namespace
}  // namespace nsq::nsqd::storage
