#include "runtime/delivery/mail_message.h"

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <ctime>

namespace trellis::runtime::delivery {

namespace {

constexpr size_t kEncodedChunk = 45;  // input bytes per encoded word: 60 base64 chars + 12 = 72
constexpr size_t kBodyLine = 76;      // base64 characters per body line (RFC 2045)

std::string base64(const std::string& data) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    const uint32_t v = (static_cast<uint8_t>(data[i]) << 16) |
                       (static_cast<uint8_t>(data[i + 1]) << 8) | static_cast<uint8_t>(data[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += kAlphabet[(v >> shift) & 63];
  }
  if (i < data.size()) {
    uint32_t v = static_cast<uint8_t>(data[i]) << 16;
    if (i + 1 < data.size()) v |= static_cast<uint8_t>(data[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < data.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

bool is_plain_ascii(const std::string& text) {
  for (unsigned char c : text)
    if (c < 0x20 || c > 0x7e) return false;
  return true;
}

std::string without_line_breaks(const std::string& text) {
  std::string out = text;
  for (char& c : out)
    if (c == '\r' || c == '\n') c = ' ';
  return out;
}

// Bytes of `text` from `from` up to `limit`, cut before a UTF-8 continuation byte.
size_t utf8_chunk_end(const std::string& text, size_t from, size_t limit) {
  size_t end = std::min(text.size(), from + limit);
  while (end < text.size() && end > from && (static_cast<uint8_t>(text[end]) & 0xC0) == 0x80) --end;
  return end;
}

uint64_t fnv1a(const std::string& text) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

bool is_atext(char c) {
  if (std::isalnum(static_cast<unsigned char>(c))) return true;
  return std::string("!#$%&'*+-/=?^_`{|}~").find(c) != std::string::npos;
}

}  // namespace

std::string mailbox_address(const std::string& mailbox) {
  const size_t open = mailbox.rfind('<');
  const size_t close = mailbox.rfind('>');
  if (open != std::string::npos && close != std::string::npos && close > open)
    return mailbox.substr(open + 1, close - open - 1);
  return mailbox;
}

std::string encode_header_text(const std::string& text) {
  const std::string clean = without_line_breaks(text);
  if (is_plain_ascii(clean)) return clean;
  std::string out;
  for (size_t from = 0; from < clean.size();) {
    size_t end = utf8_chunk_end(clean, from, kEncodedChunk);
    if (end == from) end = std::min(clean.size(), from + kEncodedChunk);  // not UTF-8 after all
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + base64(clean.substr(from, end - from)) + "?=";
    from = end;
  }
  return out;
}

std::string message_id(const std::string& key, const std::string& domain) {
  std::string left;
  for (char c : key) left += is_atext(c) ? c : '.';
  static const char* kHex = "0123456789abcdef";
  const uint64_t hash = fnv1a(key);
  left += '.';
  for (int shift = 28; shift >= 0; shift -= 4) left += kHex[(hash >> shift) & 15];
  return "<" + left + "@" + (domain.empty() ? "trellis.invalid" : domain) + ">";
}

std::string rfc5322_date(TimeMs at) {
  static const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const time_t seconds = static_cast<time_t>(at / 1000);
  std::tm t{};
  gmtime_r(&seconds, &t);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays[t.tm_wday],
                t.tm_mday, kMonths[t.tm_mon], t.tm_year + 1900, t.tm_hour, t.tm_min, t.tm_sec);
  return buf;
}

std::string build_mail(const DeliveryRecord& d, const std::string& from, TimeMs date) {
  const std::string address = mailbox_address(from);
  const size_t at = address.rfind('@');
  const std::string domain = at == std::string::npos ? "" : address.substr(at + 1);
  std::string m;
  m += "From: " + without_line_breaks(from) + "\r\n";
  m += "To: " + without_line_breaks(d.to) + "\r\n";
  m += "Subject: " + encode_header_text(d.subject) + "\r\n";
  m += "Date: " + rfc5322_date(date) + "\r\n";
  m += "Message-ID: " + message_id(d.key, domain) + "\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: text/plain; charset=UTF-8\r\n";
  m += "Content-Transfer-Encoding: base64\r\n";
  m += "\r\n";
  const std::string body = base64(d.body);
  for (size_t i = 0; i < body.size(); i += kBodyLine) m += body.substr(i, kBodyLine) + "\r\n";
  return m;
}

}  // namespace trellis::runtime::delivery
