// Big-endian (network order) integer reads and writes on raw byte buffers, for the codec's
// .cc files. Every integer on the NSQ wire is big-endian.
//
//   char buf[4];
//   StoreBigEndian32(buf, 15);          // 00 00 00 0F
//   uint32_t n = LoadBigEndian32(buf);  // 15
#pragma once

#include <cstdint>

namespace nsq::protocol {

inline void StoreBigEndian16(char* out, uint16_t v) {
  out[0] = static_cast<char>(v >> 8);
  out[1] = static_cast<char>(v);
}

inline void StoreBigEndian32(char* out, uint32_t v) {
  for (int i = 3; i >= 0; --i, v >>= 8) out[i] = static_cast<char>(v);
}

inline void StoreBigEndian64(char* out, uint64_t v) {
  for (int i = 7; i >= 0; --i, v >>= 8) out[i] = static_cast<char>(v);
}

inline uint16_t LoadBigEndian16(const char* in) {
  return static_cast<uint16_t>(static_cast<uint8_t>(in[0]) << 8 | static_cast<uint8_t>(in[1]));
}

inline uint32_t LoadBigEndian32(const char* in) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = v << 8 | static_cast<uint8_t>(in[i]);
  return v;
}

inline uint64_t LoadBigEndian64(const char* in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | static_cast<uint8_t>(in[i]);
  return v;
}

}  // namespace nsq::protocol
