// Names a flow uses that are not known: a trigger on an event type no event had,
// close to one that did (`page_veiw` for `page_view`), and a `user.` path naming a
// trait that no stored profile has and the delivery configuration's `traits:` list
// does not declare (`user.frist_name`). What a server has seen only it knows, so
// `POST /v1/check` runs this after the checker with both; `trellis check` with the
// declared list of the trellis.yaml beside the flow (docs/delivery.md#traits).
// Findings are warnings: a new event type or trait is legitimate before its first
// event or profile arrives.
#pragma once

#include <string>
#include <vector>

#include "dsl/ir/diagnostic.h"
#include "dsl/ir/flow.h"

namespace trellis::dsl {

struct KnownNames {
  std::vector<std::string> event_types;      // event types the server has seen
  std::vector<std::string> traits;           // top-level trait names of stored profiles
  std::vector<std::string> declared_traits;  // `traits:` of the delivery configuration
};

// An empty list checks nothing: a server that has seen no event (or no profile, and
// with no declared traits) cannot tell a typo from a new name. Traits the flow's own
// update_profile nodes write are known to it.
ir::Diagnostics check_known_names(const ir::Flow& flow, const KnownNames& known);

}  // namespace trellis::dsl
