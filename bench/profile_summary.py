#!/usr/bin/env python3
"""Sums a LibTorch autograd-profiler trace (nascent_bench_throughput --profile FILE) by
operator: self time (an operator's time minus the operators it called), in milliseconds per
training step and as a share of the total.

    /usr/bin/python3 bench/profile_summary.py trace.json [--steps 10] [--top 20]
"""
import argparse
import collections
import json


def self_times(events):
    """Self time per operator name, from complete ('X') events nested by time on each thread."""
    totals = collections.defaultdict(float)
    by_thread = collections.defaultdict(list)
    for event in events:
        if event.get("ph") == "X":
            by_thread[event.get("tid")].append(event)
    for thread_events in by_thread.values():
        # Parents before children: earlier start first, longer first at the same start.
        thread_events.sort(key=lambda e: (float(e["ts"]), -float(e["dur"])))
        stack = []  # [end, name, self time so far]
        for event in thread_events:
            start, duration = float(event["ts"]), float(event["dur"])
            while stack and stack[-1][0] <= start:
                end, name, own = stack.pop()
                totals[name] += own
            if stack:
                stack[-1][2] -= duration
            stack.append([start + duration, event["name"], duration])
        while stack:
            end, name, own = stack.pop()
            totals[name] += own
    return totals


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trace")
    parser.add_argument("--steps", type=int, default=10, help="training steps in the trace")
    parser.add_argument("--top", type=int, default=20, help="operators to list")
    args = parser.parse_args()
    with open(args.trace) as trace_file:
        trace = json.load(trace_file)
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    totals = self_times(events)
    grand_total = sum(totals.values())
    print(f"total self time: {grand_total / 1000 / args.steps:.2f} ms per step")
    print("| operator | ms per step | share |")
    print("|---|---:|---:|")
    for name, micros in sorted(totals.items(), key=lambda item: -item[1])[: args.top]:
        print(f"| {name} | {micros / 1000 / args.steps:.2f} | {100 * micros / grand_total:.1f}% |")


if __name__ == "__main__":
    main()
