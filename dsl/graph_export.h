// A flow as a picture: Mermaid (`flowchart TD`) and Graphviz DOT text, for
// `trellis graph`, docs and reviews. Reads only the IR.
//
// Every node is drawn with its id and a one-line summary; edges carry their
// meaning: yes / no, on_event, timeout (a wait's `next` after `for`),
// on_exhausted, and a variant's name and weight. Edges to nodes that do not
// exist are left out (the checker reports them). The trigger is drawn as an
// entry point into `start`: its event, or a scheduled flow's time, repetition
// and audience ("at 2026-12-24 10:00, every week for user.tier == \"vip\"").
#pragma once

#include <string>

#include "dsl/ir/flow.h"

namespace trellis::dsl {

std::string to_mermaid(const ir::Flow& flow);
std::string to_dot(const ir::Flow& flow);

}  // namespace trellis::dsl
