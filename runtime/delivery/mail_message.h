// RFC 5322 messages for the smtp provider: headers encoded for UTF-8
// (RFC 2047), a Message-ID derived from the delivery key so that a retry of
// the same delivery carries the same id.
#pragma once

#include <string>

#include "runtime/clock.h"
#include "runtime/store.h"

namespace trellis::runtime::delivery {

// "Shop <shop@example.com>" -> "shop@example.com"; a bare address as is.
std::string mailbox_address(const std::string& mailbox);

// `text` as is when printable ASCII, else RFC 2047 encoded words
// (=?UTF-8?B?...?=) of at most 75 characters, folded; never splits a
// UTF-8 sequence. Line breaks in `text` become spaces (no header injection).
std::string encode_header_text(const std::string& text);

// "<KEY@domain>": the key with characters not allowed in a message id
// replaced and a hash of the key added (so the replacement cannot collide).
std::string message_id(const std::string& key, const std::string& domain);

// RFC 5322 date: "Wed, 02 Dec 2026 17:26:10 +0000".
std::string rfc5322_date(TimeMs at);

// The whole message, CRLF line ends: From, To, Subject, Date, Message-ID,
// MIME-Version, Content-Type text/plain; charset=UTF-8, base64 body.
std::string build_mail(const DeliveryRecord& delivery, const std::string& from, TimeMs date);

}  // namespace trellis::runtime::delivery
