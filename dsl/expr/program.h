// Compiled expressions and templates. A Program is built once from an
// ir::Expr (when a flow version is loaded) and evaluated many times without
// heap allocation.
//
// Null semantics (docs/expressions.md#null): a missing path is null; any comparison with null is
// false (so `user.age > 30` and `user.age <= 30` are both false for a user with
// no age), `not null` is true, arithmetic with null is null, `x in null` is false,
// `has(path)` is false for null. No evaluation raises an error: division by
// zero is null, and so is arithmetic on text (ISO 8601 timestamps in text count
// as epoch seconds). `in` is list membership, or substring when both sides are
// text. `and`/`or` short-circuit and give booleans. `days_since(path)` is whole
// days (floored) from the path's timestamp (ISO 8601 text or epoch seconds) to now.
// `local_hour()` (0..23) and `local_weekday()` ("mon".."sun") read `now` on the
// user's wall clock through Scope::local_clock(); null when the scope has none.
// `count("type", 30d[, where: ...])` (a number) and `last_seen("type")` (a time
// in seconds, null when never seen) read Scope::behaviour(); null without one.
//
// Thread safety: a compiled Program is immutable; evaluate() and test() may run
// on many threads at once (each thread has its own evaluation stack).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "dsl/expr/value.h"
#include "dsl/ir/expr.h"

namespace trellis::expr {

class Program;

// A count() a program reads (docs/expressions.md#behaviour): which events it
// counts and over how many days. The runtime counts, on ingest, what the
// deployed programs read.
struct CounterUse {
  // The counter's stable name, shared by every count() with the same type and
  // filter: `product_viewed` or `product_viewed where (== event.category "exam")`.
  std::string key;
  std::string event_type;
  std::shared_ptr<const Program> where;  // over the counted event; null: every event
  int window_days = 0;
};

class Program {
 public:
  Program();
  Program(Program&&) noexcept;
  Program& operator=(Program&&) noexcept;
  ~Program();

  // REQUIRES: `tree` came from a successful parse.
  static Program compile(const ir::Expr& tree);

  // Evaluates and returns the result. The view may point into `scope`'s data,
  // into this program's constants, or (for a list built from paths, such as
  // `[user.a, 1]`) into this thread's evaluation stack, valid until this thread's
  // next evaluation. A default-constructed or moved-from Program gives null.
  ValueView evaluate(const Scope& scope) const;
  // Truthiness: true only for boolean true, non-zero numbers, non-empty strings
  // and lists. Null is false.
  bool test(const Scope& scope) const;
  // Interned paths the program reads, for explaining a decision in step history
  // ("user.age = 34").
  const std::vector<PathId>& paths() const;
  // The count() and last_seen() calls the program makes: what the runtime must
  // keep for it. Empty for most programs.
  const std::vector<CounterUse>& counters() const;
  const std::vector<std::string>& last_seen_types() const;
  bool reads_behaviour() const { return !counters().empty() || !last_seen_types().empty(); }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A compiled template: literal text and interned paths with fallbacks.
class CompiledTemplate {
 public:
  static CompiledTemplate compile(const ir::Template& source);
  // Renders; a null path renders as its fallback or as the empty string, and
  // with a fallback (`| default: "x"`) so do empty text, false and an empty
  // list, as in Liquid. This one allocates the output string, once.
  std::string render(const Scope& scope) const;
  const std::vector<PathId>& paths() const { return paths_; }

 private:
  struct Part {
    std::string text;
    bool is_path = false;
    PathId path = 0;
    std::string fallback;
    bool has_fallback = false;
  };
  std::vector<Part> parts_;
  std::vector<PathId> paths_;
};

// Formats a value for templates and step history: numbers without a trailing
// ".0" when integral, lists as JSON-like text.
std::string to_display(const ValueView& value);
// The same text, appended to `out` (no temporary string).
void append_display(std::string& out, const ValueView& value);

}  // namespace trellis::expr
