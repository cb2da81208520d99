#include "dsl/flow_diff.h"

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "dsl/ir/node_table.h"
#include "dsl/json_format.h"

namespace trellis::dsl {
namespace {

using nlohmann::json;

// Field paths of the IR JSON (docs/ir-json.md) in a marketer's words.
std::string field_words(const std::string& path) {
  static const std::map<std::string, std::string> kWords = {
      {"next", "next step"},
      {"yes", "yes branch"},
      {"no", "no branch"},
      {"on_event", "event branch"},
      {"on_exhausted", "when coupons run out"},
      {"for", "wait time"},
      {"until_event", "waits for event"},
      {"until_event.event", "waits for event"},
      {"until_event.where", "event condition"},
      {"until_time", "waits until"},
      {"on_days", "days"},
      {"match", "condition"},
      {"pool", "coupon pool"},
      {"trigger.event", "trigger event"},
      {"trigger.when", "trigger condition"},
      {"trigger.key", "one journey per"},
      {"trigger.schedule", "schedule"},
      {"trigger.audience", "audience"},
      {"trigger.every", "repeats every"},
      {"trigger.in_user_time_zone", "in each user's time zone"},
      {"exit_on", "exit events"},
      {"start", "start step"},
      {"goal.event", "goal"},
      {"goal.where", "goal condition"},
      {"goal.within", "goal window"},
      {"goal.value", "goal value"},
      {"re_entry", "re-entry"},
      {"on_cap", "when a cap is reached"},
  };
  auto it = kWords.find(path);
  if (it != kWords.end()) return it->second;
  std::string out = path;
  for (char& c : out)
    if (c == '_' || c == '.') c = ' ';
  return out;
}

// Keys that are not fields of what runs: comments are reported as one change.
bool is_comment_key(const std::string& key) {
  return key == "comments" || key == "field_comments" || key == "leading_comments" ||
         key == "closing_comments" || key == "trailing_comment";
}

std::string shown(const json& v) {
  if (v.is_null() || (v.is_string() && v.get<std::string>().empty()) || (v.is_array() && v.empty()))
    return "nothing";
  std::string s;
  if (v.is_string()) {
    s = "\"" + v.get<std::string>() + "\"";
  } else if (v.is_array()) {
    for (const json& item : v) {
      if (!s.empty()) s += ", ";
      s += item.is_string() ? item.get<std::string>() : item.dump();
    }
  } else {
    s = v.dump();
  }
  // Long texts are cut at a character boundary, not inside a UTF-8 sequence.
  constexpr size_t kMax = 60;
  if (s.size() > kMax) {
    size_t cut = kMax - 1;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    s = s.substr(0, cut) + "…";
  }
  return s;
}

bool empty_value(const json& v) {
  return v.is_null() || (v.is_string() && v.get<std::string>().empty()) ||
         (v.is_array() && v.empty());
}

// The JSON as dotted paths; A/B variants by name (reordering is no change);
// comments as one entry.
void flatten(const json& in, const std::string& prefix, std::map<std::string, json>& out,
             bool& comments) {
  for (const auto& [key, value] : in.items()) {
    if (prefix.empty() && (key == "id" || key == "span" || key == "nodes" || key == "flow"))
      continue;
    const std::string path = prefix + key;
    if (prefix.empty() && key == "goal" && value.is_string()) {
      out["goal.event"] = value;  // `goal: x` and `goal: {event: x}` are the same goal
    } else if (is_comment_key(key)) {
      out["~comments"] = value;
      comments = true;
    } else if (key == "variants" && value.is_array()) {
      for (const json& v : value) {
        const std::string name = v.value("name", "");
        out["variants." + name + ".weight"] = v.value("weight", json());
        out["variants." + name + ".next"] = v.value("next", json());
      }
    } else if (value.is_object()) {
      flatten(value, path + ".", out, comments);
    } else {
      out[path] = value;
    }
  }
}

std::vector<std::string> field_changes(const json& before, const json& after) {
  std::map<std::string, json> a, b;
  bool comments = false;
  flatten(before, "", a, comments);
  flatten(after, "", b, comments);
  std::set<std::string> paths;
  for (const auto& [p, v] : a) paths.insert(p);
  for (const auto& [p, v] : b) paths.insert(p);
  std::vector<std::string> out;
  bool comments_changed = false;
  const json none;
  for (const std::string& path : paths) {
    const json& was = a.count(path) ? a.at(path) : none;
    const json& now = b.count(path) ? b.at(path) : none;
    if (was == now || (empty_value(was) && empty_value(now))) continue;
    if (path == "~comments") {
      comments_changed = true;
      continue;
    }
    if (path.rfind("variants.", 0) == 0) {
      const size_t dot = path.rfind('.');
      const std::string name = path.substr(9, dot - 9);
      const std::string field = path.substr(dot + 1);
      const bool existed = a.count("variants." + name + ".weight") > 0;
      const bool exists = b.count("variants." + name + ".weight") > 0;
      if (!existed || !exists) {
        if (field == "weight")
          out.push_back("variant `" + name + "` " + (exists ? "added" : "removed"));
        continue;
      }
      out.push_back("variant `" + name + "` " + (field == "weight" ? "weight" : "next step") +
                    " changed from " + shown(was) + " to " + shown(now));
      continue;
    }
    const std::string words = field_words(path);
    if (empty_value(was))
      out.push_back(words + " set to " + shown(now));
    else if (empty_value(now))
      out.push_back(words + " removed (was " + shown(was) + ")");
    else
      out.push_back(words + " changed from " + shown(was) + " to " + shown(now));
  }
  if (comments_changed) out.push_back("comments edited");
  return out;
}

// The kind's label as the editor shows it ("A/B split"): the node table's.
std::string kind_words(ir::NodeKind kind) { return ir::schema_for(kind).label; }

const ir::Node* find_node(const ir::Flow& flow, const std::string& id) {
  for (const ir::Node& n : flow.nodes)
    if (n.id == id) return &n;
  return nullptr;
}

}  // namespace

std::string_view change_kind_name(FlowChange::Kind kind) {
  switch (kind) {
    case FlowChange::Kind::kAdded:
      return "added";
    case FlowChange::Kind::kRemoved:
      return "removed";
    case FlowChange::Kind::kChanged:
      return "changed";
  }
  return "changed";
}

std::vector<FlowChange> describe_changes(const ir::Flow* before, const ir::Flow& after) {
  using Kind = FlowChange::Kind;
  std::vector<FlowChange> out;
  if (before == nullptr) {
    const size_t n = after.nodes.size();
    out.push_back(
        {Kind::kAdded, "", "first version, " + std::to_string(n) + (n == 1 ? " step" : " steps")});
    return out;
  }
  const json before_json = flow_to_json(*before), after_json = flow_to_json(after);
  for (std::string& text : field_changes(before_json, after_json))
    out.push_back({Kind::kChanged, "", "flow: " + text});
  std::map<std::string, const json*> before_nodes, after_nodes;
  for (const json& n : before_json["nodes"]) before_nodes[n.value("id", "")] = &n;
  for (const json& n : after_json["nodes"]) after_nodes[n.value("id", "")] = &n;
  for (const ir::Node& n : after.nodes)
    if (!find_node(*before, n.id))
      out.push_back(
          {Kind::kAdded, n.id, "node `" + n.id + "` added (" + kind_words(n.kind()) + ")"});
  for (const ir::Node& n : before->nodes)
    if (!find_node(after, n.id))
      out.push_back(
          {Kind::kRemoved, n.id, "node `" + n.id + "` removed (" + kind_words(n.kind()) + ")"});
  for (const ir::Node& n : after.nodes) {
    const ir::Node* old = find_node(*before, n.id);
    if (!old) continue;
    if (old->kind() != n.kind()) {
      out.push_back({Kind::kChanged, n.id,
                     "node `" + n.id + "`: now " + kind_words(n.kind()) + " instead of " +
                         kind_words(old->kind())});
      continue;
    }
    for (std::string& text : field_changes(*before_nodes.at(n.id), *after_nodes.at(n.id)))
      out.push_back({Kind::kChanged, n.id, "node `" + n.id + "`: " + text});
  }
  return out;
}

}  // namespace trellis::dsl
