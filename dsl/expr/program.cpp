// Programs are postfix bytecode over a small stack of ValueViews. Compilation
// interns every path and turns literals (constant lists included) into
// ValueViews the program owns, so evaluation only reads the scope and the
// program and writes to the stack: no allocation, no exceptions.
//
// We could walk the ir::Expr tree directly, but the tree owns strings and
// vectors spread over the heap; flat code over interned ids keeps a hot
// segment check within a few cache lines.
#include "dsl/expr/program.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <deque>

#include "dsl/expr/behaviour.h"
#include "dsl/expr/timestamp.h"
#include "dsl/ir/quoted.h"

namespace trellis::expr {

namespace {

enum class Op : uint8_t {
  kConst,             // push constants[a]
  kLoad,              // push scope.lookup(a)
  kNow,               // push scope.now()
  kHas,               // push lookup(a) is not null
  kDaysSince,         // push whole days from lookup(a) to now, or null
  kLocalHour,         // push the hour of now on the user's wall clock, or null
  kLocalWeekday,      // push "mon" .. "sun" of now on the user's wall clock, or null
  kCount,             // push counters[a]'s count over its window, or null
  kLastSeen,          // push when last_seen_types[a] was last seen, or null
  kHasValue,          // top = top is not null
  kNot,               // top = not truthy(top)
  kNegate,            // top = -top, or null
  kToBool,            // top = truthy(top)
  kJumpIfFalse,       // `and`: if top is falsy, top = false and jump to a; else pop
  kJumpIfTrue,        // `or`: if top is truthy, top = true and jump to a; else pop
  kCompare,           // pop b, a; push compare(sub, a, b)
  kCompareLoadConst,  // push compare(sub, lookup(a), constants[b]): `user.age > 30`
  kInConstLoad,       // push constants[a] in lookup(b): `"x" in user.tags`
  kNotLoad,           // push not truthy(lookup(a)): `not user.paid`
  kArithmetic,        // pop b, a; push arithmetic(sub, a, b)
  kMakeList,          // pop a values; push a list of them
};

// Comparison and arithmetic operators, in ir::ExprOp's order.
enum Sub : uint8_t { kEq, kNe, kLt, kLe, kGt, kGe, kIn, kAdd, kSub, kMul, kDiv, kMod };

struct Instruction {
  Op op;
  uint8_t sub = 0;
  uint32_t a = 0;
  uint32_t b = 0;
};

// Stack and list scratch per thread. A list built from paths (`[user.a, 1]`)
// keeps its items here, so a list result stays valid until the next evaluation
// on the same thread. Raw storage: no constructor runs, so no TLS guard.
constexpr uint32_t kStackSize = 1024;
alignas(ValueView) thread_local unsigned char tls_stack[kStackSize * sizeof(ValueView)];

bool truthy(const ValueView& v) {
  switch (v.type) {
    case Type::kBool:
      return v.boolean;
    case Type::kNumber:
      return v.number != 0 && !std::isnan(v.number);
    case Type::kString:
    case Type::kList:
      return v.size > 0;
    case Type::kNull:
      return false;
  }
  return false;
}

// Trait values are short; a loop that stops at the first different byte beats a
// call to memcmp, and most list items differ from the needle in their first byte.
bool same_text(const ValueView& a, const ValueView& b) {
  if (a.size != b.size) return false;
  for (uint32_t i = 0; i < a.size; ++i) {
    if (a.chars[i] != b.chars[i]) return false;
  }
  return true;
}

bool equals(const ValueView& a, const ValueView& b) {
  if (a.type != b.type || a.is_null()) return false;
  switch (a.type) {
    case Type::kBool:
      return a.boolean == b.boolean;
    case Type::kNumber:
      return a.number == b.number;
    case Type::kString:
      return same_text(a, b);
    case Type::kList:
      if (a.size != b.size) return false;
      for (uint32_t i = 0; i < a.size; ++i) {
        if (!equals(a.items[i], b.items[i])) return false;
      }
      return true;
    case Type::kNull:
      return false;
  }
  return false;
}

bool contains(const ValueView& needle, const ValueView& haystack) {
  if (needle.is_null()) return false;
  if (haystack.type == Type::kList) {
    for (uint32_t i = 0; i < haystack.size; ++i) {
      if (equals(needle, haystack.items[i])) return true;
    }
    return false;
  }
  if (haystack.type == Type::kString && needle.type == Type::kString) {
    return haystack.string().find(needle.string()) != std::string_view::npos;
  }
  return false;
}

// Null on either side makes every comparison false, `!=` included (docs/expressions.md#null).
bool compare(uint8_t sub, const ValueView& a, const ValueView& b) {
  if (a.is_null() || b.is_null()) return false;
  switch (sub) {
    case kEq:
      return equals(a, b);
    case kNe:
      return !equals(a, b);
    case kIn:
      return contains(a, b);
    default:
      break;
  }
  int order = 0;
  if (a.type == Type::kNumber && b.type == Type::kNumber) {
    if (std::isnan(a.number) || std::isnan(b.number)) return false;
    order = a.number < b.number ? -1 : (a.number > b.number ? 1 : 0);
  } else if (a.type == Type::kString && b.type == Type::kString) {
    order = a.string().compare(b.string());
  } else {
    return false;  // booleans, lists and mixed types have no order
  }
  switch (sub) {
    case kLt:
      return order < 0;
    case kLe:
      return order <= 0;
    case kGt:
      return order > 0;
    default:
      return order >= 0;
  }
}

// Numbers, and ISO 8601 timestamps as epoch seconds (so `now - event.time` works
// when the time arrived as text).
bool to_number(const ValueView& v, double& out) {
  if (v.type == Type::kNumber) {
    out = v.number;
    return true;
  }
  return v.type == Type::kString && parse_timestamp(v.string(), out);
}

ValueView arithmetic(uint8_t sub, const ValueView& a, const ValueView& b) {
  double x = 0;
  double y = 0;
  if (!to_number(a, x) || !to_number(b, y)) return ValueView::null();
  switch (sub) {
    case kAdd:
      return ValueView::of(x + y);
    case kSub:
      return ValueView::of(x - y);
    case kMul:
      return ValueView::of(x * y);
    case kDiv:
      return y == 0 ? ValueView::null() : ValueView::of(x / y);
    default:
      return y == 0 ? ValueView::null() : ValueView::of(std::fmod(x, y));
  }
}

// Whether the compiled code of `expr` always leaves a boolean (no kToBool needed).
bool yields_bool(const ir::Expr& expr) {
  switch (expr.op) {
    case ir::ExprOp::kNot:
    case ir::ExprOp::kAnd:
    case ir::ExprOp::kOr:
    case ir::ExprOp::kEq:
    case ir::ExprOp::kNe:
    case ir::ExprOp::kLt:
    case ir::ExprOp::kLe:
    case ir::ExprOp::kGt:
    case ir::ExprOp::kGe:
    case ir::ExprOp::kIn:
      return true;
    case ir::ExprOp::kCall:
      return expr.function == "has" && expr.operands.size() == 1;
    case ir::ExprOp::kLiteral:
      return std::holds_alternative<bool>(expr.literal.value);
    default:
      return false;
  }
}

ValueView local_hour(const Scope& scope) {
  std::optional<LocalClock> clock = scope.local_clock();
  return clock ? ValueView::of(clock->hour) : ValueView::null();
}

// Static text, so the view outlives the evaluation.
ValueView local_weekday(const Scope& scope) {
  static constexpr std::string_view kDays[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
  std::optional<LocalClock> clock = scope.local_clock();
  if (!clock || clock->weekday < 0 || clock->weekday > 6) return ValueView::null();
  return ValueView::of(kDays[static_cast<size_t>(clock->weekday)]);
}

ValueView count_of(const Scope& scope, const CounterUse& use) {
  const Behaviour* behaviour = scope.behaviour();
  if (behaviour == nullptr) return ValueView::null();
  return ValueView::of(
      static_cast<double>(behaviour->count(use.key, use.window_days, scope.now())));
}

ValueView last_seen_of(const Scope& scope, const std::string& event_type) {
  const Behaviour* behaviour = scope.behaviour();
  if (behaviour == nullptr) return ValueView::null();
  std::optional<double> at = behaviour->last_seen(event_type);
  return at ? ValueView::of(*at) : ValueView::null();
}

// The filter as stable text for a counter's key: prefix notation over the
// tree, so that spacing and redundant parentheses do not make a second counter.
void append_canonical(std::string& out, const ir::Expr& expr) {
  static constexpr const char* kOps[] = {"",    "",   "list", "now", "",  "not", "-",
                                         "and", "or", "==",   "!=",  "<", "<=",  ">",
                                         ">=",  "in", "+",    "-",   "*", "/",   "%"};
  switch (expr.op) {
    case ir::ExprOp::kLiteral: {
      const auto& value = expr.literal.value;
      if (std::holds_alternative<std::string>(value)) {
        ir::append_quoted(out, std::get<std::string>(value), ir::QuoteStyle::kExpression);
      } else if (std::holds_alternative<double>(value)) {
        out += to_display(ValueView::of(std::get<double>(value)));
      } else if (std::holds_alternative<bool>(value)) {
        out += std::get<bool>(value) ? "true" : "false";
      } else {
        out += "null";
      }
      return;
    }
    case ir::ExprOp::kPath:
      out += expr.path.text();
      return;
    case ir::ExprOp::kNow:
      out += "now";
      return;
    default:
      break;
  }
  out += '(';
  out += expr.op == ir::ExprOp::kCall ? expr.function.c_str() : kOps[static_cast<int>(expr.op)];
  for (const ir::Expr& operand : expr.operands) {
    out += ' ';
    append_canonical(out, operand);
  }
  out += ')';
}

ValueView days_since(const ValueView& v, double now) {
  double then = 0;
  if (!to_number(v, then)) return ValueView::null();
  return ValueView::of(std::floor((now - then) / 86400.0));
}

}  // namespace

struct Program::Impl {
  std::vector<Instruction> code;
  std::vector<ValueView> constants;
  std::deque<std::string> texts;                  // constant strings; a deque never moves them
  std::deque<std::vector<ValueView>> list_items;  // constant lists' elements
  std::vector<PathId> paths;
  std::vector<CounterUse> counters;
  std::vector<std::string> last_seen_types;
  uint8_t roots_used = 0;  // bit per ir::PathRoot the code reads
  uint32_t depth = 0;      // current stack depth while compiling
  uint32_t max_depth = 0;  // stack slots plus list items evaluation needs

  void push(uint32_t n = 1) {
    depth += n;
    max_depth = std::max(max_depth, depth);
  }
  void emit(Instruction instruction) { code.push_back(instruction); }

  PathId path(const ir::Path& path) {
    PathId id = intern_path(path);
    roots_used |= 1u << static_cast<unsigned>(path.root);
    if (std::find(paths.begin(), paths.end(), id) == paths.end()) paths.push_back(id);
    return id;
  }

  uint32_t constant(ValueView value) {
    constants.push_back(value);
    return static_cast<uint32_t>(constants.size() - 1);
  }

  // A literal or a list of constants as a ValueView the program owns; false otherwise.
  bool fold(const ir::Expr& expr, ValueView& out) {
    if (expr.op == ir::ExprOp::kLiteral) {
      const auto& value = expr.literal.value;
      if (std::holds_alternative<bool>(value))
        out = ValueView::of(std::get<bool>(value));
      else if (std::holds_alternative<double>(value))
        out = ValueView::of(std::get<double>(value));
      else if (std::holds_alternative<std::string>(value)) {
        texts.push_back(std::get<std::string>(value));
        out = ValueView::of(std::string_view(texts.back()));
      } else {
        out = ValueView::null();
      }
      return true;
    }
    if (expr.op != ir::ExprOp::kList) return false;
    std::vector<ValueView> items;
    for (const ir::Expr& element : expr.operands) {
      ValueView item;
      if (!fold(element, item)) return false;
      items.push_back(item);
    }
    list_items.push_back(std::move(items));
    const std::vector<ValueView>& stored = list_items.back();
    out = ValueView::list(stored.data(), static_cast<uint32_t>(stored.size()));
    return true;
  }

  void compile(const ir::Expr& expr);
  void compile_call(const ir::Expr& expr);
  bool compile_behaviour(const ir::Expr& expr);
  void compile_logic(const ir::Expr& expr);
  void thread_jumps();
  bool compile_fused(const ir::Expr& expr, uint8_t sub);
};

// count() and last_seen() with the literal arguments the checker requires.
bool Program::Impl::compile_behaviour(const ir::Expr& expr) {
  if (expr.operands.empty() || expr.operands[0].op != ir::ExprOp::kLiteral) return false;
  const auto* type = std::get_if<std::string>(&expr.operands[0].literal.value);
  if (type == nullptr) return false;
  if (expr.function == "last_seen" && expr.operands.size() == 1) {
    auto found = std::find(last_seen_types.begin(), last_seen_types.end(), *type);
    if (found == last_seen_types.end())
      found = last_seen_types.insert(last_seen_types.end(), *type);
    emit({Op::kLastSeen, 0, static_cast<uint32_t>(found - last_seen_types.begin())});
    return true;
  }
  if (expr.function != "count" || expr.operands.size() < 2 || expr.operands.size() > 3)
    return false;
  const auto* seconds = std::get_if<double>(&expr.operands[1].literal.value);
  if (seconds == nullptr) return false;
  CounterUse use;
  use.event_type = *type;
  use.key = *type;
  use.window_days = static_cast<int>(*seconds / 86400);
  if (expr.operands.size() == 3) {
    use.key += " where ";
    append_canonical(use.key, expr.operands[2]);
    use.where = std::make_shared<const Program>(Program::compile(expr.operands[2]));
  }
  counters.push_back(std::move(use));
  emit({Op::kCount, 0, static_cast<uint32_t>(counters.size() - 1)});
  return true;
}

void Program::Impl::compile_call(const ir::Expr& expr) {
  bool well_formed = expr.operands.size() == 1 && expr.operands[0].op == ir::ExprOp::kPath;
  if ((expr.function == "count" || expr.function == "last_seen") && compile_behaviour(expr)) {
    // emitted
  } else if (expr.function == "has" && expr.operands.size() == 1 &&
             expr.operands[0].op == ir::ExprOp::kCall) {
    compile(expr.operands[0]);  // has(last_seen("x"))
    emit({Op::kHasValue});
    return;
  } else if (well_formed && expr.function == "has") {
    emit({Op::kHas, 0, path(expr.operands[0].path)});
  } else if (well_formed && expr.function == "days_since") {
    emit({Op::kDaysSince, 0, path(expr.operands[0].path)});
  } else if (expr.operands.empty() && expr.function == "local_hour") {
    emit({Op::kLocalHour});
  } else if (expr.operands.empty() && expr.function == "local_weekday") {
    emit({Op::kLocalWeekday});
  } else {
    emit({Op::kConst, 0, constant(ValueView::null())});  // the checker reports these
  }
  push();
}

void Program::Impl::compile_logic(const ir::Expr& expr) {
  compile(expr.operands[0]);
  size_t jump = code.size();
  emit({expr.op == ir::ExprOp::kAnd ? Op::kJumpIfFalse : Op::kJumpIfTrue});
  --depth;
  compile(expr.operands[1]);
  if (!yields_bool(expr.operands[1])) emit({Op::kToBool});
  code[jump].a = static_cast<uint32_t>(code.size());
}

// `a and b and c` compiles to nested jumps; a jump onto a jump of the same kind
// would take it too (the value is known), so go straight to its target.
void Program::Impl::thread_jumps() {
  for (Instruction& instruction : code) {
    if (instruction.op != Op::kJumpIfFalse && instruction.op != Op::kJumpIfTrue) continue;
    while (instruction.a < code.size() && code[instruction.a].op == instruction.op) {
      instruction.a = code[instruction.a].a;
    }
  }
}

// `path op literal`, `literal op path`, `literal in path`: one instruction.
bool Program::Impl::compile_fused(const ir::Expr& expr, uint8_t sub) {
  const ir::Expr& left = expr.operands[0];
  const ir::Expr& right = expr.operands[1];
  ValueView value;
  if (sub == kIn) {
    if (right.op != ir::ExprOp::kPath || !fold(left, value)) return false;
    emit({Op::kInConstLoad, sub, constant(value), path(right.path)});
    push();
    return true;
  }
  if (left.op == ir::ExprOp::kPath && fold(right, value)) {
    emit({Op::kCompareLoadConst, sub, path(left.path), constant(value)});
    push();
    return true;
  }
  if (right.op == ir::ExprOp::kPath && left.op == ir::ExprOp::kLiteral && fold(left, value)) {
    // 30 < user.age  ==  user.age > 30
    static constexpr uint8_t kMirror[] = {kEq, kNe, kGt, kGe, kLt, kLe};
    emit({Op::kCompareLoadConst, kMirror[sub], path(right.path), constant(value)});
    push();
    return true;
  }
  return false;
}

void Program::Impl::compile(const ir::Expr& expr) {
  ValueView value;
  switch (expr.op) {
    case ir::ExprOp::kLiteral:
    case ir::ExprOp::kList:
      if (fold(expr, value)) {
        emit({Op::kConst, 0, constant(value)});
        push();
        return;
      }
      for (const ir::Expr& element : expr.operands) compile(element);
      emit({Op::kMakeList, 0, static_cast<uint32_t>(expr.operands.size())});
      // The items move to the scratch's far end and stay there: count them twice.
      depth -= static_cast<uint32_t>(expr.operands.size());
      push();
      max_depth += static_cast<uint32_t>(expr.operands.size());
      return;
    case ir::ExprOp::kPath:
      emit({Op::kLoad, 0, path(expr.path)});
      push();
      return;
    case ir::ExprOp::kNow:
      emit({Op::kNow});
      push();
      return;
    case ir::ExprOp::kCall:
      compile_call(expr);
      return;
    case ir::ExprOp::kNot:
      if (expr.operands[0].op == ir::ExprOp::kPath) {
        emit({Op::kNotLoad, 0, path(expr.operands[0].path)});
        push();
        return;
      }
      compile(expr.operands[0]);
      emit({Op::kNot});
      return;
    case ir::ExprOp::kNegate:
      compile(expr.operands[0]);
      emit({Op::kNegate});
      return;
    case ir::ExprOp::kAnd:
    case ir::ExprOp::kOr:
      compile_logic(expr);
      return;
    default:
      break;
  }
  // Binary comparison or arithmetic; Sub follows ir::ExprOp's order from kEq.
  uint8_t sub = static_cast<uint8_t>(static_cast<int>(expr.op) - static_cast<int>(ir::ExprOp::kEq));
  bool comparison = sub <= kIn;
  if (comparison && compile_fused(expr, sub)) return;
  compile(expr.operands[0]);
  compile(expr.operands[1]);
  emit({comparison ? Op::kCompare : Op::kArithmetic, sub});
  --depth;
}

Program::Program() = default;
Program::Program(Program&&) noexcept = default;
Program& Program::operator=(Program&&) noexcept = default;
Program::~Program() = default;

Program Program::compile(const ir::Expr& tree) {
  Program program;
  program.impl_ = std::make_unique<Impl>();
  Impl& impl = *program.impl_;
  impl.compile(tree);
  impl.thread_jumps();
  if (impl.max_depth + 1 > kStackSize) {  // + 1: the accumulator's initial null
    // Only a list of a thousand paths gets here; it evaluates to null.
    impl.code.clear();
    impl.emit({Op::kConst, 0, impl.constant(ValueView::null())});
  }
  return program;
}

namespace {

// The interpreter, inlined into evaluate() and test(): test() then reads the
// result's type and boolean bytes where they were just written, instead of
// reloading the whole view (a stalled store-to-load forward on x86).
// REQUIRES: impl has been compiled.
template <typename Impl>
[[gnu::always_inline]] inline ValueView run(const Impl* impl_, const Scope& scope) {
  const Instruction* code = impl_->code.data();
  const size_t size = impl_->code.size();
  const ValueView* constants = impl_->constants.data();
  auto* stack = reinterpret_cast<ValueView*>(tls_stack);
  // Roots backed by a Record are read directly: no virtual call per path.
  const Record* records[4] = {nullptr, nullptr, nullptr, nullptr};
  for (unsigned root = 0; root < 4; ++root) {
    if (impl_->roots_used & (1u << root)) {
      records[root] = scope.record(static_cast<ir::PathRoot>(root));
    }
  }
  auto load = [&scope, &records](PathId path) {
    const Record* record = records[path & 3];
    return record != nullptr ? record->get(path) : scope.lookup(path);
  };
  // The top of the stack lives in `acc` (a register), the rest in `stack`: a
  // result is tested by the next instruction without a round trip to memory.
  ValueView acc;
  uint32_t top = 0;                  // slots below `acc`; slot 0 holds the initial null
  uint32_t list_floor = kStackSize;  // list items grow down from the end
  auto push = [&](ValueView value) {
    stack[top++] = acc;
    acc = value;
  };
  for (size_t pc = 0; pc < size; ++pc) {
    const Instruction& in = code[pc];
    switch (in.op) {
      case Op::kConst:
        push(constants[in.a]);
        break;
      case Op::kLoad:
        push(load(in.a));
        break;
      case Op::kNow:
        push(ValueView::of(scope.now()));
        break;
      case Op::kHas:
        push(ValueView::of(!load(in.a).is_null()));
        break;
      case Op::kDaysSince:
        push(days_since(load(in.a), scope.now()));
        break;
      case Op::kLocalHour:
        push(local_hour(scope));
        break;
      case Op::kLocalWeekday:
        push(local_weekday(scope));
        break;
      case Op::kCount:
        push(count_of(scope, impl_->counters[in.a]));
        break;
      case Op::kLastSeen:
        push(last_seen_of(scope, impl_->last_seen_types[in.a]));
        break;
      case Op::kHasValue:
        acc = ValueView::of(!acc.is_null());
        break;
      case Op::kNot:
        acc = ValueView::of(!truthy(acc));
        break;
      case Op::kToBool:
        acc = ValueView::of(truthy(acc));
        break;
      case Op::kNegate:
        acc = acc.type == Type::kNumber ? ValueView::of(-acc.number) : ValueView::null();
        break;
      case Op::kJumpIfFalse:
        if (!truthy(acc)) {
          acc = ValueView::of(false);
          pc = in.a - 1;
        } else {
          acc = stack[--top];
        }
        break;
      case Op::kJumpIfTrue:
        if (truthy(acc)) {
          acc = ValueView::of(true);
          pc = in.a - 1;
        } else {
          acc = stack[--top];
        }
        break;
      case Op::kCompare:
        acc = ValueView::of(compare(in.sub, stack[--top], acc));
        break;
      case Op::kCompareLoadConst:
        push(ValueView::of(compare(in.sub, load(in.a), constants[in.b])));
        break;
      case Op::kInConstLoad:
        push(ValueView::of(contains(constants[in.a], load(in.b))));
        break;
      case Op::kNotLoad:
        push(ValueView::of(!truthy(load(in.a))));
        break;
      case Op::kArithmetic:
        acc = arithmetic(in.sub, stack[--top], acc);
        break;
      case Op::kMakeList:
        // The elements are stack[top - (n - 1), top) and acc.
        if (in.a == 0) {
          push(ValueView::list(stack + list_floor, 0));
          break;
        }
        list_floor -= in.a;
        top -= in.a - 1;
        std::memcpy(static_cast<void*>(stack + list_floor), stack + top,
                    (in.a - 1) * sizeof(ValueView));
        stack[list_floor + in.a - 1] = acc;
        acc = ValueView::list(stack + list_floor, in.a);
        break;
    }
  }
  return acc;
}

}  // namespace

ValueView Program::evaluate(const Scope& scope) const {
  return impl_ ? run(impl_.get(), scope) : ValueView::null();
}

bool Program::test(const Scope& scope) const {
  return impl_ ? truthy(run(impl_.get(), scope)) : false;
}

const std::vector<PathId>& Program::paths() const {
  static const std::vector<PathId> kNone;
  return impl_ ? impl_->paths : kNone;
}

const std::vector<CounterUse>& Program::counters() const {
  static const std::vector<CounterUse> kNone;
  return impl_ ? impl_->counters : kNone;
}

const std::vector<std::string>& Program::last_seen_types() const {
  static const std::vector<std::string> kNone;
  return impl_ ? impl_->last_seen_types : kNone;
}

// ---------------------------------------------------------------------------
// Templates and display

namespace {

void append_number(std::string& out, double number) {
  char buffer[32];
  if (std::isfinite(number) && std::floor(number) == number && std::fabs(number) < 1e15) {
    auto result = std::to_chars(buffer, buffer + sizeof buffer, static_cast<long long>(number));
    out.append(buffer, result.ptr);
    return;
  }
  if (!std::isfinite(number)) {
    out += std::isnan(number) ? "NaN" : (number > 0 ? "Infinity" : "-Infinity");
    return;
  }
  auto result = std::to_chars(buffer, buffer + sizeof buffer, number);
  out.append(buffer, result.ptr);
}

void append_quoted(std::string& out, std::string_view text) {
  ir::append_quoted(out, text, ir::QuoteStyle::kExpression);
}

// Strings at the top level print as they are; inside lists, quoted.
void append_value(std::string& out, const ValueView& value, bool nested) {
  switch (value.type) {
    case Type::kNull:
      out += "null";
      return;
    case Type::kBool:
      out += value.boolean ? "true" : "false";
      return;
    case Type::kNumber:
      append_number(out, value.number);
      return;
    case Type::kString:
      if (nested)
        append_quoted(out, value.string());
      else
        out += value.string();
      return;
    case Type::kList:
      out += '[';
      for (uint32_t i = 0; i < value.size; ++i) {
        if (i > 0) out += ", ";
        append_value(out, value.items[i], true);
      }
      out += ']';
      return;
  }
}

}  // namespace

std::string to_display(const ValueView& value) {
  std::string out;
  append_value(out, value, false);
  return out;
}

void append_display(std::string& out, const ValueView& value) { append_value(out, value, false); }

namespace {

// As Liquid's `default` filter: empty text, false and an empty list take the
// default too, so "Hi {{user.first_name | default: \"there\"}}" never reads "Hi ,".
bool blank_for_default(const ValueView& value) {
  switch (value.type) {
    case Type::kString:
    case Type::kList:
      return value.size == 0;
    case Type::kBool:
      return !value.boolean;
    default:
      return false;
  }
}

}  // namespace

CompiledTemplate CompiledTemplate::compile(const ir::Template& source) {
  CompiledTemplate compiled;
  for (const ir::TemplatePart& part : source.parts) {
    Part out;
    if (part.path) {
      out.is_path = true;
      out.path = intern_path(*part.path);
      out.fallback = part.fallback.value_or("");
      out.has_fallback = part.fallback.has_value();
      if (std::find(compiled.paths_.begin(), compiled.paths_.end(), out.path) ==
          compiled.paths_.end()) {
        compiled.paths_.push_back(out.path);
      }
    } else {
      out.text = part.text;
    }
    compiled.parts_.push_back(std::move(out));
  }
  return compiled;
}

std::string CompiledTemplate::render(const Scope& scope) const {
  std::string out;
  for (const Part& part : parts_) {
    if (!part.is_path) {
      out += part.text;
      continue;
    }
    ValueView value = scope.lookup(part.path);
    if (value.is_null() || (part.has_fallback && blank_for_default(value))) {
      out += part.fallback;
    } else {
      append_value(out, value, false);
    }
  }
  return out;
}

}  // namespace trellis::expr
