"""One markdown table per model from bench/concrete/out/: ours beside every Concrete variant run.

    python summary.py [OUT_DIR]
"""

import glob
import json
import os
import re
import sys


def params(r):
    parts = []
    for key, count in r["pbs_per_parameter"].items():
        m = re.search(r"polynomial_size=(\d+), glwe_dimension=(\d+), input_lwe_dimension=(\d+), level=(\d+)", key)
        if m:
            parts.append(f"{count} x (n={m.group(3)}, N={m.group(1)}, k={m.group(2)}, l={m.group(4)})")
    return "; ".join(parts)


def kib(n):
    return f"{n / 1024:,.1f} KiB" if n < 1 << 20 else f"{n / (1 << 20):,.1f} MiB"


def main() -> None:
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "out")
    runs = {}
    for path in sorted(glob.glob(os.path.join(out, "concrete-*.json"))):
        with open(path) as f:
            r = json.load(f)
        runs.setdefault(os.path.basename(r["model"]).removesuffix(".json"), []).append(r)
    for name, variants in runs.items():
        ours = {}
        ours_path = os.path.join(out, f"ours-{name}.json")
        if os.path.exists(ours_path):
            with open(ours_path) as f:
                ours = json.load(f)
        variants.sort(key=lambda r: (r["exactness"] != "exact", r["lookup_bits"]))
        head = ["measure", "ours (tfhe-rs)"] + [
            f"Concrete {r['concrete_python']}, {r['exactness']} rounding, {r['lookup_bits']}-bit lookup"
            + (f", p_error {r['p_error_arg']:.0e}" if r.get("p_error_arg") else "")
            for r in variants
        ]

        def row(label, mine, theirs):
            return [label, mine] + [theirs(r) for r in variants]

        g = ours.get
        n = variants[0]["images"]
        rows = [
            row("compile", "none (hand-written circuit)", lambda r: f"{r['compile_ms'] / 1e3:.1f} s"),
            row("key generation", f"{g('keygen_ms'):.0f} ms" if g("keygen_ms") else "-",
                lambda r: f"{r['keygen_ms'] / 1e3:.1f} s"),
            row("server / evaluation key (seeded)", kib(g("server_key_bytes")) if g("server_key_bytes") else "-",
                lambda r: kib(r["sizes"]["evaluation_key_serialized"])),
            row("bootstraps per scan", str(g("bootstraps", "-")), lambda r: str(r["stats"]["pbs"])),
            row("bootstrap parameters", f"{g('bootstraps', 48)} x (n=918, N=2048, k=1, l=1)", params),
            row("error probability per bootstrap", "2^-129.6 (decisions >= 2^-6 of the torus from the boundary)",
                lambda r: f"{r['stats']['p_error']:.1e}"),
            row("encrypt per scan", f"{g('encrypt_ms'):.0f} ms" if g("encrypt_ms") else "-",
                lambda r: f"{r['encrypt_ms_median']:.0f} ms"),
            row("upload per scan", kib(g("upload_bytes")) if g("upload_bytes") else "-",
                lambda r: kib(r["upload_bytes"])),
            row("run (server) per scan", f"{g('evaluate_ms'):.0f} ms" if g("evaluate_ms") else "-",
                lambda r: f"{r['run_ms_median']:,.0f} ms"),
            row("decrypt per scan", f"{g('decrypt_ms'):.2f} ms" if g("decrypt_ms") else "-",
                lambda r: f"{r['decrypt_ms_median']:.2f} ms"),
            row("download per scan", kib(g("download_bytes")) if g("download_bytes") else "-",
                lambda r: kib(r["download_bytes"])),
            row("end to end per scan", f"{g('end_to_end_ms'):,.0f} ms" if g("end_to_end_ms") else "-",
                lambda r: f"{r['encrypt_ms_mean'] + r['run_ms_mean'] + r['decrypt_ms_mean']:,.0f} ms"),
            row(f"exact logits vs plaintext ({n} scans)", g("exact", "-"), lambda r: f"{r['exact_logits']}/{r['images']}"),
            row(f"class agreement vs plaintext ({n} scans)", g("class", "-"),
                lambda r: f"{r['class_agreement']}/{r['images']}"),
        ]
        print(f"\n{name} ({variants[0]['model_id'][:12]}), {n} images\n")
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for r in rows:
            print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
