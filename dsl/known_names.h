// Names a flow uses that the running server has never seen: a trigger on an event
// type no event had, close to one that did (`page_veiw` for `page_view`), and a
// `user.` path naming a trait no profile has (`user.frist_name`). Only a server
// knows what it has seen, so `POST /v1/check` runs this after the checker;
// `trellis check` does not. Findings are warnings: a new event type or trait is
// legitimate before its first event or profile arrives.
#pragma once

#include <string>
#include <vector>

#include "dsl/ir/diagnostic.h"
#include "dsl/ir/flow.h"

namespace trellis::dsl {

struct KnownNames {
  std::vector<std::string> event_types;  // event types the server has seen
  std::vector<std::string> traits;       // top-level trait names of stored profiles
};

// An empty list checks nothing: a server that has seen no event (or no profile)
// cannot tell a typo from a new name.
ir::Diagnostics check_known_names(const ir::Flow& flow, const KnownNames& known);

}  // namespace trellis::dsl
