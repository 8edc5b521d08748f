#include "nsqd/storage/chunk.h"

#include <algorithm>

#include "common/protocol/big_endian.h"

namespace nsq::nsqd::storage {

using protocol::LoadBigEndian32;
using protocol::StoreBigEndian32;

void AppendChunk(std::span<const protocol::Message> messages, std::string* out) {
  size_t size = 4;
  for (const protocol::Message& m : messages) size += 4 + protocol::kMessageHeaderLength + m.body.size();
  const size_t start = out->size();
  out->reserve(start + size);
  out->resize(start + 4);
  StoreBigEndian32(out->data() + start, static_cast<uint32_t>(messages.size()));
  for (const protocol::Message& message : messages) {
    const size_t at = out->size();
    out->resize(at + 4);
    StoreBigEndian32(out->data() + at,
                     static_cast<uint32_t>(protocol::kMessageHeaderLength + message.body.size()));
    protocol::EncodeMessage(message, out);
  }
}

bool ChunkCount(std::string_view chunk, uint32_t* count) {
  if (chunk.size() < 4) return false;
  *count = LoadBigEndian32(chunk.data());
  return true;
}

bool SplitChunk(std::string_view chunk, std::vector<std::string_view>* messages) {
  uint32_t count = 0;
  if (!ChunkCount(chunk, &count)) return false;
  chunk.remove_prefix(4);
  messages->clear();
  // The count is only an upper bound until the bytes back it up (each message takes at least
  // its 4-byte size): a corrupt count must not reserve gigabytes (found by
  // fuzz/store_codec_fuzz).
  messages->reserve(std::min<size_t>(count, chunk.size() / 4));
  for (uint32_t i = 0; i < count; ++i) {
    if (chunk.size() < 4) return false;
    const uint32_t size = LoadBigEndian32(chunk.data());
    chunk.remove_prefix(4);
    if (chunk.size() < size) return false;
    messages->push_back(chunk.substr(0, size));
    chunk.remove_prefix(size);
  }
  return chunk.empty();
}

}  // namespace nsq::nsqd::storage
