#pragma once

/// A process-wide "please stop" flag, set from a signal handler (SIGINT, SIGTERM) and read by
/// long loops, so that a stopped search records its running trial as interrupted instead of
/// leaving it for the next run to discover.

namespace nascent {

/// Asks long-running work to stop at its next safe point. Async-signal-safe.
void request_stop();

/// Whether request_stop() was called.
bool stop_requested();

/// Clears the flag (tests).
void clear_stop_request();

}  // namespace nascent
