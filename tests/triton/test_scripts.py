import os
import subprocess
import time
import urllib.request

from conftest import ROOT


def test_start_is_a_noop_when_ready(triton_server):
    t0 = time.perf_counter()
    proc = subprocess.run(["bash", os.path.join(ROOT, "scripts/triton/start.sh")], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "already ready" in proc.stdout
    assert time.perf_counter() - t0 < 5


def test_metrics_endpoint_counts_inferences(triton_server, client):
    port = int(os.environ.get("TRITON_METRICS_PORT", "8102"))
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        body = r.read().decode()
    assert 'nv_inference_request_success{model="llm"' in body
    assert "nv_cpu_utilization" in body
