#!/usr/bin/env bash
# CI: build the Dockerfile and prove the image it makes (docs/deploy.md).
#
# No Docker engine runs here, so the image is built and run with buildah (Debian's package,
# installed when missing and this is root with apt-get, as on CI), with chroot isolation:
# no daemon, no namespaces but the mount one, the host's network. With no registry
# reachable, the base image is made locally: `debootstrap --variant=minbase bookworm` with
# python3 (3.11, as python:3.11-slim), passed to the Dockerfile as its BASE build argument.
# CHECK_IMAGE_BASE=python:3.11-slim builds from that image instead, where a registry is
# reachable.
#
# Then, in containers of the built image:
#   - its configuration: user not root, working directory /var/lib/scimbridge, STOPSIGNAL,
#     HEALTHCHECK; no pip, compiler or source tree in it;
#   - the image's HEALTHCHECK command fails before the bridge listens;
#   - the image's CMD serves a configuration without `mapping:` nor `database:`, with
#     SCIMBRIDGE_PORT set to another port than 8080, as the unprivileged user, and the
#     HEALTHCHECK command, run until it passes, passes within a minute;
#   - the image carries no vendor emulator: `scimbridge emulate` says how to install them;
#   - a SCIM POST is answered 201 and its user reaches a Rocket.Chat emulator (run on the
#     host, from the checkout's .venv) through the worker thread; the SQLite database is
#     in the volume;
#   - SIGTERM stops `serve` and `scimbridge worker` with status 0, well within the stop bound.
#
# Environment: CHECK_IMAGE_BASE (above); CHECK_IMAGE_MIRROR, the Debian mirror for
# debootstrap (http://deb.debian.org/debian); CHECK_IMAGE_STORE, a directory for buildah's
# images, kept between runs so that the base is made once (default: a temporary one,
# removed at the end); CHECK_IMAGE_TAG, the name of the built image (localhost/scimbridge:check).
set -euo pipefail
cd "$(dirname "$0")/.."

base=${CHECK_IMAGE_BASE:-}
mirror=${CHECK_IMAGE_MIRROR:-http://deb.debian.org/debian}
tag=${CHECK_IMAGE_TAG:-localhost/scimbridge:check}
local_base=localhost/scimbridge-base:bookworm
started=$SECONDS

say() { echo "check-image: $*" >&2; }
fail() { say "FAILED: $*"; exit 1; }
elapsed() { echo "$((SECONDS - started)) s"; }

[ "$(id -u)" = 0 ] || fail "needs root (buildah with chroot isolation, debootstrap)"

# ---- tools
packages=()
command -v buildah >/dev/null || packages+=(buildah)
[ -n "$base" ] || command -v debootstrap >/dev/null || packages+=(debootstrap)
if [ ${#packages[@]} -gt 0 ]; then
  command -v apt-get >/dev/null || fail "${packages[*]} missing and no apt-get to install them"
  say "installing ${packages[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${packages[@]}" >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null \
         && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${packages[@]}" >/dev/null; } \
    || fail "could not install ${packages[*]}"
fi

work=$(mktemp -d /tmp/scimbridge-image.XXXXXX)
chmod 755 "$work"
mkdir "$work/tmp"
store=${CHECK_IMAGE_STORE:-$work/store}
mkdir -p "$store"
driver=overlay
if ! buildah --root "$work/probe/root" --runroot "$work/probe/run" --storage-driver overlay images >/dev/null 2>&1; then
  driver=vfs
fi
# TMPDIR: buildah's scratch files, which a killed `buildah run` leaves, go away with $work.
B=(env "TMPDIR=$work/tmp" buildah --root "$store/root" --runroot "$store/run" --storage-driver "$driver")
export BUILDAH_ISOLATION=chroot

containers=()
processes=()   # the `buildah run` processes this script started
commands=()    # the commands they run (chroot isolation: no PID namespace, the host sees them)
cleanup() {
  local pid alive
  for pid in "${commands[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  # each `buildah run` ends once its command has, and cleans up after itself
  for _ in $(seq 150); do
    alive=
    for pid in "${commands[@]}" "${processes[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ -z "$alive" ] && break
    sleep 0.2
  done
  for pid in "${commands[@]}" "${processes[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  for pid in "${processes[@]}"; do wait "$pid" 2>/dev/null || true; done
  for ctr in "${containers[@]}"; do "${B[@]}" rm "$ctr" >/dev/null 2>&1 || true; done
  if [ -z "${CHECK_IMAGE_STORE:-}" ]; then
    "${B[@]}" rmi --all --force >/dev/null 2>&1 || true
    # the storage driver's own mounts under the temporary store, deepest first
    awk -v store="$store" 'index($2, store) == 1 {print $2}' /proc/mounts | sort -r \
      | while read -r mount; do umount -l "$mount" 2>/dev/null || true; done
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# ---- the base image
if [ -z "$base" ]; then
  base=$local_base
  if "${B[@]}" inspect --type image "$base" >/dev/null 2>&1; then
    say "base image $base already in $store"
  else
    say "making $base: debootstrap --variant=minbase bookworm with python3 ($mirror)"
    ctr=$("${B[@]}" from scratch)
    containers+=("$ctr")
    root=$("${B[@]}" mount "$ctr")
    debootstrap --variant=minbase --include=python3,python3-venv bookworm "$root" "$mirror" \
      >"$work/debootstrap.log" 2>&1 || { tail -n 20 "$work/debootstrap.log" >&2; fail "debootstrap"; }
    # This machine's own certificate authorities (an egress proxy's), so that pip in the
    # build reaches PyPI as the host's pip does; python:3.11-slim needs none of this.
    if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
      cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
      chroot "$root" update-ca-certificates >/dev/null 2>&1 || fail "update-ca-certificates in the base"
      printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' >"$root/etc/pip.conf"
    fi
    rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb
    : >"$root/etc/resolv.conf"
    "${B[@]}" config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      --cmd python3 "$ctr"
    "${B[@]}" umount "$ctr" >/dev/null
    "${B[@]}" commit --quiet --rm "$ctr" "$base" >/dev/null
    containers=()
    say "base image made ($(elapsed))"
  fi
  pull=(--pull=never)
else
  pull=(--pull=missing)
fi

# ---- the build (docker format: the OCI format has no HEALTHCHECK)
say "building $tag from BASE=$base"
if ! "${B[@]}" bud --format docker "${pull[@]}" --build-arg "BASE=$base" -t "$tag" . \
     >"$work/build.log" 2>&1; then
  tail -n 40 "$work/build.log" >&2
  fail "the image does not build"
fi
say "built ($(elapsed)); $("${B[@]}" images --format '{{.Size}}' "$tag" | head -n 1)"

# ---- the image's configuration
config_json=$("${B[@]}" inspect --type image "$tag" | python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin)["Docker"]["config"]))')
field() { python3 -c 'import json, sys; print(eval(sys.argv[1], {"c": json.loads(sys.stdin.read())}))' "$1" <<<"$config_json"; }
nul_list() { python3 -c 'import json, sys; sys.stdout.write("".join(a + "\0" for a in eval(sys.argv[1], {"c": json.loads(sys.stdin.read())})))' "$1" <<<"$config_json"; }

[ "$(field 'c.get("User")')" = scimbridge ] || fail "USER is $(field 'c.get("User")'), not scimbridge"
[ "$(field 'c.get("WorkingDir")')" = /var/lib/scimbridge ] || fail "WORKDIR is not /var/lib/scimbridge"
[ "$(field 'c.get("StopSignal")')" = SIGTERM ] || fail "STOPSIGNAL is not SIGTERM"
[ "$(field '"/var/lib/scimbridge" in (c.get("Volumes") or {})')" = True ] || fail "no VOLUME /var/lib/scimbridge"
[ "$(field '"PYTHONUNBUFFERED=1" in c["Env"]')" = True ] || fail "PYTHONUNBUFFERED is not set"
[ "$(field 'c.get("Healthcheck") is not None')" = True ] || fail "no HEALTHCHECK"
mapfile -d '' -t cmd < <(nul_list 'c["Cmd"]')
mapfile -d '' -t check < <(nul_list 'c["Healthcheck"]["Test"]')
case "${check[0]}" in
  CMD) check=("${check[@]:1}") ;;
  CMD-SHELL) check=(/bin/sh -c "${check[1]}") ;;
  *) fail "HEALTHCHECK ${check[*]}" ;;
esac

ctr=$("${B[@]}" from --pull=never --quiet "$tag")
containers+=("$ctr")
uid=$("${B[@]}" run "$ctr" -- id -u)
[ "$uid" != 0 ] || fail "the image runs as root"
# shellcheck disable=SC2016  # expanded by the container's shell
"${B[@]}" run "$ctr" -- /bin/sh -c '
  for tool in pip pip3 gcc cc make git; do
    if command -v "$tool" >/dev/null; then echo "$tool: $(command -v "$tool")"; fi
  done
  for path in /src /wheels /opt/pip /opt/scimbridge/bin/pip; do
    if [ -e "$path" ]; then echo "$path"; fi
  done' >"$work/leftovers"
# python:3.11-slim ships pip with its interpreter; the virtual environment must not.
grep -v -E '^pip3?: /usr/(local/)?bin/pip3?$' "$work/leftovers" >"$work/unexpected" || true
[ -s "$work/unexpected" ] && fail "build tools or build leftovers in the image: $(tr '\n' ' ' <"$work/unexpected")"

# A production image leaves the emulators out (the `emulators` extra).
if "${B[@]}" run "$ctr" -- scimbridge emulate rocketchat --port 1 >"$work/emulate.log" 2>&1; then
  fail "the image serves a vendor emulator"
fi
grep -q "emulators are not installed" "$work/emulate.log" || { cat "$work/emulate.log" >&2; fail "scimbridge emulate gave no install hint"; }

# ---- run it: the configuration a deployment mounts, the volume owned by the image's user
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port)
vendor_port=$(free_port)
token="check-image-token-0123456789"
mkdir -p "$work/etc" "$work/data"
chown "$uid" "$work/data"
chmod 700 "$work/data"
cat >"$work/etc/bridge.yaml" <<EOF
# No database: (the image's default, in its volume) and no mapping: (the vendor's default).
targets:
  - name: chat
    vendor: rocketchat
    base_url: http://127.0.0.1:$vendor_port
    credentials: {user_id: rcDemoAdmin000001, auth_token: "\${RC_TOKEN}"}
    inbound: {bearer_tokens: ["\${CHAT_SCIM_TOKEN}"]}
    delivery: {backoff_seconds: 1, max_backoff_seconds: 5, timeout_seconds: 10}
EOF
chmod 644 "$work/etc/bridge.yaml"
# As `docker run -e ... -v data:/var/lib/scimbridge`. The working container forgets the image's
# VOLUME (checked above): buildah 1.28 mounts its own anonymous volume there, over the
# directory given with -v, in an order that changes from run to run.
"${B[@]}" config --env "SCIMBRIDGE_PORT=$port" --env RC_TOKEN=rocketchat-demo-personal-access-token \
  --env "CHAT_SCIM_TOKEN=$token" --volume /var/lib/scimbridge- "$ctr"
mounts=(-v "$work/etc/bridge.yaml:/etc/scimbridge/bridge.yaml:ro" -v "$work/data:/var/lib/scimbridge")

healthy() { timeout 10 "${B[@]}" run "$ctr" -- "${check[@]}" >/dev/null 2>&1; }
healthy && fail "the HEALTHCHECK passes with nothing listening on port $port"

# The descendant of a `buildah run` (started by this script) whose command line holds $2.
process_of() {
  local parent=$1 pattern=$2 pid
  for _ in $(seq 100); do
    pid=$(ps -e -o pid=,ppid=,args= | awk -v root="$parent" -v pattern="$pattern" '
      { parent[$1] = $2; $1 = $1; line[$1] = $0 }
      END {
        for (p in line) {
          for (q = parent[p]; q != "" && q != 0 && q != root; q = parent[q]) {}
          if (q == root && index(line[p], pattern) && index(line[p], "buildah") == 0) print p
        }
      }' | head -n 1)
    if [ -n "$pid" ]; then echo "$pid"; return 0; fi
    sleep 0.1
  done
  return 1
}

# The vendor: a Rocket.Chat emulator on the host (the image has none), from `make test`'s
# virtual environment; the container shares the host's network.
.venv/bin/scimbridge emulate rocketchat --port "$vendor_port" >"$work/vendor.log" 2>&1 &
vendor_pid=$!
processes+=("$vendor_pid")
commands+=("$vendor_pid")

say "serving: ${cmd[*]} (SCIMBRIDGE_PORT=$port)"
"${B[@]}" run "${mounts[@]}" "$ctr" -- "${cmd[@]}" >"$work/serve.log" 2>&1 &
serve_run=$!
processes+=("$serve_run")
serve_pid=$(process_of "$serve_run" "scimbridge serve") || { cat "$work/serve.log" >&2; fail "serve did not start"; }
commands+=("$serve_pid")

deadline=$((SECONDS + 60))
until healthy; do
  if ! kill -0 "$serve_run" 2>/dev/null; then cat "$work/serve.log" >&2; fail "serve exited"; fi
  if [ "$SECONDS" -ge "$deadline" ]; then cat "$work/serve.log" >&2; fail "the HEALTHCHECK did not pass within 60 s"; fi
  sleep 1
done
say "the HEALTHCHECK passes ($(elapsed))"

process_uid=$(ps -o uid= -p "$serve_pid" | tr -d ' ')
[ "$process_uid" = "$uid" ] || fail "serve runs as uid $process_uid, not $uid"
[ -f "$work/data/scimbridge.db" ] || fail "no scimbridge.db in the volume: $(ls -A "$work/data")"
[ "$(stat -c %u "$work/data/scimbridge.db")" = "$uid" ] || fail "scimbridge.db is not the image user's"

python3 - "$port" "$vendor_port" "$token" <<'EOF' || { cat "$work/serve.log" >&2; fail "a SCIM user was not delivered"; }
import json, sys, time, urllib.request

port, vendor_port, token = sys.argv[1:]
user = {
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
    "userName": "ada.check-image",
    "name": {"givenName": "Ada", "familyName": "Lovelace"},
    "emails": [{"value": "ada.check-image@example.com", "type": "work", "primary": True}],
}
request = urllib.request.Request(
    f"http://127.0.0.1:{port}/scim/v2/chat/Users",
    data=json.dumps(user).encode(),
    headers={"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"},
)
with urllib.request.urlopen(request, timeout=10) as response:
    assert response.status == 201, response.status
deadline = time.monotonic() + 60
while True:
    with urllib.request.urlopen(f"http://127.0.0.1:{vendor_port}/_emulator/state", timeout=10) as response:
        if "ada.check-image@example.com" in response.read().decode():
            break
    if time.monotonic() > deadline:
        sys.exit("the user did not reach the emulator within 60 s")
    time.sleep(0.5)
EOF
say "a SCIM POST was answered 201 and delivered to the vendor ($(elapsed))"

# ---- SIGTERM: serve, then a separate worker process
stop_within=15   # the stop bound of this configuration is timeout_seconds 10 + 5
stop() {
  local run=$1 pid=$2 name=$3 log=$4 began status
  began=$SECONDS
  kill -TERM "$pid"
  for _ in $(seq $((stop_within * 10))); do
    kill -0 "$run" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$run" 2>/dev/null; then cat "$log" >&2; fail "$name did not stop within ${stop_within} s of SIGTERM"; fi
  status=0
  wait "$run" || status=$?
  [ "$status" = 0 ] || { cat "$log" >&2; fail "$name exited with status $status on SIGTERM"; }
  say "$name stopped on SIGTERM in $((SECONDS - began)) s"
}
stop "$serve_run" "$serve_pid" serve "$work/serve.log"

"${B[@]}" run "${mounts[@]}" "$ctr" -- scimbridge worker >"$work/worker.log" 2>&1 &
worker_run=$!
processes+=("$worker_run")
worker_pid=$(process_of "$worker_run" "scimbridge worker") || { cat "$work/worker.log" >&2; fail "the worker did not start"; }
commands+=("$worker_pid")
for _ in $(seq 300); do
  grep -q "scimbridge worker: delivering" "$work/worker.log" && break
  kill -0 "$worker_run" 2>/dev/null || { cat "$work/worker.log" >&2; fail "the worker exited"; }
  sleep 0.1
done
stop "$worker_run" "$worker_pid" "scimbridge worker" "$work/worker.log"

say "passed in $(elapsed)"
