// The only place that lists the node kinds. Adding a kind: a processor in its
// own .cpp, one line in each table below, and the IR alternative in flow.h.
#include "nodes/registry.h"

#include <array>
#include <cstdio>

#include "dsl/ir/quoted.h"
#include "nodes/kinds.h"

namespace trellis::nodes {

const NodeProcessor& processor_for(ir::NodeKind kind) {
  // Indexed by ir::NodeKind, which follows ir::NodeBody's alternatives.
  static const std::array<const NodeProcessor*, 8> kProcessors = {
      &segment_processor(), &wait_processor(),    &coupon_processor(), &sms_processor(),
      &email_processor(),   &webhook_processor(), &ab_processor(),     &exit_processor()};
  return *kProcessors[static_cast<size_t>(kind)];
}

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
  }
  return "string";
}

namespace {

FieldSchema field(std::string name, Widget widget, bool required, std::string help,
                  std::string one_of = {}, std::string required_with = {}) {
  return FieldSchema{std::move(name),   widget,          required,
                     std::move(one_of), std::move(help), std::move(required_with)};
}

std::vector<KindSchema> build_schemas() {
  using ir::NodeKind;
  const bool kRequired = true;
  const bool kOptional = false;
  return {
      {NodeKind::kSegment,
       "segment",
       "Branch on the user's profile and the journey's events.",
       {field("match", Widget::kExpression, kRequired,
              "Condition; a missing trait is null and compares false."),
        field("yes", Widget::kTarget, kRequired, "Next node when the match is true."),
        field("no", Widget::kTarget, kRequired, "Next node when the match is false.")}},
      {NodeKind::kWait,
       "wait",
       "Rest until the timer fires (after a duration or at a local time) or the awaited event arrives.",
       {field("for", Widget::kDuration, kOptional, "How long to wait, e.g. 72h.", "wait"),
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
       "Give the user one code, at most once per journey and node.",
       {field("pool", Widget::kString, kOptional, "Pool of codes loaded beforehand.", "source"),
        field("generate", Widget::kGenerate, kOptional, "Generate codes: {prefix, length}.",
              "source"),
        field("next", Widget::kTarget, kRequired, "Next node after giving a code."),
        field("on_exhausted", Widget::kTarget, kOptional,
              "Next node when the pool has no code left.")}},
      {NodeKind::kSms,
       "sms",
       "Send an SMS to user.phone.",
       {field("text", Widget::kTemplate, kRequired, "Message text; {{path}} placeholders."),
        field("next", Widget::kTarget, kRequired, "Next node.")}},
      {NodeKind::kEmail,
       "email",
       "Send an email to user.email.",
       {field("subject", Widget::kTemplate, kRequired, "Subject line."),
        field("body", Widget::kTemplate, kRequired, "Body; {{coupon.code}} after a coupon."),
        field("next", Widget::kTarget, kRequired, "Next node.")}},
      {NodeKind::kWebhook,
       "webhook",
       "POST to an outside system.",
       {field("url", Widget::kTemplate, kRequired, "Where to POST."),
        field("body", Widget::kTemplate, kOptional, "Request body."),
        field("next", Widget::kTarget, kRequired, "Next node.")}},
      {NodeKind::kAb,
       "ab",
       "Deterministic weighted split: a user always gets the same variant.",
       {field("variants", Widget::kWeights, kRequired,
              "name: {weight, next}; a holdout is a variant whose next sends nothing.")}},
      {NodeKind::kExit, "exit", "End the journey.", {}},
  };
}

void append_json_string(std::string& out, std::string_view text) {
  ir::append_quoted(out, text, ir::QuoteStyle::kJson);
}

}  // namespace

const std::vector<KindSchema>& node_schemas() {
  static const std::vector<KindSchema> kSchemas = build_schemas();
  return kSchemas;
}

const KindSchema& schema_for(ir::NodeKind kind) {
  return node_schemas()[static_cast<size_t>(kind)];
}

std::string node_schemas_json() {
  std::string out = "[";
  for (const KindSchema& schema : node_schemas()) {
    if (out.size() > 1) out += ',';
    out += "{\"type\":";
    append_json_string(out, schema.name);
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
      out += '}';
    }
    out += "]}";
  }
  return out + "]";
}

}  // namespace trellis::nodes
