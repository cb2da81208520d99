// The transformer of the flow DSL rules of Trellis.g4: walks the parse tree of a
// `.flow` file into ir::Flow, one function per rule. Expressions go through the
// shared expression Transformer; templates and durations through parse.h, so
// both front ends report the same problems at the same places.
#include "dsl/transform_flow.h"

#include <algorithm>
#include <map>
#include <tuple>
#include <utility>
#include <cerrno>
#include <cstdlib>
#include <map>

#include "dsl/dsl_loader.h"
#include "dsl/ir/node_body.h"
#include "dsl/ir/node_table.h"
#include "dsl/ir/suggest.h"
#include "dsl/ir/utf8.h"
#include "dsl/parse.h"
#include "dsl/string_literal.h"
#include "nodes/local_time.h"

namespace trellis::dsl {

using P = grammar::TrellisParser;

namespace {

// Deeper bracket nesting than a person writes; bounds the recursive descent.
constexpr int kMaxNesting = 64;

// The fields each node type takes, in the order the printers write them:
// `description`, then the table of kinds' fields (dsl/ir/node_table.h).
const std::vector<std::string>& fields_of(ir::NodeKind kind) {
  static const std::vector<std::vector<std::string>> kFields = [] {
    std::vector<std::vector<std::string>> all;
    for (const ir::KindSchema& schema : ir::node_schemas()) {
      std::vector<std::string>& names = all.emplace_back();
      names.emplace_back("description");
      for (const ir::FieldSchema& field : schema.fields) names.push_back(field.name);
    }
    return all;
  }();
  return kFields[static_cast<size_t>(kind)];
}

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& word : words) out += (out.empty() ? "" : ", ") + word;
  return out;
}

// Reports and returns false when brackets or prefix operators nest deeper than
// kMaxNesting. Skips
// strings and comments, whose brackets are text.
bool nesting_ok(const std::string& source, const SourceMap& map, const std::string& file,
                ir::Diagnostics& diagnostics) {
  int depth = 0;
  int unary_run = 0;
  char quote = 0;
  for (size_t i = 0; i < source.size(); ++i) {
    char c = source[i];
    if (quote != 0) {
      if (c == '\\')
        ++i;
      else if (c == quote || c == '\n')
        quote = 0;
      continue;
    }
    if (c == '"' || c == '\'') quote = c;
    if (c == '#') {
      while (i < source.size() && source[i] != '\n') ++i;
      continue;
    }
    if (c == '(' || c == '[') ++depth;
    if (c == ')' || c == ']') depth = std::max(0, depth - 1);
    // Prefix operators recurse too: `not not not ...`, `- - -1`.
    bool word_start = i == 0 || !(std::isalnum(static_cast<unsigned char>(source[i - 1])) ||
                                  source[i - 1] == '_');
    bool is_not =
        word_start && source.compare(i, 3, "not") == 0 &&
        (i + 3 >= source.size() ||
         !(std::isalnum(static_cast<unsigned char>(source[i + 3])) || source[i + 3] == '_'));
    if (is_not || c == '!' || (c == '-' && (i + 1 >= source.size() || source[i + 1] != '>'))) {
      ++unary_run;
      if (is_not) i += 2;
    } else if (!std::isspace(static_cast<unsigned char>(c))) {
      unary_run = 0;
    }
    if (depth > kMaxNesting || unary_run > kMaxNesting) {
      diagnostics.error(file, map.bytes(i, i + 1), "expression nested too deeply");
      return false;
    }
  }
  return true;
}

// Which flow, node or variant a comment belongs to: the element whose first
// token follows the comment, or which holds that token.
// Field words given so far in a block, with the line of each.
using Seen = std::map<std::string, uint32_t>;

struct CommentOwner {
  size_t first_token;
  size_t last_token;
  ir::Comments* comments;
};

// Where an end-of-line comment goes: the field whose tokens hold the last token
// before the comment on its line. `text` when set (a variant), else fields[field].
struct FieldOwner {
  size_t first_token;
  size_t last_token;
  ir::FieldComments* fields;
  std::string field;
  std::string* text = nullptr;

  // A bare `#` says nothing and has no text to keep (the YAML loader agrees).
  void add(const std::string& comment) const {
    if (comment.empty()) return;
    std::string& slot = text != nullptr ? *text : (*fields)[field];
    slot += (slot.empty() ? "" : " # ") + comment;
  }
};

size_t first_index(antlr4::ParserRuleContext* context) {
  return context->getStart()->getTokenIndex();
}
size_t last_index(antlr4::ParserRuleContext* context) {
  return context->getStop()->getTokenIndex();
}

// The field a setting of the flow block stands for, as in ir::FieldComments.
std::string setting_word(P::FlowSettingContext* setting) {
  if (setting->descriptionField() != nullptr) return "description";
  if (setting->triggerField() != nullptr) return "trigger";
  if (setting->reEntryField() != nullptr) return "re_entry";
  if (setting->exitOnField() != nullptr) return "exit_on";
  if (setting->goalField() != nullptr) return "goal";
  if (setting->categoryField() != nullptr) return "category";
  if (setting->priorityField() != nullptr) return "priority";
  if (setting->onCapField() != nullptr) return "on_cap";
  if (setting->startField() != nullptr) return "start";
  return "";
}

class FlowTransformer {
 public:
  FlowTransformer(const SourceMap& map, antlr4::TokenStream& tokens, std::string file,
                  ir::Diagnostics& diagnostics)
      : map_(map), tokens_(tokens), file_(std::move(file)), diagnostics_(diagnostics) {}

  ir::Flow transform(P::FlowFileContext* context) {
    ir::Flow flow;
    flow.file = file_;
    if (context->flowBlock() != nullptr) {
      flow_block(context->flowBlock(), flow);
    } else {
      error(map_.token(context->getStart()),
            "a .flow file starts with its flow block: flow <name> { trigger <event> ... }");
    }
    std::vector<P::NodeBlockContext*> blocks;
    for (P::NodeBlockContext* block : context->nodeBlock()) {
      if (node_block(block, flow)) blocks.push_back(block);
    }
    attach_comments(flow, context->flowBlock(), blocks);
    return flow;
  }

 private:
  void error(const ir::SourceSpan& span, std::string message, std::string node = {},
             std::string field = {}) {
    diagnostics_.error(file_, span, std::move(message), std::move(node), std::move(field));
  }

  // ---- names, strings, expressions ----------------------------------------

  std::string decode(antlr4::Token* token) {
    return decode_string_literal(token->getText(), [&](EscapeError kind, size_t, char escaped) {
      if (kind == EscapeError::kBadUnicode) {
        error(map_.token(token), "'\\u' needs four hex digits, as in \\u00e9");
      } else {
        error(map_.token(token), std::string("unknown escape '\\") + escaped +
                                     "' in a string; write '\\\\' for a backslash");
      }
    });
  }

  // The span of a field without its leading keyword: its value.
  ir::SourceSpan after_keyword(antlr4::ParserRuleContext* context) const {
    ir::SourceSpan whole = map_.rule(context);
    size_t next = context->getStart()->getTokenIndex() + 1;
    while (next < tokens_.size() &&
           tokens_.get(next)->getChannel() != antlr4::Token::DEFAULT_CHANNEL) {
      ++next;
    }
    if (next > context->getStop()->getTokenIndex()) return whole;
    ir::SourceSpan value = map_.token(tokens_.get(next));
    value.length = whole.offset + whole.length - value.offset;
    return value;
  }

  std::string source_of(antlr4::ParserRuleContext* context) const {
    ir::SourceSpan span = map_.rule(context);
    return std::string(map_.source().substr(span.offset, span.length));
  }

  ir::Name name(P::DslNameContext* context) {
    ir::SourceSpan span = map_.rule(context);
    if (context->STRING() != nullptr) return {decode(context->STRING()->getSymbol()), span};
    return {context->getText(), span};
  }

  ir::Expression expression(P::ExpressionContext* context) {
    ir::SourceSpan span = map_.rule(context);
    ir::Expression result{source_of(context), span, std::nullopt};
    if (span.length > kMaxExpressionBytes) {
      diagnostics_.error(file_, span, expression_too_long(span.length));
      return result;
    }
    Transformer transformer(map_, file_, diagnostics_);
    ir::Expr tree = transformer.transform_expression(context);
    if (!transformer.failed()) result.tree = std::move(tree);
    return result;
  }

  // `"Hi {{x | default: "friend"}}"`: a string that a word follows with no
  // space between ends at an inner quote the writer meant as text.
  bool ends_at_inner_quote(antlr4::Token* string) {
    if (string->getType() != P::STRING) return false;
    size_t next = string->getTokenIndex() + 1;
    if (next >= tokens_.size()) return false;
    antlr4::Token* after = tokens_.get(next);
    return after->getType() != antlr4::Token::EOF &&
           after->getChannel() == antlr4::Token::DEFAULT_CHANNEL &&
           after->getStartIndex() == string->getStopIndex() + 1;
  }

  void inner_quote_error(antlr4::Token* string, antlr4::Token* word, const std::string& node,
                         const std::string& field) {
    std::string quote(1, string->getText().front());
    std::string other = quote == "\"" ? "'" : "\"";
    error(map_.bytes(string->getStopIndex(), string->getStopIndex() + 1),
          "the string ended at this " + quote + ", before '" + word->getText() + "': inside a " +
              quote + "..." + quote + " string write \\" + quote +
              " for a quote, or quote the whole string with " + other + " (" + other +
              "Hi {{user.first_name | default: " + quote + "friend" + quote + "}}" + other + ")",
          node, field);
  }

  ir::Template text(antlr4::tree::TerminalNode* string) { return text(string->getSymbol()); }
  ir::Template text(antlr4::Token* string) {
    ir::SourceSpan span = map_.token(string);
    std::string source = decode(string);
    // The template starts after the quote; escapes make later columns approximate.
    // Its own span is the whole literal, quotes included, as for a quoted YAML scalar.
    // A string cut short at an inner quote is reported as that, not as its half template.
    ir::Diagnostics cut_short;
    ir::Template result =
        parse_template(source, span.shifted(1, static_cast<uint32_t>(source.size())), file_,
                       ends_at_inner_quote(string) ? cut_short : diagnostics_);
    result.span = span;
    return result;
  }

  std::optional<ir::Duration> duration(P::DurationContext* context) {
    ir::SourceSpan span = map_.rule(context);
    if (context->STRING() != nullptr) {
      std::string source = decode(context->STRING()->getSymbol());
      return parse_duration(source, span.shifted(1, static_cast<uint32_t>(source.size())), file_,
                            diagnostics_);
    }
    return parse_duration(context->getText(), span, file_, diagnostics_);
  }

  // False (after reporting) when `word` was already given in this block. `owner`
  // names the block as the YAML loader names a map: "the flow", "sms node 'hello'".
  bool first_time(Seen& seen, const std::string& word, antlr4::ParserRuleContext* at,
                  const std::string& owner, const std::string& node = {}) {
    ir::SourceSpan span = map_.token(at->getStart());
    auto [first, inserted] = seen.emplace(word, span.line);
    if (inserted) return true;
    error(span,
          "duplicate '" + word + "' in " + owner + " (first at line " +
              std::to_string(first->second) + ")",
          node, word);
    return false;
  }

  // ---- the flow block -----------------------------------------------------

  void flow_block(P::FlowBlockContext* context, ir::Flow& flow) {
    flow.name = name(context->dslName());
    Seen seen;
    P::FlowSettingContext* previous = nullptr;
    for (P::FlowSettingContext* setting : context->flowSetting()) {
      P::FlowSettingContext* before = std::exchange(previous, setting);
      if (setting->unknownSetting() != nullptr) {
        if (before != nullptr && ends_at_inner_quote(before->getStop())) {
          inner_quote_error(before->getStop(), setting->getStart(), {}, setting_word(before));
          continue;
        }
        unknown_setting(setting->unknownSetting());
        continue;
      }
      std::string word = setting->getStart()->getText();
      if (!first_time(seen, word, setting, "the flow")) continue;
      if (auto* d = setting->descriptionField())
        flow.description = decode(d->STRING()->getSymbol());
      if (auto* t = setting->triggerField()) trigger(t, flow.trigger);
      if (auto* r = setting->reEntryField()) re_entry(r, flow.re_entry);
      if (auto* e = setting->exitOnField()) {
        for (P::DslNameContext* event : e->dslName()) flow.exit_on.push_back(name(event));
      }
      if (auto* g = setting->goalField()) flow.goal = goal(g);
      if (auto* c = setting->categoryField()) flow.category = name(c->dslName());
      if (auto* p = setting->priorityField()) flow.priority = priority(p);
      if (auto* o = setting->onCapField()) flow.on_cap = name(o->dslName());
      if (auto* s = setting->startField()) flow.start = name(s->dslName());
    }
  }

  ir::Goal goal(P::GoalFieldContext* context) {
    ir::Goal goal;
    goal.span = after_keyword(context);
    goal.event = name(context->dslName());
    if (context->where != nullptr) goal.where = expression(context->where);
    if (context->duration() != nullptr) goal.within = duration(context->duration());
    if (context->value != nullptr) goal.value = expression(context->value);
    return goal;
  }

  void unknown_setting(P::UnknownSettingContext* context) {
    static const std::vector<std::string> kSettings = {"description", "trigger", "re_entry",
                                                       "exit_on",     "goal",    "category",
                                                       "priority",    "on_cap",  "start"};
    std::string word = context->IDENTIFIER()->getText();
    std::string suggestion = ir::closest_name(word, kSettings).value_or("");
    error(map_.token(context->getStart()),
          "unknown setting '" + word + "'" +
              (suggestion.empty() ? "; the flow block takes " + join(kSettings)
                                  : "; did you mean '" + suggestion + "'?"),
          {}, word);
  }

  // `priority high` or `priority 80`: a number keeps its digits as written.
  ir::Name priority(P::PriorityFieldContext* context) {
    if (context->NUMBER() != nullptr) {
      return {context->NUMBER()->getText(), map_.token(context->NUMBER()->getSymbol())};
    }
    return name(context->dslName());
  }

  void trigger(P::TriggerFieldContext* context, ir::Trigger& trigger) {
    trigger.span = map_.token(context->TRIGGER()->getSymbol());  // as YAML: the key
    if (context->SCHEDULE() != nullptr) {
      schedule(context, trigger);
      return;
    }
    trigger.event = name(context->dslName());
    if (context->WHEN() != nullptr) trigger.when = expression(context->expression(0));
    if (context->KEY() != nullptr) {
      trigger.key = expression(context->expression(context->WHEN() != nullptr ? 1 : 0));
    }
  }

  void schedule(P::TriggerFieldContext* context, ir::Trigger& trigger) {
    antlr4::Token* at = context->STRING()->getSymbol();
    trigger.schedule = ir::Name{decode(at), map_.token(at)};
    if (context->EVERY() != nullptr) trigger.every = name(context->dslName());
    if (context->IN_USER_TIME_ZONE() != nullptr) {
      trigger.in_user_time_zone = true;
      trigger.in_user_time_zone_span = map_.token(context->IN_USER_TIME_ZONE()->getSymbol());
    }
    if (context->AUDIENCE() != nullptr) trigger.audience = expression(context->expression(0));
  }

  void re_entry(P::ReEntryFieldContext* context, ir::ReEntry& re_entry) {
    re_entry.span = after_keyword(context);  // as YAML: the value
    if (context->ALWAYS() != nullptr) re_entry.policy = ir::ReEntryPolicy::kAlways;
    if (context->AFTER() != nullptr) {
      re_entry.policy = ir::ReEntryPolicy::kAfter;
      re_entry.after = duration(context->duration());
    }
  }

  // ---- nodes --------------------------------------------------------------

  // False when the node was left out (a duplicate id).
  bool node_block(P::NodeBlockContext* context, ir::Flow& flow) {
    ir::Node node;
    ir::Name id = name(context->dslName());
    node.id = id.value;
    node.span = id.span;
    node.type_span = map_.rule(context->nodeType);
    if (const ir::Node* first = flow.find_node(node.id)) {
      error(node.span,
            "duplicate node '" + node.id + "' (first at line " + std::to_string(first->span.line) +
                ")",
            node.id);
      return false;
    }
    std::string type = context->nodeType->getText();
    std::optional<ir::NodeKind> kind = ir::node_kind_from_name(type);
    if (!kind) {
      std::vector<std::string> kinds;
      for (ir::NodeKind k : ir::all_node_kinds()) kinds.emplace_back(ir::node_kind_name(k));
      std::string suggestion = ir::closest_name(type, kinds).value_or("");
      error(node.type_span,
            "unknown node type '" + type + "'" +
                (suggestion.empty() ? "; the types are " + join(kinds)
                                    : "; did you mean '" + suggestion + "'?"),
            node.id, "type");
      // Kept as an exit so that arrows to it do not read as dangling as well.
      node.body = ir::ExitNode{};
      flow.nodes.push_back(std::move(node));
      return true;
    }
    node.body = ir::empty_body(*kind);
    Seen seen;
    P::VariantFieldContext* previous_variant = nullptr;
    P::NodeFieldContext* previous_field = nullptr;
    for (P::NodeFieldContext* field : context->nodeField()) {
      node_field(field, node, seen, previous_variant, previous_field);
      previous_variant = field->variantField();
      previous_field = field;
    }
    flow.nodes.push_back(std::move(node));
    return true;
  }

  // The word that names a field in the table of fields_of().
  static std::string field_word(P::NodeFieldContext* field) {
    if (field->variantField() != nullptr) return "variants";
    if (field->unknownField() != nullptr) return field->unknownField()->IDENTIFIER()->getText();
    return field->getStart()->getText();
  }

  void node_field(P::NodeFieldContext* field, ir::Node& node, Seen& seen,
                  P::VariantFieldContext* previous_variant, P::NodeFieldContext* previous_field) {
    if (auto* generic = node.as<ir::GenericNode>()) {
      if (generic_field(field, node, *generic, seen)) return;
    }
    std::string word = field_word(field);
    const std::vector<std::string>& allowed = fields_of(node.kind());
    std::string type(ir::node_kind_name(node.kind()));
    if (field->unknownField() != nullptr || field->branchField() != nullptr ||
        field->expressionMapField() != nullptr ||
        (field->variantField() != nullptr && node.kind() != ir::NodeKind::kAb)) {
      if (field->variantField() != nullptr) {
        word = field->variantField()->variantName()->getText();
      }
      if (previous_field != nullptr && ends_at_inner_quote(previous_field->getStop())) {
        inner_quote_error(previous_field->getStop(), field->getStart(), node.id, word);
        return;
      }
      // `next -> b c`: a word left over on the line of the field before.
      if (previous_field != nullptr &&
          previous_field->getStop()->getLine() == field->getStart()->getLine()) {
        error(map_.token(field->getStart()),
              "unexpected '" + field->getStart()->getText() + "' after '" +
                  source_of(previous_field) + "'",
              node.id, word);
        return;
      }
      std::string suggestion = ir::closest_name(word, allowed).value_or("");
      error(map_.token(field->getStart()),
            "unknown field '" + word + "' in " + type + " node '" + node.id + "'" +
                (suggestion.empty() ? "; its fields are " + join(allowed)
                                    : "; did you mean '" + suggestion + "'?"),
            node.id, word);
      return;
    }
    if (std::find(allowed.begin(), allowed.end(), word) == allowed.end()) {
      error(map_.token(field->getStart()),
            "'" + word + "' is not a field of " + type + " node '" + node.id +
                "'; its fields are " + join(allowed),
            node.id, word);
      return;
    }
    if (field->variantField() != nullptr) {
      variant(field->variantField(), *node.as<ir::AbNode>(), node.id, previous_variant);
      return;
    }
    if (!first_time(seen, word, field, type + " node '" + node.id + "'", node.id)) return;
    if (auto* d = field->descriptionField()) node.description = decode(d->STRING()->getSymbol());
    std::visit([&](auto& body) { fill(body, field); }, node.body);
  }

  // ---- generic kinds: a field's shape is judged by its widget in the table ----

  // The table's field a DSL field of a generic kind sets, or null. A branch
  // (`when ... -> node`) belongs to the kind's list of branches.
  static const ir::FieldSchema* generic_schema(P::NodeFieldContext* field, ir::NodeKind kind) {
    const std::string word = generic_word(field, kind);
    for (const ir::FieldSchema& f : ir::schema_for(kind).fields) {
      if (f.name == word) return &f;
    }
    return nullptr;
  }

  static std::string generic_word(P::NodeFieldContext* field, ir::NodeKind kind) {
    if (field->branchField() != nullptr) {
      for (const ir::FieldSchema& f : ir::schema_for(kind).fields) {
        if (f.widget == ir::Widget::kBranches) return f.name;
      }
      return "when";
    }
    if (auto* v = field->variantField()) return v->variantName()->getText();
    if (auto* m = field->expressionMapField()) return m->IDENTIFIER()->getText();
    return field_word(field);
  }

  // True when `field` was a field of the generic node (set, or reported);
  // false leaves it to the usual "unknown field" report.
  bool generic_field(P::NodeFieldContext* field, ir::Node& node, ir::GenericNode& generic,
                     Seen& seen) {
    if (field->descriptionField() != nullptr) return false;
    const ir::FieldSchema* schema = generic_schema(field, node.kind());
    if (schema == nullptr) return false;
    const std::string& word = schema->name;
    ir::SourceSpan key = map_.token(field->getStart());
    if (schema->widget == ir::Widget::kBranches && field->branchField() != nullptr) {
      P::BranchFieldContext* b = field->branchField();
      ir::GenericField* list = generic.find(word);
      if (list == nullptr) {
        generic.set(word, key, std::vector<ir::Branch>{});
        list = generic.find(word);
      }
      ir::Branch branch{expression(b->expression()), name(b->dslName()), map_.rule(b)};
      std::get<std::vector<ir::Branch>>(list->value).push_back(std::move(branch));
      return true;
    }
    if (!first_time(seen, word, field,
                    std::string(ir::node_kind_name(node.kind())) + " node '" + node.id + "'",
                    node.id)) {
      return true;
    }
    auto* plain = field->unknownField();
    auto* variant = field->variantField();
    auto* transition = field->transitionField();
    auto* message = field->messageField();
    switch (schema->widget) {
      case ir::Widget::kTarget:
        if (transition != nullptr)
          generic.set(word, key, name(transition->dslName()));
        else if (variant != nullptr && variant->ARROW() != nullptr && variant->NUMBER() == nullptr)
          generic.set(word, key, name(variant->dslName()));
        else
          break;
        return true;
      case ir::Widget::kExpressions:
        if (auto* m = field->expressionMapField()) {
          std::vector<ir::NamedExpression> entries;
          for (P::MapEntryContext* entry : m->mapEntry()) {
            entries.push_back({name(entry->dslName()), expression(entry->expression())});
          }
          generic.set(word, key, std::move(entries));
          return true;
        }
        break;
      case ir::Widget::kExpression:
        if (plain != nullptr) {
          generic.set(word, key, expression(plain->expression()));
          return true;
        }
        break;
      case ir::Widget::kTemplate:
        if (message != nullptr) {
          generic.set(word, key, text(message->STRING()));
          return true;
        }
        if (plain != nullptr && plain->expression()->getStart() == plain->expression()->getStop() &&
            plain->expression()->getStart()->getType() == P::STRING) {
          generic.set(word, key, text(plain->expression()->getStart()));
          return true;
        }
        break;
      case ir::Widget::kDuration:
      case ir::Widget::kString:
        if (plain != nullptr) {
          antlr4::Token* only = plain->expression()->getStart() == plain->expression()->getStop()
                                    ? plain->expression()->getStart()
                                    : nullptr;
          ir::SourceSpan span = map_.rule(plain->expression());
          std::string value = only != nullptr && only->getType() == P::STRING
                                  ? decode(only)
                                  : source_of(plain->expression());
          if (schema->widget == ir::Widget::kString) {
            generic.set(word, key, ir::Name{value, span});
          } else if (auto d = parse_duration(value, span, file_, diagnostics_)) {
            generic.set(word, key, *d);
          }
          return true;
        }
        break;
      default:
        break;
    }
    error(map_.rule(field),
          "'" + word + "' of " + std::string(ir::node_kind_name(node.kind())) + " node '" +
              node.id + "' takes " + std::string(ir::widget_name(schema->widget)) +
              " (docs/flows.md)",
          node.id, word);
    return true;
  }

  // Sets `target` when `field` is the transition `word -> target`.
  void arrow(P::NodeFieldContext* field, const char* word, ir::Target& target) {
    auto* t = field->transitionField();
    if (t != nullptr && t->transitionKeyword()->getText() == word) target = name(t->dslName());
  }

  void fill(ir::SegmentNode& n, P::NodeFieldContext* field) {
    if (auto* m = field->matchField()) n.match = expression(m->expression());
    arrow(field, "yes", n.yes);
    arrow(field, "no", n.no);
  }
  void fill(ir::WaitNode& n, P::NodeFieldContext* field) {
    if (auto* f = field->forField()) n.wait_for = duration(f->duration());
    if (auto* t = field->untilTimeField()) {
      antlr4::Token* string = t->STRING()->getSymbol();
      ir::LocalTimeOfDay time;
      time.source = decode(string);
      // An unreadable time keeps its text for the checker's message.
      time.minute_of_day = nodes::parse_time_of_day(time.source).value_or(0);
      time.span = map_.token(string);
      n.until_time = std::move(time);
    }
    if (auto* d = field->onDaysField()) {
      for (P::DslNameContext* day : d->dslName()) n.on_days.push_back(name(day));
    }
    if (auto* u = field->untilEventField()) {
      ir::EventFilter filter;
      filter.span = after_keyword(u);
      filter.event = name(u->dslName());
      if (u->expression() != nullptr) filter.where = expression(u->expression());
      n.until_event = std::move(filter);
    }
    arrow(field, "on_event", n.on_event);
    arrow(field, "next", n.next);
  }
  void fill(ir::CouponNode& n, P::NodeFieldContext* field) {
    if (auto* p = field->poolField()) n.pool = name(p->dslName());
    if (auto* g = field->generateField()) {
      ir::CouponGenerate generate;
      generate.span = map_.token(g->GENERATE()->getSymbol());
      if (g->STRING() != nullptr) generate.prefix = decode(g->STRING()->getSymbol());
      if (g->NUMBER() != nullptr) {
        std::string digits = g->NUMBER()->getText();
        if (digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 6) {
          error(map_.token(g->NUMBER()->getSymbol()),
                "the length of generated codes must be a whole number, such as 8", "", "generate");
        } else {
          generate.length = std::stoi(digits);
        }
      }
      n.generate = generate;
    }
    arrow(field, "next", n.next);
    arrow(field, "on_exhausted", n.on_exhausted);
  }
  void message(P::NodeFieldContext* field, const char* word, std::optional<ir::Template>& slot) {
    auto* m = field->messageField();
    if (m != nullptr && m->messageKeyword()->getText() == word) slot = text(m->STRING());
  }
  void fill(ir::SmsNode& n, P::NodeFieldContext* field) {
    message(field, "text", n.text);
    arrow(field, "next", n.next);
  }
  void fill(ir::EmailNode& n, P::NodeFieldContext* field) {
    message(field, "subject", n.subject);
    message(field, "body", n.body);
    arrow(field, "next", n.next);
  }
  void fill(ir::WebhookNode& n, P::NodeFieldContext* field) {
    message(field, "url", n.url);
    message(field, "body", n.body);
    arrow(field, "next", n.next);
  }
  void fill(ir::AbNode&, P::NodeFieldContext*) {}
  void fill(ir::ExitNode&, P::NodeFieldContext*) {}
  void fill(ir::GenericNode&, P::NodeFieldContext*) {}

  void variant(P::VariantFieldContext* context, ir::AbNode& ab, const std::string& node,
               P::VariantFieldContext* previous) {
    ir::Variant variant;
    P::VariantNameContext* variant_name = context->variantName();
    variant.name.span = map_.rule(variant_name);
    variant.name.value = variant_name->STRING() != nullptr
                             ? decode(variant_name->STRING()->getSymbol())
                             : variant_name->getText();
    bool bare = context->NUMBER() == nullptr && context->ARROW() == nullptr;
    if (bare && previous != nullptr && previous->NUMBER() != nullptr &&
        previous->ARROW() == nullptr) {
      // `a weight 45 sms_a`: the arrow is missing, not a variant.
      error(variant.name.span, "expected '->' before '" + variant.name.value + "'", node,
            "variants");
      return;
    }
    for (const ir::Variant& other : ab.variants) {
      if (other.name.value == variant.name.value) {
        error(variant.name.span,
              "duplicate variant '" + variant.name.value + "' in ab node '" + node +
                  "' (first at line " + std::to_string(other.name.span.line) + ")",
              node, "variants");
        return;
      }
    }
    if (context->NUMBER() == nullptr) {
      error(variant.name.span,
            "variant '" + variant.name.value + "' needs a weight, as in '" + variant.name.value +
                " weight 50 -> node'",
            node, "variants");
    } else {
      antlr4::Token* number = context->NUMBER()->getSymbol();
      variant.weight_span =
          context->MINUS() != nullptr
              ? cover(map_.token(context->MINUS()->getSymbol()), map_.token(number))
              : map_.token(number);
      variant.weight = std::strtod(number->getText().c_str(), nullptr);
      if (context->MINUS() != nullptr) variant.weight = -variant.weight;
    }
    if (context->ARROW() != nullptr) variant.next = name(context->dslName());
    ab.variants.push_back(std::move(variant));
  }

  // ---- comments -----------------------------------------------------------

  static std::string comment_text(const std::string& token) {
    std::string text = token.substr(1);  // drop '#'
    if (!text.empty() && text.front() == ' ') text.erase(0, 1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
      text.pop_back();
    }
    return text;
  }

  // A schedule trigger's setting lines (`every day`, ...): first token, last
  // token and field name, for the comments on and above them.
  std::vector<std::tuple<size_t, size_t, std::string>> schedule_parts(
      P::TriggerFieldContext* trigger) {
    std::vector<std::tuple<size_t, size_t, std::string>> parts;
    if (trigger->SCHEDULE() == nullptr) return parts;
    if (trigger->EVERY() != nullptr)
      parts.emplace_back(trigger->EVERY()->getSymbol()->getTokenIndex(),
                         last_index(trigger->dslName()), "trigger.every");
    if (auto* flag = trigger->IN_USER_TIME_ZONE()) {
      const size_t at = flag->getSymbol()->getTokenIndex();
      parts.emplace_back(at, at, "trigger.in_user_time_zone");
    }
    if (trigger->AUDIENCE() != nullptr)
      parts.emplace_back(trigger->AUDIENCE()->getSymbol()->getTokenIndex(),
                         last_index(trigger->expression(0)), "trigger.audience");
    return parts;
  }

  // Innermost first, so a trigger's `when` line wins over the whole trigger.
  std::vector<FieldOwner> field_owners(ir::Flow& flow, P::FlowBlockContext* flow_block,
                                       const std::vector<P::NodeBlockContext*>& blocks) {
    std::vector<FieldOwner> owners;
    for (size_t i = 0; i < blocks.size() && i < flow.nodes.size(); ++i) {
      ir::Node& node = flow.nodes[i];
      auto* ab = node.as<ir::AbNode>();
      size_t v = 0;
      for (P::NodeFieldContext* field : blocks[i]->nodeField()) {
        if (node.as<ir::GenericNode>() != nullptr) {
          owners.push_back({first_index(field), last_index(field), &node.field_comments,
                            generic_word(field, node.kind())});
          continue;
        }
        if (auto* variant = field->variantField()) {
          // Variants that were left out (duplicates) have no entry; match by name.
          if (ab == nullptr || v >= ab->variants.size() ||
              ab->variants[v].name.span.offset != map_.rule(variant->variantName()).offset)
            continue;
          owners.push_back({first_index(field), last_index(field), nullptr, "",
                            &ab->variants[v++].trailing_comment});
          continue;
        }
        if (field->unknownField() != nullptr) continue;
        owners.push_back(
            {first_index(field), last_index(field), &node.field_comments, field_word(field)});
      }
      // The node's own line, and any other token of its block (`}`).
      owners.push_back({first_index(blocks[i]), last_index(blocks[i]), &node.field_comments, ""});
    }
    if (flow_block == nullptr) return owners;
    for (P::FlowSettingContext* setting : flow_block->flowSetting()) {
      if (auto* trigger = setting->triggerField()) {
        size_t e = 0;
        for (const auto& [token, last, field] : schedule_parts(trigger))
          owners.push_back({token, last, &flow.field_comments, field});
        if (trigger->WHEN() != nullptr) {
          owners.push_back({trigger->WHEN()->getSymbol()->getTokenIndex(),
                            last_index(trigger->expression(e++)), &flow.field_comments,
                            "trigger.when"});
        }
        if (trigger->KEY() != nullptr) {
          owners.push_back({trigger->KEY()->getSymbol()->getTokenIndex(),
                            last_index(trigger->expression(e)), &flow.field_comments,
                            "trigger.key"});
        }
      }
      std::string word = setting_word(setting);
      if (!word.empty())
        owners.push_back({first_index(setting), last_index(setting), &flow.field_comments, word});
    }
    // The block's closing brace stands where YAML says `nodes:`.
    size_t close = last_index(flow_block);
    owners.push_back({close, close, &flow.field_comments, "nodes"});
    owners.push_back({first_index(flow_block), close, &flow.field_comments, "flow"});
    return owners;
  }

  std::vector<CommentOwner> line_owners(ir::Flow& flow, P::FlowBlockContext* flow_block,
                                        const std::vector<P::NodeBlockContext*>& blocks) {
    std::vector<CommentOwner> owners;  // innermost first for each token
    for (size_t i = 0; i < blocks.size() && i < flow.nodes.size(); ++i) {
      ir::Node& node = flow.nodes[i];
      if (auto* ab = node.as<ir::AbNode>()) {
        size_t v = 0;
        for (P::NodeFieldContext* field : blocks[i]->nodeField()) {
          if (field->variantField() == nullptr || v >= ab->variants.size()) continue;
          // Variants that were left out (duplicates) have no entry; match by name.
          if (ab->variants[v].name.span.offset !=
              map_.rule(field->variantField()->variantName()).offset)
            continue;
          owners.push_back({first_index(field), last_index(field), &ab->variants[v++].comments});
        }
      }
    }
    for (size_t i = 0; i < blocks.size() && i < flow.nodes.size(); ++i) {
      ir::Node& node = flow.nodes[i];
      for (P::NodeFieldContext* field : blocks[i]->nodeField()) {
        if (node.as<ir::GenericNode>() != nullptr) {
          owners.push_back({first_index(field), last_index(field),
                            &node.leading_comments[generic_word(field, node.kind())]});
        } else if (field->variantField() != nullptr) {
          owners.push_back(
              {first_index(field), last_index(field), &node.leading_comments["variants"]});
        } else if (field->unknownField() == nullptr) {
          owners.push_back(
              {first_index(field), last_index(field), &node.leading_comments[field_word(field)]});
        }
      }
      // `id:` / comment lines / the type: YAML's comments above `type:`.
      owners.push_back({blocks[i]->nodeType->getStart()->getTokenIndex(),
                        blocks[i]->nodeType->getStop()->getTokenIndex(),
                        &node.leading_comments["type"]});
      // Below the last field: as in YAML, the comment stands above what follows.
      size_t close = last_index(blocks[i]);
      bool has_body = blocks[i]->getStop()->getText() == "}";
      ir::Comments* after =
          i + 1 < flow.nodes.size() ? &flow.nodes[i + 1].comments : &flow.closing_comments;
      if (has_body) owners.push_back({close, close, after});
    }
    for (size_t i = 0; i < blocks.size() && i < flow.nodes.size(); ++i) {
      owners.push_back({first_index(blocks[i]), last_index(blocks[i]), &flow.nodes[i].comments});
    }
    if (flow_block != nullptr) {
      for (P::FlowSettingContext* setting : flow_block->flowSetting()) {
        if (auto* trigger = setting->triggerField()) {
          size_t e = 0;
          for (const auto& [token, last, field] : schedule_parts(trigger))
            owners.push_back({token, last, &flow.leading_comments[field]});
          // `trigger` / comment lines / the event (or `schedule "…"`): YAML's
          // comments above `event:` (`schedule:`).
          if (trigger->SCHEDULE() == nullptr)
            owners.push_back({first_index(trigger->dslName()), last_index(trigger->dslName()),
                              &flow.leading_comments["trigger.event"]});
          else
            owners.push_back({trigger->SCHEDULE()->getSymbol()->getTokenIndex(),
                              trigger->STRING()->getSymbol()->getTokenIndex(),
                              &flow.leading_comments["trigger.schedule"]});
          if (trigger->WHEN() != nullptr) {
            owners.push_back({trigger->WHEN()->getSymbol()->getTokenIndex(),
                              last_index(trigger->expression(e++)),
                              &flow.leading_comments["trigger.when"]});
          }
          if (trigger->KEY() != nullptr) {
            owners.push_back({trigger->KEY()->getSymbol()->getTokenIndex(),
                              last_index(trigger->expression(e)),
                              &flow.leading_comments["trigger.key"]});
          }
        }
        std::string word = setting_word(setting);
        if (!word.empty()) {
          owners.push_back(
              {first_index(setting), last_index(setting), &flow.leading_comments[word]});
        }
      }
      // The block's closing brace stands where YAML says `nodes:`.
      size_t close = last_index(flow_block);
      owners.push_back({close, close, &flow.leading_comments["nodes"]});
      owners.push_back({0, last_index(flow_block), &flow.comments});
    }
    return owners;
  }

  // Token ranges of the expressions under `tree`: a comment inside one (an
  // expression over several lines) is part of its source text, kept there.
  static void expression_ranges(antlr4::tree::ParseTree* tree,
                                std::vector<std::pair<size_t, size_t>>& ranges) {
    for (antlr4::tree::ParseTree* child : tree->children) {
      if (auto* e = dynamic_cast<P::ExpressionContext*>(child)) {
        ranges.emplace_back(first_index(e), last_index(e));
      } else {
        expression_ranges(child, ranges);
      }
    }
  }

  // A comment at the end of a line belongs to the field that line holds (field
  // comments); a comment line to the flow, node or variant below it.
  void attach_comments(ir::Flow& flow, P::FlowBlockContext* flow_block,
                       const std::vector<P::NodeBlockContext*>& blocks) {
    std::vector<std::pair<size_t, size_t>> inside;
    if (flow_block != nullptr) expression_ranges(flow_block, inside);
    for (P::NodeBlockContext* block : blocks) expression_ranges(block, inside);
    std::vector<FieldOwner> fields = field_owners(flow, flow_block, blocks);
    std::vector<CommentOwner> owners = line_owners(flow, flow_block, blocks);
    ir::Comments* last = &flow.closing_comments;
    for (size_t i = 0; i < tokens_.size(); ++i) {
      antlr4::Token* token = tokens_.get(i);
      if (token->getType() != P::COMMENT) continue;
      bool in_expression = std::any_of(inside.begin(), inside.end(), [&](const auto& range) {
        return range.first < i && i < range.second;
      });
      if (in_expression) continue;
      std::string text = comment_text(token->getText());
      long previous = static_cast<long>(i) - 1;
      while (previous >= 0 && tokens_.get(previous)->getChannel() != antlr4::Token::DEFAULT_CHANNEL)
        --previous;
      if (previous >= 0 && tokens_.get(previous)->getLine() == token->getLine()) {
        size_t anchor = static_cast<size_t>(previous);
        auto owner = std::find_if(fields.begin(), fields.end(), [&](const FieldOwner& f) {
          return anchor >= f.first_token && anchor <= f.last_token;
        });
        if (owner != fields.end()) {
          owner->add(text);
          continue;
        }
      }
      size_t anchor = i + 1;
      while (anchor < tokens_.size() &&
             tokens_.get(anchor)->getChannel() != antlr4::Token::DEFAULT_CHANNEL)
        ++anchor;
      ir::Comments* owner = last;
      for (const CommentOwner& candidate : owners) {
        if (anchor >= candidate.first_token && anchor <= candidate.last_token) {
          owner = candidate.comments;
          break;
        }
      }
      owner->push_back(text);
    }
    drop_empty(flow.leading_comments);
    for (ir::Node& node : flow.nodes) drop_empty(node.leading_comments);
  }

  // Owners above made an entry for every field; keep those that got a comment.
  static void drop_empty(ir::LeadingComments& leading) {
    for (auto it = leading.begin(); it != leading.end();) {
      it = it->second.empty() ? leading.erase(it) : std::next(it);
    }
  }

  const SourceMap& map_;
  antlr4::TokenStream& tokens_;
  std::string file_;
  ir::Diagnostics& diagnostics_;
};

}  // namespace

std::optional<ir::Flow> load_dsl(const std::string& text, const std::string& file,
                                 ir::Diagnostics& diagnostics) {
  // Editors on Windows may start a file with a byte order mark; blank it out
  // (same bytes, so offsets hold) rather than report it as a stray character.
  std::string source = text;
  if (source.compare(0, 3, "\xEF\xBB\xBF") == 0) source.replace(0, 3, "   ");
  SourceMap map(source, ir::SourceSpan{1, 1, 0, 0});
  if (auto bad = ir::first_invalid_utf8(source)) {
    diagnostics.error(file, map.bytes(*bad, *bad + 1),
                      "this byte is not valid UTF-8: save the file as UTF-8");
    return std::nullopt;
  }
  if (!nesting_ok(source, map, file, diagnostics)) return std::nullopt;
  try {
    GrammarAdapter adapter(source, map);
    antlr4::CommonTokenStream& tokens = adapter.tokens();
    adapter.set_message_hook(
        [&](antlr4::Parser& parser, antlr4::Token* offending, ir::SourceSpan& span) {
          return flow_syntax_message(parser, offending, tokens, map, span);
        });
    P::FlowFileContext* tree = adapter.parser().flowFile();
    if (adapter.failed()) {
      adapter.report(file, diagnostics);
      return std::nullopt;
    }
    return FlowTransformer(map, tokens, file, diagnostics).transform(tree);
  } catch (const std::exception& error) {
    diagnostics.error(file, {}, std::string("could not parse the flow: ") + error.what());
  }
  return std::nullopt;
}

}  // namespace trellis::dsl
