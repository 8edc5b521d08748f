#include "common/protocol/names.h"

#include <doctest/doctest.h>

#include <string>

namespace nsq::protocol {
namespace {

TEST_CASE("names made of letters, digits, dot, underscore and dash are valid") {
  CHECK(IsValidTopicName("test"));
  CHECK(IsValidTopicName("test-with_period."));
  CHECK(IsValidTopicName("Test.123_ABC-z"));
  CHECK(IsValidChannelName("test"));
  CHECK(IsValidChannelName("test-with_period."));
}

TEST_CASE("the #ephemeral suffix is allowed only at the end and only once") {
  CHECK(IsValidTopicName("test#ephemeral"));
  CHECK(IsValidChannelName("test#ephemeral"));
  CHECK_FALSE(IsValidTopicName("test:ephemeral"));
  CHECK_FALSE(IsValidTopicName("a#b"));
  CHECK_FALSE(IsValidTopicName("test#ephemeral#ephemeral"));
  CHECK_FALSE(IsValidTopicName("test#ephemeralx"));
  CHECK_FALSE(IsValidTopicName("#ephemeral"));
  CHECK_FALSE(IsValidChannelName("a#b"));
}

TEST_CASE("names are 1 to 64 bytes long, suffix included") {
  CHECK_FALSE(IsValidTopicName(""));
  CHECK_FALSE(IsValidChannelName(""));
  CHECK(IsValidTopicName(std::string(64, 'a')));
  CHECK_FALSE(IsValidTopicName(std::string(65, 'a')));
  CHECK(IsValidChannelName(std::string(54, 'a') + "#ephemeral"));
  CHECK_FALSE(IsValidChannelName(std::string(55, 'a') + "#ephemeral"));
}

TEST_CASE("spaces, slashes, colons and non-ASCII bytes make a name invalid") {
  CHECK_FALSE(IsValidTopicName("a b"));
  CHECK_FALSE(IsValidTopicName("a/b"));
  CHECK_FALSE(IsValidTopicName("a:b"));
  CHECK_FALSE(IsValidTopicName("caf\xc3\xa9"));
  CHECK_FALSE(IsValidTopicName(std::string("a\0b", 3)));
}

TEST_CASE("IsEphemeralName only looks at the suffix") {
  CHECK(IsEphemeralName("test#ephemeral"));
  CHECK(IsEphemeralName("#ephemeral"));
  CHECK_FALSE(IsEphemeralName("test"));
  CHECK_FALSE(IsEphemeralName("test#ephemeralx"));
}

TEST_CASE("QuoteName quotes like Go's %q") {
  CHECK(QuoteName("test:ephemeral") == "\"test:ephemeral\"");
  CHECK(QuoteName("") == "\"\"");
  CHECK(QuoteName("a\"b\\c") == "\"a\\\"b\\\\c\"");
  CHECK(QuoteName("a\tb\nc\r") == "\"a\\tb\\nc\\r\"");
  CHECK(QuoteName(std::string("\x01\x7f", 2)) == "\"\\x01\\x7f\"");
  CHECK(QuoteName("caf\xc3\xa9") == "\"caf\xc3\xa9\"");  // valid UTF-8 kept
  CHECK(QuoteName("a\xff"
                  "b") == "\"a\\xffb\"");                     // invalid UTF-8 escaped
  CHECK(QuoteName("\xc3") == "\"\\xc3\"");                    // truncated sequence
  CHECK(QuoteName("\xed\xa0\x80") == "\"\\xed\\xa0\\x80\"");  // a UTF-16 surrogate
}

}  // namespace
}  // namespace nsq::protocol
