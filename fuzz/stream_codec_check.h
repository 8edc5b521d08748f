// The checks snappy_stream_fuzz and deflate_stream_fuzz share (common/protocol/stream_codec.h):
//  1. the input as a compressed stream, fed in random splits and read with small Read(max)
//     values, gives the same bytes and the same verdict as fed whole; no Read returns more than
//     max; Read(0) returns 0; an error stays an error;
//  2. the input as plain data, written in random pieces to a compressor, decompresses piece by
//     piece to exactly what was written so far (every Write is flushed).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/protocol/stream_codec.h"
#include "fuzz/fuzz_util.h"

namespace nsq::fuzz {

using MakeDecompressor = std::function<std::unique_ptr<protocol::StreamDecompressor>()>;
using MakeCompressor = std::function<std::unique_ptr<protocol::StreamCompressor>()>;

struct Drained {
  std::string out;
  bool failed = false;
};

// Reads until the decompressor needs more input or fails, at most `max` bytes a Read.
inline void Drain(protocol::StreamDecompressor& decompressor, Splitter& splitter, size_t max,
                  Drained* drained) {
  if (drained->failed) return;
  for (;;) {
    const size_t before = drained->out.size();
    FUZZ_CHECK(decompressor.Read(0, &drained->out).value_or(0) == 0);
    FUZZ_CHECK(drained->out.size() == before);
    const size_t this_max = splitter.Size(max);
    absl::StatusOr<size_t> n = decompressor.Read(this_max, &drained->out);
    if (!n.ok()) {
      drained->failed = true;
      // A corrupt stream stays corrupt.
      std::string more;
      FUZZ_CHECK(!decompressor.Read(this_max, &more).ok());
      return;
    }
    FUZZ_CHECK(*n <= this_max);
    FUZZ_CHECK(drained->out.size() == before + *n);
    if (*n == 0) return;
  }
}

inline void CheckStreamCodec(std::string_view input, const MakeCompressor& make_compressor,
                             const MakeDecompressor& make_decompressor) {
  Splitter splitter(input);

  // 1. Arbitrary bytes as a compressed stream.
  Drained whole;
  {
    std::unique_ptr<protocol::StreamDecompressor> rx = make_decompressor();
    rx->Feed(input);
    Drain(*rx, splitter, 1 << 20, &whole);
  }
  for (size_t max_read : {size_t{1}, size_t{7}, size_t{4096}}) {
    Drained split;
    std::unique_ptr<protocol::StreamDecompressor> rx = make_decompressor();
    for (std::string_view piece : splitter.Pieces(input, 33)) {
      rx->Feed(piece);
      Drain(*rx, splitter, max_read, &split);
    }
    Drain(*rx, splitter, max_read, &split);
    FUZZ_CHECK(split.failed == whole.failed);
    if (!whole.failed) {
      FUZZ_CHECK(split.out == whole.out);
    } else {
      // Where the error shows may depend on how much was read before it; the bytes before it
      // may not.
      const size_t common = std::min(split.out.size(), whole.out.size());
      FUZZ_CHECK(split.out.compare(0, common, whole.out, 0, common) == 0);
    }
  }

  // 2. The input as data: compress in pieces, each Write decodable on its own.
  std::unique_ptr<protocol::StreamCompressor> tx = make_compressor();
  std::unique_ptr<protocol::StreamDecompressor> rx = make_decompressor();
  Drained round_trip;
  size_t written = 0;
  for (std::string_view piece : splitter.Pieces(input, 512)) {
    std::string wire;
    FUZZ_CHECK(tx->Write(piece, &wire).ok());
    FUZZ_CHECK(!piece.empty() || wire.empty());  // writing nothing appends nothing
    written += piece.size();
    for (std::string_view wire_piece : splitter.Pieces(wire, 100)) rx->Feed(wire_piece);
    Drain(*rx, splitter, 64, &round_trip);
    FUZZ_CHECK(!round_trip.failed);
    FUZZ_CHECK(round_trip.out.size() == written);
    FUZZ_CHECK(round_trip.out == input.substr(0, written));
  }
  FUZZ_CHECK(round_trip.out == input);
}

}  // namespace nsq::fuzz
