#include "common/util/hash.h"

#include <doctest/doctest.h>

#include <string>

#include "common/util/json_string.h"

namespace nsq::util {
namespace {

std::string Md5Hex(std::string_view data) {
  std::array<uint8_t, 16> digest = Md5(data);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

TEST_CASE("MD5 matches the RFC 1321 test suite") {
  CHECK(Md5Hex("") == "d41d8cd98f00b204e9800998ecf8427e");
  CHECK(Md5Hex("a") == "0cc175b9c0f1b6a831c399e269772661");
  CHECK(Md5Hex("abc") == "900150983cd24fb0d6963f7d28e17f72");
  CHECK(Md5Hex("message digest") == "f96b697d7cb7938d525a2f31aaf161d0");
  CHECK(Md5Hex("abcdefghijklmnopqrstuvwxyz") == "c3fcd3d76192e4007dfb496cca67e13b");
  CHECK(Md5Hex("1234567890123456789012345678901234567890123456789012345678901234567890123456"
               "7890") == "57edf4a22be3c955ac49da2e2107b67a");
}

TEST_CASE("MD5 pads correctly around the 56- and 64-byte block boundaries") {
  CHECK(Md5Hex(std::string(55, 'x')) == "04364420e25c512fd958a70738aa8f72");
  CHECK(Md5Hex(std::string(56, 'x')) == "668a72d5ba17f08e62dabcafad6db14b");
  CHECK(Md5Hex(std::string(64, 'x')) == "c1bb4f81d892b2d57947682aeb252456");
  CHECK(Md5Hex(std::string(119, 'x')) == "ab347a5f68c8a443cfcddc633f12c24f");
  CHECK(Md5Hex(std::string(120, 'x')) == "fb98667f98096de92620b64f46e1c5b5");
}

TEST_CASE("CRC32 IEEE matches the published check values") {
  CHECK(Crc32Ieee("") == 0u);
  CHECK(Crc32Ieee("123456789") == 0xCBF43926u);
  CHECK(Crc32Ieee("The quick brown fox jumps over the lazy dog") == 0x414FA339u);
}

TEST_CASE("CRC32 continues a checksum across chunks") {
  CHECK(Crc32Ieee("hello ") == 0xED81F9F6u);
  CHECK(Crc32Ieee("world", Crc32Ieee("hello ")) == Crc32Ieee("hello world"));
  CHECK(Crc32Ieee("hello world") == 0x0D4A1185u);
}

TEST_CASE("CRC32 of an MD5 digest gives Go nsqd's node id for a hostname") {
  // Vectors from Python: zlib.crc32(hashlib.md5(hostname).digest()) % 1024.
  auto node_id = [](std::string_view hostname) {
    std::array<uint8_t, 16> digest = Md5(hostname);
    return Crc32Ieee(std::string_view(reinterpret_cast<const char*>(digest.data()), 16)) % 1024;
  };
  CHECK(node_id("nsq-host-1") == 250);
  CHECK(node_id("localhost") == 16);
  CHECK(node_id("vm") == 617);
}

TEST_CASE("HexEncode writes two lower-case digits per byte") {
  CHECK(HexEncode(std::string("\x00\x0f\xab\xff", 4)) == "000fabff");
  CHECK(HexEncode("") == "");
}

TEST_CASE("JSON strings are escaped as Go's encoding/json escapes them") {
  CHECK(QuoteJsonString("") == "\"\"");
  CHECK(QuoteJsonString("[nsqd] ") == "\"[nsqd] \"");
  CHECK(QuoteJsonString("a\"b\\c") == "\"a\\\"b\\\\c\"");
  CHECK(QuoteJsonString("line\nnext\ttab\r") == "\"line\\nnext\\ttab\\r\"");
  CHECK(QuoteJsonString(std::string("\x01", 1)) == "\"\\u0001\"");
  CHECK(QuoteJsonString("<a&b>") == "\"\\u003ca\\u0026b\\u003e\"");
  CHECK(QuoteJsonString("caf\xC3\xA9") == "\"caf\xC3\xA9\"");
  CHECK(QuoteJsonString("\xE2\x80\xA8") == "\"\\u2028\"");
  CHECK(QuoteJsonString("bad\xFFutf8") == "\"bad\\ufffdutf8\"");
  CHECK(QuoteJsonString("\xC0\x80") == "\"\\ufffd\\ufffd\"");  // overlong NUL
}

}  // namespace
}  // namespace nsq::util
