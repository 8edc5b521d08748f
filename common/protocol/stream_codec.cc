#include "common/protocol/stream_codec.h"

#include <snappy.h>
#include <zlib.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/protocol/crc32c.h"

namespace nsq::protocol {

StreamCompressor::~StreamCompressor() = default;
StreamDecompressor::~StreamDecompressor() = default;

namespace {

// Compressed bytes fed but not yet consumed. Consumption advances an offset, and the buffer is
// compacted only when at least half of it is dead, so many small chunks arriving in one read
// cost linear time; a burst's capacity is given back once it has been drained.
class InputBuffer {
 public:
  void Append(std::string_view bytes) { data_.append(bytes.data(), bytes.size()); }
  std::string_view view() const { return std::string_view(data_).substr(pos_); }
  size_t size() const { return data_.size() - pos_; }
  void Consume(size_t n) { pos_ += n; }

  void Compact() {
    if (pos_ == data_.size()) {
      if (data_.capacity() > kKeepCapacity) {
        std::string().swap(data_);
      } else {
        data_.clear();
      }
      pos_ = 0;
    } else if (pos_ >= data_.size() / 2) {
      data_.erase(0, pos_);
      pos_ = 0;
    }
  }

 private:
  static constexpr size_t kKeepCapacity = 256 * 1024;
  std::string data_;
  size_t pos_ = 0;
};

// ---- snappy framing format ----------------------------------------------------------------

constexpr uint8_t kChunkCompressed = 0x00;
constexpr uint8_t kChunkUncompressed = 0x01;
constexpr uint8_t kChunkLastUnskippable = 0x7f;
constexpr uint8_t kChunkStreamIdentifier = 0xff;

constexpr size_t kChunkHeaderSize = 4;  // type + 3-byte little-endian length
constexpr size_t kChecksumSize = 4;
constexpr std::string_view kStreamIdentifierBody = "sNaPpY";
constexpr std::string_view kStreamIdentifierChunk("\xff\x06\x00\x00sNaPpY", 10);

// The framing format caps a chunk's uncompressed data at 64 KiB.
constexpr size_t kMaxBlockSize = 65536;
// snappy::MaxCompressedLength(kMaxBlockSize) (32 + n + n/6, the same formula as golang/snappy's
// MaxEncodedLen): no valid compressed chunk body is longer than this plus its checksum.
constexpr size_t kMaxCompressedChunkLength = 32 + kMaxBlockSize + kMaxBlockSize / 6 + kChecksumSize;
constexpr size_t kMaxUncompressedChunkLength = kMaxBlockSize + kChecksumSize;
// golang/snappy's minNonLiteralBlockSize: below it, its encoder emits one literal, which is
// always longer than the input, so the chunk goes out uncompressed. We skip libsnappy there
// for the same bytes on the wire.
constexpr size_t kMinNonLiteralBlockSize = 17;

// The framing format stores CRCs masked, because CRCs of data containing CRCs are weak.
uint32_t MaskedCrc(std::string_view data) {
  uint32_t crc = Crc32c(data);
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

uint32_t LoadLittleEndian32(const char* p) {
  const auto* b = reinterpret_cast<const unsigned char*>(p);
  return uint32_t{b[0]} | uint32_t{b[1]} << 8 | uint32_t{b[2]} << 16 | uint32_t{b[3]} << 24;
}

void AppendLittleEndian32(uint32_t v, std::string* out) {
  char b[4] = {static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16),
               static_cast<char>(v >> 24)};
  out->append(b, 4);
}

void AppendChunkHeader(uint8_t type, size_t length, std::string* out) {
  char b[4] = {static_cast<char>(type), static_cast<char>(length), static_cast<char>(length >> 8),
               static_cast<char>(length >> 16)};
  out->append(b, 4);
}

class SnappyCompressor final : public StreamCompressor {
 public:
  absl::Status Write(std::string_view data, std::string* out) override {
    // golang/snappy writes nothing, not even the stream identifier, until there is data.
    if (data.empty()) return absl::OkStatus();
    if (!wrote_identifier_) {
      out->append(kStreamIdentifierChunk.data(), kStreamIdentifierChunk.size());
      wrote_identifier_ = true;
    }
    while (!data.empty()) {
      std::string_view block = data.substr(0, kMaxBlockSize);
      data.remove_prefix(block.size());
      uint32_t checksum = MaskedCrc(block);
      std::string_view body = block;
      uint8_t type = kChunkUncompressed;
      if (block.size() >= kMinNonLiteralBlockSize) {
        scratch_.resize(snappy::MaxCompressedLength(block.size()));
        size_t compressed_size = 0;
        snappy::RawCompress(block.data(), block.size(), scratch_.data(), &compressed_size);
        // As golang/snappy: keep the compressed form only if it saves at least 12.5%.
        if (compressed_size < block.size() - block.size() / 8) {
          type = kChunkCompressed;
          body = std::string_view(scratch_.data(), compressed_size);
        }
      }
      AppendChunkHeader(type, kChecksumSize + body.size(), out);
      AppendLittleEndian32(checksum, out);
      out->append(body.data(), body.size());
    }
    return absl::OkStatus();
  }

 private:
  bool wrote_identifier_ = false;
  std::string scratch_;  // reused compression buffer, at most ~76 KiB
};

class SnappyDecompressor final : public StreamDecompressor {
 public:
  void Feed(std::string_view compressed) override {
    // Once the stream is corrupt nothing will ever be read from it; don't keep buffering.
    if (status_.ok()) input_.Append(compressed);
  }

  absl::StatusOr<size_t> Read(size_t max, std::string* out) override {
    if (!status_.ok()) return status_;
    size_t produced = 0;
    for (;;) {
      if (decoded_pos_ == decoded_.size()) {
        status_ = NextDataChunk();
        if (!status_.ok()) return status_;
        if (decoded_pos_ == decoded_.size()) break;  // needs more input
      }
      if (produced == max) break;
      size_t n = std::min(max - produced, decoded_.size() - decoded_pos_);
      out->append(decoded_, decoded_pos_, n);
      decoded_pos_ += n;
      produced += n;
    }
    return produced;
  }

 private:
  static absl::Status Corrupt(std::string_view why) {
    return absl::DataLossError(absl::StrCat("corrupt snappy stream: ", std::string(why)));
  }

  // Consumes chunks until one yields data into decoded_, the input runs out mid-chunk, or the
  // stream turns out corrupt. Every length is validated as soon as its header is complete,
  // before waiting for (and so buffering) the body.
  absl::Status NextDataChunk() {
    decoded_.clear();
    decoded_pos_ = 0;
    absl::Status status = absl::OkStatus();
    while (decoded_.empty()) {
      if (skip_remaining_ > 0) {
        // Skippable chunks are dropped as they arrive, so even a 16 MB one costs nothing.
        size_t n = std::min(skip_remaining_, input_.size());
        input_.Consume(n);
        skip_remaining_ -= n;
        if (skip_remaining_ > 0) break;
        continue;
      }
      std::string_view in = input_.view();
      if (in.size() < kChunkHeaderSize) break;
      const uint8_t type = static_cast<uint8_t>(in[0]);
      const size_t length = LoadLittleEndian32(in.data()) >> 8;
      if (!seen_identifier_ && type != kChunkStreamIdentifier) {
        status = Corrupt("data before the stream identifier");
        break;
      }
      if (type == kChunkStreamIdentifier) {
        if (length != kStreamIdentifierBody.size()) {
          status = Corrupt("bad stream identifier length");
          break;
        }
        if (in.size() < kChunkHeaderSize + length) break;
        if (in.substr(kChunkHeaderSize, length) != kStreamIdentifierBody) {
          status = Corrupt("bad stream identifier");
          break;
        }
        seen_identifier_ = true;
        input_.Consume(kChunkHeaderSize + length);
      } else if (type == kChunkCompressed || type == kChunkUncompressed) {
        size_t limit =
            type == kChunkCompressed ? kMaxCompressedChunkLength : kMaxUncompressedChunkLength;
        if (length < kChecksumSize || length > limit) {
          status = Corrupt(absl::StrCat("chunk length ", length, " out of range"));
          break;
        }
        if (in.size() < kChunkHeaderSize + length) break;
        std::string_view body = in.substr(kChunkHeaderSize + kChecksumSize, length - kChecksumSize);
        status = Decode(type, LoadLittleEndian32(in.data() + kChunkHeaderSize), body);
        if (!status.ok()) break;
        input_.Consume(kChunkHeaderSize + length);
      } else if (type <= kChunkLastUnskippable) {
        status = Corrupt(absl::StrCat("reserved unskippable chunk type ", static_cast<int>(type)));
        break;
      } else {
        // Padding (0xfe) and reserved skippable chunks (0x80-0xfd).
        input_.Consume(kChunkHeaderSize);
        skip_remaining_ = length;
      }
    }
    if (!status.ok()) {
      decoded_.clear();
      input_ = InputBuffer();  // release what a dead stream holds
      return status;
    }
    input_.Compact();
    return absl::OkStatus();
  }

  absl::Status Decode(uint8_t type, uint32_t checksum, std::string_view body) {
    if (type == kChunkUncompressed) {
      decoded_.assign(body.data(), body.size());
    } else {
      size_t length = 0;
      if (!snappy::GetUncompressedLength(body.data(), body.size(), &length)) {
        return Corrupt("bad block length");
      }
      if (length > kMaxBlockSize) {
        return Corrupt(absl::StrCat("block of ", length, " bytes exceeds ", kMaxBlockSize));
      }
      decoded_.resize(length);
      if (!snappy::RawUncompress(body.data(), body.size(), decoded_.data())) {
        return Corrupt("bad compressed block");
      }
    }
    if (MaskedCrc(decoded_) != checksum) return Corrupt("checksum mismatch");
    return absl::OkStatus();
  }

  absl::Status status_;
  InputBuffer input_;
  bool seen_identifier_ = false;
  size_t skip_remaining_ = 0;
  std::string decoded_;  // the current chunk's data, at most kMaxBlockSize bytes
  size_t decoded_pos_ = 0;
};

// ---- raw deflate ---------------------------------------------------------------------------

// Negative window bits select raw deflate (no zlib header or trailer), as Go's compress/flate.
constexpr int kRawDeflateWindowBits = -15;
constexpr int kDeflateMemLevel = 8;
// zlib counts in uInt; hand it large inputs in pieces well below that.
constexpr size_t kMaxZlibInput = 1u << 30;
// Output is produced in steps of this size so a large `max` never allocates up front.
constexpr size_t kOutputStep = 64 * 1024;

absl::Status ZlibError(int rc, const z_stream& zs, std::string_view what) {
  std::string message = absl::StrCat(std::string(what), ": ",
                                     zs.msg != nullptr ? zs.msg : "zlib error", " (", rc, ")");
  if (rc == Z_MEM_ERROR) return absl::ResourceExhaustedError(message);
  if (rc == Z_STREAM_ERROR) return absl::InternalError(message);
  return absl::DataLossError(message);
}

Bytef* InputPtr(std::string_view in) {
  // zlib's next_in is non-const unless ZLIB_CONST is defined; it never writes through it.
  return reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
}

class DeflateCompressor final : public StreamCompressor {
 public:
  explicit DeflateCompressor(int level) {
    level = std::clamp(level, 1, 9);
    int rc = deflateInit2(&zs_, level, Z_DEFLATED, kRawDeflateWindowBits, kDeflateMemLevel,
                          Z_DEFAULT_STRATEGY);
    if (rc == Z_OK) {
      initialised_ = true;
    } else {
      status_ = ZlibError(rc, zs_, "deflateInit2");
    }
  }
  ~DeflateCompressor() override {
    if (initialised_) deflateEnd(&zs_);
  }
  DeflateCompressor(const DeflateCompressor&) = delete;
  DeflateCompressor& operator=(const DeflateCompressor&) = delete;

  absl::Status Write(std::string_view data, std::string* out) override {
    if (!status_.ok()) return status_;
    // zlib would emit another empty sync block, or refuse with Z_BUF_ERROR, depending on its
    // history; nothing new to flush means nothing to send.
    if (data.empty()) return absl::OkStatus();
    const size_t base = out->size();
    size_t written = 0;
    while (!data.empty()) {
      std::string_view piece = data.substr(0, kMaxZlibInput);
      data.remove_prefix(piece.size());
      // Only the last piece flushes; the earlier ones just feed the compressor.
      const int flush = data.empty() ? Z_SYNC_FLUSH : Z_NO_FLUSH;
      zs_.next_in = InputPtr(piece);
      zs_.avail_in = static_cast<uInt>(piece.size());
      do {
        out->resize(base + written + kOutputStep);
        zs_.next_out = reinterpret_cast<Bytef*>(out->data() + base + written);
        zs_.avail_out = static_cast<uInt>(kOutputStep);
        int rc = deflate(&zs_, flush);
        written += kOutputStep - zs_.avail_out;
        if (rc != Z_OK && rc != Z_BUF_ERROR) {
          out->resize(base);
          status_ = ZlibError(rc, zs_, "deflate");
          return status_;
        }
        // A sync flush is complete only when deflate leaves output space unused.
      } while (zs_.avail_in > 0 || (flush == Z_SYNC_FLUSH && zs_.avail_out == 0));
    }
    out->resize(base + written);
    return absl::OkStatus();
  }

 private:
  z_stream zs_{};
  bool initialised_ = false;
  absl::Status status_;
};

class DeflateDecompressor final : public StreamDecompressor {
 public:
  DeflateDecompressor() {
    int rc = inflateInit2(&zs_, kRawDeflateWindowBits);
    if (rc == Z_OK) {
      initialised_ = true;
    } else {
      status_ = ZlibError(rc, zs_, "inflateInit2");
    }
  }
  ~DeflateDecompressor() override {
    if (initialised_) inflateEnd(&zs_);
  }
  DeflateDecompressor(const DeflateDecompressor&) = delete;
  DeflateDecompressor& operator=(const DeflateDecompressor&) = delete;

  void Feed(std::string_view compressed) override {
    if (status_.ok()) input_.Append(compressed);
  }

  absl::StatusOr<size_t> Read(size_t max, std::string* out) override {
    if (!status_.ok()) return status_;
    const size_t base = out->size();
    size_t produced = 0;
    for (;;) {
      if (ended_) {
        // Go's flate.Writer ends the stream only on Close; nothing may follow the final block.
        if (input_.size() > 0) {
          status_ = absl::DataLossError("corrupt deflate stream: data after the final block");
        }
        break;
      }
      if (produced == max) break;
      std::string_view in = input_.view().substr(0, kMaxZlibInput);
      const size_t step = std::min(max - produced, kOutputStep);
      out->resize(base + produced + step);
      zs_.next_in = InputPtr(in);
      zs_.avail_in = static_cast<uInt>(in.size());
      zs_.next_out = reinterpret_cast<Bytef*>(out->data() + base + produced);
      zs_.avail_out = static_cast<uInt>(step);
      int rc = inflate(&zs_, Z_NO_FLUSH);
      const size_t consumed = in.size() - zs_.avail_in;
      const size_t got = step - zs_.avail_out;
      input_.Consume(consumed);
      produced += got;
      if (rc == Z_STREAM_END) {
        ended_ = true;
        continue;
      }
      if (rc == Z_BUF_ERROR) break;  // no progress possible: needs more input
      if (rc != Z_OK) {
        status_ = ZlibError(rc, zs_, "corrupt deflate stream");
        break;
      }
      // Output space left over means inflate used all the input it could.
      if (zs_.avail_out > 0 || (consumed == 0 && got == 0)) break;
    }
    if (!status_.ok()) {
      out->resize(base);
      input_ = InputBuffer();
      return status_;
    }
    out->resize(base + produced);
    input_.Compact();
    return produced;
  }

 private:
  z_stream zs_{};
  bool initialised_ = false;
  bool ended_ = false;
  InputBuffer input_;
  absl::Status status_;
};

}  // namespace

std::unique_ptr<StreamCompressor> NewSnappyCompressor() {
  return std::make_unique<SnappyCompressor>();
}

std::unique_ptr<StreamDecompressor> NewSnappyDecompressor() {
  return std::make_unique<SnappyDecompressor>();
}

std::unique_ptr<StreamCompressor> NewDeflateCompressor(int level) {
  return std::make_unique<DeflateCompressor>(level);
}

std::unique_ptr<StreamDecompressor> NewDeflateDecompressor() {
  return std::make_unique<DeflateDecompressor>();
}

}  // namespace nsq::protocol
