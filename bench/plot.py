"""Renders the harness's PNG plots from a results JSON (called by bench/run.ts; runs in the project .venv).

    .venv/bin/python bench/plot.py bench/results/bench.json bench/results/plots

One PNG per kind of figure, for the scenarios present in the JSON:
  latency-distributions.png  CDFs: gateway TTFT direct vs through Morgan; voice end of speech → first audio
  latency-vs-concurrency.png p50/p95 against concurrent streams/sessions (gateway, voice, storage)
  memory-vs-sessions.png     server RSS against idle sessions held open
  throughput.png             messages or turns per second per message kind
"""

import json
import os
import sys

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def cdf(ax, sk, label, **style):
    """sk: {"n": samples, "quantiles": evenly spaced quantiles} as bench/lib/stats.ts sketch() writes."""
    if not sk or not sk["quantiles"]:
        return
    xs = np.sort(np.asarray(sk["quantiles"], dtype=float))
    ys = np.arange(1, xs.size + 1) / xs.size
    ax.step(xs, ys, where="post", label=f"{label} (n={sk['n']})", **style)


def scenario(report, sid):
    return next((s for s in report["scenarios"] if s["id"] == sid), None)


def pct(sk, q):
    values = sk["quantiles"] if sk else []
    return float(np.percentile(np.asarray(values, dtype=float), q)) if values else float("nan")


def latency_distributions(report, out):
    gateway, voice = scenario(report, "gateway"), scenario(report, "voice")
    panels = []
    if gateway:
        panels += [("gateway", c) for c in gateway["plots"]["comparisons"]]
    if voice:
        panels.append(("voice", voice["plots"]["levels"]))
    if not panels:
        return None
    cols = min(3, len(panels))
    rows = (len(panels) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 3.6 * rows), squeeze=False)
    for ax, (kind, data) in zip(axes.flat, panels):
        if kind == "gateway":
            what = "first audio chunk" if data["kind"] == "TTS" else "first token"
            cdf(ax, data["directFirstMs"], "direct Triton (a)")
            cdf(ax, data["gatewayFirstMs"], "through Morgan (b)")
            ax.set_title(f"{data['kind']} time to {what}, {data['streams']} streams", fontsize=9)
        else:
            for level in data:
                cdf(ax, level["endToAudioMs"], f"{level['sessions']} sessions")
            ax.set_title("voice: end of speech → first audio (client)", fontsize=9)
            ax.set_xscale("log")
            ax.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
        ax.set_xlabel("ms")
        ax.set_ylabel("fraction ≤ x")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    fig.tight_layout()
    path = os.path.join(out, "latency-distributions.png")
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def latency_vs_concurrency(report, out):
    gateway, voice, storage = scenario(report, "gateway"), scenario(report, "voice"), scenario(report, "storage")
    panels = [p for p in (gateway, voice, storage) if p]
    if not panels:
        return None
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.8), squeeze=False)
    axes = list(axes.flat)
    i = 0
    if gateway:
        ax = axes[i]
        i += 1
        # The target is a ratio, so plot (b)/(a) per percentile rather than 16 absolute curves.
        for kind in ("LLM", "LLM′", "LLM″", "TTS"):
            cs = [c for c in gateway["plots"]["comparisons"] if c["kind"] == kind]
            if not cs:
                continue
            xs = [c["streams"] for c in cs]
            for q, style in ((50, "-"), (95, "--")):
                ax.plot(xs, [pct(c["gatewayFirstMs"], q) / pct(c["directFirstMs"], q) for c in cs], style, marker="o", label=f"{kind} p{q}")
        ax.axhline(1.05, color="red", linewidth=0.8, linestyle=":", label="target 1.05")
        ax.set_title("gateway: time to first token / chunk, through Morgan ÷ direct", fontsize=9)
        ax.set_xlabel("concurrent streams")
        ax.set_ylabel("ratio (b)/(a)")
    if voice:
        ax = axes[i]
        i += 1
        levels = voice["plots"]["levels"]
        xs = [lv["sessions"] for lv in levels]
        for key, label in (("endToAudioMs", "end of speech → first audio"), ("sttFinalMs", "server: stt_final"), ("ttsFirstChunkMs", "server: tts_first_chunk")):
            ax.plot(xs, [pct(lv[key], 50) for lv in levels], marker="o", label=f"{label} p50")
            ax.plot(xs, [pct(lv[key], 95) for lv in levels], marker="x", linestyle="--", label=f"{label} p95")
        ax.axhline(800, color="red", linewidth=0.8, linestyle=":", label="issue 7 target p95 800 ms")
        ax.set_yscale("log")
        ax.set_title("voice turns", fontsize=9)
        ax.set_xlabel("concurrent sessions")
    if storage:
        ax = axes[i]
        points = storage["plots"]["storage"]
        for op in dict.fromkeys(p["operation"] for p in points):
            ps = [p for p in points if p["operation"] == op]
            ax.plot([p["concurrency"] for p in ps], [max(p["p99Ms"], 0.0001) for p in ps], marker="o", label=f"{op[:40]} p99")
        ax.set_yscale("log")
        ax.set_title("storage under concurrency (p99)", fontsize=9)
        ax.set_xlabel("concurrent callers")
    for ax in axes:
        if not ax.get_ylabel():
            ax.set_ylabel("ms")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6)
    fig.tight_layout()
    path = os.path.join(out, "latency-vs-concurrency.png")
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def memory_vs_sessions(report, out):
    sessions = scenario(report, "sessions")
    if not sessions or not sessions["plots"].get("memory"):
        return None
    curve = sessions["plots"]["memory"]
    xs = [p["sessions"] for p in curve]
    ys = [p["rssMiB"] for p in curve]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(xs, ys, marker="o", label="Morgan RSS")
    ax.plot(xs, [ys[0] + x * 64 / 1024 for x in xs], linestyle=":", color="red", label="baseline + 64 KiB/session (target)")
    ax.set_xlabel("idle sessions held open")
    ax.set_ylabel("RSS (MiB)")
    ax.set_title("server memory against sessions", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = os.path.join(out, "memory-vs-sessions.png")
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def throughput(report, out):
    scen = scenario(report, "throughput")
    if not scen:
        return None
    variants = scen["plots"]["variants"]
    fig, ax = plt.subplots(figsize=(6, 4))
    labels = [v["message"] for v in variants]
    ax.bar(labels, [v["rate"] for v in variants], color=[f"C{i}" for i in range(len(variants))])
    ax.axhline(10000, color="red", linestyle=":", label="target 10,000/s (control messages)")
    for i, v in enumerate(variants):
        ax.text(i, v["rate"], f"{v['rate']:.0f}/s\nCPU {v['serverCpuCores']}", ha="center", va="bottom", fontsize=8)
    # Log scale: text turns run at ~100/s beside ~10,000 control messages/s.
    ax.set_yscale("log")
    ax.set_ylim(10, max(v["rate"] for v in variants) * 3)
    ax.set_ylabel("per second (text: turns/s), log scale")
    ax.set_title("messages through one server", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = os.path.join(out, "throughput.png")
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def main():
    source, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    with open(source) as f:
        report = json.load(f)
    written = [p for p in (latency_distributions(report, out), latency_vs_concurrency(report, out), memory_vs_sessions(report, out), throughput(report, out)) if p]
    print("plots: " + ", ".join(written))


if __name__ == "__main__":
    main()
