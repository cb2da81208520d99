// The only translation unit that includes Boost.MSM (docs/architecture.md#conventions: heavy templates
// stay in one .cpp). The machine runs once per (state, input) pair at first use
// to fill a 7x7 table, so the hot path is a table lookup and no MSM object
// lives beside each journey.
#include "runtime/journey_lifecycle.h"

#include <array>
#include <boost/msm/back/state_machine.hpp>
#include <boost/msm/front/functor_row.hpp>
#include <boost/msm/front/state_machine_def.hpp>
#include <mutex>

namespace trellis::runtime {

namespace {

namespace msm = boost::msm;
namespace mpl = boost::mpl;
using msm::front::none;
using msm::front::Row;

// Inputs.
struct Start {};
struct WaitTimer {};
struct WaitEvent {};
struct Wake {};
struct Complete {};
struct ExitOn {};
struct Fail {};

struct LifecycleDef : msm::front::state_machine_def<LifecycleDef> {
  struct Entered : msm::front::state<> {};
  struct Running : msm::front::state<> {};
  struct WaitingTimer : msm::front::state<> {};
  struct WaitingEvent : msm::front::state<> {};
  struct Completed : msm::front::state<> {};
  struct Exited : msm::front::state<> {};
  struct Failed : msm::front::state<> {};

  using initial_state = Entered;

  // clang-format off
  // MSM looks the table up by this exact name.
  struct transition_table : mpl::vector<  // NOLINT(readability-identifier-naming)
    //   from          input      to
    Row<Entered,      Start,     Running>,
    Row<Entered,      ExitOn,    Exited>,
    Row<Entered,      Fail,      Failed>,
    Row<Running,      WaitTimer, WaitingTimer>,
    Row<Running,      WaitEvent, WaitingEvent>,
    Row<Running,      Complete,  Completed>,
    Row<Running,      ExitOn,    Exited>,
    Row<Running,      Fail,      Failed>,
    Row<WaitingTimer, Wake,      Running>,
    Row<WaitingTimer, ExitOn,    Exited>,
    Row<WaitingTimer, Fail,      Failed>,
    Row<WaitingEvent, Wake,      Running>,
    Row<WaitingEvent, ExitOn,    Exited>,
    Row<WaitingEvent, Fail,      Failed>
  > {};
  // clang-format on

  // An input the table does not allow leaves the state unchanged; we detect
  // that by comparing states, so no_transition only records it.
  template <class Fsm, class Input>
  void no_transition(const Input&, Fsm&, int) {
    rejected = true;
  }
  bool rejected = false;
};

using Machine = msm::back::state_machine<LifecycleDef>;

constexpr int kStates = 7;
constexpr int kInputs = 7;

template <class Input>
void send(Machine& m) {
  m.process_event(Input{});
}

void send_input(Machine& m, LifecycleInput input) {
  switch (input) {
    case LifecycleInput::kStart:
      return send<Start>(m);
    case LifecycleInput::kWaitTimer:
      return send<WaitTimer>(m);
    case LifecycleInput::kWaitEvent:
      return send<WaitEvent>(m);
    case LifecycleInput::kWake:
      return send<Wake>(m);
    case LifecycleInput::kComplete:
      return send<Complete>(m);
    case LifecycleInput::kExitOn:
      return send<ExitOn>(m);
    case LifecycleInput::kFail:
      return send<Fail>(m);
  }
}

// A path of inputs from the initial state to each state.
const std::array<std::vector<LifecycleInput>, kStates>& paths_to_states() {
  using I = LifecycleInput;
  static const std::array<std::vector<LifecycleInput>, kStates> paths = {{
      {},
      {I::kStart},
      {I::kStart, I::kWaitTimer},
      {I::kStart, I::kWaitEvent},
      {I::kStart, I::kComplete},
      {I::kStart, I::kExitOn},
      {I::kStart, I::kFail},
  }};
  return paths;
}

using Table = std::array<std::array<int, kInputs>, kStates>;  // -1: not allowed

// MSM numbers states by first appearance in the transition table; map its ids
// to our stored enum values explicitly rather than rely on row order.
template <class State>
constexpr int msm_id() {
  return msm::back::get_state_id<Machine::stt, State>::value;
}

int to_lifecycle(int msm_state) {
  using D = LifecycleDef;
  const std::array<int, kStates> ids = {msm_id<D::Entered>(),      msm_id<D::Running>(),
                                        msm_id<D::WaitingTimer>(), msm_id<D::WaitingEvent>(),
                                        msm_id<D::Completed>(),    msm_id<D::Exited>(),
                                        msm_id<D::Failed>()};
  for (int i = 0; i < kStates; ++i)
    if (ids[i] == msm_state) return i;
  return -1;
}

Table build_table() {
  Table table{};
  for (int s = 0; s < kStates; ++s) {
    for (int i = 0; i < kInputs; ++i) {
      Machine m;
      m.start();
      for (LifecycleInput step : paths_to_states()[s]) send_input(m, step);
      m.rejected = false;
      send_input(m, static_cast<LifecycleInput>(i));
      table[s][i] = m.rejected ? -1 : to_lifecycle(m.current_state()[0]);
    }
  }
  return table;
}

const Table& table() {
  static const Table t = build_table();
  return t;
}

constexpr std::array<std::string_view, kStates> kNames = {
    "entered", "running", "waiting_timer", "waiting_event", "completed", "exited", "failed"};

}  // namespace

std::optional<Lifecycle> transition(Lifecycle from, LifecycleInput input) {
  const int to = table()[static_cast<int>(from)][static_cast<int>(input)];
  if (to < 0) return std::nullopt;
  return static_cast<Lifecycle>(to);
}

bool is_live(Lifecycle state) {
  return state == Lifecycle::kEntered || state == Lifecycle::kRunning || is_waiting(state);
}

bool is_waiting(Lifecycle state) {
  return state == Lifecycle::kWaitingTimer || state == Lifecycle::kWaitingEvent;
}

std::string_view lifecycle_name(Lifecycle state) { return kNames[static_cast<int>(state)]; }

std::optional<Lifecycle> lifecycle_from_name(std::string_view name) {
  for (int i = 0; i < kStates; ++i)
    if (kNames[i] == name) return static_cast<Lifecycle>(i);
  return std::nullopt;
}

}  // namespace trellis::runtime
