// yaml-cpp adapter: the only file that includes yaml-cpp. It catches every
// yaml-cpp exception, so nothing leaves trellis_dsl by throwing.
#include "dsl/yaml_loader.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <map>
#include <set>
#include <sstream>

#include "dsl/ir/node_body.h"
#include "dsl/ir/suggest.h"
#include "dsl/ir/utf8.h"
#include "dsl/node_schema.h"
#include "dsl/parse.h"
#include "dsl/source_text.h"
#include "nodes/local_time.h"

namespace trellis::dsl {

namespace {

// The deepest nesting of mappings and sequences a flow file may have
// (docs/limits.md). Flows need about six levels; yaml-cpp and the loader
// recurse once per level, so the bound keeps a hostile file off the stack.
constexpr int kMaxYamlNesting = 64;

// Counts nesting from yaml-cpp's events, which arrive as it parses, so the
// walk stops at the first level too deep instead of building the whole tree.
// It also notices yaml-cpp 0.7 stalling: on a stray ',' at the top of a
// document its parser reports the same empty document again and again without
// consuming anything, so YAML::LoadAll would loop (and grow) for ever.
class NestingProbe : public YAML::EventHandler {
 public:
  struct TooDeep {
    YAML::Mark mark;
  };
  void OnDocumentStart(const YAML::Mark&) override {
    events_ = 0;
    null_at_ = -1;
  }
  void OnDocumentEnd() override {
    const bool only_null = events_ == 1 && null_at_ >= 0;
    stalled_ = only_null && null_at_ == previous_null_at_;
    previous_null_at_ = only_null ? null_at_ : -1;
  }
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override {
    ++events_;
    null_at_ = mark.pos;
    null_mark_ = mark;
  }
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override { ++events_; }
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {
    ++events_;
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    enter(mark);
  }
  void OnSequenceEnd() override { --depth_; }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    enter(mark);
  }
  void OnMapEnd() override { --depth_; }

  bool stalled() const { return stalled_; }
  const YAML::Mark& stall_mark() const { return null_mark_; }

 private:
  void enter(const YAML::Mark& mark) {
    ++events_;
    if (++depth_ > kMaxYamlNesting) throw TooDeep{mark};
  }
  int depth_ = 0;
  int events_ = 0;
  int null_at_ = -1;
  int previous_null_at_ = -1;
  bool stalled_ = false;
  YAML::Mark null_mark_;
};

// What the event walk found before the tree is built: nesting too deep, or a
// place where yaml-cpp cannot move on.
struct Prescan {
  enum class Problem { kNone, kTooDeep, kStuck } problem = Problem::kNone;
  YAML::Mark mark;
};

Prescan prescan(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  NestingProbe probe;
  try {
    while (parser.HandleNextDocument(probe)) {
      if (probe.stalled()) return {Prescan::Problem::kStuck, probe.stall_mark()};
    }
  } catch (const NestingProbe::TooDeep& deep) {
    return {Prescan::Problem::kTooDeep, deep.mark};
  } catch (const YAML::Exception&) {
    // A syntax error: YAML::LoadAll reports it with its position.
  }
  return {};
}

// Where a value sits in the flow, for messages and the editor.
struct Where {
  std::string node;   // node id; empty at flow level
  std::string field;  // key name
};

std::string shape_of(const YAML::Node& value) {
  switch (value.Type()) {
    case YAML::NodeType::Null:
      return "empty";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    default:
      return "a single value";
  }
}

std::string join_names(const std::vector<FieldSpec>& fields) {
  std::string out;
  for (const FieldSpec& field : fields) out += (out.empty() ? "" : ", ") + std::string(field.name);
  return out;
}

std::vector<std::string> names_of(const std::vector<FieldSpec>& fields) {
  std::vector<std::string> names;
  names.reserve(fields.size());
  for (const FieldSpec& field : fields) names.emplace_back(field.name);
  return names;
}

std::vector<std::string> node_type_names() {
  std::vector<std::string> names;
  for (ir::NodeKind kind : ir::all_node_kinds()) names.emplace_back(ir::node_kind_name(kind));
  return names;
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

// The text of a comment line without `#` and one following space, or nullopt
// when the line is not a comment.
std::optional<std::string> comment_text(std::string_view line) {
  size_t first = line.find_first_not_of(" \t");
  if (first == std::string_view::npos || line[first] != '#') return std::nullopt;
  std::string_view text = line.substr(first + 1);
  if (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return std::string(text);
}

class Loader {
 public:
  Loader(const std::string& text, const std::string& file)
      : file_(file), source_(text), line_comments_(end_of_line_comments(source_)) {}

  LoadResult run(const std::string& text);

 private:
  ir::SourceSpan mark_span(const YAML::Mark& mark, size_t length) const;
  std::string syntax_hint(const ir::SourceSpan& span) const;
  ir::SourceSpan key_span(const YAML::Node& key) const;
  // The value's token; for an empty value, the key's span.
  ir::SourceSpan value_span(const YAML::Node& value, const ir::SourceSpan& key) const;

  void error(ir::SourceSpan span, std::string message, const Where& where) {
    diagnostics_.error(file_, span, std::move(message), where.node, where.field);
  }

  // Calls `read(key, key_span, value, spec, where)` for the first occurrence
  // of each known key of `map` (every key when `fields` is null); reports
  // duplicate and unknown keys. `owner` names the map in messages ("sms node
  // 'x'"); `where.field` is prefixed to key names ("trigger." -> "trigger.when").
  template <typename Read>
  void for_each_key(const YAML::Node& map, const std::vector<FieldSpec>* fields,
                    const std::string& owner, const Where& where, Read read);
  std::string unknown_key_message(const std::string& key, const std::vector<FieldSpec>& fields,
                                  const std::string& owner) const;

  std::optional<std::string> scalar(const YAML::Node& value, const ir::SourceSpan& key,
                                    const Where& where, std::string_view what);
  ir::Name read_name(const YAML::Node& value, const ir::SourceSpan& key, const Where& where,
                     std::string_view what);
  std::optional<ir::Expression> read_expression(const YAML::Node& value, const ir::SourceSpan& key,
                                                const Where& where);
  std::optional<ir::Template> read_template(const YAML::Node& value, const ir::SourceSpan& key,
                                            const Where& where);
  std::optional<ir::Duration> read_duration(const YAML::Node& value, const ir::SourceSpan& key,
                                            const Where& where);
  std::optional<double> read_number(const YAML::Node& value, const ir::SourceSpan& key,
                                    const Where& where, bool whole);

  // A scalar's characters in the file. Parsers see the value as one straight
  // run starting at `base`; `moved` puts the spans they produce where the
  // characters really are (quotes, escapes, folded lines).
  struct ScalarPlace {
    ScalarLayout layout;
    ir::SourceSpan base;
    ir::SourceSpan token;
  };
  ScalarPlace place_of(const YAML::Node& value) const;
  ir::SourceSpan moved(const ScalarPlace& place, const ir::SourceSpan& span) const;
  void add_moved(const ir::Diagnostics& found, const ScalarPlace& place, const Where& where);
  void move_expr(const ScalarPlace& place, ir::Expr& expr) const;

  void read_flow(const YAML::Node& root, ir::Flow& flow);
  void read_trigger(const YAML::Node& value, const ir::SourceSpan& key, ir::Trigger& trigger,
                    ir::FieldComments& comments);
  void read_re_entry(const YAML::Node& value, const ir::SourceSpan& key, ir::ReEntry& re_entry);
  void read_exit_on(const YAML::Node& value, const ir::SourceSpan& key, ir::Flow& flow);
  // One name or a list of them (`exit_on`, `on_days`).
  std::vector<ir::Name> read_names(const YAML::Node& value, const ir::SourceSpan& key,
                                   const Where& where, std::string_view what);
  std::optional<ir::LocalTimeOfDay> read_time_of_day(const YAML::Node& value,
                                                     const ir::SourceSpan& key, const Where& where);
  void read_nodes(const YAML::Node& value, const ir::SourceSpan& key, ir::Flow& flow);
  ir::Node read_node(const std::string& id, const YAML::Node& key, const YAML::Node& value);
  // Reports a missing or unknown type; sets node.type_span.
  std::optional<ir::NodeKind> read_node_type(const std::string& id, const YAML::Node& value,
                                             ir::Node& node);
  void read_node_field(const FieldSpec& spec, const YAML::Node& value, const ir::SourceSpan& key,
                       const Where& where, ir::Node& node);
  // A generic kind's field, read by its type alone (docs/node-kinds.md).
  void read_generic_field(const FieldSpec& spec, const YAML::Node& value, const ir::SourceSpan& key,
                          const Where& where, ir::GenericNode& node);
  std::vector<ir::Branch> read_branches(const YAML::Node& value, const ir::SourceSpan& key,
                                        const Where& where);
  std::vector<ir::NamedExpression> read_named_expressions(const YAML::Node& value,
                                                          const ir::SourceSpan& key,
                                                          const Where& where);
  ir::Goal read_goal(const YAML::Node& value, const ir::SourceSpan& key, const Where& where);
  std::optional<ir::EventFilter> read_event_filter(const YAML::Node& value,
                                                   const ir::SourceSpan& key, const Where& where);
  std::optional<ir::CouponGenerate> read_generate(const YAML::Node& value,
                                                  const ir::SourceSpan& key, const Where& where);
  ir::Variant read_variant(const YAML::Node& key, const ir::SourceSpan& span,
                           const YAML::Node& value, const Where& where);
  std::vector<ir::Variant> read_variants(const YAML::Node& value, const ir::SourceSpan& key,
                                         const Where& where);

  // Where a comment line can belong: the element (flow, node, variant) or the
  // field of one whose key or list item starts on `line`. Comment lines are
  // given to the first anchor below them once the flow is read (elements sit
  // in vectors that grow meanwhile, so anchors name them by index).
  struct Anchor {
    uint32_t line = 0;
    int node = -1;      // index in flow.nodes; -1 for the flow
    int variant = -1;   // index in the node's variants
    std::string field;  // leading_comments key; "" for the element's own comments
  };
  void anchor(const ir::SourceSpan& span, std::string field, int variant = -1) {
    if (span.known()) anchors_.push_back(Anchor{span.line, node_index_, variant, std::move(field)});
  }
  ir::Comments& comments_of(ir::Flow& flow, const Anchor& anchor) const;
  // Where an end-of-line comment of the anchor's lines goes.
  void add_trailing(ir::Flow& flow, const Anchor& anchor, const std::string& text) const;
  // Gives every comment line (and each end-of-line comment no key took) to an anchor.
  void place_comments(const YAML::Node& root, ir::Flow& flow);
  // Lines that belong to a scalar's text (block scalars, quoted scalars over
  // several lines): a `#` there is text.
  void scalar_lines(const YAML::Node& node, std::vector<bool>& text_lines, int depth = 0) const;
  // Moves the end-of-line comment of `key`'s line into `into`. Each comment is
  // taken once and keys are visited outermost first, so the outermost key on a
  // line gets it (`sms_a: { type: sms, ... }  # x` belongs to the node). A field
  // over several lines (`until_event:` with `event:`, `where:`) joins them with " # ".
  void take_comment(const ir::SourceSpan& key, std::string& into);
  void take_comment(const ir::SourceSpan& key, ir::FieldComments& into, const std::string& field);
  // The comments of the lines of the keys of `map`, for a field printed on one line.
  void take_comments_of(const YAML::Node& map, ir::FieldComments& into, const std::string& field);

  std::string file_;
  SourceText source_;
  std::vector<std::optional<std::string>> line_comments_;
  std::vector<Anchor> anchors_;
  int node_index_ = -1;     // the node being read, for anchors
  int variant_index_ = -1;  // the variant being read
  mutable size_t scalar_visits_ = 0;
  ir::Diagnostics diagnostics_;
};

// The usual cause of yaml-cpp's terse syntax errors in flow files, judged
// from the line the error is on.
std::string Loader::syntax_hint(const ir::SourceSpan& span) const {
  std::string_view line = source_.line(span.line - 1);
  size_t colon = line.find(": ");
  if (colon == std::string_view::npos) return "";
  std::string_view value = line.substr(colon + 2);
  value.remove_prefix(std::min(value.size(), value.find_first_not_of(' ')));
  if (value.substr(0, 2) == "{{") {
    return " (quote text that starts with {{...}}: YAML reads '{' as a mapping)";
  }
  bool quoted = !value.empty() && (value[0] == '"' || value[0] == '\'');
  if (!quoted && value.find(": ") != std::string_view::npos) {
    return " (quote a value that contains ': ')";
  }
  return "";
}

ir::SourceSpan Loader::mark_span(const YAML::Mark& mark, size_t length) const {
  if (mark.is_null() || mark.pos < 0) return source_.point(source_.text().size());
  size_t begin = static_cast<size_t>(mark.pos);
  return source_.span(begin, begin + length);
}

ir::SourceSpan Loader::key_span(const YAML::Node& key) const {
  if (!key.IsScalar()) return mark_span(key.Mark(), 1);
  ScalarLayout layout = layout_scalar(source_, static_cast<size_t>(key.Mark().pos), key.Scalar());
  return source_.span(layout.token_begin, layout.token_end);
}

ir::SourceSpan Loader::value_span(const YAML::Node& value, const ir::SourceSpan& key) const {
  if (value.IsNull() || value.Mark().is_null()) return key;
  if (!value.IsScalar()) return mark_span(value.Mark(), 1);
  ScalarLayout layout =
      layout_scalar(source_, static_cast<size_t>(value.Mark().pos), value.Scalar());
  return source_.span(layout.token_begin, layout.token_end);
}

std::string Loader::unknown_key_message(const std::string& key,
                                        const std::vector<FieldSpec>& fields,
                                        const std::string& owner) const {
  std::string message = "unknown key '" + key + "' in " + owner;
  std::string suggestion = ir::did_you_mean(key, names_of(fields));
  if (!suggestion.empty()) return message + suggestion;
  return message + " (expected one of: " + join_names(fields) + ")";
}

template <typename Read>
void Loader::for_each_key(const YAML::Node& map, const std::vector<FieldSpec>* fields,
                          const std::string& owner, const Where& where, Read read) {
  std::map<std::string, size_t> first_line;
  for (auto it = map.begin(); it != map.end(); ++it) {
    const YAML::Node key = it->first;  // a copy: `it->` is a temporary proxy
    ir::SourceSpan span = key_span(key);
    Where at{where.node, where.field + (key.IsScalar() ? key.Scalar() : std::string())};
    if (!key.IsScalar()) {
      error(span, "keys must be plain names, not " + shape_of(key), where);
      continue;
    }
    auto [seen, inserted] = first_line.emplace(key.Scalar(), span.line);
    if (!inserted) {
      error(span,
            "duplicate key '" + key.Scalar() + "' in " + owner + " (first at line " +
                std::to_string(seen->second) + ")",
            at);
      continue;
    }
    const FieldSpec* spec = fields ? find_field(*fields, key.Scalar()) : nullptr;
    if (fields && !spec) {
      error(span, unknown_key_message(key.Scalar(), *fields, owner), at);
      continue;
    }
    read(key, span, it->second, spec, at);
  }
}

std::optional<std::string> Loader::scalar(const YAML::Node& value, const ir::SourceSpan& key,
                                          const Where& where, std::string_view what) {
  if (value.IsScalar()) return value.Scalar();
  std::string message =
      "'" + where.field + "' must be " + std::string(what) + ", not " + shape_of(value);
  if (value.IsNull()) message = "'" + where.field + "' is empty: give " + std::string(what);
  ir::SourceSpan span = value_span(value, key);
  // `text: {{user.name}}` reads as a YAML mapping: the fix is quoting.
  if (value.IsMap() && source_.text().substr(span.offset, 2) == "{{") {
    message += " (quote text that starts with {{...}})";
  }
  error(span, message, where);
  return std::nullopt;
}

ir::Name Loader::read_name(const YAML::Node& value, const ir::SourceSpan& key, const Where& where,
                           std::string_view what) {
  std::optional<std::string> text = scalar(value, key, where, what);
  // An empty name keeps the key's position so the checker can point at it.
  if (!text) return ir::Name{"", key};
  return ir::Name{*text, value_span(value, key)};
}

Loader::ScalarPlace Loader::place_of(const YAML::Node& value) const {
  ScalarPlace place;
  place.layout = layout_scalar(source_, static_cast<size_t>(value.Mark().pos), value.Scalar());
  size_t first =
      place.layout.offsets.empty() ? place.layout.content_begin : place.layout.offsets[0];
  place.base = source_.point(first);
  place.token = source_.span(place.layout.token_begin, place.layout.token_end);
  return place;
}

ir::SourceSpan Loader::moved(const ScalarPlace& place, const ir::SourceSpan& span) const {
  return remap_span(source_, place.layout, place.base, span);
}

void Loader::add_moved(const ir::Diagnostics& found, const ScalarPlace& place, const Where& where) {
  for (ir::Diagnostic diagnostic : found.items()) {
    diagnostic.span = moved(place, diagnostic.span);
    if (diagnostic.node.empty()) diagnostic.node = where.node;
    if (diagnostic.field.empty()) diagnostic.field = where.field;
    diagnostics_.add(std::move(diagnostic));
  }
}

void Loader::move_expr(const ScalarPlace& place, ir::Expr& expr) const {
  expr.span = moved(place, expr.span);
  expr.path.span = moved(place, expr.path.span);
  for (ir::Expr& operand : expr.operands) move_expr(place, operand);
}

std::optional<ir::Expression> Loader::read_expression(const YAML::Node& value,
                                                      const ir::SourceSpan& key,
                                                      const Where& where) {
  if (!scalar(value, key, where, "an expression")) return std::nullopt;
  ScalarPlace place = place_of(value);
  ir::Diagnostics found;
  ir::Expression expression = parse_expression(value.Scalar(), place.base, file_, found);
  add_moved(found, place, where);
  if (expression.tree) move_expr(place, *expression.tree);
  expression.span = place.token;
  return expression;
}

std::optional<ir::Template> Loader::read_template(const YAML::Node& value,
                                                  const ir::SourceSpan& key, const Where& where) {
  if (!scalar(value, key, where, "text")) return std::nullopt;
  ScalarPlace place = place_of(value);
  ir::Diagnostics found;
  ir::Template parsed = parse_template(value.Scalar(), place.base, file_, found);
  add_moved(found, place, where);
  for (ir::TemplatePart& part : parsed.parts) {
    part.span = moved(place, part.span);
    if (part.path) part.path->span = moved(place, part.path->span);
  }
  parsed.span = place.token;
  return parsed;
}

std::optional<ir::Duration> Loader::read_duration(const YAML::Node& value,
                                                  const ir::SourceSpan& key, const Where& where) {
  if (!scalar(value, key, where, "a duration such as 72h")) return std::nullopt;
  ScalarPlace place = place_of(value);
  ir::Diagnostics found;
  std::optional<ir::Duration> duration = parse_duration(value.Scalar(), place.base, file_, found);
  add_moved(found, place, where);
  if (duration) duration->span = place.token;
  return duration;
}

std::optional<double> Loader::read_number(const YAML::Node& value, const ir::SourceSpan& key,
                                          const Where& where, bool whole) {
  std::string what = whole ? "a whole number" : "a number";
  std::optional<std::string> text = scalar(value, key, where, what);
  if (!text) return std::nullopt;
  const char* begin = text->c_str();
  char* end = nullptr;
  double number = std::strtod(begin, &end);
  bool ok = !text->empty() && end == begin + text->size() && std::isfinite(number) &&
            (!whole || std::floor(number) == number);
  if (!ok) {
    error(value_span(value, key), "'" + where.field + "' must be " + what + ", not '" + *text + "'",
          where);
    return std::nullopt;
  }
  return number;
}

ir::Comments& Loader::comments_of(ir::Flow& flow, const Anchor& anchor) const {
  if (anchor.node < 0) {
    return anchor.field.empty() ? flow.comments : flow.leading_comments[anchor.field];
  }
  ir::Node& node = flow.nodes[static_cast<size_t>(anchor.node)];
  if (anchor.variant >= 0) {
    return node.as<ir::AbNode>()->variants[static_cast<size_t>(anchor.variant)].comments;
  }
  return anchor.field.empty() ? node.comments : node.leading_comments[anchor.field];
}

void Loader::add_trailing(ir::Flow& flow, const Anchor& anchor, const std::string& text) const {
  auto append = [&](std::string& slot) { slot += (slot.empty() ? "" : " # ") + text; };
  if (anchor.node < 0) {
    // The DSL writes the trigger's event on the trigger's own line.
    std::string field = anchor.field.empty()              ? "flow"
                        : anchor.field == "trigger.event" ? "trigger"
                                                          : anchor.field;
    append(flow.field_comments[field]);
    return;
  }
  ir::Node& node = flow.nodes[static_cast<size_t>(anchor.node)];
  if (anchor.variant >= 0) {
    append(node.as<ir::AbNode>()->variants[static_cast<size_t>(anchor.variant)].trailing_comment);
    return;
  }
  bool own_line = anchor.field != "type" && anchor.field != "variants";
  append(node.field_comments[own_line ? anchor.field : std::string()]);
}

void Loader::scalar_lines(const YAML::Node& node, std::vector<bool>& text_lines, int depth) const {
  // An alias can make the tree a cycle (`&a [*a]`) or repeat a subtree many
  // times over; flows are a few levels deep and a few thousand values long.
  constexpr int kMaxDepth = 16;
  constexpr size_t kMaxVisits = 200000;
  if (depth > kMaxDepth || ++scalar_visits_ > kMaxVisits) return;
  if (node.IsMap()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      scalar_lines(it->first, text_lines, depth + 1);
      scalar_lines(it->second, text_lines, depth + 1);
    }
  } else if (node.IsSequence()) {
    for (const YAML::Node& item : node) scalar_lines(item, text_lines, depth + 1);
  } else if (node.IsScalar() && !node.Mark().is_null() && node.Mark().pos >= 0) {
    ScalarLayout layout =
        layout_scalar(source_, static_cast<size_t>(node.Mark().pos), node.Scalar());
    // A block scalar's token is its `|`; its text runs to its last value byte.
    size_t end = layout.token_end;
    if (!layout.offsets.empty()) end = std::max<size_t>(end, layout.offsets.back() + 1);
    if (end <= layout.token_begin) return;
    size_t first = source_.line_index(layout.token_begin);
    size_t last = source_.line_index(end - 1);
    // The token's first line holds its key or `-`, so is never a comment line.
    for (size_t line = first; line <= last && line < text_lines.size(); ++line)
      text_lines[line] = true;
  }
}

void Loader::place_comments(const YAML::Node& root, ir::Flow& flow) {
  std::vector<bool> text_lines(source_.line_count(), false);
  scalar_lines(root, text_lines);
  std::stable_sort(anchors_.begin(), anchors_.end(),
                   [](const Anchor& a, const Anchor& b) { return a.line < b.line; });
  ir::Comments pending;
  size_t next = 0;  // the first anchor below the line being read
  for (size_t line = 0; line < source_.line_count(); ++line) {
    while (next < anchors_.size() && anchors_[next].line <= line + 1) {
      if (!pending.empty()) {
        ir::Comments& into = comments_of(flow, anchors_[next]);
        into.insert(into.end(), pending.begin(), pending.end());
        pending.clear();
      }
      ++next;
    }
    std::optional<std::string> comment = comment_text(source_.line(line));
    if (comment && !text_lines[line]) {
      pending.push_back(*comment);
      continue;
    }
    // An end-of-line comment no key took (a list item's): the field above it.
    std::optional<std::string>& rest = line_comments_[line];
    if (rest && !rest->empty() && next > 0) add_trailing(flow, anchors_[next - 1], *rest);
    rest.reset();
  }
  flow.closing_comments = std::move(pending);
}

void Loader::take_comment(const ir::SourceSpan& key, std::string& into) {
  if (!key.known() || key.line == 0 || key.line > line_comments_.size()) return;
  std::optional<std::string>& comment = line_comments_[key.line - 1];
  // A bare `#` says nothing and has no text to keep.
  if (!comment || comment->empty()) return;
  into += (into.empty() ? "" : " # ") + *comment;
  comment.reset();
}

void Loader::take_comment(const ir::SourceSpan& key, ir::FieldComments& into,
                          const std::string& field) {
  std::string text;
  take_comment(key, text);
  if (text.empty()) return;
  std::string& slot = into[field];
  slot += (slot.empty() ? "" : " # ") + text;
}

void Loader::take_comments_of(const YAML::Node& map, ir::FieldComments& into,
                              const std::string& field) {
  if (!map.IsMap()) return;
  for (auto it = map.begin(); it != map.end(); ++it) take_comment(key_span(it->first), into, field);
}

// Callbacks of for_each_key.
#define KEY_READER                                                                \
  [&](const YAML::Node& key, const ir::SourceSpan& span, const YAML::Node& value, \
      const FieldSpec* spec, const Where& at)

void Loader::read_flow(const YAML::Node& root, ir::Flow& flow) {
  for_each_key(
      root, &flow_fields(), "the flow", Where{}, KEY_READER {
        const std::string& name = key.Scalar();
        take_comment(span, flow.field_comments, name);
        // A header comment block at the top of the file belongs to the flow.
        anchor(span, name == "flow" ? std::string() : name);
        if (name == "flow") {
          flow.name = read_name(value, span, at, "the flow's name");
        } else if (name == "description") {
          if (auto text = scalar(value, span, at, "text")) flow.description = *text;
        } else if (name == "trigger") {
          read_trigger(value, span, flow.trigger, flow.field_comments);
        } else if (name == "re_entry") {
          read_re_entry(value, span, flow.re_entry);
        } else if (name == "exit_on") {
          read_exit_on(value, span, flow);
        } else if (name == "goal") {
          flow.goal = read_goal(value, span, at);
        } else if (name == "category") {
          flow.category = read_name(value, span, at, "marketing or transactional");
        } else if (name == "priority") {
          flow.priority = read_name(value, span, at, "high, normal, low or a number 0..100");
        } else if (name == "on_cap") {
          flow.on_cap = read_name(value, span, at, "defer or skip");
        } else if (name == "start") {
          flow.start = read_name(value, span, at, "a node id");
        } else if (name == "nodes") {
          read_nodes(value, span, flow);
        }
      });
}

void Loader::read_trigger(const YAML::Node& value, const ir::SourceSpan& key, ir::Trigger& trigger,
                          ir::FieldComments& comments) {
  trigger.span = key;
  Where where{"", "trigger"};
  if (!value.IsMap()) {
    error(value_span(value, key),
          "'trigger' must be a mapping such as {event: add_to_cart}, not " + shape_of(value),
          where);
    return;
  }
  for_each_key(
      value, &trigger_fields(), "the trigger", Where{"", "trigger."}, KEY_READER {
        // The printers write the event on the trigger's own line in the DSL.
        const bool head = key.Scalar() == "event" || key.Scalar() == "schedule";
        take_comment(span, comments, head ? "trigger" : at.field);
        anchor(span, at.field);
        if (key.Scalar() == "event") trigger.event = read_name(value, span, at, "an event type");
        if (key.Scalar() == "when") trigger.when = read_expression(value, span, at);
        if (key.Scalar() == "key") trigger.key = read_expression(value, span, at);
        if (key.Scalar() == "schedule")
          trigger.schedule = read_name(value, span, at, "a date and time \"YYYY-MM-DD HH:MM\"");
        if (key.Scalar() == "audience") trigger.audience = read_expression(value, span, at);
        if (key.Scalar() == "every") trigger.every = read_name(value, span, at, "day or week");
        if (key.Scalar() == "in_user_time_zone") {
          trigger.in_user_time_zone_span = value_span(value, span);
          std::optional<std::string> flag = scalar(value, span, at, "true or false");
          if (flag && *flag != "true" && *flag != "false")
            error(trigger.in_user_time_zone_span,
                  "'in_user_time_zone' must be true or false, not '" + *flag + "'", at);
          trigger.in_user_time_zone = flag == "true";
        }
      });
}

void Loader::read_re_entry(const YAML::Node& value, const ir::SourceSpan& key,
                           ir::ReEntry& re_entry) {
  Where where{"", "re_entry"};
  std::optional<std::string> text = scalar(value, key, where, "never, always or after <duration>");
  if (!text) return;
  re_entry.span = value_span(value, key);
  std::string word = text->substr(0, text->find(' '));
  if (*text == "never") {
    re_entry.policy = ir::ReEntryPolicy::kNever;
    return;
  }
  if (*text == "always") {
    re_entry.policy = ir::ReEntryPolicy::kAlways;
    return;
  }
  if (word != "after") {
    std::string suggestion = ir::did_you_mean(word, {"never", "always", "after"});
    error(re_entry.span,
          "invalid re_entry '" + *text + "': write never, always or after <duration>" +
              (suggestion.empty() ? "" : " (" + suggestion.substr(2) + ")"),
          where);
    return;
  }
  re_entry.policy = ir::ReEntryPolicy::kAfter;
  size_t begin = text->find_first_not_of(' ', word.size());
  if (begin == std::string::npos) {
    error(re_entry.span, "'re_entry: after' needs a duration, as in 'after 30d'", where);
    return;
  }
  // Parse the duration where it sits inside the value, so its diagnostics do too.
  ScalarPlace place = place_of(value);
  ir::SourceSpan base = place.base;
  base.offset += static_cast<uint32_t>(begin);
  ir::Diagnostics found;
  re_entry.after = parse_duration(text->substr(begin), base, file_, found);
  add_moved(found, place, where);
  if (re_entry.after) {
    ir::SourceSpan part = base;
    part.length = static_cast<uint32_t>(text->size() - begin);
    re_entry.after->span = moved(place, part);
  }
}

void Loader::read_exit_on(const YAML::Node& value, const ir::SourceSpan& key, ir::Flow& flow) {
  flow.exit_on = read_names(value, key, Where{"", "exit_on"}, "an event type");
}

std::vector<ir::Name> Loader::read_names(const YAML::Node& value, const ir::SourceSpan& key,
                                         const Where& where, std::string_view what) {
  std::vector<ir::Name> names;
  if (value.IsSequence()) {
    for (const YAML::Node& item : value) {
      if (!item.Mark().is_null()) anchor(mark_span(item.Mark(), 1), where.field);
      ir::Name name = read_name(item, key, where, what);
      if (!name.empty()) names.push_back(std::move(name));
    }
    return names;
  }
  // One name needs no list.
  ir::Name name = read_name(value, key, where, std::string(what) + " or a list of them");
  if (!name.empty()) names.push_back(std::move(name));
  return names;
}

// The text as written, so the checker can report a time that does not parse;
// minute_of_day stays 0 then.
std::optional<ir::LocalTimeOfDay> Loader::read_time_of_day(const YAML::Node& value,
                                                           const ir::SourceSpan& key,
                                                           const Where& where) {
  std::optional<std::string> text = scalar(value, key, where, "a time such as \"10:00\"");
  if (!text) return std::nullopt;
  ir::LocalTimeOfDay time;
  time.source = *text;
  time.minute_of_day = nodes::parse_time_of_day(*text).value_or(0);
  time.span = value_span(value, key);
  return time;
}

void Loader::read_nodes(const YAML::Node& value, const ir::SourceSpan& key, ir::Flow& flow) {
  Where where{"", "nodes"};
  if (!value.IsMap()) {
    error(value_span(value, key),
          "'nodes' must be a mapping from node id to node, not " + shape_of(value), where);
    return;
  }
  std::map<std::string, size_t> first_line;
  for (auto it = value.begin(); it != value.end(); ++it) {
    const YAML::Node node_key = it->first;  // a copy: `it->` is a temporary proxy
    ir::SourceSpan span = key_span(node_key);
    if (!node_key.IsScalar()) {
      error(span, "node ids must be plain names, not " + shape_of(node_key), where);
      continue;
    }
    const std::string& id = node_key.Scalar();
    auto [seen, inserted] = first_line.emplace(id, span.line);
    if (!inserted) {
      error(span,
            "duplicate node '" + id + "' (first at line " + std::to_string(seen->second) + ")",
            Where{id, ""});
      continue;
    }
    node_index_ = static_cast<int>(flow.nodes.size());
    flow.nodes.push_back(read_node(id, node_key, it->second));
    node_index_ = -1;
  }
}

std::optional<ir::NodeKind> Loader::read_node_type(const std::string& id, const YAML::Node& value,
                                                   ir::Node& node) {
  for (auto it = value.begin(); it != value.end(); ++it) {
    if (!it->first.IsScalar() || it->first.Scalar() != "type") continue;
    ir::SourceSpan span = key_span(it->first);
    Where at{id, "type"};
    node.type_span = value_span(it->second, span);
    std::optional<std::string> name = scalar(it->second, span, at, "a node type");
    if (!name) return std::nullopt;
    std::optional<ir::NodeKind> kind = ir::node_kind_from_name(*name);
    if (!kind) {
      std::string suggestion = ir::did_you_mean(*name, node_type_names());
      error(node.type_span,
            "unknown node type '" + *name + "'" +
                (suggestion.empty() ? " (expected one of: " + join(node_type_names()) + ")"
                                    : suggestion),
            at);
    }
    return kind;
  }
  error(node.span, "node '" + id + "' has no 'type': one of " + join(node_type_names()),
        Where{id, "type"});
  return std::nullopt;
}

ir::Node Loader::read_node(const std::string& id, const YAML::Node& key, const YAML::Node& value) {
  ir::Node node;
  node.id = id;
  node.span = key_span(key);
  anchor(node.span, "");
  take_comment(node.span, node.field_comments, "");
  // A node of unknown type stays in the flow (as an exit) so that references
  // to it resolve; the error above says what is wrong with it.
  node.body = ir::ExitNode{};
  Where where{id, ""};
  if (!value.IsMap()) {
    error(value_span(value, node.span),
          "node '" + id + "' must be a mapping with a 'type', not " + shape_of(value), where);
    return node;
  }
  // The type decides which keys are allowed, so read it first.
  std::optional<ir::NodeKind> kind = read_node_type(id, value, node);
  if (!kind) {
    // Keys of an unknown kind cannot be judged; still report duplicates.
    for_each_key(value, nullptr, "node '" + id + "'", where, KEY_READER{});
    return node;
  }
  node.body = ir::empty_body(*kind);
  std::string owner = std::string(ir::node_kind_name(*kind)) + " node '" + id + "'";
  for_each_key(
      value, &node_schema(*kind).fields, owner, where, KEY_READER {
        // `type:` and `variants:` have no line of their own in the DSL: the node's line.
        bool own_line = spec->name != "type" && spec->name != "variants";
        std::string field = own_line ? std::string(spec->name) : std::string();
        take_comment(span, node.field_comments, field);
        // The DSL has no line for `variants:`: its comments go to the first variant.
        if (spec->name != "variants") anchor(span, std::string(spec->name));
        if (own_line) take_comments_of(value, node.field_comments, field);
        read_node_field(*spec, value, span, at, node);
      });
  return node;
}

void Loader::read_node_field(const FieldSpec& spec, const YAML::Node& value,
                             const ir::SourceSpan& key, const Where& where, ir::Node& node) {
  std::string_view name = spec.name;
  auto target = [&] { return read_name(value, key, where, "a node id"); };
  if (name == "type") return;
  if (name == "description") {
    if (auto text = scalar(value, key, where, "text")) node.description = *text;
    return;
  }
  if (auto* generic = node.as<ir::GenericNode>()) {
    read_generic_field(spec, value, key, where, *generic);
  } else if (auto* segment = node.as<ir::SegmentNode>()) {
    if (name == "match") segment->match = read_expression(value, key, where);
    if (name == "yes") segment->yes = target();
    if (name == "no") segment->no = target();
  } else if (auto* wait = node.as<ir::WaitNode>()) {
    if (name == "for") wait->wait_for = read_duration(value, key, where);
    if (name == "until_time") wait->until_time = read_time_of_day(value, key, where);
    if (name == "on_days") wait->on_days = read_names(value, key, where, "a weekday (mon .. sun)");
    if (name == "until_event") wait->until_event = read_event_filter(value, key, where);
    if (name == "on_event") wait->on_event = target();
    if (name == "next") wait->next = target();
  } else if (auto* coupon = node.as<ir::CouponNode>()) {
    if (name == "pool") coupon->pool = read_name(value, key, where, "a coupon pool name");
    if (name == "generate") coupon->generate = read_generate(value, key, where);
    if (name == "next") coupon->next = target();
    if (name == "on_exhausted") coupon->on_exhausted = target();
  } else if (auto* sms = node.as<ir::SmsNode>()) {
    if (name == "text") sms->text = read_template(value, key, where);
    if (name == "next") sms->next = target();
  } else if (auto* email = node.as<ir::EmailNode>()) {
    if (name == "subject") email->subject = read_template(value, key, where);
    if (name == "body") email->body = read_template(value, key, where);
    if (name == "next") email->next = target();
  } else if (auto* webhook = node.as<ir::WebhookNode>()) {
    if (name == "url") webhook->url = read_template(value, key, where);
    if (name == "body") webhook->body = read_template(value, key, where);
    if (name == "next") webhook->next = target();
  } else if (auto* ab = node.as<ir::AbNode>()) {
    if (name == "variants") ab->variants = read_variants(value, key, where);
  }
}

void Loader::read_generic_field(const FieldSpec& spec, const YAML::Node& value,
                                const ir::SourceSpan& key, const Where& where,
                                ir::GenericNode& node) {
  std::string name(spec.name);
  switch (spec.type) {
    case FieldType::kTarget:
      node.set(name, key, read_name(value, key, where, "a node id"));
      return;
    case FieldType::kName:
      node.set(name, key, read_name(value, key, where, "a name"));
      return;
    case FieldType::kExpression:
      if (auto expression = read_expression(value, key, where)) node.set(name, key, *expression);
      return;
    case FieldType::kTemplate:
      if (auto text = read_template(value, key, where)) node.set(name, key, *text);
      return;
    case FieldType::kDuration:
      if (auto duration = read_duration(value, key, where)) node.set(name, key, *duration);
      return;
    case FieldType::kBranches:
      node.set(name, key, read_branches(value, key, where));
      return;
    case FieldType::kExpressionMap:
      node.set(name, key, read_named_expressions(value, key, where));
      return;
    default:
      error(key, "field '" + name + "' has a type a generic node kind cannot hold", where);
  }
}

// `- {when: <expression>, next: <node>}`, in order.
std::vector<ir::Branch> Loader::read_branches(const YAML::Node& value, const ir::SourceSpan& key,
                                              const Where& where) {
  std::vector<ir::Branch> branches;
  if (!value.IsSequence()) {
    error(value_span(value, key),
          "'" + where.field + "' must be a list of {when: condition, next: node}, not " +
              shape_of(value),
          where);
    return branches;
  }
  for (const YAML::Node& item : value) {
    ir::SourceSpan item_span = value_span(item, key);
    anchor(item_span, where.field);
    Where at{where.node, where.field + "." + std::to_string(branches.size()) + "."};
    ir::Branch branch;
    branch.span = item_span;
    if (!item.IsMap()) {
      error(item_span,
            "a branch must be a mapping {when: condition, next: node}, not " + shape_of(item), at);
      continue;
    }
    for_each_key(
        item, &branch_fields(), "a branch of '" + where.field + "'", at, KEY_READER {
          if (key.Scalar() == "when") branch.when = read_expression(value, span, at);
          if (key.Scalar() == "next") branch.next = read_name(value, span, at, "a node id");
        });
    if (!branch.when) error(item_span, "a branch needs a 'when' condition", at);
    branches.push_back(std::move(branch));
  }
  return branches;
}

// `{name: <expression>, ...}`, in file order.
std::vector<ir::NamedExpression> Loader::read_named_expressions(const YAML::Node& value,
                                                                const ir::SourceSpan& key,
                                                                const Where& where) {
  std::vector<ir::NamedExpression> entries;
  if (!value.IsMap()) {
    error(value_span(value, key),
          "'" + where.field + "' must be a mapping of names to expressions, not " + shape_of(value),
          where);
    return entries;
  }
  for_each_key(
      value, nullptr, "'" + where.field + "'", Where{where.node, where.field + "."}, KEY_READER {
        (void)spec;
        ir::NamedExpression entry;
        entry.name = ir::Name{key.Scalar(), span};
        entry.value = read_expression(value, span, at);
        entries.push_back(std::move(entry));
      });
  return entries;
}

std::optional<ir::EventFilter> Loader::read_event_filter(const YAML::Node& value,
                                                         const ir::SourceSpan& key,
                                                         const Where& where) {
  ir::EventFilter filter;
  filter.span = value_span(value, key);
  if (value.IsScalar()) {
    filter.event = read_name(value, key, where, "an event type");
    return filter;
  }
  if (!value.IsMap()) {
    // Kept, without an event, so the checker still knows the wait has one.
    scalar(value, key, where, "an event type or {event: type, where: expression}");
    return filter;
  }
  bool has_event = false;
  for_each_key(
      value, &event_filter_fields(), "'until_event'", Where{where.node, "until_event."},
      KEY_READER {
        anchor(span, "until_event");
        if (key.Scalar() == "event") {
          filter.event = read_name(value, span, at, "an event type");
          has_event = true;
        }
        if (key.Scalar() == "where") filter.where = read_expression(value, span, at);
      });
  if (!has_event) error(filter.span, "'until_event' needs an 'event'", where);
  return filter;
}

// `goal: order_paid`, or `goal: {event: order_paid, where: ..., within: 7d, value: ...}`.
ir::Goal Loader::read_goal(const YAML::Node& value, const ir::SourceSpan& key, const Where& where) {
  ir::Goal goal;
  goal.span = value_span(value, key);
  if (!value.IsMap()) {
    goal.event = read_name(value, key, where, "an event type or {event: type, within: 7d}");
    return goal;
  }
  bool has_event = false;
  for_each_key(
      value, &goal_fields(), "'goal'", Where{"", "goal."}, KEY_READER {
        anchor(span, "goal");
        if (key.Scalar() == "event") {
          goal.event = read_name(value, span, at, "an event type");
          has_event = true;
        }
        if (key.Scalar() == "where") goal.where = read_expression(value, span, at);
        if (key.Scalar() == "within") goal.within = read_duration(value, span, at);
        if (key.Scalar() == "value") goal.value = read_expression(value, span, at);
      });
  if (!has_event) error(goal.span, "'goal' needs an 'event'", where);
  return goal;
}

std::optional<ir::CouponGenerate> Loader::read_generate(const YAML::Node& value,
                                                        const ir::SourceSpan& key,
                                                        const Where& where) {
  ir::CouponGenerate generate;
  generate.span = key;
  if (value.IsNull()) return generate;  // `generate:` alone takes the defaults
  if (!value.IsMap()) {
    scalar(value, key, where, "a mapping such as {prefix: WB-, length: 8}");
    return std::nullopt;
  }
  for_each_key(
      value, &generate_fields(), "'generate'", Where{where.node, "generate."}, KEY_READER {
        anchor(span, "generate");
        if (key.Scalar() == "prefix") {
          if (auto text = scalar(value, span, at, "text")) generate.prefix = *text;
        } else if (auto length = read_number(value, span, at, true)) {
          // Clamped so a huge value cannot overflow an int; the checker bounds it.
          generate.length = static_cast<int>(std::clamp(*length, -1.0, 1000.0));
        }
      });
  return generate;
}

ir::Variant Loader::read_variant(const YAML::Node& key, const ir::SourceSpan& span,
                                 const YAML::Node& value, const Where& where) {
  ir::Variant variant;
  variant.name = ir::Name{key.Scalar(), span};
  take_comment(span, variant.trailing_comment);
  anchor(span, "", variant_index_);
  if (value.IsMap()) {
    for (auto it = value.begin(); it != value.end(); ++it) {
      take_comment(key_span(it->first), variant.trailing_comment);
      anchor(key_span(it->first), "", variant_index_);
    }
  }
  variant.weight_span = span;
  // NaN marks a weight that is missing or unreadable; the checker reports a
  // missing one, the loader an unreadable one.
  variant.weight = std::nan("");
  if (!value.IsMap()) {
    error(value_span(value, span),
          "variant '" + key.Scalar() + "' must be a mapping such as {weight: 50, next: node}, " +
              "not " + shape_of(value),
          where);
    return variant;
  }
  for_each_key(
      value, &variant_fields(), "variant '" + key.Scalar() + "'",
      Where{where.node, where.field + "."}, KEY_READER {
        if (key.Scalar() == "next") {
          variant.next = read_name(value, span, at, "a node id");
          return;
        }
        variant.weight_span = value_span(value, span);
        if (auto weight = read_number(value, span, at, false)) variant.weight = *weight;
      });
  return variant;
}

std::vector<ir::Variant> Loader::read_variants(const YAML::Node& value, const ir::SourceSpan& key,
                                               const Where& where) {
  std::vector<ir::Variant> variants;
  if (!value.IsMap()) {
    scalar(value, key, where, "a mapping such as {a: {weight: 50, next: sms_a}}");
    return variants;
  }
  for_each_key(
      value, nullptr, "'variants'", Where{where.node, "variants."}, KEY_READER {
        variant_index_ = static_cast<int>(variants.size());
        variants.push_back(read_variant(key, span, value, at));
      });
  return variants;
}

#undef KEY_READER

LoadResult Loader::run(const std::string& text) {
  LoadResult result;
  result.source = text;
  // yaml-cpp would read invalid bytes as U+FFFD and send them on.
  if (auto bad = ir::first_invalid_utf8(text)) {
    diagnostics_.error(file_, source_.span(*bad, *bad + 1),
                       "this byte is not valid UTF-8: save the file as UTF-8");
    result.diagnostics = std::move(diagnostics_);
    return result;
  }
  if (Prescan scan = prescan(text); scan.problem != Prescan::Problem::kNone) {
    const bool deep = scan.problem == Prescan::Problem::kTooDeep;
    diagnostics_.error(file_, mark_span(scan.mark, 1),
                       deep ? "mappings and sequences nest deeper than " +
                                  std::to_string(kMaxYamlNesting) + " levels here"
                            : std::string("YAML syntax error: unexpected character here (a "
                                          "stray ',' or similar outside brackets)"));
    result.diagnostics = std::move(diagnostics_);
    return result;
  }
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(text);
  } catch (const YAML::Exception& exception) {
    ir::SourceSpan span = mark_span(exception.mark, 1);
    diagnostics_.error(file_, span, "YAML syntax error: " + exception.msg + syntax_hint(span));
    result.diagnostics = std::move(diagnostics_);
    return result;
  }
  if (documents.empty() || documents.front().IsNull()) {
    diagnostics_.error(file_, source_.point(0),
                       "the file holds no flow: start it with 'flow: <name>'");
    result.diagnostics = std::move(diagnostics_);
    return result;
  }
  if (documents.size() > 1) {
    diagnostics_.error(file_, mark_span(documents[1].Mark(), 1),
                       "a flow file holds one flow: remove this second YAML document");
  }
  const YAML::Node& root = documents.front();
  if (!root.IsMap()) {
    diagnostics_.error(file_, mark_span(root.Mark(), 1),
                       "a flow file must be a mapping of keys such as 'flow:', 'trigger:' and "
                       "'nodes:', not " +
                           shape_of(root));
    result.diagnostics = std::move(diagnostics_);
    return result;
  }
  ir::Flow flow;
  flow.file = file_;
  read_flow(root, flow);
  place_comments(root, flow);
  result.flow = std::move(flow);
  result.diagnostics = std::move(diagnostics_);
  return result;
}

}  // namespace

LoadResult load_flow_yaml(const std::string& text, const std::string& file) {
  try {
    Loader loader(text, file);
    return loader.run(text);
  } catch (const std::exception& exception) {
    // yaml-cpp may throw from node access on inputs we did not foresee; a bug
    // here must still come out as a diagnostic, not a crash.
    LoadResult result;
    result.source = text;
    result.diagnostics.error(file, ir::SourceSpan{1, 1, 0, 0},
                             std::string("could not read the flow: ") + exception.what());
    return result;
  }
}

}  // namespace trellis::dsl
