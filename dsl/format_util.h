// Helpers shared by the YAML and DSL printers and the JSON converter (internal to
// trellis_dsl): how durations, numbers and re-entry policies read as text.
#pragma once

#include <set>
#include <sstream>
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

// What the YAML and DSL printers share: the text printed so far and the
// comments of the flow or node being printed, each comment above a field
// printed once, whatever the syntax.
class CommentedPrinter {
 protected:
  // The comments above the fields of the flow or node printed next.
  void above(const ir::LeadingComments* leading);
  // Prints the comments above `field`'s line, unless printed already.
  void lead(int indent, const std::string& field);
  // Comments above fields the element no longer has (a value the editor
  // cleared) still belong to the file: they go above `before`.
  void unprinted(int indent, const std::string& before);
  void comments(const ir::Comments& lines, int indent);

  const ir::FieldComments* notes_ = &kNone;  // end-of-line comments of the element printed
  std::ostringstream out_;

 private:
  static const ir::FieldComments kNone;
  static const ir::LeadingComments kNoLines;
  const ir::LeadingComments* leading_ = &kNoLines;
  std::set<std::string> printed_;
};

}  // namespace trellis::dsl
