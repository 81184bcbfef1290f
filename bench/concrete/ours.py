"""Turns the output of our own measurements into the JSON that bench.py prints beside Concrete's.

    python ours.py OUT.json AGREEMENT_LOG [CRITERION_LOG]

AGREEMENT_LOG: stdout of `crates/crypdoc-fhe/examples/agreement.rs` on the same images (class
and exact-logit agreement, end-to-end ms per scan through the real encrypted path).
CRITERION_LOG: stdout + stderr of `cargo bench -p crypdoc-fhe --bench fhe` (per-stage times and
wire sizes; that bench always uses models/br35h-mlp.json, so it is only read for that model).
"""

import json
import re
import sys


def criterion(text: str) -> dict:
    out = {}
    names = {
        "keygen": "keygen_ms",
        "server key expand": "expand_ms",
        "encrypt (client)": "encrypt_ms",
        "evaluate (server": "evaluate_ms",
        "decrypt (client)": "decrypt_ms",
        "end to end per scan": "bench_end_to_end_ms",
    }
    unit = {"ns": 1e-6, "µs": 1e-3, "us": 1e-3, "ms": 1.0, "s": 1e3}
    # "fhe/NAME\n   time:   [low unit mid unit high unit]" (the name may share the line with time:)
    for m in re.finditer(r"fhe/([^\n]*?)\s*\n?\s*time:\s*\[\S+ \S+ (\S+) (\S+) \S+ \S+\]", text):
        name, value, u = m.group(1), float(m.group(2)), m.group(3)
        for prefix, key in names.items():
            if name.startswith(prefix):
                out[key] = value * unit[u]
    m = re.search(r"sizes: upload (\d+) B .*?result (\d+) B, server key (\d+) B", text)
    if m:
        out["upload_bytes"], out["download_bytes"], out["server_key_bytes"] = map(int, m.groups())
    return out


def main() -> None:
    out_path, agreement_log = sys.argv[1], sys.argv[2]
    ours = {"compile": "none (hand-written circuit)"}
    text = open(agreement_log).read()
    m = re.search(
        r"(\d+) inputs, (\d+) hidden units: exact logits (\d+)/(\d+) .*?class (\d+)/(\d+) .*?([\d.]+) ms per scan",
        text,
        re.S,
    )
    if m:
        n, hidden, exact, _, cls, _, e2e = m.groups()
        ours.update(
            exact=f"{exact}/{n}",
            **{"class": f"{cls}/{n}"},
            end_to_end_ms=float(e2e),
            bootstraps=int(hidden),
        )
    if len(sys.argv) > 3:
        ours.update(criterion(open(sys.argv[3]).read()))
    with open(out_path, "w") as f:
        json.dump(ours, f, indent=1)
    print(json.dumps(ours))


if __name__ == "__main__":
    main()
