// The compression layer that IDENTIFY can put on an nsqd TCP connection (NSQ-REFERENCE.md 1.7):
// either the snappy framing format or raw DEFLATE with a sync flush after every write, in both
// directions. The bytes match what Go nsqd produces and accepts (github.com/golang/snappy's
// buffered Writer and Reader; compress/flate's Writer with Flush and its Reader), so go-nsq,
// nsqjs and our own client interoperate with either end.
//
// Pure codecs: no sockets, clocks or exceptions. The connection owns one compressor for what
// it sends and one decompressor for what it receives, from the moment the upgrade is agreed
// until the connection closes; neither is thread-safe.
//
//   auto tx = nsq::protocol::NewSnappyCompressor();
//   std::string wire;
//   absl::Status s = tx->Write(frame_bytes, &wire);   // send `wire`: the peer can decode all of it
//
//   auto rx = nsq::protocol::NewSnappyDecompressor();
//   rx->Feed(bytes_from_socket);                      // any split
//   std::string plain;
//   for (;;) {
//     absl::StatusOr<size_t> n = rx->Read(64 * 1024, &plain);
//     if (!n.ok()) return n.status();                 // corrupt stream: close the connection
//     if (*n == 0) break;                             // needs more input
//   }
//   // `plain` now holds the protocol bytes for the frame or command decoder.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace nsq::protocol {

// Compresses what a connection writes. Write appends to *out the compressed form of `data`,
// flushed: the peer can decode everything written so far from what is in *out. Writing
// nothing appends nothing (there is nothing new to flush). An error means the compressor is
// unusable (zlib could not allocate its state); it stays an error.
class StreamCompressor {
 public:
  virtual ~StreamCompressor();
  virtual absl::Status Write(std::string_view data, std::string* out) = 0;
};

// Decompresses what a connection reads: Feed compressed bytes as they arrive (any split),
// then Read up to `max` decompressed bytes at a time (appended to *out; returns how many,
// 0 = needs more input). A corrupt stream is an error (DataLoss) and stays an error.
//
// Memory is bounded by what was fed and not yet consumed, plus the codec's own state
// (one 64 KiB decoded chunk for snappy; zlib's 32 KiB window for deflate): declared chunk
// lengths are checked before anything is buffered for them.
class StreamDecompressor {
 public:
  virtual ~StreamDecompressor();
  virtual void Feed(std::string_view compressed) = 0;
  virtual absl::StatusOr<size_t> Read(size_t max, std::string* out) = 0;
};

// The snappy framing format (https://github.com/google/snappy/blob/main/framing_format.txt)
// as golang/snappy writes it: the stream identifier before the first data, then chunks of at
// most 65536 uncompressed bytes, each stored uncompressed when compression saves under 12.5%.
std::unique_ptr<StreamCompressor> NewSnappyCompressor();
std::unique_ptr<StreamDecompressor> NewSnappyDecompressor();

// Raw DEFLATE (RFC 1951, no zlib or gzip wrapper). `level` is 1..9 (values outside are
// clamped, as nsqd caps the negotiated deflate_level); every Write ends in a sync flush, so its
// output ends with 00 00 ff ff.
std::unique_ptr<StreamCompressor> NewDeflateCompressor(int level);
std::unique_ptr<StreamDecompressor> NewDeflateDecompressor();

}  // namespace nsq::protocol
