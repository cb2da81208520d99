// The crash test's child: runs the script until done or killed.
// usage: crash_child FLOW_FILE DB DELIVERIES ACKED
#include "crash_script.h"

int main(int argc, char** argv) {
  if (argc != 5) return 64;
  return trellis::crash::run_script(argv[1], argv[2], argv[3], argv[4]);
}
