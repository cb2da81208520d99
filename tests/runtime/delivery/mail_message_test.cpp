// RFC 5322 messages as the smtp provider builds them (without a server).
#include "runtime/delivery/mail_message.h"

#include <catch2/catch.hpp>

using namespace trellis::runtime;
using namespace trellis::runtime::delivery;

TEST_CASE("header text: ASCII as is, UTF-8 as encoded words of at most 75 characters") {
  CHECK(encode_header_text("Your cart is waiting") == "Your cart is waiting");
  CHECK(encode_header_text("a\r\nBcc: x@evil") == "a  Bcc: x@evil");  // no header injection
  const std::string subject = "Grüße aus Köln: 20 % Rabatt für dich, Ana, nur heute — 🎉🎉🎉";
  const std::string encoded = encode_header_text(subject);
  CHECK(encoded.rfind("=?UTF-8?B?", 0) == 0);
  size_t words = 0;
  size_t from = 0;
  while (from < encoded.size()) {
    size_t end = encoded.find("\r\n ", from);
    if (end == std::string::npos) end = encoded.size();
    const std::string word = encoded.substr(from, end - from);
    CHECK(word.size() <= 75);
    CHECK(word.substr(word.size() - 2) == "?=");
    ++words;
    from = end == encoded.size() ? end : end + 3;
  }
  CHECK(words >= 2);
}

TEST_CASE("the Message-ID comes from the delivery key, so a retry carries the same one") {
  const std::string id = message_id("12:mail:1", "example.com");
  CHECK(id == message_id("12:mail:1", "example.com"));
  CHECK(id != message_id("12.mail.1", "example.com"));  // the hash tells them apart
  CHECK(id.rfind("<12.mail.1.", 0) == 0);
  CHECK(id.substr(id.size() - 13) == "@example.com>");
}

TEST_CASE("a whole message: headers, CRLF line ends, base64 UTF-8 body") {
  DeliveryRecord d;
  d.key = "7:mail:1";
  d.to = "ana@example.com";
  d.subject = "Hallo";
  d.body = "Grüße";
  const std::string m = build_mail(d, "Shop <shop@example.com>", 1795428000000LL);
  CHECK(m.find("From: Shop <shop@example.com>\r\n") != std::string::npos);
  CHECK(m.find("To: ana@example.com\r\n") != std::string::npos);
  CHECK(m.find("Subject: Hallo\r\n") != std::string::npos);
  CHECK(m.find("Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n") != std::string::npos);
  CHECK(m.find("Message-ID: <7.mail.1.") != std::string::npos);
  CHECK(m.find("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n") !=
        std::string::npos);
  CHECK(m.find("\r\n\r\nR3LDvMOfZQ==\r\n") != std::string::npos);  // "Grüße"
  CHECK(mailbox_address("Shop <shop@example.com>") == "shop@example.com");
  CHECK(mailbox_address("shop@example.com") == "shop@example.com");
}
