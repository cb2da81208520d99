// The body of `PUT /v1/users/{id}/consent` (and of a simulation's `consent`),
// read and checked as a whole before anything changes, and a user's consent
// records as the JSON that `GET /v1/users/{id}/consent` answers.
//
// Two forms, told apart by their keys:
//   {"sms": false, "email": true}                           shorthand; reason "api"
//   {"channels": {"sms": false}, "reason": "ticket 4411"}   reason "api: ticket 4411"
// `channels` and `reason` are therefore not channel names. `*` (alias `all`)
// stands for every channel. A channel must be one the server delivers on:
// a message node's channel (email, sms) or one of the delivery configuration.
#pragma once

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "runtime/delivery/config.h"
#include "runtime/store.h"

namespace trellis::api {

// What Engine::set_consent takes.
struct ConsentChange {
  std::vector<std::pair<std::string, bool>> channels;  // "*" first when present
  std::string reason;
};

// Why a body was refused: `field` is its path in the body ("channels.sms").
struct ConsentBodyError {
  std::string field;
  std::string message;
};

constexpr size_t kMaxConsentChannels = 32;
constexpr size_t kMaxConsentReason = 200;

// The channels consent may name: email, sms and those of `config` (may be null).
std::set<std::string> consent_channels(const runtime::delivery::DeliveryConfig* config);

// Reads a consent body (already parsed JSON) against the channels known.
std::variant<ConsentChange, ConsentBodyError> read_consent_body(
    const nlohmann::json& body, const std::set<std::string>& known_channels);

// {"sms": {"subscribed": false, "at": "<RFC 3339>", "reason": "api"}, ...}:
// one entry per record (Engine::consent gives the newest per channel); a
// channel never set is absent, which means subscribed.
nlohmann::json consent_to_json(const std::vector<runtime::ConsentRecord>& records);

}  // namespace trellis::api
