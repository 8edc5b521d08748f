// MD5 and CRC-32 (IEEE), the two checksums nsqd needs to derive its default node id the way
// Go's nsqd does: CRC32-IEEE(MD5(hostname)) % 1024. Small and dependency-free (no zlib, no
// OpenSSL); not for security.
//
//   std::array<uint8_t, 16> digest = nsq::util::Md5("vm");
//   uint32_t crc = nsq::util::Crc32Ieee(std::string_view(
//       reinterpret_cast<const char*>(digest.data()), digest.size()));
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace nsq::util {

// The raw 16-byte MD5 digest (RFC 1321) of `data`.
std::array<uint8_t, 16> Md5(std::string_view data);

// Lower-case hex of `bytes`, e.g. for comparing digests with published vectors.
std::string HexEncode(std::string_view bytes);

// CRC-32 with the IEEE 802.3 polynomial (as zlib's crc32 and Go's crc32.ChecksumIEEE).
// Pass a previous result as `crc` to continue a checksum over more data.
uint32_t Crc32Ieee(std::string_view data, uint32_t crc = 0);

}  // namespace nsq::util
