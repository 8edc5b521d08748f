#include "tools/redis_to_nsq/redis_url.h"

#include <doctest/doctest.h>

namespace nsq::redis_to_nsq {
namespace {

TEST_CASE("redis:// URLs give host, port, db and credentials") {
  auto plain = ParseRedisUrl("redis://127.0.0.1:6390/2");
  REQUIRE(plain.ok());
  CHECK(plain->host == "127.0.0.1");
  CHECK(plain->port == 6390);
  CHECK(plain->db == 2);
  CHECK(plain->password.empty());

  auto defaults = ParseRedisUrl("redis://cache.internal");
  REQUIRE(defaults.ok());
  CHECK(defaults->port == 6379);
  CHECK(defaults->db == 0);

  auto secret = ParseRedisUrl("redis://:s%40cret@10.0.0.5:6379/0");
  REQUIRE(secret.ok());
  CHECK(secret->username.empty());
  CHECK(secret->password == "s@cret");  // percent-decoded

  auto acl = ParseRedisUrl("redis://migrator:pw@10.0.0.5/1");
  REQUIRE(acl.ok());
  CHECK(acl->username == "migrator");
  CHECK(acl->password == "pw");
  CHECK(acl->db == 1);
}

TEST_CASE("unix:// URLs give the socket path and the db") {
  auto socket = ParseRedisUrl("unix:///var/run/redis/redis.sock?db=3");
  REQUIRE(socket.ok());
  CHECK(socket->unix_path == "/var/run/redis/redis.sock");
  CHECK(socket->host.empty());
  CHECK(socket->db == 3);
  auto with_password = ParseRedisUrl("unix://:pw@/tmp/r.sock");
  REQUIRE(with_password.ok());
  CHECK(with_password->unix_path == "/tmp/r.sock");
  CHECK(with_password->password == "pw");
}

TEST_CASE("Describe never shows the password") {
  auto endpoint = ParseRedisUrl("redis://:topsecret@10.0.0.5:6379/4");
  REQUIRE(endpoint.ok());
  CHECK(endpoint->Describe() == "redis://10.0.0.5:6379/4");
  CHECK(ParseRedisUrl("unix:///tmp/r.sock")->Describe() == "unix:///tmp/r.sock?db=0");
}

TEST_CASE("bad URLs are refused with a message that shows the expected form") {
  for (const char* url : {"127.0.0.1:6379", "http://h:1/0", "redis://h:99999/0", "redis://h/x",
                          "redis://", "rediss://h:6379/0", "unix://"}) {
    CAPTURE(url);
    auto parsed = ParseRedisUrl(url);
    REQUIRE_FALSE(parsed.ok());
    CHECK(std::string(parsed.status().message()).find("redis://[user:password@]host:port/db") !=
          std::string::npos);
  }
}

}  // namespace
}  // namespace nsq::redis_to_nsq
