#include "dsl/plain_words.h"

#include <cctype>

#include "dsl/ir/suggest.h"

namespace trellis::dsl {

namespace {

// What a field is, as a marketer reads it; the key for variants is "variants.<name>.next".
std::string field_phrase(const std::string& field) {
  static const std::vector<std::pair<std::string_view, std::string_view>> kFields = {
      {"text", "the message text"},
      {"subject", "the subject"},
      {"body", "the body"},
      {"url", "the address"},
      {"match", "the condition"},
      {"for", "how long to wait"},
      {"pool", "the coupon pool"},
      {"until_event", "the event to wait for"},
      {"until_time", "the time of day"},
      {"trigger.event", "the starting event"},
      {"trigger.when", "the starting condition"},
      {"variants", "the variants"},
      {"category", "the message category"},
      {"priority", "the priority"},
      {"on_cap", "what happens over a frequency cap"},
      {"goal", "the goal event"},
      {"exit_on", "the exit events"},
      {"re_entry", "the re-entry rule"},
      {"trigger.schedule", "the start time"},
      {"trigger.audience", "the audience"},
      {"trigger.every", "the repetition"},
      {"trigger.in_user_time_zone", "the users' own time"}};
  for (const auto& [key, phrase] : kFields) {
    if (field == key) return std::string(phrase);
  }
  return field.empty() ? "this setting" : "'" + field + "'";
}

// Where an arrow of `field` leads.
std::string target_phrase(const std::string& field) {
  if (field == "next") return "the next step";
  if (field == "yes") return "the step for users who match";
  if (field == "no") return "the step for users who don't match";
  if (field == "on_event") return "the step taken when the event arrives";
  if (field == "on_exhausted") return "the step taken when the codes run out";
  if (field == "start") return "the first step";
  if (field.rfind("variants.", 0) == 0) {
    std::string variant = field.substr(9, field.rfind('.') - 9);
    return "the step for variant '" + variant + "'";
  }
  return "the next step";
}

bool is_target_field(const std::string& field) {
  return field == "next" || field == "yes" || field == "no" || field == "on_event" ||
         field == "on_exhausted" || field == "start" ||
         (field.rfind("variants.", 0) == 0 && field.size() > 5 &&
          field.compare(field.size() - 5, 5, ".next") == 0);
}

void replace_all(std::string& text, std::string_view from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
}

}  // namespace

const std::vector<PlainWords>& plain_words() {
  static const std::vector<PlainWords> kWords = {
      {"no_flow_name", "Give the flow a name."},
      {"bad_flow_name",
       "Use only letters, digits, '_' or '-' in the flow's name, starting with a letter."},
      {"no_trigger", "Choose the event that starts this flow."},
      {"re_entry_zero", "Set how long before a user may enter again: longer than zero."},
      {"exit_on_twice", "An exit event is listed twice: remove one."},
      {"goal_empty", "Choose the event that counts as a conversion, or remove the goal."},
      {"goal_window_zero", "Give the goal a window longer than zero, such as 7 days."},
      {"bad_setting", "Choose one of the offered values for {field}."},
      {"bad_event_type", "Event names hold only letters, digits and _ - . : /"},
      {"no_nodes", "Add a first step from the palette on the left."},
      {"no_start", "Choose the step every journey begins at."},
      {"unknown_target", "{node} leads to a step that does not exist: choose {target} again."},
      {"bad_node_id", "Rename {node}: letters, digits, '_' or '-', starting with a letter."},
      {"missing_field", "Fill in {field} of {node}."},
      {"wait_never_ends", "Tell {node} how long to wait, until what time, or for which event."},
      {"wait_zero", "Make the wait of {node} longer than zero."},
      {"wait_needs_next", "Connect {node} to the next step."},
      {"wait_next_unused",
       "{node} waits only for its event, so its timeout arrow is never taken: add a duration or remove the arrow."},
      {"until_event_empty", "Choose the event {node} waits for."},
      {"on_event_exit_on",
       "{node} waits for an event that also ends the whole journey, so this branch can never run: remove the event from the exit events or choose another one."},
      {"wait_needs_on_event", "Connect {node} to the step taken when the event arrives."},
      {"on_event_unused",
       "{node} waits for no event, so this branch is never taken: choose an event or remove the arrow."},
      {"bad_until_time", "Write the time of day of {node} as hours and minutes, such as 10:00."},
      {"for_and_until_time",
       "{node} waits for a while or until a time of day, not both: keep one."},
      {"on_days_without_time", "Choose a time of day for {node} before choosing days."},
      {"bad_weekday", "Choose the days of {node} from Monday to Sunday."},
      {"pool_and_generate",
       "{node} takes its codes from a pool or makes them, not both: keep one."},
      {"coupon_source", "Tell {node} where its codes come from: a coupon pool or generated codes."},
      {"pool_empty", "Name the coupon pool of {node}."},
      {"code_length", "Choose a code length for {node} that the editor offers."},
      {"on_exhausted_unused",
       "Generated codes never run out, so the 'out of codes' arrow of {node} is never taken."},
      {"empty_text", "Write {field} of {node}."},
      {"webhook_scheme", "The address of {node} must start with http:// or https://."},
      {"webhook_host", "The address of {node} needs a host, as in https://example.com/hook."},
      {"webhook_internal",
       "The address of {node} points inside your own network; the server will not send there "
       "unless its settings allow that host."},
      {"variant_weight_missing", "Give every variant of {node} a share."},
      {"variant_weight_negative", "Shares of {node} cannot be below zero."},
      {"variant_needs_next", "Connect every variant of {node} to its next step."},
      {"weights_all_zero", "Give at least one variant of {node} a share above zero."},
      {"one_variant",
       "{node} has one variant, so everyone takes it: add another or remove the split."},
      {"unreachable", "No arrow leads to {node}: connect it or remove it."},
      {"loop_without_wait", "These steps go round without waiting: add a Wait step to the loop."},
      {"coupon_field_unknown", "A coupon has only a code: use coupon.code."},
      {"coupon_always_empty",
       "No Coupon step comes before {node}, so the code would be empty: add one before it."},
      {"coupon_maybe_empty",
       "Some users reach {node} without a coupon: add a text to show instead of the code."},
      {"event_type_unseen",
       "No event of this type has arrived yet, but a similar one has: did you mean '{meant}'?"},
      {"trait_unknown",
       "No user has this detail in their profile{meant_clause}, so it would be empty."},
      {"trait_undeclared",
       "This detail is not in the list of profile details your team declared{meant_clause}, so it may be empty."},
      {"event_type_text", "The event's type is plain text and has no parts."},
      {"last_event_unused",
       "No awaited event comes before {node}: use the starting event instead."},
      {"compare_null",
       "This compares with an empty value and is never true: test whether the value is there instead."},
      {"duration_mismatch", "This compares a number or a time with a duration: check the units."},
      {"quoted_number",
       "Write the number without quotes: text is compared letter by letter, so \"100\" comes before \"30\"."},
      {"type_mismatch",
       "This compares text with a number (or other different kinds of values) and is never true."},
      {"in_substring", "Looking for this in a text only finds text: check the value."},
      {"in_needs_list", "'in' needs a list or a text on its right."},
      {"in_list_never", "The list holds no value of this kind, so this is never true."},
      {"arithmetic_on_text", "Sums work on numbers, durations and times, not on text."},
      {"missing_one_of", "Fill in at least one of the settings of {node}."},
      {"bad_trait_name",
       "Name each profile detail {node} writes with letters, digits or '_', starting with a letter."},
      {"trait_twice", "{node} writes the same profile detail twice: keep one."},
      {"not_a_condition",
       "Each branch of {node} needs a condition that is true or false, such as user.orders > 3."},
      {"not_a_number", "{node} adds numbers to the profile: give a number to add."},
      {"bad_schedule",
       "Write when the flow starts as a date and a time, such as 2026-12-24 10:00."},
      {"schedule_in_past",
       "This start time has passed: the flow enters its audience as soon as it is deployed."},
      {"schedule_and_event", "A flow starts on an event or at a time, not both: keep one."},
      {"when_with_schedule",
       "A scheduled flow chooses its users with an audience, not an event condition."},
      {"key_with_schedule", "A scheduled flow enters each user once per run: remove the key."},
      {"bad_every", "Choose whether the schedule repeats every day or every week."},
      {"every_without_re_entry",
       "Users enter only on the first run: let them enter again to reach them on every run."},
      {"audience_not_boolean",
       "The audience must be a condition that is true or false for each user."},
      {"audience_reads_event",
       "An audience reads the users' profiles only: there is no event when it runs."},
      {"schedule_field_without_schedule",
       "{field} belongs to a scheduled start: choose a start time or remove it."},
  };
  return kWords;
}

std::string node_label(std::string_view id) {
  std::string label(id);
  for (char& c : label) {
    if (c == '_' || c == '-') c = ' ';
  }
  if (!label.empty())
    label[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(label[0])));
  return label;
}

std::string plain_sentence(const ir::Diagnostic& diagnostic) {
  const PlainWords* words = nullptr;
  for (const PlainWords& entry : plain_words()) {
    if (entry.code == diagnostic.code) words = &entry;
  }
  if (words == nullptr || diagnostic.code.empty()) {
    std::string text = diagnostic.message;
    replace_all(text, "`", "");
    return text;
  }
  std::string sentence(words->sentence);
  // A missing arrow reads as an arrow to draw.
  if (diagnostic.code == "missing_field" && is_target_field(diagnostic.field)) {
    sentence = "Connect {node} to {target}.";
  }
  std::string node =
      diagnostic.node.empty() ? std::string("The flow") : "'" + node_label(diagnostic.node) + "'";
  replace_all(sentence, "{node}", node);
  replace_all(sentence, "{target}", target_phrase(diagnostic.field));
  replace_all(sentence, "{field}", field_phrase(diagnostic.field));
  std::string meant = ir::meant_in(diagnostic.message);
  replace_all(sentence, "{meant}", meant);
  replace_all(sentence, "{meant_clause}", meant.empty() ? "" : " (did you mean '" + meant + "'?)");
  return sentence;
}

}  // namespace trellis::dsl
