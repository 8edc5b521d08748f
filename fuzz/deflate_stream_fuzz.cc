// Fuzzes the raw DEFLATE stream codec (common/protocol/stream_codec.h) that IDENTIFY can put on
// a connection: arbitrary bytes as a compressed stream in random splits and small reads, and
// compress -> decompress round trips at a level taken from the input (out-of-range levels
// included: they are clamped). The checks are in stream_codec_check.h.
#include <cstddef>
#include <cstdint>

#include "fuzz/stream_codec_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input = nsq::fuzz::AsView(data, size);
  const int level = size == 0 ? 6 : static_cast<int>(static_cast<uint8_t>(input[0]) % 12) - 1;
  nsq::fuzz::CheckStreamCodec(
      input, [level] { return nsq::protocol::NewDeflateCompressor(level); },
      nsq::protocol::NewDeflateDecompressor);
  return 0;
}
