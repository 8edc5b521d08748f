// Fuzzes the snappy framing-format stream codec (common/protocol/stream_codec.h) that IDENTIFY
// can put on a connection: arbitrary bytes as a compressed stream in random splits and small
// reads, and compress -> decompress round trips. The checks are in stream_codec_check.h.
#include <cstddef>
#include <cstdint>

#include "fuzz/stream_codec_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nsq::fuzz::CheckStreamCodec(nsq::fuzz::AsView(data, size), nsq::protocol::NewSnappyCompressor,
                              nsq::protocol::NewSnappyDecompressor);
  return 0;
}
