// Robustness: thousands of deterministic mutants of the seed flows go through
// the loader and checker. None may crash or throw, every position must lie
// inside the file, and the checker may stay silent only about a mutant that
// is still a valid flow:
//  - "must break" mutants (an unknown target, an unknown key, an unknown node
//    type, a duplicated key) must give an error;
//  - any other mutant that gets no diagnostic must pass an oracle written
//    here independently of the checker: the YAML, read directly with
//    yaml-cpp, has no duplicate or unknown keys (by a key list of its own),
//    and the IR is structurally sound (targets resolve, every node is
//    reachable, every expression parsed, each kind has what it needs).
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <functional>
#include <map>
#include <random>
#include <set>

#include "tests/dsl/flow_test_support.h"

namespace fs = std::filesystem;
using namespace trellis;

namespace {

constexpr int kRandomMutants = 3000;
constexpr int kBreakingMutants = 600;

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t begin = 0;
  while (begin < text.size()) {
    size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(begin, end - begin));
    begin = end + 1;
  }
  return lines;
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& line : lines) text += line + "\n";
  return text;
}

std::vector<std::string> seed_texts() {
  std::vector<std::string> texts;
  for (const auto& entry : fs::directory_iterator(test::source_path("flows"))) {
    // trellis.yaml is the delivery configuration, not a flow.
    if (entry.path().extension() == ".yaml" && entry.path().filename() != "trellis.yaml")
      texts.push_back(test::read_text(entry.path().string()));
  }
  std::sort(texts.begin(), texts.end());
  return texts;
}

class Mutator {
 public:
  explicit Mutator(uint32_t seed) : random_(seed) {}

  size_t pick(size_t count) { return std::uniform_int_distribution<size_t>(0, count - 1)(random_); }

  // One random edit of the kinds a person (or a bad merge) makes.
  void mutate(std::vector<std::string>& lines) {
    if (lines.empty()) return;
    size_t at = pick(lines.size());
    std::string& line = lines[at];
    switch (pick(7)) {
      case 0:
        lines.erase(lines.begin() + at);
        break;
      case 1:
        lines.insert(lines.begin() + at, line);
        break;
      case 2:
        std::swap(line, lines[pick(lines.size())]);
        break;
      case 3: {
        static const std::string kChars = ":{}[]#-\"' \tabz0_|>&*!%@,.";
        if (!line.empty()) line[pick(line.size())] = kChars[pick(kChars.size())];
        break;
      }
      case 4:
        line = pick(2) ? " " + line : line.substr(std::min<size_t>(line.size(), 1 + pick(2)));
        break;
      case 5: {
        static const std::vector<std::string> kValues = {
            "",     "zz_missing", "-1",         "[a, b]", "{x: 1}", "72x", "\"open", "0",
            "null", "{{x}}",      "user.age >", "exit",   "after",  "0s",  "\"\"",   "'it''s'"};
        size_t colon = line.find(": ");
        if (colon != std::string::npos)
          line = line.substr(0, colon + 2) + kValues[pick(kValues.size())];
        break;
      }
      default:
        lines.insert(lines.begin() + at, "");
    }
  }

 private:
  std::mt19937 random_;
};

// Key of a `key: value` line in block style, and its indentation; empty when
// the line is something else.
std::pair<std::string, size_t> key_of(const std::string& line) {
  size_t indent = line.find_first_not_of(' ');
  size_t colon = line.find(':');
  if (indent == std::string::npos || colon == std::string::npos || colon < indent) return {};
  std::string key = line.substr(indent, colon - indent);
  if (key.empty() || key.find_first_of(" #{[-\"'") != std::string::npos) return {};
  return {key, indent};
}

// Edits that must make any valid flow invalid. Returns false when the text
// has no place for this edit.
bool break_flow(Mutator& mutator, std::vector<std::string>& lines) {
  static const std::set<std::string> kTargets = {"next",     "yes",          "no",
                                                 "on_event", "on_exhausted", "start"};
  std::vector<size_t> candidates;
  size_t kind = mutator.pick(4);
  for (size_t i = 0; i < lines.size(); ++i) {
    auto [key, indent] = key_of(lines[i]);
    bool has_value = lines[i].find(": ") != std::string::npos;
    if (kind == 0 && kTargets.count(key) && has_value) candidates.push_back(i);
    if ((kind == 1 || kind == 2) && key == "type") candidates.push_back(i);
    if (kind == 3 && !key.empty() && has_value && indent > 0) candidates.push_back(i);
  }
  if (candidates.empty()) return false;
  size_t at = candidates[mutator.pick(candidates.size())];
  auto [key, indent] = key_of(lines[at]);
  std::string prefix = lines[at].substr(0, indent) + key + ": ";
  switch (kind) {
    case 0:
      lines[at] = prefix + "no_such_node_zz";
      break;  // unknown target
    case 1:
      lines[at] = prefix + "frobnicate";
      break;  // unknown type
    case 2:
      lines.insert(lines.begin() + at + 1, std::string(indent, ' ') + "bogus_key_zz: 1");
      break;  // unknown key
    default:
      lines.insert(lines.begin() + at + 1, lines[at]);  // duplicate key
  }
  return true;
}

// --- The independent oracle -------------------------------------------------

// Keys each node type may have, written out here rather than taken from the
// loader's table, so a table mistake cannot hide itself.
const std::map<std::string, std::set<std::string>>& allowed_keys() {
  static const std::map<std::string, std::set<std::string>> keys = {
      {"segment", {"type", "description", "match", "yes", "no"}},
      {"wait",
       {"type", "description", "for", "until_time", "on_days", "until_event", "on_event", "next"}},
      {"coupon", {"type", "description", "pool", "generate", "next", "on_exhausted"}},
      {"sms", {"type", "description", "text", "next"}},
      {"email", {"type", "description", "subject", "body", "next"}},
      {"webhook", {"type", "description", "url", "body", "next"}},
      {"ab", {"type", "description", "variants"}},
      {"exit", {"type", "description"}},
      {"update_profile", {"type", "description", "set", "increment", "next"}},
      {"split", {"type", "description", "branches", "default"}},
  };
  return keys;
}

bool no_duplicate_keys(const YAML::Node& node) {
  if (node.IsSequence()) {
    for (const YAML::Node& item : node) {
      if (!no_duplicate_keys(item)) return false;
    }
  }
  if (!node.IsMap()) return true;
  std::set<std::string> seen;
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (!it->first.IsScalar() || !seen.insert(it->first.Scalar()).second) return false;
    if (!no_duplicate_keys(it->second)) return false;
  }
  return true;
}

// Problems a clean YAML flow file cannot have; empty when none.
std::string yaml_oracle(const std::string& text) {
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(text);
  } catch (const YAML::Exception& error) {
    return std::string("not YAML: ") + error.what();
  }
  if (documents.size() != 1 || !documents[0].IsMap()) return "not one mapping";
  const YAML::Node& root = documents[0];
  if (!no_duplicate_keys(root)) return "duplicate key";
  static const std::set<std::string> kTop = {"flow",    "description", "trigger",  "re_entry",
                                             "exit_on", "goal",        "category", "priority",
                                             "on_cap",  "start",       "nodes"};
  for (auto it = root.begin(); it != root.end(); ++it) {
    if (!kTop.count(it->first.Scalar())) return "unknown key " + it->first.Scalar();
  }
  if (!root["nodes"].IsMap()) return "nodes not a mapping";
  for (auto it = root["nodes"].begin(); it != root["nodes"].end(); ++it) {
    const YAML::Node node = it->second;  // a copy: `it->` is a temporary proxy
    if (!node.IsMap() || !node["type"].IsScalar()) return "node without type";
    auto keys = allowed_keys().find(node["type"].Scalar());
    if (keys == allowed_keys().end()) return "unknown type";
    for (auto field = node.begin(); field != node.end(); ++field) {
      if (!keys->second.count(field->first.Scalar())) return "unknown key " + field->first.Scalar();
    }
  }
  return "";
}

bool blank(const std::string& text) { return text.find_first_not_of(" \t\n") == std::string::npos; }

// "H:MM" or "HH:MM" within a day, checked from scratch.
bool time_of_day_ok(const std::string& text) {
  size_t colon = text.find(':');
  if (colon == std::string::npos || colon < 1 || colon > 2 || text.size() != colon + 3)
    return false;
  if (!std::all_of(text.begin(), text.end(),
                   [](char c) { return c == ':' || std::isdigit(static_cast<unsigned char>(c)); }))
    return false;
  return std::stoi(text.substr(0, colon)) < 24 && std::stoi(text.substr(colon + 1)) < 60;
}

bool delivery_settings_ok(const ir::Flow& flow) {
  static const std::set<std::string> kPriorityWords = {"high", "normal", "low"};
  if (flow.category && flow.category->value != "marketing" &&
      flow.category->value != "transactional")
    return false;
  if (flow.on_cap && flow.on_cap->value != "defer" && flow.on_cap->value != "skip") return false;
  if (!flow.priority || kPriorityWords.count(flow.priority->value)) return true;
  const std::string& digits = flow.priority->value;
  return !digits.empty() && digits.size() <= 3 &&
         std::all_of(digits.begin(), digits.end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }) &&
         std::stoi(digits) <= 100;
}

// Structural soundness of the IR, checked from scratch.
std::string ir_oracle(const ir::Flow& flow) {
  if (flow.name.empty() || (flow.trigger.event.empty() && !flow.trigger.scheduled()))
    return "no name or trigger";
  if (!delivery_settings_ok(flow)) return "delivery settings";
  if (!flow.find_node(flow.start.value)) return "start does not resolve";
  auto expression_ok = [](const std::optional<ir::Expression>& e) { return !e || e->tree; };
  if (!expression_ok(flow.trigger.when) || !expression_ok(flow.trigger.key)) return "trigger expr";
  std::set<std::string> reached = {flow.start.value};
  std::vector<std::string> work = {flow.start.value};
  while (!work.empty()) {
    const ir::Node* node = flow.find_node(work.back());
    work.pop_back();
    for (const ir::Edge& edge : ir::edges_of(*node)) {
      if (edge.target->empty()) continue;
      if (!flow.find_node(edge.target->value)) return "edge to nowhere from " + node->id;
      if (reached.insert(edge.target->value).second) work.push_back(edge.target->value);
    }
  }
  if (reached.size() != flow.nodes.size()) return "unreachable node";
  for (const ir::Node& node : flow.nodes) {
    if (auto* segment = node.as<ir::SegmentNode>()) {
      if (!segment->match || !segment->match->tree || segment->yes.empty() || segment->no.empty())
        return "segment " + node.id;
    } else if (auto* wait = node.as<ir::WaitNode>()) {
      if (!wait->wait_for && !wait->until_time && !wait->until_event)
        return "wait without end " + node.id;
      if (wait->wait_for && (wait->wait_for->seconds <= 0 || wait->next.empty())) return "wait for";
      if (wait->until_time &&
          (wait->wait_for || wait->next.empty() || !time_of_day_ok(wait->until_time->source)))
        return "wait until_time " + node.id;
      static const std::set<std::string> kDays = {
          "mon",    "tue",     "wed",       "thu",      "fri",    "sat",      "sun",
          "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"};
      for (const ir::Name& day : wait->on_days) {
        if (!wait->until_time || !kDays.count(day.value)) return "wait on_days " + node.id;
      }
      if (wait->until_event && (wait->until_event->event.empty() || wait->on_event.empty()))
        return "wait event " + node.id;
      if (!wait->until_event && !wait->on_event.empty()) return "stray on_event " + node.id;
    } else if (auto* coupon = node.as<ir::CouponNode>()) {
      if (coupon->pool.has_value() == coupon->generate.has_value() || coupon->next.empty())
        return "coupon " + node.id;
    } else if (auto* sms = node.as<ir::SmsNode>()) {
      if (!sms->text || blank(sms->text->source) || sms->next.empty()) return "sms " + node.id;
    } else if (auto* email = node.as<ir::EmailNode>()) {
      if (!email->subject || !email->body || blank(email->subject->source) ||
          blank(email->body->source) || email->next.empty())
        return "email " + node.id;
    } else if (auto* webhook = node.as<ir::WebhookNode>()) {
      if (!webhook->url || webhook->next.empty()) return "webhook " + node.id;
      const std::string& url = webhook->url->source;
      if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) return "url " + node.id;
    } else if (auto* ab = node.as<ir::AbNode>()) {
      double total = 0;
      for (const ir::Variant& variant : ab->variants) {
        if (!(variant.weight >= 0) || variant.next.empty()) return "variant " + node.id;
        total += variant.weight;
      }
      if (!(total > 0)) return "weights " + node.id;
    }
  }
  return "";
}

// Every diagnostic must point inside the text (or just past a line's end).
bool positions_inside(const dsl::LoadResult& result) {
  std::vector<std::string> lines = split_lines(result.source);
  for (const ir::Diagnostic& diagnostic : result.diagnostics.items()) {
    const ir::SourceSpan& span = diagnostic.span;
    if (!span.known() || span.column == 0) return false;
    if (span.line > lines.size() + 1) return false;
    size_t width = span.line <= lines.size() ? lines[span.line - 1].size() : 0;
    if (span.column > width + 1 || span.offset > result.source.size()) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("random mutants of the seed flows never crash and are silent only when valid") {
  std::vector<std::string> seeds = seed_texts();
  REQUIRE(!seeds.empty());
  Mutator mutator(20261123);
  int silent = 0;
  int reported = 0;
  for (int i = 0; i < kRandomMutants; ++i) {
    std::vector<std::string> lines = split_lines(seeds[mutator.pick(seeds.size())]);
    size_t edits = 1 + mutator.pick(3);
    for (size_t e = 0; e < edits; ++e) mutator.mutate(lines);
    std::string text = join_lines(lines);
    dsl::LoadResult result;
    REQUIRE_NOTHROW(result = test::check_yaml(text, "mutant.yaml"));
    INFO("mutant " << i << ":\n" << text << "\ndiagnostics:\n" << test::render_all(result));
    REQUIRE(positions_inside(result));
    REQUIRE_NOTHROW(test::render_all(result));
    if (!result.diagnostics.empty()) {
      ++reported;
      continue;
    }
    ++silent;
    REQUIRE(result.flow.has_value());
    CHECK(yaml_oracle(text) == "");
    CHECK(ir_oracle(*result.flow) == "");
  }
  // Both outcomes must occur, or the mutations test nothing.
  CHECK(silent > kRandomMutants / 20);
  CHECK(reported > kRandomMutants / 2);
}

TEST_CASE("mutants that must break a flow always get an error") {
  std::vector<std::string> seeds = seed_texts();
  Mutator mutator(7);
  int made = 0;
  while (made < kBreakingMutants) {
    std::vector<std::string> lines = split_lines(seeds[mutator.pick(seeds.size())]);
    if (!break_flow(mutator, lines)) continue;
    ++made;
    std::string text = join_lines(lines);
    dsl::LoadResult result = test::check_yaml(text, "broken.yaml");
    INFO("mutant:\n" << text);
    CHECK(result.diagnostics.has_errors());
    CHECK(positions_inside(result));
  }
}

// yaml-cpp 0.7 reports a stray ',' at the top of a document as an empty
// document, again and again without moving on: LoadAll looped and grew for
// ever (found by fuzz_yaml). The loader must answer with a positioned error.
TEST_CASE("a stray comma at the top of a YAML document is an error, not a hang") {
  for (const std::string text : {",", "  ,x", "# note\n,", "flow: a\n---\n,", "!t ,"}) {
    INFO(text);
    dsl::LoadResult result = test::check_yaml(text);
    CHECK_FALSE(result.ok());
    CHECK(test::render_all(result).find("unexpected character") != std::string::npos);
  }
  // Several empty documents are still fine to read (and hold no flow).
  CHECK(test::render_all(test::check_yaml("---\n---\n")).find("holds no flow") !=
        std::string::npos);
}
