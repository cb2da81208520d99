// libFuzzer target: one input read as an expression and as a template, each
// parsed, compiled and evaluated against a small user, as a flow version does
// when it is loaded and run.
#include <cstddef>
#include <cstdint>
#include <string>

#include "dsl/expr/program.h"
#include "dsl/expr/value.h"
#include "dsl/parse.h"

namespace expr = trellis::expr;
namespace ir = trellis::ir;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  expr::Record user;
  user.set("age", 34.0);
  user.set("plan", std::string_view("pro"));
  user.set("name", std::string_view("Ana"));
  expr::Record event;
  event.set("page", std::string_view("pricing"));
  event.set("value", 59.0);
  expr::RecordScope scope(&user, &event, &event, "C-001", 1795428000);

  ir::Diagnostics diagnostics;
  ir::Expression parsed = trellis::dsl::parse_expression(text, {1, 1, 0, 0}, "fuzz", diagnostics);
  if (parsed.tree) {
    expr::Program program = expr::Program::compile(*parsed.tree);
    (void)expr::to_display(program.evaluate(scope));
    (void)program.test(scope);
  }
  ir::Template parsed_template =
      trellis::dsl::parse_template(text, {1, 1, 0, 0}, "fuzz", diagnostics);
  if (!diagnostics.has_errors())
    (void)expr::CompiledTemplate::compile(parsed_template).render(scope);
  return 0;
}
