#include "common/protocol/stream_codec.h"

#include <doctest/doctest.h>
#include <zlib.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "common/protocol/crc32c.h"

namespace nsq::protocol {
namespace {

using namespace std::string_literals;

enum class Codec { kSnappy, kDeflate };

std::unique_ptr<StreamCompressor> NewCompressor(Codec codec, int level = 6) {
  return codec == Codec::kSnappy ? NewSnappyCompressor() : NewDeflateCompressor(level);
}

std::unique_ptr<StreamDecompressor> NewDecompressor(Codec codec) {
  return codec == Codec::kSnappy ? NewSnappyDecompressor() : NewDeflateDecompressor();
}

const char* Name(Codec codec) { return codec == Codec::kSnappy ? "snappy" : "deflate"; }

std::string Compress(StreamCompressor& compressor, std::string_view data) {
  std::string out;
  REQUIRE(compressor.Write(data, &out).ok());
  return out;
}

// Reads until the decompressor needs more input; checks that no Read returns more than `max`.
absl::StatusOr<std::string> Drain(StreamDecompressor& decompressor, size_t max = 64 * 1024) {
  std::string out;
  for (;;) {
    size_t before = out.size();
    absl::StatusOr<size_t> n = decompressor.Read(max, &out);
    if (!n.ok()) return n.status();
    REQUIRE(*n <= max);
    REQUIRE(out.size() - before == *n);
    if (*n == 0) return out;
  }
}

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

std::string RepetitiveText(size_t n) {
  static constexpr std::string_view kLine =
      "{\"topic\":\"events\",\"channel\":\"archive\",\"depth\":12345,\"paused\":false}\n";
  std::string s;
  while (s.size() < n) s.append(kLine.data(), kLine.size());
  s.resize(n);
  return s;
}

// Feeds `wire` in pieces of random length (1..max_piece, fixed seed), reading with a random
// small `max` after each piece, and returns everything decoded.
std::string DecodeInRandomSplits(Codec codec, std::string_view wire, size_t max_piece,
                                 uint32_t seed) {
  auto decompressor = NewDecompressor(codec);
  std::mt19937 rng(seed);
  std::string out;
  while (!wire.empty()) {
    size_t piece = std::min<size_t>(wire.size(), 1 + rng() % max_piece);
    decompressor->Feed(wire.substr(0, piece));
    wire.remove_prefix(piece);
    absl::StatusOr<std::string> got = Drain(*decompressor, 1 + rng() % 5000);
    REQUIRE(got.ok());
    out += *got;
  }
  return out;
}

// A chunk header of the snappy framing format: type and 3-byte little-endian length.
std::string ChunkHeader(uint8_t type, uint32_t length) {
  return std::string{static_cast<char>(type), static_cast<char>(length & 0xff),
                     static_cast<char>((length >> 8) & 0xff),
                     static_cast<char>((length >> 16) & 0xff)};
}

// The masked CRC-32C the framing format stores, little-endian, computed here independently.
std::string MaskedCrcBytes(std::string_view data) {
  uint32_t crc = Crc32c(data);
  uint32_t masked = ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
  return std::string{static_cast<char>(masked & 0xff), static_cast<char>((masked >> 8) & 0xff),
                     static_cast<char>((masked >> 16) & 0xff),
                     static_cast<char>((masked >> 24) & 0xff)};
}

const std::string kStreamIdentifier = "\xff\x06\x00\x00sNaPpY"s;

struct Chunk {
  uint8_t type;
  std::string body;
};

// Splits a snappy framing stream into its chunks (the test's own parser, for checking shapes).
std::vector<Chunk> ParseChunks(std::string_view wire) {
  std::vector<Chunk> chunks;
  while (!wire.empty()) {
    REQUIRE(wire.size() >= 4);
    auto b = [&](size_t i) { return static_cast<uint32_t>(static_cast<uint8_t>(wire[i])); };
    uint32_t length = b(1) | b(2) << 8 | b(3) << 16;
    REQUIRE(wire.size() >= 4 + length);
    chunks.push_back({static_cast<uint8_t>(b(0)), std::string(wire.substr(4, length))});
    wire.remove_prefix(4 + length);
  }
  return chunks;
}

// zlib's raw deflate of `writes`, each followed by a sync flush, as Go's flate.Writer.Flush
// and nsqjs's zlib.createDeflateRaw produce it.
std::string ZlibSyncFlushed(const std::vector<std::string>& writes, int level, bool finish) {
  z_stream zs{};
  REQUIRE(deflateInit2(&zs, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out;
  auto run = [&](std::string_view in, int flush) {
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs.avail_in = static_cast<uInt>(in.size());
    char buf[4096];
    do {
      zs.next_out = reinterpret_cast<Bytef*>(buf);
      zs.avail_out = sizeof(buf);
      int rc = deflate(&zs, flush);
      REQUIRE((rc == Z_OK || rc == Z_STREAM_END));
      out.append(buf, sizeof(buf) - zs.avail_out);
    } while (zs.avail_out == 0);
  };
  for (const std::string& w : writes) run(w, Z_SYNC_FLUSH);
  if (finish) run("", Z_FINISH);
  deflateEnd(&zs);
  return out;
}

// zlib's raw inflate of a whole stream.
std::string ZlibInflate(std::string_view in) {
  z_stream zs{};
  REQUIRE(inflateInit2(&zs, -15) == Z_OK);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  std::string out;
  char buf[4096];
  int rc;
  do {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    rc = inflate(&zs, Z_NO_FLUSH);
    REQUIRE((rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR));
    out.append(buf, sizeof(buf) - zs.avail_out);
  } while (zs.avail_out == 0 && rc != Z_STREAM_END);
  inflateEnd(&zs);
  return out;
}

bool EndsWithSyncMarker(std::string_view s) {
  return s.size() >= 4 && s.substr(s.size() - 4) == "\x00\x00\xff\xff"s;
}

// ---- CRC-32C --------------------------------------------------------------------------------

TEST_CASE("Crc32c matches the published Castagnoli check values") {
  CHECK(Crc32c("") == 0u);
  CHECK(Crc32c("123456789") == 0xE3069283u);
  CHECK(Crc32c(std::string(32, '\0')) == 0x8A9136AAu);  // RFC 3720 B.4
  CHECK(Crc32c(std::string(32, '\xff')) == 0x62A8AB43u);
}

TEST_CASE("Crc32c continues a checksum over split data") {
  CHECK(Crc32c("6789", Crc32c("12345")) == 0xE3069283u);
  CHECK(Crc32c("123456789", Crc32c("")) == 0xE3069283u);
}

TEST_CASE("Crc32c (hardware where the CPU has it) agrees with the byte table") {
  CHECK(internal::Crc32cPortable("123456789") == 0xE3069283u);
  // Every length around the 8-byte steps, at every offset (unaligned starts), continued.
  std::string data;
  for (int i = 0; i < 300; ++i) data.push_back(static_cast<char>(i * 131 + 7));
  for (size_t offset = 0; offset < 8; ++offset) {
    for (size_t length = 0; length + offset <= data.size(); length += 1 + length / 16) {
      std::string_view piece = std::string_view(data).substr(offset, length);
      CHECK(Crc32c(piece) == internal::Crc32cPortable(piece));
      CHECK(Crc32c(piece, 0x12345678u) == internal::Crc32cPortable(piece, 0x12345678u));
    }
  }
}

// ---- both codecs ----------------------------------------------------------------------------

TEST_CASE("both codecs round-trip inputs of every interesting size and shape") {
  for (Codec codec : {Codec::kSnappy, Codec::kDeflate}) {
    for (size_t size : {size_t{0}, size_t{1}, size_t{5}, size_t{16}, size_t{17}, size_t{65535},
                        size_t{65536}, size_t{65537}, size_t{1} << 20}) {
      for (bool random : {true, false}) {
        CAPTURE(Name(codec));
        CAPTURE(size);
        CAPTURE(random);
        std::string data = random ? RandomBytes(size, 7) : RepetitiveText(size);
        auto compressor = NewCompressor(codec);
        std::string wire = Compress(*compressor, data);
        if (size == 0) CHECK(wire.empty());
        auto decompressor = NewDecompressor(codec);
        decompressor->Feed(wire);
        absl::StatusOr<std::string> got = Drain(*decompressor);
        REQUIRE(got.ok());
        CHECK(*got == data);
      }
    }
  }
}

TEST_CASE("each write is decodable on its own, before the next write") {
  for (Codec codec : {Codec::kSnappy, Codec::kDeflate}) {
    CAPTURE(Name(codec));
    auto compressor = NewCompressor(codec);
    auto decompressor = NewDecompressor(codec);
    for (int i = 0; i < 50; ++i) {
      std::string frame = "\x00\x00\x00\x06\x00\x00\x00\x00OK"s + RepetitiveText(i * 37);
      decompressor->Feed(Compress(*compressor, frame));
      absl::StatusOr<std::string> got = Drain(*decompressor);
      REQUIRE(got.ok());
      CHECK(*got == frame);
    }
  }
}

TEST_CASE("decompression gives the same output fed byte by byte and in random splits") {
  for (Codec codec : {Codec::kSnappy, Codec::kDeflate}) {
    CAPTURE(Name(codec));
    auto compressor = NewCompressor(codec);
    std::string data;
    std::string wire;
    std::mt19937 rng(42);
    for (int i = 0; i < 40; ++i) {
      std::string write =
          (i % 3 == 0) ? RandomBytes(rng() % 3000, i) : RepetitiveText(rng() % 9000);
      data += write;
      wire += Compress(*compressor, write);
    }
    std::string big = RepetitiveText(150000) + RandomBytes(70000, 3);
    data += big;
    wire += Compress(*compressor, big);

    CHECK(DecodeInRandomSplits(codec, wire, 1, 1) == data);  // byte by byte
    for (uint32_t seed = 1; seed <= 5; ++seed) {
      CAPTURE(seed);
      CHECK(DecodeInRandomSplits(codec, wire, 100, seed) == data);
      CHECK(DecodeInRandomSplits(codec, wire, 70000, seed) == data);
    }
  }
}

TEST_CASE("Read never returns more than max and resumes where it stopped") {
  for (Codec codec : {Codec::kSnappy, Codec::kDeflate}) {
    CAPTURE(Name(codec));
    std::string data = RepetitiveText(100000) + RandomBytes(1000, 9);
    for (size_t max : {size_t{1}, size_t{3}, size_t{7}, size_t{4096}}) {
      CAPTURE(max);
      auto decompressor = NewDecompressor(codec);
      decompressor->Feed(Compress(*NewCompressor(codec), data));
      absl::StatusOr<std::string> got = Drain(*decompressor, max);
      REQUIRE(got.ok());
      CHECK(*got == data);
    }
  }
}

TEST_CASE("Read with max 0 and Read before any input return 0") {
  for (Codec codec : {Codec::kSnappy, Codec::kDeflate}) {
    CAPTURE(Name(codec));
    auto decompressor = NewDecompressor(codec);
    std::string out;
    CHECK(decompressor->Read(100, &out).value() == 0u);
    decompressor->Feed(Compress(*NewCompressor(codec), "hello"));
    CHECK(decompressor->Read(0, &out).value() == 0u);
    CHECK(decompressor->Read(100, &out).value() == 5u);
    CHECK(out == "hello");
  }
}

TEST_CASE("garbage is DataLoss, and the stream stays broken even after valid input") {
  for (Codec codec : {Codec::kSnappy, Codec::kDeflate}) {
    CAPTURE(Name(codec));
    auto decompressor = NewDecompressor(codec);
    decompressor->Feed("\xff\xff\xff\xff garbage that is not a stream"s);
    std::string out;
    absl::StatusOr<size_t> n = decompressor->Read(1024, &out);
    REQUIRE(!n.ok());
    CHECK(n.status().code() == absl::StatusCode::kDataLoss);
    CHECK(out.empty());
    decompressor->Feed(Compress(*NewCompressor(codec), "hello"));
    absl::StatusOr<size_t> again = decompressor->Read(1024, &out);
    REQUIRE(!again.ok());
    CHECK(again.status().code() == absl::StatusCode::kDataLoss);
  }
}

TEST_CASE("corruption in the middle of a valid stream is detected") {
  for (Codec codec : {Codec::kSnappy, Codec::kDeflate}) {
    CAPTURE(Name(codec));
    std::string wire = Compress(*NewCompressor(codec), RandomBytes(5000, 11));
    wire[wire.size() / 2] ^= 0x55;
    wire[wire.size() / 2 + 1] ^= 0xaa;
    auto decompressor = NewDecompressor(codec);
    decompressor->Feed(wire);
    absl::StatusOr<std::string> got = Drain(*decompressor);
    // Random data compresses to stored blocks; deflate may not notice a flipped literal, so
    // the guarantee there is only "not the original".
    if (codec == Codec::kSnappy) {
      REQUIRE(!got.ok());
      CHECK(got.status().code() == absl::StatusCode::kDataLoss);
    } else {
      CHECK((!got.ok() || *got != RandomBytes(5000, 11)));
    }
  }
}

// ---- snappy framing -------------------------------------------------------------------------

TEST_CASE("snappy: the first write starts with the stream identifier, exactly once") {
  auto compressor = NewSnappyCompressor();
  std::string first = Compress(*compressor, "hello");
  CHECK(first.substr(0, 10) == "\xff\x06\x00\x00\x73\x4e\x61\x50\x70\x59"s);
  std::string second = Compress(*compressor, "hello");
  CHECK(second.substr(0, 1) != "\xff");
  CHECK(second == first.substr(10));
}

TEST_CASE("snappy: a short write is the exact uncompressed chunk golang/snappy writes") {
  // framing_format.txt 4.1 and 4.3: identifier, then type 0x01, length 4 + 5, masked CRC-32C
  // of "hello" (0x191c1fbb, little-endian), data. Hand-assembled from the spec; the CRC bytes
  // were checked with an independent Python CRC-32C.
  std::string expected = kStreamIdentifier + "\x01\x09\x00\x00\xbb\x1f\x1c\x19hello"s;
  CHECK(Compress(*NewSnappyCompressor(), "hello") == expected);
  CHECK(MaskedCrcBytes("hello") == "\xbb\x1f\x1c\x19"s);
}

TEST_CASE("snappy: a hand-made compressed chunk of hello decodes") {
  // Snappy block: varint length 5, literal tag (5 - 1) << 2, the bytes.
  std::string block = "\x05\x10hello"s;
  std::string wire =
      kStreamIdentifier + ChunkHeader(0x00, 4 + block.size()) + MaskedCrcBytes("hello") + block;
  auto decompressor = NewSnappyDecompressor();
  decompressor->Feed(wire);
  absl::StatusOr<std::string> got = Drain(*decompressor);
  REQUIRE(got.ok());
  CHECK(*got == "hello");
}

TEST_CASE("snappy: chunk types follow golang/snappy's choice") {
  // Under 17 bytes golang/snappy never compresses, even when it could.
  std::vector<Chunk> small = ParseChunks(Compress(*NewSnappyCompressor(), std::string(16, 'a')));
  REQUIRE(small.size() == 2);
  CHECK(small[1].type == 0x01);

  std::vector<Chunk> text = ParseChunks(Compress(*NewSnappyCompressor(), RepetitiveText(1000)));
  REQUIRE(text.size() == 2);
  CHECK(text[1].type == 0x00);
  CHECK(text[1].body.size() < 1000 - 1000 / 8 + 4);

  // Incompressible data is stored raw rather than expanded.
  std::vector<Chunk> noise = ParseChunks(Compress(*NewSnappyCompressor(), RandomBytes(1000, 5)));
  REQUIRE(noise.size() == 2);
  CHECK(noise[1].type == 0x01);
  CHECK(noise[1].body.size() == 4 + 1000);
}

TEST_CASE("snappy: data is split into chunks of at most 65536 bytes") {
  std::vector<Chunk> chunks = ParseChunks(Compress(*NewSnappyCompressor(), RandomBytes(65537, 1)));
  REQUIRE(chunks.size() == 3);
  CHECK(chunks[0].type == 0xff);
  CHECK(chunks[1].body.size() == 4 + 65536);
  CHECK(chunks[2].body.size() == 4 + 1);

  std::vector<Chunk> exact = ParseChunks(Compress(*NewSnappyCompressor(), RandomBytes(65536, 1)));
  CHECK(exact.size() == 2);
}

TEST_CASE("snappy: repeated identifiers, padding and skippable chunks are skipped") {
  std::string skippable_body(100000, 'x');  // over any data chunk limit, skipped all the same
  std::string wire = kStreamIdentifier + kStreamIdentifier + ChunkHeader(0xfe, 3) + "\0\0\0"s +
                     ChunkHeader(0x80, skippable_body.size()) + skippable_body +
                     ChunkHeader(0x01, 4 + 2) + MaskedCrcBytes("ab") + "ab" + kStreamIdentifier +
                     ChunkHeader(0xfd, 0) + ChunkHeader(0x01, 4 + 1) + MaskedCrcBytes("c") + "c";
  auto decompressor = NewSnappyDecompressor();
  decompressor->Feed(wire);
  absl::StatusOr<std::string> got = Drain(*decompressor);
  REQUIRE(got.ok());
  CHECK(*got == "abc");
  CHECK(DecodeInRandomSplits(Codec::kSnappy, wire, 1, 3) == "abc");
  CHECK(DecodeInRandomSplits(Codec::kSnappy, wire, 5000, 3) == "abc");
}

TEST_CASE("snappy: an empty data chunk is valid and yields nothing") {
  auto decompressor = NewSnappyDecompressor();
  decompressor->Feed(kStreamIdentifier + ChunkHeader(0x01, 4) + MaskedCrcBytes(""));
  absl::StatusOr<std::string> got = Drain(*decompressor);
  REQUIRE(got.ok());
  CHECK(got->empty());
}

void CheckSnappyRejects(const std::string& wire) {
  auto decompressor = NewSnappyDecompressor();
  decompressor->Feed(wire);
  std::string out;
  absl::StatusOr<size_t> n = decompressor->Read(1 << 20, &out);
  REQUIRE(!n.ok());
  CHECK(n.status().code() == absl::StatusCode::kDataLoss);
  CHECK(decompressor->Read(1 << 20, &out).status().code() == absl::StatusCode::kDataLoss);
}

TEST_CASE("snappy: a chunk header declaring a huge length is rejected before its body") {
  SUBCASE("compressed, 16 MB") { CheckSnappyRejects(kStreamIdentifier + "\x00\xff\xff\xff"s); }
  SUBCASE("compressed, one byte over the max encoded length") {
    CheckSnappyRejects(kStreamIdentifier + ChunkHeader(0x00, 76490 + 4 + 1));
  }
  SUBCASE("uncompressed, one byte over 65536 + 4") {
    CheckSnappyRejects(kStreamIdentifier + ChunkHeader(0x01, 65536 + 4 + 1));
  }
  SUBCASE("shorter than its checksum") {
    CheckSnappyRejects(kStreamIdentifier + ChunkHeader(0x01, 3));
  }
}

TEST_CASE("snappy: a chunk at the length limit waits for its body") {
  auto decompressor = NewSnappyDecompressor();
  decompressor->Feed(kStreamIdentifier + ChunkHeader(0x01, 65536 + 4));
  std::string out;
  CHECK(decompressor->Read(100, &out).value() == 0u);
  std::string data = RandomBytes(65536, 2);
  decompressor->Feed(MaskedCrcBytes(data) + data);
  absl::StatusOr<std::string> got = Drain(*decompressor);
  REQUIRE(got.ok());
  CHECK(*got == data);
}

TEST_CASE("snappy: a bad checksum is rejected") {
  SUBCASE("uncompressed chunk") {
    CheckSnappyRejects(kStreamIdentifier + ChunkHeader(0x01, 4 + 5) + MaskedCrcBytes("hellO") +
                       "hello");
  }
  SUBCASE("compressed chunk") {
    CheckSnappyRejects(kStreamIdentifier + ChunkHeader(0x00, 4 + 7) + "\0\0\0\0"s +
                       "\x05\x10hello"s);
  }
}

TEST_CASE("snappy: malformed streams are rejected") {
  SUBCASE("data before the stream identifier") {
    CheckSnappyRejects(ChunkHeader(0x01, 4 + 5) + MaskedCrcBytes("hello") + "hello");
  }
  SUBCASE("padding before the stream identifier") {
    CheckSnappyRejects(ChunkHeader(0xfe, 1) + "\0"s + kStreamIdentifier);
  }
  SUBCASE("a wrong identifier body") { CheckSnappyRejects("\xff\x06\x00\x00sNaPpZ"s); }
  SUBCASE("a wrong identifier length") { CheckSnappyRejects("\xff\x07\x00\x00sNaPpY!"s); }
  SUBCASE("a reserved unskippable chunk") {
    CheckSnappyRejects(kStreamIdentifier + ChunkHeader(0x02, 0));
    CheckSnappyRejects(kStreamIdentifier + ChunkHeader(0x7f, 0));
  }
  SUBCASE("a compressed block decoding to more than 65536 bytes") {
    // Varint 65537, then a literal: snappy's own header claims too much.
    std::string block = "\x81\x80\x04\x00x"s;
    CheckSnappyRejects(kStreamIdentifier + ChunkHeader(0x00, 4 + block.size()) + "\0\0\0\0"s +
                       block);
  }
  SUBCASE("a compressed block that is not snappy") {
    CheckSnappyRejects(kStreamIdentifier + ChunkHeader(0x00, 4 + 4) + MaskedCrcBytes("") +
                       "\x05\xff\xff\xff"s);
  }
}

// ---- raw deflate ----------------------------------------------------------------------------

TEST_CASE("deflate: hello at level 6 is the bytes Python's zlib gives") {
  // python3 -c "import zlib; c=zlib.compressobj(6, zlib.DEFLATED, -15);
  //             print((c.compress(b'hello')+c.flush(zlib.Z_SYNC_FLUSH)).hex())"
  const std::string golden = "\xca\x48\xcd\xc9\xc9\x07\x00\x00\x00\xff\xff"s;
  CHECK(Compress(*NewDeflateCompressor(6), "hello") == golden);
  auto decompressor = NewDeflateDecompressor();
  decompressor->Feed(golden);
  absl::StatusOr<std::string> got = Drain(*decompressor);
  REQUIRE(got.ok());
  CHECK(*got == "hello");
}

TEST_CASE("deflate: every write ends in a sync flush that zlib's raw inflate decodes") {
  for (int level = 1; level <= 9; ++level) {
    CAPTURE(level);
    auto compressor = NewDeflateCompressor(level);
    std::string data;
    std::string wire;
    for (int i = 0; i < 5; ++i) {
      std::string write = RepetitiveText(1000 * i + 1) + RandomBytes(i * 100, i);
      std::string out = Compress(*compressor, write);
      CHECK(EndsWithSyncMarker(out));
      data += write;
      wire += out;
      CHECK(ZlibInflate(wire) == data);
    }
  }
}

TEST_CASE("deflate: a level out of range is clamped, not refused") {
  for (int level : {-5, 0, 10, 42}) {
    CAPTURE(level);
    std::string wire = Compress(*NewDeflateCompressor(level), RepetitiveText(3000));
    CHECK(ZlibInflate(wire) == RepetitiveText(3000));
  }
}

TEST_CASE("deflate: a multi-flush stream from zlib decodes in any split") {
  std::vector<std::string> writes = {"OK", RepetitiveText(70000), RandomBytes(40000, 8), "x",
                                     RepetitiveText(5)};
  std::string data;
  for (const std::string& w : writes) data += w;
  for (int level : {1, 6, 9}) {
    CAPTURE(level);
    std::string wire = ZlibSyncFlushed(writes, level, /*finish=*/false);
    CHECK(DecodeInRandomSplits(Codec::kDeflate, wire, 1, 4) == data);
    CHECK(DecodeInRandomSplits(Codec::kDeflate, wire, 333, 4) == data);
    CHECK(DecodeInRandomSplits(Codec::kDeflate, wire, 100000, 4) == data);
  }
}

TEST_CASE("deflate: a finished stream decodes, but nothing may follow its final block") {
  std::string wire = ZlibSyncFlushed({"hello", "world"}, 6, /*finish=*/true);
  auto decompressor = NewDeflateDecompressor();
  decompressor->Feed(wire);
  absl::StatusOr<std::string> got = Drain(*decompressor);
  REQUIRE(got.ok());
  CHECK(*got == "helloworld");

  decompressor->Feed("more");
  std::string out;
  absl::StatusOr<size_t> n = decompressor->Read(100, &out);
  REQUIRE(!n.ok());
  CHECK(n.status().code() == absl::StatusCode::kDataLoss);
}

TEST_CASE("deflate: a small max bounds what one Read inflates from a highly compressed input") {
  // 1 MB of one byte compresses to about a kilobyte; each Read still returns at most max.
  std::string data(1 << 20, 'z');
  std::string wire = Compress(*NewDeflateCompressor(9), data);
  CHECK(wire.size() < 4096);
  auto decompressor = NewDeflateDecompressor();
  decompressor->Feed(wire);
  std::string out;
  absl::StatusOr<size_t> n = decompressor->Read(10, &out);
  REQUIRE(n.ok());
  CHECK(*n == 10u);
  CHECK(out == std::string(10, 'z'));
  absl::StatusOr<std::string> rest = Drain(*decompressor, 1000);
  REQUIRE(rest.ok());
  CHECK(rest->size() == data.size() - 10);
}

TEST_CASE("deflate: a corrupt stream reports zlib's reason") {
  auto decompressor = NewDeflateDecompressor();
  decompressor->Feed("\xff\xff\xff\xff"s);  // BTYPE 11 is reserved
  std::string out;
  absl::StatusOr<size_t> n = decompressor->Read(100, &out);
  REQUIRE(!n.ok());
  CHECK(n.status().code() == absl::StatusCode::kDataLoss);
  CHECK(std::string(n.status().message()).find("invalid block type") != std::string::npos);
}

}  // namespace
}  // namespace nsq::protocol
