// The table of node kinds (node_table.h). Adding a kind: docs/node-kinds.md.
#include "dsl/ir/node_table.h"

#include "dsl/ir/quoted.h"

namespace trellis::ir {

std::string_view widget_name(Widget widget) {
  switch (widget) {
    case Widget::kDuration:
      return "duration";
    case Widget::kExpression:
      return "expression";
    case Widget::kTemplate:
      return "template";
    case Widget::kTarget:
      return "target";
    case Widget::kEvent:
      return "event";
    case Widget::kWeights:
      return "weights";
    case Widget::kString:
      return "string";
    case Widget::kGenerate:
      return "generate";
    case Widget::kTimeOfDay:
      return "time";
    case Widget::kWeekdays:
      return "weekdays";
    case Widget::kBranches:
      return "branches";
    case Widget::kExpressions:
      return "expressions";
  }
  return "string";
}

namespace {

FieldSchema field(std::string name, Widget widget, bool required, std::string help,
                  std::string one_of = {}, std::string required_with = {}) {
  return FieldSchema{std::move(name),          widget, required, std::move(one_of), std::move(help),
                     std::move(required_with), {}};
}

// `f` with the JSON value a node added in the editor starts with.
FieldSchema starting(FieldSchema f, std::string initial_json) {
  f.initial = std::move(initial_json);
  return f;
}

std::vector<KindSchema> build_schemas() {
  const bool kRequired = true;
  const bool kOptional = false;
  // A generic row's kind; numbered() gives it the row's position.
  [[maybe_unused]] const NodeKind kGeneric = static_cast<NodeKind>(kFirstGenericKind);
  return {
      {NodeKind::kSegment,
       "segment",
       "Segment",
       "Branch on the user's profile and the journey's events.",
       {starting(field("match", Widget::kExpression, kRequired,
                       "Condition; a missing trait is null and compares false."),
                 R"("")"),
        field("yes", Widget::kTarget, kRequired, "Next node when the match is true."),
        field("no", Widget::kTarget, kRequired, "Next node when the match is false.")}},
      {NodeKind::kWait,
       "wait",
       "Wait",
       "Rest until the timer fires (after a duration or at a local time) or the awaited event arrives.",
       {starting(field("for", Widget::kDuration, kOptional, "How long to wait, e.g. 72h.", "wait"),
                 R"("1d")"),
        field("until_time", Widget::kTimeOfDay, kOptional,
              "Wake at the next HH:MM in the user's time zone (user.timezone, else the "
              "server's default); instead of `for`.",
              "wait"),
        field("on_days", Widget::kWeekdays, kOptional,
              "Only on these weekdays (mon .. sun) with `until_time`; every day when empty."),
        field("until_event", Widget::kEvent, kOptional,
              "Wake early on this event (optionally with `where`); alone, waits for ever.", "wait"),
        field("on_event", Widget::kTarget, kOptional, "Next node when the event arrives.", "",
              "until_event"),
        field("next", Widget::kTarget, kOptional, "Next node when the timer fires.", "",
              "for|until_time")}},
      {NodeKind::kCoupon,
       "coupon",
       "Coupon",
       "Give the user one code, at most once per journey and node.",
       {starting(
            field("pool", Widget::kString, kOptional, "Pool of codes loaded beforehand.", "source"),
            R"("")"),
        field("generate", Widget::kGenerate, kOptional, "Generate codes: {prefix, length}.",
              "source"),
        field("next", Widget::kTarget, kRequired, "Next node after giving a code."),
        field("on_exhausted", Widget::kTarget, kOptional,
              "Next node when the pool has no code left.")}},
      {NodeKind::kSms,
       "sms",
       "SMS",
       "Send an SMS to user.phone.",
       {starting(
            field("text", Widget::kTemplate, kRequired, "Message text; {{path}} placeholders."),
            R"("")"),
        field("next", Widget::kTarget, kRequired, "Next node.")}},
      {NodeKind::kEmail,
       "email",
       "Email",
       "Send an email to user.email.",
       {starting(field("subject", Widget::kTemplate, kRequired, "Subject line."), R"("")"),
        starting(
            field("body", Widget::kTemplate, kRequired, "Body; {{coupon.code}} after a coupon."),
            R"("")"),
        field("next", Widget::kTarget, kRequired, "Next node.")}},
      {NodeKind::kWebhook,
       "webhook",
       "Webhook",
       "POST to an outside system.",
       {starting(field("url", Widget::kTemplate, kRequired, "Where to POST."), R"("https://")"),
        starting(field("body", Widget::kTemplate, kOptional, "Request body."), R"("")"),
        field("next", Widget::kTarget, kRequired, "Next node.")}},
      {NodeKind::kAb,
       "ab",
       "A/B split",
       "Deterministic weighted split: a user always gets the same variant.",
       {starting(field("variants", Widget::kWeights, kRequired,
                       "name: {weight, next}; a holdout is a variant whose next sends nothing."),
                 R"([{"name":"a","weight":50},{"name":"b","weight":50}])")}},
      {NodeKind::kExit, "exit", "Exit", "End the journey.", {}},
      // Generic kinds from here on (NodeKind is the row's position): the IR holds
      // their fields by widget, so a row and a processor file make the kind.
      {kGeneric,
       "update_profile",
       "Update profile",
       "Set or add to the user's profile traits; later steps and other flows read them.",
       {field("set", Widget::kExpressions, kOptional,
              "trait: expression, e.g. tier: 'gold' (text in quotes).", "update"),
        field("increment", Widget::kExpressions, kOptional,
              "trait: number to add; a missing trait counts as 0.", "update"),
        field("next", Widget::kTarget, kRequired, "Next node.")}},
      {kGeneric,
       "split",
       "Split",
       "Multi-way branch: the first branch whose condition holds, else the default.",
       {field("branches", Widget::kBranches, kRequired,
              "In order, {when: condition, next: node}; the first that holds is taken."),
        field("default", Widget::kTarget, kRequired, "Next node when no branch holds.")}},
  };
}

// The generic rows' kinds are their positions.
std::vector<KindSchema> numbered(std::vector<KindSchema> schemas) {
  for (size_t i = kFirstGenericKind; i < schemas.size(); ++i) {
    schemas[i].kind = static_cast<NodeKind>(i);
  }
  return schemas;
}

void append_json_string(std::string& out, std::string_view text) {
  append_quoted(out, text, QuoteStyle::kJson);
}

}  // namespace

const std::vector<KindSchema>& node_schemas() {
  static const std::vector<KindSchema> kSchemas = numbered(build_schemas());
  return kSchemas;
}

const KindSchema& schema_for(NodeKind kind) { return node_schemas()[static_cast<size_t>(kind)]; }

std::string node_schemas_json() {
  std::string out = "[";
  for (const KindSchema& schema : node_schemas()) {
    if (out.size() > 1) out += ',';
    out += "{\"type\":";
    append_json_string(out, schema.name);
    out += ",\"label\":";
    append_json_string(out, schema.label);
    out += ",\"help\":";
    append_json_string(out, schema.help);
    out += ",\"fields\":[";
    bool first = true;
    for (const FieldSchema& f : schema.fields) {
      if (!first) out += ',';
      first = false;
      out += "{\"name\":";
      append_json_string(out, f.name);
      out += ",\"widget\":";
      append_json_string(out, widget_name(f.widget));
      out += f.required ? ",\"required\":true" : ",\"required\":false";
      out += ",\"one_of\":";
      append_json_string(out, f.one_of);
      out += ",\"required_with\":";
      append_json_string(out, f.required_with);
      out += ",\"help\":";
      append_json_string(out, f.help);
      if (!f.initial.empty()) out += ",\"initial\":" + f.initial;
      out += '}';
    }
    out += "]}";
  }
  return out + "]";
}

}  // namespace trellis::ir
