#!/usr/bin/env bash
# CrypDoc's classifier in Zama's Concrete beside our tfhe-rs circuit (issue #14 item 6; not CI).
#
#   bench/concrete/run.sh [--model models/br35h-mlp.json] [--data samples/br35h] [--split all]
#                         [--images 24] [--variants "exact:4 approximate:4"] [--no-ours] [--ours-bench]
#
# 1. creates bench/concrete/.venv (python3 >= 3.9) with concrete-python pinned (it pulls torch:
#    several GB on Linux, once);
# 2. exports the images through our own preprocessing and reference inference
#    (crates/crypdoc-model/examples/export_concrete.rs);
# 3. ours, same images, same machine, same run: the real encrypted path
#    (crates/crypdoc-fhe/examples/agreement.rs: class / exact-logit agreement, ms per scan) and,
#    with --ours-bench and the default model, the per-stage criterion bench (keygen, encrypt,
#    evaluate, decrypt, sizes; adds a few minutes);
# 4. Concrete, once per variant ROUNDING:KEEP_BITS[:P_ERROR] (exact or approximate rounding of
#    the accumulator, KEEP_BITS bits reaching the sign lookup, optional per-bootstrap error
#    probability, default Concrete's global 1e-5): compile, keygen, encrypt, run, decrypt per
#    image, sizes, agreement; prints a table per variant.
# Everything lands in bench/concrete/out/ (ignored by git).
set -euo pipefail
cd "$(dirname "$0")/../.."

CONCRETE_PYTHON_VERSION=2.11.0
# concrete/__init__.py imports pkg_resources, which setuptools >= 81 no longer ships.
SETUPTOOLS_VERSION=80.9.0

model=models/br35h-mlp.json
data=samples/br35h
split=all
images=24
variants="exact:4 approximate:4"
ours=1
ours_bench=0
while [ $# -gt 0 ]; do
  case "$1" in
    --model) model=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --split) split=$2; shift 2 ;;
    --images) images=$2; shift 2 ;;
    --variants) variants=$2; shift 2 ;;
    --no-ours) ours=0; shift ;;
    --ours-bench) ours_bench=1; shift ;;
    -h|--help) sed -n 2,20p "$0"; exit 0 ;;
    *) echo "unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

venv=bench/concrete/.venv
target=${CARGO_TARGET_DIR:-target}
out=bench/concrete/out
mkdir -p "$out"
if ! "$venv/bin/python" -c "import concrete.fhe as f; assert f.__version__ == '$CONCRETE_PYTHON_VERSION'" 2>/dev/null; then
  echo "== creating $venv with concrete-python==$CONCRETE_PYTHON_VERSION"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "concrete-python==$CONCRETE_PYTHON_VERSION" "setuptools==$SETUPTOOLS_VERSION"
fi

name=$(basename "$model" .json)
export_json="$out/export-$name.json"
echo "== exporting $data ($split) through crypdoc-model's preprocessing"
cargo build --quiet --release -p crypdoc-model --example export_concrete
"$target"/release/examples/export_concrete "$model" "$data" "$export_json" "$split" "$images"

ours_json="$out/ours-$name.json"
rm -f "$ours_json"
if [ "$ours" = 1 ]; then
  echo "== ours: tfhe-rs, real encrypted path, same images"
  cargo build --quiet --release -p crypdoc-fhe --example agreement
  "$target"/release/examples/agreement "$model" "$data" "$split" "$images" | tee "$out/ours-agreement-$name.log"
  logs=("$out/ours-agreement-$name.log")
  if [ "$ours_bench" = 1 ] && [ "$model" = models/br35h-mlp.json ]; then
    echo "== ours: per-stage criterion bench (models/br35h-mlp.json)"
    cargo bench --quiet -p crypdoc-fhe --bench fhe 2>&1 | tee "$out/ours-bench.log"
    logs+=("$out/ours-bench.log")
  fi
  "$venv/bin/python" bench/concrete/ours.py "$ours_json" "${logs[@]}" >/dev/null
fi

for variant in $variants; do
  IFS=: read -r rounding keep perror <<<"$variant"
  tag="$name-$rounding-$keep${perror:+-p$perror}"
  echo
  echo "== Concrete $CONCRETE_PYTHON_VERSION: $name, $rounding rounding, $keep-bit sign lookup, p_error ${perror:-default}, $images images"
  "$venv/bin/python" bench/concrete/bench.py --model "$model" --export "$export_json" --images "$images" \
    --exactness "$rounding" --keep-bits "$keep" ${perror:+--p-error "$perror"} --ours "$ours_json" \
    --json-out "$out/concrete-$tag.json" 2>&1 | tee "$out/concrete-$tag.log"
done

echo
echo "== summary of every run in $out (markdown)"
"$venv/bin/python" bench/concrete/summary.py "$out"
