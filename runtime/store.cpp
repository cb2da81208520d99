#include "runtime/store.h"

namespace trellis::runtime {

namespace {

constexpr DeliveryStatus kStatuses[] = {DeliveryStatus::kPending,    DeliveryStatus::kSent,
                                        DeliveryStatus::kDead,       DeliveryStatus::kDeferred,
                                        DeliveryStatus::kSuppressed, DeliveryStatus::kDropped};

}  // namespace

const char* delivery_status_name(DeliveryStatus status) {
  switch (status) {
    case DeliveryStatus::kPending:
      return "pending";
    case DeliveryStatus::kSent:
      return "sent";
    case DeliveryStatus::kDead:
      return "dead";
    case DeliveryStatus::kDeferred:
      return "deferred";
    case DeliveryStatus::kSuppressed:
      return "suppressed";
    case DeliveryStatus::kDropped:
      return "dropped";
  }
  return "unknown";
}

std::optional<DeliveryStatus> delivery_status_from_name(std::string_view name) {
  for (DeliveryStatus status : kStatuses)
    if (name == delivery_status_name(status)) return status;
  return std::nullopt;
}

}  // namespace trellis::runtime
