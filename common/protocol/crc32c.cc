#include "common/protocol/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <nmmintrin.h>
#define NSQ_CRC32C_SSE42 1
#endif

namespace nsq::protocol {
namespace {

constexpr std::array<uint32_t, 256> MakeCrc32cTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit) crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
    table[i] = crc;
  }
  return table;
}

// Built at compile time so there is no initialisation order or thread-safety question.
constexpr std::array<uint32_t, 256> kCrc32cTable = MakeCrc32cTable();

#ifdef NSQ_CRC32C_SSE42
// Compiled for SSE4.2 whatever the build's -march; only called once the CPU said it has it.
__attribute__((target("sse4.2"))) uint32_t Crc32cSse42(std::string_view data, uint32_t crc) {
  const char* next = data.data();
  size_t left = data.size();
  uint64_t crc64 = ~crc;
  for (; left >= 8; next += 8, left -= 8) {
    uint64_t word;
    std::memcpy(&word, next, sizeof(word));  // unaligned load, little-endian as the CRC wants
    crc64 = _mm_crc32_u64(crc64, word);
  }
  auto crc32 = static_cast<uint32_t>(crc64);
  for (; left > 0; ++next, --left) crc32 = _mm_crc32_u8(crc32, static_cast<uint8_t>(*next));
  return ~crc32;
}

const bool kCpuHasSse42 = __builtin_cpu_supports("sse4.2");
#endif

}  // namespace

namespace internal {

uint32_t Crc32cPortable(std::string_view data, uint32_t crc) {
  crc = ~crc;
  for (unsigned char byte : data) crc = kCrc32cTable[(crc ^ byte) & 0xff] ^ (crc >> 8);
  return ~crc;
}

}  // namespace internal

uint32_t Crc32c(std::string_view data, uint32_t crc) {
#ifdef NSQ_CRC32C_SSE42
  if (kCpuHasSse42) return Crc32cSse42(data, crc);
#endif
  return internal::Crc32cPortable(data, crc);
}

}  // namespace nsq::protocol
