#include "runtime/stored_rows.h"

namespace trellis::runtime {

std::optional<int64_t> release_column(TimeMs release_at) {
  return release_at > 0 ? std::optional<int64_t>(release_at) : std::nullopt;
}

const char* feedback_name(Feedback kind) {
  switch (kind) {
    case Feedback::kDelivered:
      return "delivered";
    case Feedback::kBounced:
      return "bounced";
    case Feedback::kComplained:
      return "complained";
    case Feedback::kOpened:
      return "opened";
    case Feedback::kClicked:
      return "clicked";
  }
  return "";
}

}  // namespace trellis::runtime
