// The value of a backlog key: the messages of one append (one publish to one queue, or what a
// clean shutdown puts back), stored together as a "chunk":
//
//   u32 count, then per message: u32 size, the message in EncodeMessage format
//
// all big-endian. The key carries the first message's sequence; message i of the chunk has
// sequence first + i. One key per MPUB rather than one per message makes a write one memtable
// insert and a read one iterator step. Pure byte functions; no RocksDB.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/protocol/message.h"

namespace nsq::nsqd::storage {

// Appends the chunk of `messages` to `out`.
void AppendChunk(std::span<const protocol::Message> messages, std::string* out);
// The number of messages in `chunk`; false when it is too short to say.
bool ChunkCount(std::string_view chunk, uint32_t* count);
// The encoded messages of `chunk`, in order, as views into it; false when malformed.
bool SplitChunk(std::string_view chunk, std::vector<std::string_view>* messages);

}  // namespace nsq::nsqd::storage
