# Sourced by scripts/bench-*.sh: sets $py to a Python with the peers' packages and builds the release accel CLI.
# The venv (.venv-peers) is made from python/peers/requirements.txt and rebuilt when that file changes;
# ACCEL_PEERS_PYTHON=/path/to/python uses an existing environment instead. Runs from the repository root.
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false

py=${ACCEL_PEERS_PYTHON:-}
if [ -z "$py" ]; then
  py=.venv-peers/bin/python
  stamp=.venv-peers/.requirements.sha256
  want=$(sha256sum python/peers/requirements.txt | cut -d' ' -f1)
  if [ ! -x "$py" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    python3 -m venv .venv-peers
    .venv-peers/bin/pip install -q --upgrade pip
    .venv-peers/bin/pip install -q -r python/peers/requirements.txt
    echo "$want" > "$stamp"
  fi
fi

bash scripts/install-deps.sh
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DACCEL_WERROR=ON -DACCEL_BUILD_TESTS=OFF >/dev/null
cmake --build build-release --target accel -j "$(nproc)"
