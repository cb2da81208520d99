// The PostgreSQL store's flow results (docs/results.md#rollups), as SQLite's
// (runtime/sqlite/rollups.cpp): a transaction's rollups written at its commit
// with one upsert per table, the rollups, message counts, arrows and the
// drill-down read back, counts() from the all-time rollups, and the one-time
// backfill of a database that held journeys before schema 5. Where SQLite
// counts a message's later status changes and feedback by triggers, the
// writer counts them from each delivery update's old and new row and writes
// them with the rest: a trigger would lock the hot message rows at each
// update, in an order that differs between transactions, and several nodes
// writing at once would deadlock on them.
#include <algorithm>
#include <charconv>
#include <optional>
#include <utility>
#include <variant>
#include <map>
#include <string>
#include <system_error>
#include <vector>

#include "runtime/postgres/rows.h"
#include "runtime/postgres/writer.h"
#include "runtime/stored_counts.h"
#include "runtime/stored_fields.h"

namespace trellis::runtime::postgres {

namespace {

// Array literals ({1,2}) of numbers for unnest($n::bigint[]) and float8[].
std::string number_array(const std::vector<int64_t>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + std::to_string(items[i]);
  return out + "}";
}

std::string number_array(const std::vector<double>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    char buffer[32];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, items[i]);
    out += (i ? "," : "");
    out += ec == std::errc() ? std::string(buffer, end) : std::to_string(items[i]);
  }
  return out + "}";
}

// The columns of one upsert, gathered row by row, sent as arrays.
struct Columns {
  std::vector<std::vector<std::string>> text;
  std::vector<std::vector<int64_t>> ints;
  std::vector<std::vector<double>> reals;
  Columns(size_t texts, size_t ints_n, size_t reals_n)
      : text(texts), ints(ints_n), reals(reals_n) {}
  bool empty() const { return text.empty() ? ints.front().empty() : text.front().empty(); }
};

// One row of a result, read by column as SQLite's statements are: what the
// row readers of stored_counts.h take.
struct RowAt {
  const Rows& rows;
  int row;
  int64_t i64(int c) const { return rows.i64(row, c); }
  std::string text(int c) const { return rows.text(row, c); }
  std::optional<int64_t> opt_i64(int c) const { return rows.opt_i64(row, c); }
  std::optional<double> opt_double(int c) const { return rows.opt_real(row, c); }
};

// Every row of `r` (none when the query failed) as `read` returns it.
template <typename Read>
auto read_rows(const std::optional<Rows>& r, Read read) {
  std::vector<decltype(read(std::declval<RowAt>()))> out;
  if (r)
    for (int i = 0; i < r->size(); ++i) out.push_back(read(RowAt{*r, i}));
  return out;
}

std::string select(const char* columns, const char* rest) {
  return std::string("SELECT ") + columns + rest;
}

}  // namespace

// --- reads ---

std::vector<StateCount> Reader::states(const std::string& flow) {
  std::vector<StateCount> out;
  // Kept by the writer with every journey write (write_journey_counts).
  if (auto r = query("by_state",
                     "SELECT node, state, journeys, conversions FROM journey_counts "
                     "WHERE flow = $1 AND journeys > 0 AND node != '~holdout'",
                     Params().add(flow)))
    for (int i = 0; i < r->size(); ++i)
      out.push_back(
          {r->text(i, 0), static_cast<Lifecycle>(r->i64(i, 1)), r->i64(i, 2), r->i64(i, 3)});
  return out;
}

FlowTotals Reader::totals(const std::string& flow) { return totals_from(states(flow)); }

FlowCounts Reader::counts(const std::string& flow) {
  return counts_from_rollups(rollup_totals(flow), message_rollups(flow, true, 0, 0), states(flow));
}

std::vector<RollupRow> Reader::rollup_totals(const std::string& flow) {
  return read_rows(
      query("rollup_totals",
            select(kRollupColumns, " FROM rollups WHERE flow = $1 AND hour = -1").c_str(),
            Params().add(flow)),
      [&](const RowAt& r) { return read_rollup_row(r, flow); });
}

std::vector<RollupRow> Reader::rollup_hours(const std::string& flow, TimeMs from, TimeMs to) {
  return read_rows(query("rollup_hours", rollup_hours_sql('$').c_str(),
                         Params().add(flow).add(std::max<TimeMs>(from, 0)).add(to)),
                   [&](const RowAt& r) { return read_rollup_row(r, flow); });
}

std::vector<MessageRollupRow> Reader::message_rollups(const std::string& flow, bool all_time,
                                                      TimeMs from, TimeMs to) {
  auto read = [](const RowAt& r) { return read_message_rollup_row(r); };
  if (all_time)
    return read_rows(
        query("message_rollups_all",
              select(kMessageRollupColumns, " FROM message_rollups WHERE flow = $1 AND hour = -1")
                  .c_str(),
              Params().add(flow)),
        read);
  return read_rows(query("message_rollups_hours",
                         select(kMessageRollupColumns,
                                " FROM message_rollups WHERE flow = $1 AND hour >= $2 AND "
                                "hour < $3")
                             .c_str(),
                         Params().add(flow).add(std::max<TimeMs>(from, 0)).add(to)),
                   read);
}

std::vector<MessageHour> Reader::message_hours(const std::string& flow, TimeMs from, TimeMs to) {
  return read_rows(query("message_hours", message_hours_sql('$').c_str(),
                         Params().add(flow).add(std::max<TimeMs>(from, 0)).add(to)),
                   [](const RowAt& r) { return read_message_hour(r); });
}

std::vector<EdgeRow> Reader::rollup_edges(const std::string& flow) {
  return read_rows(
      query("rollup_edges", select(kEdgeColumns, " FROM rollup_edges WHERE flow = $1").c_str(),
            Params().add(flow)),
      [&](const RowAt& r) { return read_edge_row(r, flow); });
}

std::vector<JourneySummary> Reader::flow_journeys(const JourneyQuery& q) {
  // Not prepared: the filters vary, and the drill-down is not a hot path.
  const JourneyListSql list = journey_list_sql(q, '$', "strpos");
  Params params;
  for (const auto& value : list.params) std::visit([&](const auto& v) { params.add(v); }, value);
  if (reconnect_) conn_.reconnect_if_lost();
  Result<Rows> r = conn_.run_once(list.sql, params);
  if (!r.ok()) {
    if (errors_ && !*errors_) *errors_ = r.error();
    return {};
  }
  return read_rows(std::optional<Rows>(std::move(r.value())),
                   [](const RowAt& row) { return read_journey_summary(row); });
}

FlowCounts Reader::scanned_counts(const std::string& flow) {
  std::map<std::string, int64_t> entered;
  auto count_entries = [&](const std::optional<Rows>& r) {
    if (!r) return;
    for (int i = 0; i < r->size(); ++i)
      step_codec::decode(r->bytes(i, 0), "", words_, /*render_reason=*/false,
                         [&](const step_codec::DecodedStep& d) {
                           if (d.input == "entry") ++entered[d.node];
                         });
  };
  count_entries(
      query("entries_inline", "SELECT history FROM journeys WHERE flow = $1", Params().add(flow)));
  count_entries(query("entries_grouped", "SELECT steps FROM step_groups WHERE flow = $1",
                      Params().add(flow)));
  VariantTally variants;
  if (auto r = query("variants",
                     "SELECT variant, converted_at IS NOT NULL, count(*) FROM journeys "
                     "WHERE flow = $1 AND variant != '' GROUP BY 1, 2",
                     Params().add(flow)))
    for (int i = 0; i < r->size(); ++i)
      variants.add(r->text(i, 0), r->text(i, 1) == "t", r->i64(i, 2));
  std::vector<MessageCount> messages;
  if (auto r = query("messages",
                     "SELECT node, channel, count(*), count(*) FILTER (WHERE status = 1), "
                     "count(*) FILTER (WHERE status = 3), count(*) FILTER (WHERE status = 4), "
                     "count(*) FILTER (WHERE status = 5), count(*) FILTER (WHERE status = 2), "
                     "count(delivered_at), count(opened_at), count(clicked_at), count(bounced_at), "
                     "count(complained_at) FROM deliveries WHERE flow = $1 AND channel != 'coupon' "
                     "GROUP BY node, channel ORDER BY node, channel",
                     Params().add(flow)))
    messages = read_rows(r, [](const RowAt& row) { return read_message_count(row); });
  return counts_from_scan(entered, states(flow), variants.counts(), std::move(messages));
}

// --- writes ---

Status Writer::add_rollups(const RollupBatch& batch) {
  for (const auto& [key, counts] : rollup_rows_to_write(batch)) rollup_rows_[key] += counts;
  for (const auto& [key, n] : message_rows_to_write(batch)) message_changes_[key].messages += n;
  for (const auto& [key, n] : batch.edges) edge_changes_[key] += n;
  return Status();
}

void Writer::forget_rollups() {
  rollup_rows_.clear();
  message_changes_.clear();
  edge_changes_.clear();
  count_changes_.clear();
}

void Writer::count_journey(const std::string& flow, const std::string& node, int state,
                           bool converted, int64_t sign) {
  JourneyCountChange& c = count_changes_[JourneyCountKey{flow, node, state}];
  c.journeys += sign;
  c.conversions += converted ? sign : 0;
}

void Writer::count_update(const JourneyRecord& now, const std::string& old_node, int old_state,
                          bool old_converted) {
  const int state = static_cast<int>(now.state);
  const bool converted = now.converted_at.has_value();
  if (old_node == now.node && old_state == state && old_converted == converted) return;
  count_journey(now.flow, old_node, old_state, old_converted, -1);
  count_journey(now.flow, now.node, state, converted, +1);
}

// The old row's status and feedback times, and the RETURNING list that tells
// what the update moved (updated_deliveries).
#define TRELLIS_PG_COUNTED_OLD                                                                   \
  "id AS old_id, status AS old_status, delivered_at AS old_delivered, opened_at AS old_opened, " \
  "clicked_at AS old_clicked, bounced_at AS old_bounced, complained_at AS old_complained"
#define TRELLIS_PG_COUNTED_NEW                                                                     \
  "flow, at, flow_version, node, channel, variant, old_status, status, "                           \
  "old_delivered IS NULL AND delivered_at IS NOT NULL, "                                           \
  "old_opened IS NULL AND opened_at IS NOT NULL, old_clicked IS NULL AND clicked_at IS NOT NULL, " \
  "old_bounced IS NULL AND bounced_at IS NOT NULL, "                                               \
  "old_complained IS NULL AND complained_at IS NOT NULL"

Result<int64_t> Writer::updated_deliveries(const char* name, const char* set, const char* where,
                                           const Params& params) {
  // The old values come from the same rows, locked first: RETURNING shows
  // only the new ones.
  const std::string sql =
      std::string("WITH old AS (SELECT " TRELLIS_PG_COUNTED_OLD " FROM deliveries WHERE ") + where +
      " FOR UPDATE) UPDATE deliveries SET " + set +
      " FROM old WHERE id = old_id RETURNING " TRELLIS_PG_COUNTED_NEW;
  Result<Rows> r = run(name, sql.c_str(), params);
  if (!r.ok()) return r.error();
  const Rows& rows = r.value();
  for (int i = 0; i < rows.size(); ++i) {
    if (rows.text(i, 4) == "coupon") continue;  // coupons are no messages
    const TimeMs at = rows.i64(i, 1);
    const int old_status = static_cast<int>(rows.i64(i, 6)),
              status = static_cast<int>(rows.i64(i, 7));
    int64_t feedback[5];
    int64_t any_feedback = 0;
    for (int k = 0; k < 5; ++k) any_feedback += feedback[k] = rows.text(i, 8 + k) == "t" ? 1 : 0;
    for (const TimeMs hour : {kAllTimeHour, at - at % kHourMs}) {
      MessageKey key{hour,
                     rows.text(i, 0),
                     static_cast<int>(rows.i64(i, 2)),
                     rows.text(i, 3),
                     rows.text(i, 4),
                     rows.text(i, 5),
                     old_status};
      if (old_status != status) {
        message_changes_[key].messages -= 1;
        key.status = status;
        message_changes_[key].messages += 1;
      }
      if (any_feedback) {
        key.status = -1;
        MessageChange& c = message_changes_[key];
        c.delivered += feedback[0];
        c.opened += feedback[1];
        c.clicked += feedback[2];
        c.bounced += feedback[3];
        c.complained += feedback[4];
      }
    }
  }
  return static_cast<int64_t>(rows.size());
}

Status Writer::write_rollups() {
  if (!rollup_rows_.empty()) {
    Columns c(3, 5, 2);  // flow node variant | hour version entered exited converted | revenue²
    for (const auto& [key, counts] : rollup_rows_) {
      c.text[0].push_back(key.flow);
      c.text[1].push_back(key.node);
      c.text[2].push_back(key.variant);
      c.ints[0].push_back(key.hour);
      c.ints[1].push_back(key.version);
      c.ints[2].push_back(counts.entered);
      c.ints[3].push_back(counts.exited);
      c.ints[4].push_back(counts.converted);
      c.reals[0].push_back(counts.revenue);
      c.reals[1].push_back(counts.revenue_sq);
    }
    if (Status s = done(
            "add_rollups",
            "INSERT INTO rollups(flow, hour, version, node, variant, entered, exited, converted, "
            "revenue, revenue_sq) SELECT * FROM unnest($1::text[], $2::bigint[], $3::int[], "
            "$4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::bigint[], $9::float8[], "
            "$10::float8[]) ON CONFLICT(flow, hour, version, node, variant) DO UPDATE SET "
            "entered = rollups.entered + excluded.entered, "
            "exited = rollups.exited + excluded.exited, "
            "converted = rollups.converted + excluded.converted, "
            "revenue = rollups.revenue + excluded.revenue, "
            "revenue_sq = rollups.revenue_sq + excluded.revenue_sq",
            Params()
                .add(text_array(c.text[0]))
                .add(number_array(c.ints[0]))
                .add(number_array(c.ints[1]))
                .add(text_array(c.text[1]))
                .add(text_array(c.text[2]))
                .add(number_array(c.ints[2]))
                .add(number_array(c.ints[3]))
                .add(number_array(c.ints[4]))
                .add(number_array(c.reals[0]))
                .add(number_array(c.reals[1])));
        !s)
      return s.error().prefixed("rollups: ");
  }
  if (!message_changes_.empty()) {
    // flow node channel variant | hour version status messages delivered opened clicked
    // bounced complained
    Columns c(4, 9, 0);
    for (const auto& [key, m] : message_changes_) {
      c.text[0].push_back(key.flow);
      c.text[1].push_back(key.node);
      c.text[2].push_back(key.channel);
      c.text[3].push_back(key.variant);
      const int64_t values[] = {key.hour,
                                int64_t{key.version},
                                int64_t{key.status},
                                m.messages,
                                m.delivered,
                                m.opened,
                                m.clicked,
                                m.bounced,
                                m.complained};
      for (size_t k = 0; k < 9; ++k) c.ints[k].push_back(values[k]);
    }
    Params params;
    params.add(text_array(c.text[0])).add(number_array(c.ints[0])).add(number_array(c.ints[1]));
    params.add(text_array(c.text[1])).add(text_array(c.text[2])).add(text_array(c.text[3]));
    for (size_t k = 2; k < 9; ++k) params.add(number_array(c.ints[k]));
    if (Status s =
            done("add_message_rollups",
                 "INSERT INTO message_rollups SELECT * FROM unnest($1::text[], $2::bigint[], "
                 "$3::int[], $4::text[], $5::text[], $6::text[], $7::int[], $8::bigint[], "
                 "$9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[]) "
                 "ON CONFLICT(flow, hour, version, node, channel, variant, status) DO UPDATE SET "
                 "messages = message_rollups.messages + excluded.messages, "
                 "delivered = message_rollups.delivered + excluded.delivered, "
                 "opened = message_rollups.opened + excluded.opened, "
                 "clicked = message_rollups.clicked + excluded.clicked, "
                 "bounced = message_rollups.bounced + excluded.bounced, "
                 "complained = message_rollups.complained + excluded.complained",
                 params);
        !s)
      return s.error().prefixed("rollups: ");
  }
  if (!edge_changes_.empty()) {
    Columns c(3, 2, 0);  // flow from to | version journeys
    for (const auto& [key, journeys] : edge_changes_) {
      c.text[0].push_back(key.flow);
      c.text[1].push_back(key.from);
      c.text[2].push_back(key.to);
      c.ints[0].push_back(key.version);
      c.ints[1].push_back(journeys);
    }
    if (Status s = done(
            "add_rollup_edges",
            "INSERT INTO rollup_edges(flow, version, from_node, to_node, journeys) "
            "SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::bigint[]) "
            "ON CONFLICT(flow, version, from_node, to_node) DO UPDATE SET "
            "journeys = rollup_edges.journeys + excluded.journeys",
            Params()
                .add(text_array(c.text[0]))
                .add(number_array(c.ints[0]))
                .add(text_array(c.text[1]))
                .add(text_array(c.text[2]))
                .add(number_array(c.ints[1])));
        !s)
      return s.error().prefixed("rollups: ");
  }
  if (Status s = write_journey_counts(); !s) return s;
  forget_rollups();
  return Status();
}

Status Writer::write_journey_counts() {
  Columns c(2, 3, 0);  // flow node | state journeys conversions
  for (const auto& [key, change] : count_changes_) {
    if (change.journeys == 0 && change.conversions == 0) continue;
    c.text[0].push_back(key.flow);
    c.text[1].push_back(key.node);
    c.ints[0].push_back(key.state);
    c.ints[1].push_back(change.journeys);
    c.ints[2].push_back(change.conversions);
  }
  if (c.empty()) return Status();
  if (Status s = done("add_journey_counts",
                      "INSERT INTO journey_counts(flow, node, state, journeys, conversions) "
                      "SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::bigint[], "
                      "$5::bigint[]) ON CONFLICT(flow, node, state) DO UPDATE SET "
                      "journeys = journey_counts.journeys + excluded.journeys, "
                      "conversions = journey_counts.conversions + excluded.conversions",
                      Params()
                          .add(text_array(c.text[0]))
                          .add(text_array(c.text[1]))
                          .add(number_array(c.ints[0]))
                          .add(number_array(c.ints[1]))
                          .add(number_array(c.ints[2])));
      !s)
    return s.error().prefixed("journey counts: ");
  return Status();
}

int64_t Writer::prune_rollups(TimeMs before) {
  int64_t removed = 0;
  for (const auto& [name, sql] :
       {std::pair<const char*, const char*>{"prune_rollups",
                                            "DELETE FROM rollups WHERE hour >= 0 AND hour < $1"},
        {"prune_message_rollups", "DELETE FROM message_rollups WHERE hour >= 0 AND hour < $1"}}) {
    Result<Rows> r = run(name, sql, Params().add(before));
    if (r.ok()) removed += r.value().changed();
  }
  return removed;
}

Status Writer::backfill_rollups() {
  if (Status s = begin(); !s) return s;
  // Several nodes may open the database at once: the one whose transaction
  // takes the mark fills the rollups, the others find it gone.
  Result<Rows> mark =
      run("take_backfill_mark", "DELETE FROM meta WHERE k = 'rollups_backfill' RETURNING k");
  if (!mark.ok() || mark.value().empty()) return commit();
  Result<Rows> flows = run("backfill_flows", "SELECT DISTINCT flow FROM journeys");
  if (!flows.ok()) return commit();  // fails with the error
  RollupBatch batch;
  for (int f = 0; f < flows.value().size(); ++f) {
    const std::string flow = flows.value().text(f, 0);
    Result<Rows> r = run("backfill_variants",
                         "SELECT variant, count(*), count(ended_at), count(converted_at), "
                         "coalesce(sum(revenue), 0) FROM journeys WHERE flow = $1 GROUP BY variant",
                         Params().add(flow));
    if (!r.ok()) return commit();
    std::vector<VariantJourneys> by_variant;
    for (int i = 0; i < r.value().size(); ++i)
      by_variant.push_back({r.value().text(i, 0), r.value().i64(i, 1), r.value().i64(i, 2),
                            r.value().i64(i, 3), r.value().real(i, 4)});
    add_backfill(batch, flow, reader_.scanned_counts(flow), by_variant);
  }
  (void)add_rollups(batch);
  return commit();
}

}  // namespace trellis::runtime::postgres
