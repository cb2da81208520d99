#include "tests/dsl/random_flow.h"

#include "dsl/parse.h"
#include "nodes/local_time.h"

namespace trellis::dsl::test {

namespace {

// Names that are plain in one syntax and need care in the other.
const std::vector<std::string> kNames = {"wait_pay",
                                         "pick",
                                         "next",
                                         "email",
                                         "weight",
                                         "flow",
                                         "and",
                                         "not",
                                         "yes",
                                         "no",
                                         "null",
                                         "2fa",
                                         "Order Completed",
                                         "a-b",
                                         "x.y",
                                         "café",
                                         "say \"hi\"",
                                         "colon: here",
                                         "#tag",
                                         "- dash",
                                         "true",
                                         "on",
                                         "_x",
                                         "on_event",
                                         "PT1H",
                                         "72h",
                                         "back\\slash"};

const std::vector<std::string> kWords = {
    "Hi",  "your", "cart", "{braces}", "[list]", "\"quoted\"", "'single'", "it's", "#", ": ",
    "a:b", "\\",   "café", "日本",     "  ",     "%",          "&",        "*",    "!", "|",
    ">",   "-",    "?",    "@",        "`",      ",",          "next",     "yes"};

const std::vector<std::string> kSegments = {"age",    "plan", "tags",  "next",    "for",   "key",
                                            "weight", "in",   "email", "cart_id", "value", "path"};

}  // namespace

std::string RandomFlow::name() { return kNames[pick(kNames.size())]; }

std::string RandomFlow::text(bool allow_newlines) {
  std::string out;
  size_t words = pick(6);
  for (size_t i = 0; i < words; ++i) {
    if (i > 0) out += allow_newlines && chance(10) ? "\n" : " ";
    out += kWords[pick(kWords.size())];
  }
  if (chance(10)) out = " " + out;  // leading space
  if (allow_newlines && chance(10)) out += "\t";
  return out;
}

std::string RandomFlow::comment() {
  std::string out = chance(15) ? "  " : "";
  out += text(false);
  while (!out.empty() && (out.back() == ' ' || out.back() == '\t')) out.pop_back();
  return out;
}

ir::Comments RandomFlow::comments() {
  ir::Comments out;
  size_t count = chance(60) ? 0 : 1 + pick(3);
  for (size_t i = 0; i < count; ++i) out.push_back(comment());
  return out;
}

void RandomFlow::note(ir::FieldComments& notes, const std::string& field, bool printed) {
  if (!printed || !chance(20)) return;
  std::string text = comment();
  if (!text.empty()) notes[field] = text;
}

void RandomFlow::notes_of(ir::Node& node) {
  ir::FieldComments& notes = node.field_comments;
  note(notes, "");
  note(notes, "description", !node.description.empty());
  auto target = [&](const char* field, const ir::Target& t) { note(notes, field, !t.empty()); };
  if (auto* n = node.as<ir::SegmentNode>()) {
    note(notes, "match", n->match.has_value());
    target("yes", n->yes);
    target("no", n->no);
  } else if (auto* n = node.as<ir::WaitNode>()) {
    note(notes, "for", n->wait_for.has_value());
    note(notes, "until_time", n->until_time.has_value());
    note(notes, "on_days", !n->on_days.empty());
    note(notes, "until_event", n->until_event.has_value());
    target("on_event", n->on_event);
    target("next", n->next);
  } else if (auto* n = node.as<ir::CouponNode>()) {
    note(notes, "pool", n->pool.has_value());
    note(notes, "generate", n->generate.has_value());
    target("next", n->next);
    target("on_exhausted", n->on_exhausted);
  } else if (auto* n = node.as<ir::SmsNode>()) {
    note(notes, "text", n->text.has_value());
    target("next", n->next);
  } else if (auto* n = node.as<ir::EmailNode>()) {
    note(notes, "subject", n->subject.has_value());
    note(notes, "body", n->body.has_value());
    target("next", n->next);
  } else if (auto* n = node.as<ir::WebhookNode>()) {
    note(notes, "url", n->url.has_value());
    note(notes, "body", n->body.has_value());
    target("next", n->next);
  } else if (auto* n = node.as<ir::AbNode>()) {
    for (ir::Variant& variant : n->variants) {
      if (chance(20)) variant.trailing_comment = comment();
    }
  }
}

std::string RandomFlow::path() {
  static const std::vector<std::string> kRoots = {"user", "event", "last_event"};
  std::string out = kRoots[pick(kRoots.size())];
  size_t segments = 1 + pick(2);
  for (size_t i = 0; i < segments; ++i) out += "." + kSegments[pick(kSegments.size())];
  return out;
}

std::string RandomFlow::literal() {
  switch (pick(7)) {
    case 0:
      return std::to_string(pick(1000));
    case 1:
      return "12.5";
    case 2:
      return "\"a \\\"b\\\" c\"";
    case 3:
      return "'single'";
    case 4:
      return chance(50) ? "true" : "null";
    case 5:
      return "72h";
    default:
      return "[1, \"x\", 2]";
  }
}

std::string RandomFlow::expression(int depth) {
  static const std::vector<std::string> kComparisons = {"==", "!=", "<", "<=", ">", ">="};
  size_t choice = depth <= 0 ? pick(3) : pick(8);
  switch (choice) {
    case 0:
      return path() + " " + kComparisons[pick(kComparisons.size())] + " " + literal();
    case 1:
      return "has(" + path() + ")";
    case 2:
      return "\"edu\" in " + path();
    case 3:
      return "not " + expression(depth - 1);
    case 4:
      return expression(depth - 1) + " and " + expression(depth - 1);
    case 5:
      return expression(depth - 1) + " or " + expression(depth - 1);
    case 6:
      return "(" + expression(depth - 1) + ")";
    default:
      return "now - days_since(" + path() + ") * 2 % 3 > -1";
  }
}

std::string RandomFlow::template_source() {
  static const std::vector<std::string> kPlaceholders = {
      "{{user.first_name}}", "{{ event.value }}", "{{user.name | default: \"you\"}}",
      "{{coupon.code}}", "{{last_event.path | default: 'x'}}"};
  std::string out;
  size_t parts = pick(4);
  for (size_t i = 0; i < parts; ++i) {
    out += chance(50) ? text(true) : kPlaceholders[pick(kPlaceholders.size())];
  }
  return out;
}

std::string RandomFlow::duration() {
  static const std::vector<std::string> kDurations = {"90s",   "30m",    "72h", "7d",
                                                      "PT36H", "P1DT2H", "1w"};
  return kDurations[pick(kDurations.size())];
}

ir::LocalTimeOfDay RandomFlow::time_of_day() {
  // Valid times and ones the checker rejects: the front ends keep both as written.
  static const std::vector<std::string> kTimes = {"10:00", "7:05",  "23:59",
                                                  "00:00", "25:00", "10h"};
  ir::LocalTimeOfDay time;
  time.source = kTimes[pick(kTimes.size())];
  time.minute_of_day = nodes::parse_time_of_day(time.source).value_or(0);
  return time;
}

std::string RandomFlow::weekday() {
  static const std::vector<std::string> kDays = {"mon", "tue", "wed",    "thu", "fri",
                                                 "sat", "sun", "monday", "on"};
  return chance(90) ? kDays[pick(kDays.size())] : name();
}

std::string RandomFlow::priority() {
  static const std::vector<std::string> kPriorities = {"high", "normal", "low", "0", "80", "100"};
  return chance(90) ? kPriorities[pick(kPriorities.size())] : name();
}

ir::Node RandomFlow::node(const std::string& id, ir::Diagnostics& d) {
  auto target = [&]() { return ir::Target{chance(85) ? ids_[pick(ids_.size())] : "", {}}; };
  auto expr = [&]() { return parse_expression(expression(2), {}, "random", d); };
  auto tmpl = [&]() { return parse_template(template_source(), {}, "random", d); };
  auto dur = [&]() { return parse_duration(duration(), {}, "random", d); };
  ir::Node node;
  node.id = id;
  node.description = chance(30) ? text(true) : "";
  node.comments = comments();
  switch (static_cast<ir::NodeKind>(pick(8))) {
    case ir::NodeKind::kSegment: {
      ir::SegmentNode n;
      if (chance(90)) n.match = expr();
      n.yes = target();
      n.no = target();
      node.body = n;
      break;
    }
    case ir::NodeKind::kWait: {
      ir::WaitNode n;
      if (chance(70)) n.wait_for = dur();
      // Printers keep what the checker would reject too (for with until_time).
      if (chance(40)) n.until_time = time_of_day();
      size_t days = chance(50) ? 0 : 1 + pick(3);
      for (size_t i = 0; i < days; ++i) n.on_days.push_back({weekday(), {}});
      if (chance(60)) {
        ir::EventFilter filter;
        filter.event.value = name();
        if (chance(50)) filter.where = expr();
        n.until_event = filter;
      }
      n.on_event = target();
      n.next = target();
      node.body = n;
      break;
    }
    case ir::NodeKind::kCoupon: {
      ir::CouponNode n;
      if (chance(60)) n.pool = ir::Name{name(), {}};
      if (chance(50))
        n.generate = ir::CouponGenerate{text(false), static_cast<int>(1 + pick(20)), {}};
      n.next = target();
      n.on_exhausted = target();
      node.body = n;
      break;
    }
    case ir::NodeKind::kSms:
      node.body = ir::SmsNode{tmpl(), target()};
      break;
    case ir::NodeKind::kEmail:
      node.body = ir::EmailNode{chance(90) ? std::optional(tmpl()) : std::nullopt,
                                chance(90) ? std::optional(tmpl()) : std::nullopt, target()};
      break;
    case ir::NodeKind::kWebhook:
      node.body =
          ir::WebhookNode{tmpl(), chance(50) ? std::optional(tmpl()) : std::nullopt, target()};
      break;
    case ir::NodeKind::kAb: {
      ir::AbNode n;
      static const std::vector<std::string> kVariants = {"a",       "b",      "control",
                                                         "Big One", "weight", "x-1"};
      for (const std::string& variant : kVariants) {
        if (!chance(50)) continue;
        double weight = chance(80) ? static_cast<double>(pick(101)) : pick(1000) / 8.0;
        n.variants.push_back(ir::Variant{{variant, {}}, weight, {}, target(), comments(), {}});
      }
      node.body = n;
      break;
    }
    case ir::NodeKind::kExit:
      node.body = ir::ExitNode{};
      break;
  }
  notes_of(node);
  return node;
}

ir::Flow RandomFlow::next(ir::Diagnostics& d) {
  ids_.clear();
  size_t count = 1 + pick(8);
  for (size_t i = 0; i < count; ++i) {
    std::string id = chance(60) ? "n" + std::to_string(i) : name() + std::to_string(i);
    ids_.push_back(id);
  }
  ir::Flow flow;
  flow.name.value = name();
  flow.description = chance(50) ? text(true) : "";
  flow.comments = comments();
  flow.trigger.event.value = name();
  if (chance(50)) flow.trigger.when = parse_expression(expression(2), {}, "random", d);
  if (chance(30)) flow.trigger.key = parse_expression(path(), {}, "random", d);
  switch (pick(3)) {
    case 0:
      flow.re_entry.policy = ir::ReEntryPolicy::kNever;
      break;
    case 1:
      flow.re_entry.policy = ir::ReEntryPolicy::kAlways;
      break;
    default:
      flow.re_entry.policy = ir::ReEntryPolicy::kAfter;
      flow.re_entry.after = parse_duration(duration(), {}, "random", d);
  }
  size_t exits = pick(3);
  for (size_t i = 0; i < exits; ++i) flow.exit_on.push_back({name(), {}});
  if (chance(50)) {
    ir::Goal goal;
    goal.event.value = name();
    if (chance(30)) goal.where = parse_expression(expression(2), {}, "random", d);
    if (chance(30)) goal.within = parse_duration(duration(), {}, "random", d);
    if (chance(30)) goal.value = parse_expression(path(), {}, "random", d);
    flow.goal = std::move(goal);
  }
  if (chance(30)) flow.category = ir::Name{chance(70) ? "transactional" : name(), {}};
  if (chance(30)) flow.priority = ir::Name{priority(), {}};
  if (chance(30)) flow.on_cap = ir::Name{chance(70) ? "skip" : name(), {}};
  flow.start.value = ids_[0];
  for (const std::string& id : ids_) flow.nodes.push_back(node(id, d));
  ir::FieldComments& notes = flow.field_comments;
  for (const char* field : {"flow", "re_entry", "start", "nodes"}) note(notes, field);
  note(notes, "description", !flow.description.empty());
  note(notes, "trigger");
  note(notes, "trigger.when", flow.trigger.when.has_value());
  note(notes, "trigger.key", flow.trigger.key.has_value());
  note(notes, "exit_on", !flow.exit_on.empty());
  note(notes, "goal", flow.goal.has_value());
  note(notes, "category", flow.category.has_value());
  note(notes, "priority", flow.priority.has_value());
  note(notes, "on_cap", flow.on_cap.has_value());
  return flow;
}

}  // namespace trellis::dsl::test
