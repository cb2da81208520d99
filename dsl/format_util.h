// Helpers shared by the YAML and DSL printers and the JSON converter (internal to
// trellis_dsl): how durations, numbers and re-entry policies read as text.
#pragma once

#include <string>

#include "dsl/ir/flow.h"

namespace trellis::dsl {

// The duration as written, or, for one built in memory, the largest whole unit
// ("7d", "90m", "45s").
std::string duration_text(const ir::Duration& duration);

// "never", "always", "after 7d".
std::string re_entry_text(const ir::ReEntry& re_entry);

// Shortest text that reads back as the same double ("45", "12.5").
std::string number_text(double value);

// A comment line as printed: `#`, a space, the text. Loaders store the text after
// `#` with one leading space removed, so printing and loading are inverses.
std::string comment_line(const std::string& comment);

// What ends a line whose field has an end-of-line comment: two spaces and the
// comment line; "" when there is none. One spacing, so `fmt` output is canonical.
std::string trailing_comment(const std::string& comment);
std::string trailing_comment(const ir::FieldComments& comments, const std::string& field);

}  // namespace trellis::dsl
