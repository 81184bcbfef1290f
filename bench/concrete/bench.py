"""CrypDoc's quantised classifier compiled with Zama's Concrete (concrete-python), side by side
with our tfhe-rs circuit. Not part of CI; `bench/concrete/run.sh` sets it up and runs it.

Input: the model file (`models/*.json`, format `crypdoc-model` version 1) and an export of the
images made by `crates/crypdoc-model/examples/export_concrete.rs`: per image the quantised
pixels exactly as our pipeline preprocesses them, and the plaintext reference (pre-activations,
signs, integer logits, class). Python re-implements no preprocessing.

The circuit is the model's integer function:

    pre_j = b1_j + sum_i W1_ji x_i              (x_i in 0..15, W1 4-bit signed)
    a_j   = +1 if pre_j >= 0 else -1            (sign: a table lookup per hidden unit)
    z_k   = b2_k + sum_j W2_kj a_j              (integer logits, decrypted by the client)

Concrete's table lookups take at most 16-bit inputs and cost grows steeply with the bit width, so
the 15-17-bit accumulator `pre` is reduced before the lookup with `fhe.round_bit_pattern`:
`pre + 2^(r-1)` rounded to a multiple of `2^r` is `> 0` exactly when `pre >= 0`, so with exact
rounding the sign is exact and only `B - r` bits (`--keep-bits`) reach the lookup. With
`--exactness approximate` the rounding is a plain modulus switch (one bootstrap, like ours) and
units whose `pre` lies close to 0 may get the other sign, like ours.

The accumulator width `B` covers the model's calibrated `hidden_range` (what our circuit
represents exactly; `--range worst` covers every input instead), set with `fhe.hint`: Concrete
otherwise takes it from the inputset, which here is the exported images themselves.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
import warnings

warnings.filterwarnings("ignore", category=UserWarning)
warnings.filterwarnings("ignore", category=DeprecationWarning)

import numpy as np  # noqa: E402
from concrete import fhe  # noqa: E402


def load(model_path: str, export_path: str):
    with open(model_path) as f:
        model = json.load(f)
    with open(export_path) as f:
        export = json.load(f)
    if export["model_id"] != model["model_id"]:
        sys.exit(f"{export_path} was exported for model {export['model_id']}, not {model['model_id']}")
    return model, export


def layer(model, name):
    d = model[name]
    w = np.array(d["weights"], dtype=np.int64).reshape(d["outputs"], d["inputs"])
    b = np.array(d["bias"], dtype=np.int64)
    return w, b


def worst_range(w1, b1, max_pixel):
    pos = np.where(w1 > 0, w1, 0).sum(axis=1)
    neg = np.where(w1 < 0, w1, 0).sum(axis=1)
    return np.maximum(np.abs(b1 + max_pixel * pos), np.abs(b1 + max_pixel * neg))


def signed_bits(bound: int) -> int:
    """Bits of a two's complement integer holding -bound-1 .. bound."""
    return int(bound).bit_length() + 1


def reference(w1, b1, w2, b2, x):
    pre = w1 @ x + b1
    a = np.where(pre >= 0, 1, -1)
    return pre, w2 @ a + b2


def build(w1, b1, w2, b2, acc_bits: int, lsbs: int, exactness):
    half = 1 << (lsbs - 1) if lsbs > 0 else 0
    # z = b2 + W2 (2 s - 1) with s = [pre >= 0] in {0, 1}: the lookup yields s, the rest is linear.
    w2x2 = 2 * w2
    b2_folded = b2 - w2.sum(axis=1)

    def classifier(x):
        pre = (w1 @ x) + b1
        pre = fhe.hint(pre, bit_width=acc_bits)
        if lsbs > 0:
            rounded = fhe.round_bit_pattern(pre + half, lsbs_to_remove=lsbs, exactness=exactness)
            s = rounded > 0
        else:
            s = pre >= 0
        return (w2x2 @ s) + b2_folded

    return classifier


def ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1e3


def fmt_bytes(n: int) -> str:
    if n >= 1 << 20:
        return f"{n / (1 << 20):.1f} MiB ({n:,} B)"
    if n >= 1 << 10:
        return f"{n / (1 << 10):.1f} KiB ({n:,} B)"
    return f"{n} B"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True)
    p.add_argument("--export", required=True, help="JSON from the export_concrete example")
    p.add_argument("--images", type=int, default=24, help="how many exported images to encrypt and run")
    p.add_argument("--keep-bits", type=int, default=4,
                   help="bits of the accumulator that reach the sign lookup (the rest are rounded off)")
    p.add_argument("--exactness", choices=["exact", "approximate"], default="exact")
    p.add_argument("--range", choices=["calibrated", "worst"], default="calibrated",
                   help="accumulator width: the model's calibrated hidden_range (as our circuit) or every input")
    p.add_argument("--p-error", type=float, default=None,
                   help="per-bootstrap error probability for Concrete's optimiser (default: its global_p_error 1e-5)")
    p.add_argument("--no-compress", action="store_true",
                   help="do not seed (compress) the evaluation keys and input ciphertexts")
    p.add_argument("--simulate-only", action="store_true", help="compile, then only Concrete's simulation")
    p.add_argument("--simulate-repeats", type=int, default=1, help="simulation draws per image")
    p.add_argument("--ours", default=None, help="a JSON file with our side's figures to print beside")
    p.add_argument("--json-out", default=None)
    args = p.parse_args()

    model, export = load(args.model, args.export)
    w1, b1 = layer(model, "hidden")
    w2, b2 = layer(model, "output")
    max_pixel = (1 << model["input_bits"]) - 1
    images = export["images"][: args.images]
    xs = [np.array(im["pixels"], dtype=np.int64) for im in images]

    # Our reference, recomputed from the model file, must equal the exporter's (Rust) one.
    for im, x in zip(images, xs):
        pre, z = reference(w1, b1, w2, b2, x)
        assert pre.tolist() == im["pre_activations"] and z.tolist() == im["logits"], im["path"]

    calibrated = np.array(export["hidden_range"], dtype=np.int64)
    bound = int((calibrated if args.range == "calibrated" else worst_range(w1, b1, max_pixel)).max())
    acc_bits = signed_bits(bound)
    lsbs = max(acc_bits - args.keep_bits, 0)
    exactness = fhe.Exactness.EXACT if args.exactness == "exact" else fhe.Exactness.APPROXIMATE
    beyond = sum(int(np.any(np.abs(np.array(im["pre_activations"])) > bound)) for im in images)

    print(f"model {args.model} ({model['model_id'][:12]}): {w1.shape[1]} pixels x {model['input_bits']} bits "
          f"-> {w1.shape[0]} sign units -> {w2.shape[0]} logits")
    print(f"accumulator: |pre| <= {bound} ({args.range}) -> {acc_bits}-bit signed; "
          f"{lsbs} LSBs rounded off ({args.exactness}), {acc_bits - lsbs}-bit sign lookup; "
          f"images with a unit beyond the range: {beyond}")

    config = fhe.Configuration(
        compress_evaluation_keys=not args.no_compress,
        compress_input_ciphertexts=not args.no_compress,
        show_progress=False,
        **({"p_error": args.p_error, "global_p_error": None} if args.p_error else {}),
    )
    compiler = fhe.Compiler(build(w1, b1, w2, b2, acc_bits, lsbs, exactness), {"x": "encrypted"})
    # The inputset fixes every intermediate's bit width; the hint above widens the accumulator
    # to the calibrated range, which the few exported images do not reach.
    inputset = [x.astype(np.int64) for x in xs] + [np.zeros_like(xs[0]), np.full_like(xs[0], max_pixel)]
    t0 = time.perf_counter()
    circuit = compiler.compile(inputset, configuration=config)
    compile_ms = ms(t0)
    stats = {
        "pbs": circuit.programmable_bootstrap_count,
        "ks": circuit.key_switch_count,
        "complexity": circuit.complexity,
        "global_p_error": circuit.global_p_error,
        "p_error": circuit.p_error,
    }
    params = {str(k): v for k, v in circuit.programmable_bootstrap_count_per_parameter.items()}
    print(f"compiled in {compile_ms / 1e3:.1f} s: {stats['pbs']} bootstraps, {stats['ks']} key switches per scan, "
          f"p_error {stats['p_error']:.3g} per bootstrap, global {stats['global_p_error']:.3g}")
    for k, v in params.items():
        print(f"  bootstraps at {k}: {v}")

    # Concrete's simulation: the same integer circuit in the clear, with the errors its
    # parameters allow (for approximate rounding: the rounding error near each step) drawn at
    # random, `--simulate-repeats` draws per image.
    sim_exact = sim_agree = 0
    for _ in range(args.simulate_repeats):
        for im, x in zip(images, xs):
            z = [int(v) for v in np.asarray(circuit.simulate(x)).ravel()]
            sim_exact += int(z == im["logits"])
            sim_agree += int(int(np.argmax(z)) == im["class"])
    draws = args.simulate_repeats * len(images)
    print(f"Concrete simulation ({args.simulate_repeats} draws x {len(images)} images): exact logits "
          f"{sim_exact}/{draws} ({100 * sim_exact / draws:.2f}%), class agreement {sim_agree}/{draws} "
          f"({100 * sim_agree / draws:.2f}%)")
    if args.simulate_only:
        return

    t0 = time.perf_counter()
    circuit.keygen(force=True)
    keygen_ms = ms(t0)
    eval_key = circuit.keys.evaluation.serialize()
    sizes = {
        "evaluation_key_serialized": len(eval_key),
        "bootstrap_keys": circuit.size_of_bootstrap_keys,
        "keyswitch_keys": circuit.size_of_keyswitch_keys,
        "secret_keys": circuit.size_of_secret_keys,
        "inputs_in_memory": circuit.size_of_inputs,
        "outputs_in_memory": circuit.size_of_outputs,
    }
    print(f"keygen {keygen_ms / 1e3:.1f} s; evaluation key {fmt_bytes(len(eval_key))} serialized")

    # One untimed round trip first: the first call also loads the compiled library and keys.
    t0 = time.perf_counter()
    circuit.decrypt(circuit.run(circuit.encrypt(xs[0])))
    first_ms = ms(t0)
    print(f"first (untimed) round trip {first_ms:.0f} ms")

    rows = []
    for im, x in zip(images, xs):
        t0 = time.perf_counter()
        enc = circuit.encrypt(x)
        t_enc = ms(t0)
        upload = len(enc.serialize())
        t0 = time.perf_counter()
        out = circuit.run(enc)
        t_run = ms(t0)
        download = len(out.serialize())
        t0 = time.perf_counter()
        z = circuit.decrypt(out)
        t_dec = ms(t0)
        z = [int(v) for v in np.asarray(z).ravel()]
        cls = int(np.argmax(z))
        rows.append({"path": im["path"], "label": im["label"], "reference": im["logits"], "concrete": z,
                     "class_ref": im["class"], "class_concrete": cls, "encrypt_ms": t_enc, "run_ms": t_run,
                     "decrypt_ms": t_dec, "upload_bytes": upload, "download_bytes": download})
        print(f"  {os.path.basename(im['path']):>12} {im['label']:>3}: ref {im['logits']} -> concrete {z} "
              f"{'ok' if z == im['logits'] else 'LOGITS DIFFER'}{'' if cls == im['class'] else ' CLASS DIFFERS'}"
              f"  enc {t_enc:.0f} ms, run {t_run:.0f} ms, dec {t_dec:.1f} ms", flush=True)

    n = len(rows)
    exact = sum(int(r["concrete"] == r["reference"]) for r in rows)
    agree = sum(int(r["class_concrete"] == r["class_ref"]) for r in rows)
    classes = model["classes"]
    correct_ref = sum(int(classes[r["class_ref"]] == r["label"]) for r in rows)
    correct_fhe = sum(int(classes[r["class_concrete"]] == r["label"]) for r in rows)
    med = lambda k: statistics.median(r[k] for r in rows)  # noqa: E731
    mean = lambda k: statistics.fmean(r[k] for r in rows)  # noqa: E731
    result = {
        "model": args.model, "model_id": model["model_id"], "images": n,
        "accumulator_bits": acc_bits, "lsbs_removed": lsbs, "lookup_bits": acc_bits - lsbs,
        "exactness": args.exactness, "range": args.range, "p_error_arg": args.p_error, "compressed": not args.no_compress,
        "compile_ms": compile_ms, "keygen_ms": keygen_ms, "first_round_trip_ms": first_ms, "stats": stats, "pbs_per_parameter": params,
        "sizes": sizes, "encrypt_ms_median": med("encrypt_ms"), "run_ms_median": med("run_ms"),
        "decrypt_ms_median": med("decrypt_ms"), "encrypt_ms_mean": mean("encrypt_ms"),
        "run_ms_mean": mean("run_ms"), "decrypt_ms_mean": mean("decrypt_ms"),
        "upload_bytes": rows[0]["upload_bytes"] if rows else 0,
        "download_bytes": rows[0]["download_bytes"] if rows else 0,
        "exact_logits": exact, "class_agreement": agree, "correct_reference": correct_ref,
        "correct_concrete": correct_fhe, "simulated_class_agreement": sim_agree, "simulated_exact_logits": sim_exact,
        "simulated_draws": draws, "rows": rows,
        "concrete_python": fhe.__version__,
    }
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(result, f, indent=1)

    ours = None
    if args.ours and os.path.exists(args.ours):
        with open(args.ours) as f:
            ours = json.load(f)

    def o(key, fmt="{}"):
        if not ours or ours.get(key) is None:
            return "-"
        return fmt.format(ours[key])

    table = [
        ("compile (circuit / parameters)", f"{compile_ms / 1e3:.1f} s", o("compile", "{}")),
        ("key generation", f"{keygen_ms / 1e3:.1f} s", o("keygen_ms", "{:.0f} ms")),
        ("evaluation (server) key", fmt_bytes(len(eval_key)), o("server_key_bytes", "{:,} B")),
        ("encrypt per scan (median)", f"{med('encrypt_ms'):.0f} ms", o("encrypt_ms", "{:.0f} ms")),
        ("upload per scan", fmt_bytes(result["upload_bytes"]), o("upload_bytes", "{:,} B")),
        ("run (server) per scan (median)", f"{med('run_ms'):.0f} ms", o("evaluate_ms", "{:.0f} ms")),
        ("decrypt per scan (median)", f"{med('decrypt_ms'):.2f} ms", o("decrypt_ms", "{:.2f} ms")),
        ("download per scan", fmt_bytes(result["download_bytes"]), o("download_bytes", "{:,} B")),
        ("end to end per scan (mean)", f"{mean('encrypt_ms') + mean('run_ms') + mean('decrypt_ms'):.0f} ms",
         o("end_to_end_ms", "{:.0f} ms")),
        ("bootstraps per scan", f"{stats['pbs']}", o("bootstraps")),
        ("exact logits vs plaintext", f"{exact}/{n}", o("exact")),
        ("class agreement vs plaintext", f"{agree}/{n}", o("class")),
        ("correct (folder label), plaintext -> encrypted", f"{correct_ref} -> {correct_fhe} of {n}", "-"),
    ]
    w = max(len(r[0]) for r in table)
    c = max(len(r[1]) for r in table)
    print()
    print(f"| {'measure':<{w}} | {'Concrete ' + fhe.__version__:<{c}} | ours (tfhe-rs) |")
    print(f"|{'-' * (w + 2)}|{'-' * (c + 2)}|---|")
    for name, mine, theirs in table:
        print(f"| {name:<{w}} | {mine:<{c}} | {theirs} |")


if __name__ == "__main__":
    main()
