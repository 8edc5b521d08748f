#include "common/protocol/body.h"

#include <doctest/doctest.h>

#include <string>
#include <utility>

namespace nsq::protocol {
namespace {

TEST_CASE("Body::Copy holds a copy of the bytes") {
  std::string source = "hello";
  Body body = Body::Copy(source);
  source[0] = 'j';
  CHECK(body.view() == "hello");
  CHECK(body.size() == 5);
  CHECK_FALSE(body.empty());
  CHECK(body.use_count() == 1);
}

TEST_CASE("binary bytes, including NUL, survive a copy") {
  const std::string bytes("a\0b\xff", 4);
  CHECK(Body::Copy(bytes).view() == bytes);
}

TEST_CASE("copying a Body shares the bytes and counts the handles") {
  Body a = Body::Copy("shared");
  {
    Body b = a;
    CHECK(b.view().data() == a.view().data());
    CHECK(a.use_count() == 2);
    Body c;
    c = b;
    CHECK(c.view().data() == a.view().data());
    CHECK(a.use_count() == 3);
  }
  CHECK(a.use_count() == 1);
  CHECK(a.view() == "shared");
}

TEST_CASE("moving a Body transfers the handle without touching the count") {
  Body a = Body::Copy("moved");
  const char* data = a.view().data();
  Body b = std::move(a);
  CHECK(a.empty());  // NOLINT(bugprone-use-after-move): body.h specifies it
  CHECK(a.use_count() == 0);
  CHECK(b.view().data() == data);
  CHECK(b.use_count() == 1);

  Body c = Body::Copy("other");
  c = std::move(b);
  CHECK(c.view() == "moved");
  CHECK(c.use_count() == 1);
}

TEST_CASE("assigning a Body releases the bytes it held") {
  Body a = Body::Copy("first");
  Body keep = a;
  CHECK(keep.use_count() == 2);
  a = Body::Copy("second");
  CHECK(keep.use_count() == 1);
  CHECK(keep.view() == "first");
  CHECK(a.view() == "second");
}

TEST_CASE("self-assignment keeps the bytes") {
  Body a = Body::Copy("self");
  Body& alias = a;
  a = alias;
  CHECK(a.view() == "self");
  CHECK(a.use_count() == 1);
  a = std::move(alias);
  CHECK(a.view() == "self");
  CHECK(a.use_count() == 1);
}

TEST_CASE("an empty Body views nothing and owns nothing") {
  Body empty;
  CHECK(empty.empty());
  CHECK(empty.view().empty());
  CHECK(empty.use_count() == 0);
  Body copied = Body::Copy("");
  CHECK(copied.empty());
  Body shared = copied;
  CHECK(shared.use_count() == 0);
}

TEST_CASE("a large body keeps every byte") {
  std::string big(1 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 31);
  Body body = Body::Copy(big);
  CHECK(body.size() == big.size());
  CHECK(body.view() == big);
}

}  // namespace
}  // namespace nsq::protocol
