"""The app exactly as `python app.py` serves it, plus a memory probe for the soak (never part of the app).

    python -m benchmarks.soak_server --port 7861 --probe /tmp/probe.txt [--trace]

On SIGUSR1 it appends to the probe file: RSS, RSS after gc.collect(), the sizes of Gradio's per-request
structures (sessions, queue analytics, temp-file sets) and of the app's digit pools, the object types whose
counts grew most since the first probe and, with --trace, tracemalloc's lines whose memory grew most.
SIGUSR2 does the same and also reports RSS after glibc's malloc_trim(0) (memory freed but kept by malloc).
benchmarks/soak_app.py --probe starts it instead of app.py.
"""

import argparse
import collections
import ctypes
import gc
import signal
import sys
import threading
import time
import tracemalloc
from pathlib import Path


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Probe:
    def __init__(self, path: Path, demo, trace: bool):
        self.path, self.demo, self.trace = path, demo, trace
        self.first_counts: collections.Counter | None = None
        self.first_snapshot = None
        self.lock = threading.Lock()

    def gradio_sizes(self) -> dict[str, int]:
        demo = self.demo
        queue = demo._queue
        sizes = {
            "sessions": len(demo.state_holder.session_data),
            "session times": len(demo.state_holder.time_last_used),
            "queue analytics": len(queue.event_analytics),
            "queue events": len(queue.event_ids_to_events),
            "queue pending sessions": len(queue.pending_event_ids_session),
            "temp files": sum(len(s) for s in demo.temp_file_sets),
            "app iterators": len(getattr(demo.server_app, "iterators", {})),
        }
        from demo import digits

        sizes["digit pools"] = sum(len(p) for p in digits._pools.values())
        return sizes

    def report(self, trim: bool) -> str:
        lines = [f"--- probe at {time.strftime('%H:%M:%S')}: RSS {rss_mb():.1f} MB"]
        gc.collect()
        lines.append(f"after gc.collect: RSS {rss_mb():.1f} MB")
        if trim:
            try:
                ctypes.CDLL("libc.so.6").malloc_trim(0)
                lines.append(f"after malloc_trim(0): RSS {rss_mb():.1f} MB")
            except (OSError, AttributeError):
                lines.append("malloc_trim: not available")
        lines.append("gradio: " + ", ".join(f"{k} {v}" for k, v in self.gradio_sizes().items()))
        counts = collections.Counter(type(o).__name__ for o in gc.get_objects())
        if self.first_counts is None:
            self.first_counts = counts
            lines.append(f"objects tracked by gc: {sum(counts.values())} (first probe: the baseline)")
        else:
            grown = (counts - self.first_counts).most_common(12)
            lines.append(f"objects tracked by gc: {sum(counts.values())} (first {sum(self.first_counts.values())})")
            lines.append("  grown since the first probe: " + ", ".join(f"{name} +{n}" for name, n in grown))
        if self.trace:
            snapshot = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
            if self.first_snapshot is None:
                self.first_snapshot = snapshot
                traced = sum(s.size for s in snapshot.statistics("filename"))
                lines.append(f"tracemalloc: {traced / 1e6:.1f} MB traced (baseline)")
            else:
                stats = snapshot.compare_to(self.first_snapshot, "lineno")
                total = sum(s.size_diff for s in stats)
                lines.append(f"tracemalloc: {total / 1e6:+.1f} MB traced since the first probe; largest growth:")
                for stat in stats[:12]:
                    frame = stat.traceback[0]
                    where = f"{frame.filename}:{frame.lineno}"
                    lines.append(f"  {stat.size_diff / 1e6:+7.2f} MB {stat.count_diff:+7d} blocks  {where}")
        return "\n".join(lines) + "\n"

    def write(self, trim: bool) -> None:
        with self.lock, self.path.open("a") as handle:
            handle.write(self.report(trim))
            handle.write("--- done\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--probe", type=Path, required=True, help="file the reports are appended to")
    parser.add_argument("--trace", action="store_true", help="tracemalloc on (slower; 1 frame per allocation)")
    args = parser.parse_args()
    if args.trace:
        tracemalloc.start(1)
    sys.argv = ["app.py"]
    import app
    from demo.ui import launch_options

    app.demo.launch(server_port=args.port, share=False, prevent_thread_lock=True, **launch_options())
    probe = Probe(args.probe, app.demo, args.trace)
    requested, trim = threading.Event(), threading.Event()
    signal.signal(signal.SIGUSR1, lambda *_: requested.set())
    signal.signal(signal.SIGUSR2, lambda *_: (trim.set(), requested.set()))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    while True:
        if requested.wait(1):
            requested.clear()
            probe.write(trim.is_set())
            trim.clear()


if __name__ == "__main__":
    main()
