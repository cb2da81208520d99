#include "dsl/format_util.h"

#include <array>
#include <charconv>
#include <cmath>

namespace trellis::dsl {

std::string duration_text(const ir::Duration& duration) {
  if (!duration.source.empty()) return duration.source;
  struct Unit {
    int64_t seconds;
    char suffix;
  };
  static constexpr std::array<Unit, 3> kUnits = {{{86400, 'd'}, {3600, 'h'}, {60, 'm'}}};
  for (const Unit& unit : kUnits) {
    if (duration.seconds != 0 && duration.seconds % unit.seconds == 0) {
      return std::to_string(duration.seconds / unit.seconds) + unit.suffix;
    }
  }
  return std::to_string(duration.seconds) + "s";
}

std::string re_entry_text(const ir::ReEntry& re_entry) {
  switch (re_entry.policy) {
    case ir::ReEntryPolicy::kNever:
      return "never";
    case ir::ReEntryPolicy::kAlways:
      return "always";
    case ir::ReEntryPolicy::kAfter:
      return "after " + (re_entry.after ? duration_text(*re_entry.after) : std::string("0s"));
  }
  return "never";
}

std::string number_text(double value) {
  if (std::isfinite(value) && value == std::floor(value) && std::fabs(value) < 1e15) {
    return std::to_string(static_cast<int64_t>(value));
  }
  std::array<char, 64> buffer{};
  auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  return std::string(buffer.data(), result.ptr);
}

std::string comment_line(const std::string& comment) {
  return comment.empty() ? "#" : "# " + comment;
}

std::string trailing_comment(const std::string& comment) {
  return comment.empty() ? std::string() : "  " + comment_line(comment);
}

std::string trailing_comment(const ir::FieldComments& comments, const std::string& field) {
  auto it = comments.find(field);
  return it == comments.end() ? std::string() : trailing_comment(it->second);
}

const ir::FieldComments CommentedPrinter::kNone;
const ir::LeadingComments CommentedPrinter::kNoLines;

void CommentedPrinter::above(const ir::LeadingComments* leading) {
  leading_ = leading;
  printed_.clear();
}

void CommentedPrinter::lead(int indent, const std::string& field) {
  auto it = leading_->find(field);
  if (it == leading_->end() || !printed_.insert(field).second) return;
  comments(it->second, indent);
}

void CommentedPrinter::unprinted(int indent, const std::string& before) {
  for (const auto& [field, lines] : *leading_) {
    if (field != before && !printed_.count(field)) comments(lines, indent);
  }
}

void CommentedPrinter::comments(const ir::Comments& lines, int indent) {
  for (const std::string& text : lines)
    out_ << std::string(indent, ' ') << comment_line(text) << "\n";
}

}  // namespace trellis::dsl
