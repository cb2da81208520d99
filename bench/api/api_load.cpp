// Load generator for `trellis serve` on loopback (no wrk on Debian's default
// install here, and we want durable-ack semantics: a request counts only when
// it answered 202).
//
//   api_load batch  --port N [--batch 100] [--connections 4] [--seconds 10]
//       closed loop: each connection POSTs arrays of `batch` cart events as
//       fast as they are acknowledged; prints events/s and request latency.
//       --form segment: the same events as Segment track calls in the
//       `{"batch": [...], "sentAt"}` envelope @segment/analytics-node posts
//       (with its messageId, timestamp and context.library), to /v1/batch;
//       --form segment-events: those calls as an array to /v1/events.
//   api_load single --port N [--rate 2000] [--connections 16] [--seconds 10]
//       open loop: one-event POSTs on a fixed schedule of `rate` per second;
//       latency counts from the scheduled send time, so a stalled server
//       cannot hide its queueing (no coordinated omission).
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Args {
  std::string mode;
  int port = 8080;
  int batch = 100;
  int connections = 4;
  int seconds = 10;
  int rate = 2000;
  std::string token;
  std::string form = "trellis";  // batch mode: trellis (/v1/events) or segment (/v1/batch)
};

Args parse(int argc, char** argv) {
  Args a;
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: api_load batch|single --port N [--batch N] [--connections N] "
                 "[--seconds N] [--rate N] [--token T] [--form trellis|segment|segment-events]\n");
    std::exit(2);
  }
  a.mode = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--port")
      a.port = std::stoi(v);
    else if (k == "--batch")
      a.batch = std::stoi(v);
    else if (k == "--connections")
      a.connections = std::stoi(v);
    else if (k == "--seconds")
      a.seconds = std::stoi(v);
    else if (k == "--rate")
      a.rate = std::stoi(v);
    else if (k == "--token")
      a.token = v;
    else if (k == "--form")
      a.form = v;
  }
  return a;
}

std::string event_json(const std::string& run, long n) {
  // A cart event for a fresh user: each one starts a journey and arms a 72 h timer.
  return "{\"id\":\"" + run + "-" + std::to_string(n) +
         "\",\"type\":\"add_to_cart\",\"user_id\":\"" + run + "-u" + std::to_string(n) +
         "\",\"properties\":{\"value\":59,\"cart_id\":\"c" + std::to_string(n) + "\"}}";
}

// The same cart event as a Segment track call, as the Node SDK sends it.
std::string segment_call_json(const std::string& run, long n) {
  return "{\"timestamp\":\"2026-11-23T10:00:00.000Z\",\"integrations\":{},"
         "\"event\":\"add_to_cart\",\"type\":\"track\",\"properties\":{\"value\":59,"
         "\"cart_id\":\"c" +
         std::to_string(n) + "\"},\"userId\":\"" + run + "-u" + std::to_string(n) +
         "\",\"context\":{\"library\":{\"name\":\"@segment/analytics-node\","
         "\"version\":\"2.3.0\"}},\"messageId\":\"" +
         run + "-" + std::to_string(n) + "\"}";
}

// One request of `batch` events starting at `first`: its path, body and the
// status that acknowledges it.
struct BatchRequest {
  const char* path;
  std::string body;
  int ok_status;
};

// --form trellis: Trellis events to /v1/events; segment: Segment calls in the
// SDK's envelope to /v1/batch; segment-events: the same Segment calls as an
// array to /v1/events (the endpoint's own cost, apart from the payload's).
BatchRequest batch_request(const Args& a, const std::string& run, long first) {
  const bool segment = a.form == "segment";
  const bool segment_calls = segment || a.form == "segment-events";
  std::string body = segment ? "{\"batch\":[" : "[";
  for (int i = 0; i < a.batch; ++i)
    body += (i ? "," : "") +
            (segment_calls ? segment_call_json(run, first + i) : event_json(run, first + i));
  body += segment ? "],\"writeKey\":\"k\",\"sentAt\":\"2026-11-23T10:00:00.010Z\"}" : "]";
  if (segment) return {"/v1/batch", std::move(body), 200};
  return {"/v1/events", std::move(body), 202};
}

struct Latencies {
  std::mutex mu;
  std::vector<double> ms;
  void add(const std::vector<double>& more) {
    std::lock_guard<std::mutex> lock(mu);
    ms.insert(ms.end(), more.begin(), more.end());
  }
  double pct(double p) {
    if (ms.empty()) return 0;
    std::sort(ms.begin(), ms.end());
    return ms[std::min(ms.size() - 1, static_cast<size_t>(p / 100.0 * ms.size()))];
  }
};

httplib::Headers headers(const Args& a) {
  if (a.token.empty()) return {};
  return {{"Authorization", "Bearer " + a.token}};
}

int run_batch(const Args& a, const std::string& run) {
  std::atomic<long> next{0}, events{0}, errors{0};
  Latencies lat;
  auto end = Clock::now() + std::chrono::seconds(a.seconds);
  std::vector<std::thread> threads;
  for (int c = 0; c < a.connections; ++c) {
    threads.emplace_back([&] {
      httplib::Client client("127.0.0.1", a.port);
      client.set_keep_alive(true);
      client.set_tcp_nodelay(true);  // else Nagle + delayed ACK add ~40 ms a request
      std::vector<double> mine;
      while (Clock::now() < end) {
        BatchRequest request = batch_request(a, run, next.fetch_add(a.batch));
        auto t0 = Clock::now();
        auto r = client.Post(request.path, headers(a), request.body, "application/json");
        mine.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        if (r && r->status == request.ok_status)
          events += a.batch;
        else
          ++errors;
      }
      lat.add(mine);
    });
  }
  auto t0 = Clock::now();
  for (auto& t : threads) t.join();
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf(
      "batch: %ld events acknowledged in %.1f s = %.0f events/s (%s form, batch %d, "
      "%d connections, %ld errors); request latency p50 %.2f ms, p99 %.2f ms\n",
      events.load(), secs, events / secs, a.form.c_str(), a.batch, a.connections, errors.load(),
      lat.pct(50), lat.pct(99));
  return errors ? 1 : 0;
}

int run_single(const Args& a, const std::string& run) {
  std::atomic<long> ok{0}, errors{0};
  Latencies lat;
  const long total = static_cast<long>(a.rate) * a.seconds;
  const double interval_us = 1e6 / a.rate;
  auto start = Clock::now() + std::chrono::milliseconds(100);
  std::vector<std::thread> threads;
  for (int c = 0; c < a.connections; ++c) {
    threads.emplace_back([&, c] {
      httplib::Client client("127.0.0.1", a.port);
      client.set_keep_alive(true);
      client.set_tcp_nodelay(true);  // else Nagle + delayed ACK add ~40 ms a request
      std::vector<double> mine;
      // Connection c sends requests c, c + connections, ... each at its slot.
      for (long n = c; n < total; n += a.connections) {
        auto due = start + std::chrono::microseconds(static_cast<long>(n * interval_us));
        std::this_thread::sleep_until(due);
        auto r = client.Post("/v1/events", headers(a), event_json(run, n), "application/json");
        mine.push_back(std::chrono::duration<double, std::milli>(Clock::now() - due).count());
        if (r && r->status == 202)
          ++ok;
        else
          ++errors;
      }
      lat.add(mine);
    });
  }
  for (auto& t : threads) t.join();
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf(
      "single: %ld requests in %.1f s = %.0f req/s (target %d, %d connections, %ld errors); "
      "latency p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n",
      ok.load(), secs, ok / secs, a.rate, a.connections, errors.load(), lat.pct(50), lat.pct(90),
      lat.pct(99), lat.pct(100));
  return errors ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args a = parse(argc, argv);
  std::string run =
      "r" +
      std::to_string(std::chrono::system_clock::now().time_since_epoch().count() % 1000000007);
  if (a.mode == "batch") return run_batch(a, run);
  if (a.mode == "single") return run_single(a, run);
  std::fprintf(stderr, "api_load: mode is batch or single\n");
  return 2;
}
