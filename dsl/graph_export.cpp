#include "dsl/graph_export.h"

#include <cmath>
#include <map>
#include <set>
#include <sstream>

namespace trellis::dsl {

namespace {

constexpr size_t kMaxSummary = 40;

std::string shorten(const std::string& text) {
  std::string flat;
  for (char c : text) flat += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  if (flat.size() <= kMaxSummary) return flat;
  size_t cut = kMaxSummary - 3;
  // Do not cut a UTF-8 sequence in half.
  while (cut > 0 && (static_cast<unsigned char>(flat[cut]) & 0xC0) == 0x80) --cut;
  return flat.substr(0, cut) + "...";
}

std::string number(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

// One line saying what the node does.
std::string summary(const ir::Node& node) {
  if (auto* segment = node.as<ir::SegmentNode>()) {
    return segment->match ? shorten(segment->match->source) : "segment";
  }
  if (auto* wait = node.as<ir::WaitNode>()) {
    std::string text = "wait";
    if (wait->wait_for) text += " " + wait->wait_for->source;
    if (wait->until_time) text += " until " + wait->until_time->source + " local";
    for (size_t i = 0; i < wait->on_days.size(); ++i)
      text += (i == 0 ? " on " : ",") + wait->on_days[i].value;
    if (wait->until_event) text += " until " + wait->until_event->event.value;
    return text;
  }
  if (auto* coupon = node.as<ir::CouponNode>()) {
    if (coupon->pool) return "coupon from " + coupon->pool->value;
    return "coupon " + (coupon->generate ? coupon->generate->prefix + "..." : std::string());
  }
  if (auto* sms = node.as<ir::SmsNode>())
    return "sms: " + shorten(sms->text ? sms->text->source : "");
  if (auto* email = node.as<ir::EmailNode>()) {
    return "email: " + shorten(email->subject ? email->subject->source : "");
  }
  if (auto* webhook = node.as<ir::WebhookNode>()) {
    return "webhook " + shorten(webhook->url ? webhook->url->source : "");
  }
  if (node.as<ir::AbNode>()) return "A/B split";
  if (node.as<ir::GenericNode>()) return std::string(ir::node_kind_name(node.kind()));
  return "exit";
}

// What the arrow says. A wait's `next` is taken when its timer runs out, or
// when its local time comes.
std::string edge_label(const ir::Node& node, const ir::Edge& edge) {
  switch (edge.kind) {
    case ir::EdgeKind::kNext: {
      auto* wait = node.as<ir::WaitNode>();
      if (wait && wait->until_time) return "at " + wait->until_time->source;
      return wait && wait->wait_for ? "timeout" : "";
    }
    case ir::EdgeKind::kVariant:
      return edge.label + " " + number(edge.weight);
    default:
      return edge.label;
  }
}

struct DrawnEdge {
  const ir::Node* from;
  const ir::Node* to;
  std::string label;
};

std::vector<DrawnEdge> drawn_edges(const ir::Flow& flow) {
  std::vector<DrawnEdge> edges;
  for (const ir::Node& node : flow.nodes) {
    for (const ir::Edge& edge : ir::edges_of(node)) {
      const ir::Node* target = flow.find_node(edge.target->value);
      if (target) edges.push_back({&node, target, edge_label(node, edge)});
    }
  }
  return edges;
}

// Mermaid ids are restricted (and `end` is a keyword), so nodes get `n_`
// plus their id with other characters replaced, made unique.
std::map<const ir::Node*, std::string> mermaid_ids(const ir::Flow& flow) {
  std::map<const ir::Node*, std::string> ids;
  std::set<std::string> taken = {"trigger_"};
  for (const ir::Node& node : flow.nodes) {
    std::string id = "n_";
    for (char c : node.id) id += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    std::string unique = id;
    for (int i = 2; taken.count(unique); ++i) unique = id + "_" + std::to_string(i);
    taken.insert(unique);
    ids[&node] = unique;
  }
  return ids;
}

std::string mermaid_text(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '"')
      out += "#quot;";
    else if (c == '<')
      out += "#lt;";
    else if (c == '>')
      out += "#gt;";
    else if (c == '#')
      out += "#35;";
    else
      out += c;
  }
  return out;
}

// Shapes tell kinds apart at a glance: decisions are diamonds, waits are
// stadiums, splits hexagons, exits circles.
std::string mermaid_node(const std::string& id, const ir::Node& node) {
  std::string label = "\"" + mermaid_text(node.id) + "<br/>" + mermaid_text(summary(node)) + "\"";
  switch (node.kind()) {
    case ir::NodeKind::kSegment:
      return id + "{" + label + "}";
    case ir::NodeKind::kWait:
      return id + "([" + label + "])";
    case ir::NodeKind::kAb:
      return id + "{{" + label + "}}";
    case ir::NodeKind::kExit:
      return id + "((" + label + "))";
    default:
      return id + "[" + label + "]";
  }
}

std::string dot_text(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

// What starts a journey, as the editor's start box says it: the event, or a
// broadcast's time, repetition and audience.
std::string trigger_label(const ir::Trigger& trigger) {
  if (!trigger.scheduled()) return trigger.event.empty() ? "start" : trigger.event.value;
  std::string text = "at " + trigger.schedule->value;
  if (trigger.in_user_time_zone) text += " in each user's time";
  if (trigger.every) text += ", every " + trigger.every->value;
  return text + (trigger.audience ? " for " + trigger.audience->source : " for every profile");
}

std::string dot_shape(ir::NodeKind kind) {
  switch (kind) {
    case ir::NodeKind::kSegment:
      return "diamond";
    case ir::NodeKind::kWait:
      return "box, style=rounded";
    case ir::NodeKind::kAb:
      return "hexagon";
    case ir::NodeKind::kExit:
      return "doublecircle";
    default:
      return "box";
  }
}

}  // namespace

std::string to_mermaid(const ir::Flow& flow) {
  std::ostringstream out;
  std::map<const ir::Node*, std::string> ids = mermaid_ids(flow);
  out << "flowchart TD\n";
  const ir::Node* start = flow.find_node(flow.start.value);
  if (start) {
    out << "  trigger_([\"" << mermaid_text(trigger_label(flow.trigger)) << "\"]) --> "
        << ids[start] << "\n";
  }
  for (const ir::Node& node : flow.nodes) out << "  " << mermaid_node(ids[&node], node) << "\n";
  for (const DrawnEdge& edge : drawn_edges(flow)) {
    out << "  " << ids[edge.from] << " -->";
    if (!edge.label.empty()) out << "|\"" << mermaid_text(edge.label) << "\"|";
    out << " " << ids[edge.to] << "\n";
  }
  return out.str();
}

std::string to_dot(const ir::Flow& flow) {
  std::ostringstream out;
  out << "digraph \"" << dot_text(flow.name.value) << "\" {\n";
  out << "  rankdir=TB;\n  node [fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\"];\n";
  const ir::Node* start = flow.find_node(flow.start.value);
  if (start) {
    // The trigger's id cannot clash with a node id: node ids hold no spaces.
    out << "  \"trigger event\" [label=\"" << dot_text(trigger_label(flow.trigger))
        << "\", shape=oval];\n";
    out << "  \"trigger event\" -> \"" << dot_text(start->id) << "\";\n";
  }
  for (const ir::Node& node : flow.nodes) {
    out << "  \"" << dot_text(node.id) << "\" [label=\"" << dot_text(node.id) << "\\n"
        << dot_text(summary(node)) << "\", shape=" << dot_shape(node.kind()) << "];\n";
  }
  for (const DrawnEdge& edge : drawn_edges(flow)) {
    out << "  \"" << dot_text(edge.from->id) << "\" -> \"" << dot_text(edge.to->id) << "\"";
    if (!edge.label.empty()) out << " [label=\"" << dot_text(edge.label) << "\"]";
    out << ";\n";
  }
  out << "}\n";
  return out.str();
}

}  // namespace trellis::dsl
