#include "common/util/hash.h"

#include <bit>
#include <cmath>
#include <cstring>

namespace nsq::util {
namespace {

// RFC 1321 defines the 64 additive constants as floor(2^32 * |sin(i + 1)|); computing them keeps
// a table of magic numbers out of the source (the test vectors check the result).
const std::array<uint32_t, 64>& Md5Constants() {
  static const std::array<uint32_t, 64> constants = [] {
    std::array<uint32_t, 64> table{};
    for (int i = 0; i < 64; ++i) {
      table[i] = static_cast<uint32_t>(
          std::floor(std::fabs(std::sin(static_cast<long double>(i + 1))) * 4294967296.0L));
    }
    return table;
  }();
  return constants;
}

constexpr std::array<int, 64> kMd5Shifts = {
    7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,  // round 1
    5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20,  // round 2
    4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,  // round 3
    6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,  // round 4
};

uint32_t LoadLittleEndian32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
         static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}

void StoreLittleEndian32(uint32_t v, uint8_t* p) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

// Folds one 64-byte block into the running state.
void Md5Block(const uint8_t* block, std::array<uint32_t, 4>& state) {
  const auto& k = Md5Constants();
  uint32_t words[16];
  for (int i = 0; i < 16; ++i) words[i] = LoadLittleEndian32(block + 4 * i);

  uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
  for (int i = 0; i < 64; ++i) {
    uint32_t f;
    int g;
    if (i < 16) {
      f = (b & c) | (~b & d);
      g = i;
    } else if (i < 32) {
      f = (b & d) | (c & ~d);
      g = (5 * i + 1) % 16;
    } else if (i < 48) {
      f = b ^ c ^ d;
      g = (3 * i + 5) % 16;
    } else {
      f = c ^ (b | ~d);
      g = (7 * i) % 16;
    }
    f += a + k[i] + words[g];
    a = d;
    d = c;
    c = b;
    b += std::rotl(f, kMd5Shifts[i]);
  }
  state[0] += a;
  state[1] += b;
  state[2] += c;
  state[3] += d;
}

const std::array<uint32_t, 256>& Crc32Table() {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t n = 0; n < 256; ++n) {
      uint32_t c = n;
      for (int bit = 0; bit < 8; ++bit) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[n] = c;
    }
    return t;
  }();
  return table;
}

}  // namespace

std::array<uint8_t, 16> Md5(std::string_view data) {
  std::array<uint32_t, 4> state = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u};
  const auto* bytes = reinterpret_cast<const uint8_t*>(data.data());
  size_t full_blocks = data.size() / 64;
  for (size_t i = 0; i < full_blocks; ++i) Md5Block(bytes + 64 * i, state);

  // The tail: the remaining bytes, a single 1 bit, zeros, and the message length in bits,
  // in one or two final blocks.
  uint8_t tail[128] = {};
  size_t rest = data.size() % 64;
  if (rest > 0) std::memcpy(tail, bytes + 64 * full_blocks, rest);
  tail[rest] = 0x80;
  size_t tail_size = rest < 56 ? 64 : 128;
  uint64_t bit_length = static_cast<uint64_t>(data.size()) * 8;
  for (int i = 0; i < 8; ++i) tail[tail_size - 8 + i] = static_cast<uint8_t>(bit_length >> (8 * i));
  for (size_t offset = 0; offset < tail_size; offset += 64) Md5Block(tail + offset, state);

  std::array<uint8_t, 16> digest;
  for (int i = 0; i < 4; ++i) StoreLittleEndian32(state[i], digest.data() + 4 * i);
  return digest;
}

std::string HexEncode(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (unsigned char byte : bytes) {
    hex.push_back(kDigits[byte >> 4]);
    hex.push_back(kDigits[byte & 0x0f]);
  }
  return hex;
}

uint32_t Crc32Ieee(std::string_view data, uint32_t crc) {
  const auto& table = Crc32Table();
  crc = ~crc;
  for (unsigned char byte : data) crc = table[(crc ^ byte) & 0xff] ^ (crc >> 8);
  return ~crc;
}

}  // namespace nsq::util
