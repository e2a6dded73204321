#!/usr/bin/env bash
# The project's test command: installs what the tests need (Debian's Mosquitto broker and clients, PostgreSQL, jq, libmosquitto-dev
# and a C compiler for the firmware sample), then runs every test, checks the SDK as a NuGet package and publishes the
# Raspberry Pi sample; Chromium and chromium-driver for the ops dashboard's browser test. Safe to run on a fresh
# Debian 12 machine with the .NET 10 SDK; does nothing extra when all is there.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
command -v mosquitto_rr >/dev/null 2>&1 || missing+=(mosquitto-clients)
command -v jq >/dev/null 2>&1 || missing+=(jq)
dpkg -s libmosquitto-dev >/dev/null 2>&1 || missing+=(libmosquitto-dev)
{ command -v cc && command -v make; } >/dev/null 2>&1 || missing+=(build-essential)
# The household event stream's test reads GET /v1/events with curl -N.
command -v curl >/dev/null 2>&1 || missing+=(curl)
# The ops dashboard's browser test drives Debian's headless Chromium through its chromedriver.
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
# The reverse-proxy test runs Debian's nginx (with its stream module) on deploy/nginx.conf, in a temporary prefix.
[ -x /usr/sbin/nginx ] || missing+=(nginx)
[ -f /usr/lib/nginx/modules/ngx_stream_module.so ] || missing+=(libnginx-mod-stream)
# The PostgreSQL store's tests run their own cluster (initdb + pg_ctl in a temp dir, free port); only the binaries are needed.
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing ${missing[*]} for the tests..."
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
  # The Debian package starts a system broker on 1883; the tests start their own and the gateway wants 1883 free.
  $SUDO systemctl disable --now mosquitto >/dev/null 2>&1 || $SUDO service mosquitto stop >/dev/null 2>&1 || true
  # Likewise nginx's system service (port 80): the test starts its own nginx on free ports and stops it.
  $SUDO systemctl disable --now nginx >/dev/null 2>&1 || $SUDO service nginx stop >/dev/null 2>&1 || true
  # Likewise the package's own cluster on 5432: the tests start theirs.
  if [[ " ${missing[*]} " == *" postgresql "* ]]; then
    $SUDO systemctl disable --now postgresql >/dev/null 2>&1 || $SUDO service postgresql stop >/dev/null 2>&1 || true
  fi
fi

# The C firmware sample, warnings as errors (the SDK tests run it against a gateway).
make -C samples/firmware

# Build once, then test one project at a time: `dotnet test` on a solution would run the test projects side by side,
# and the gateway and broker tests start real brokers, child processes and timed waits that must not compete.
dotnet build Pantri.Iot.sln -c Release

# The gateway as the self-contained linux-x64 single file (its publish profile); SingleFileTests runs the quickstart on it.
echo "== Gateway single file for linux-x64 =="
gateway_x64=$(mktemp -d "${TMPDIR:-/tmp}/pantri-gateway-x64.XXXXXX")
trap 'rm -rf "$gateway_x64"' EXIT
dotnet publish gateway/Pantri.Iot.Gateway -p:PublishProfile=linux-x64 -p:PublishDir="$gateway_x64/" -v quiet -nologo
export PANTRI_GATEWAY_SINGLE_FILE="$gateway_x64/Pantri.Iot.Gateway"

# CI keeps only the tail of this output, and a failure is printed where its project ran: on failure the failed tests and
# their messages are printed again at the end.
test_log=$(mktemp "${TMPDIR:-/tmp}/pantri-test-log.XXXXXX")
trap 'rm -rf "$gateway_x64" "$test_log"' EXIT
set +e
dotnet test Pantri.Iot.sln -c Release --no-build -m:1 --logger "console;verbosity=normal" "$@" 2>&1 | tee "$test_log"
test_status=${PIPESTATUS[0]}
set -e
if [ "$test_status" -ne 0 ]; then
  echo "== dotnet test failed (exit $test_status); the failures, again =="
  grep -E -A 25 '^[[:space:]]+Failed |Test Run Aborted|The active test run was aborted|Test host process crashed' "$test_log" | cut -c1-400 | head -n 400 || true
  grep -E '^(Total tests|[[:space:]]+(Passed|Failed|Skipped):)|Test Run (Failed|Successful|Aborted)' "$test_log" || true
  exit "$test_status"
fi

# The SDK as a device maker gets it: packed, then used by a new console project through the package alone.
echo "== SDK package check =="
./scripts/check-sdk-package.sh

# The Raspberry Pi sample must publish for linux-arm64 (framework-dependent; the Pi needs the .NET 10 runtime).
echo "== IotButton publish for linux-arm64 =="
publish_dir=$(mktemp -d "${TMPDIR:-/tmp}/pantri-iotbutton-arm64.XXXXXX")
dotnet publish samples/IotButton -c Release -r linux-arm64 -o "$publish_dir" -v quiet -nologo
file_type=$(head -c 20 "$publish_dir/IotButton" | od -An -tx1 | tr -d ' \n')
rm -rf "$publish_dir"
# ELF header, e_machine 0xb7 (AArch64) at offset 18.
[ "${file_type:0:8}" = "7f454c46" ] && [ "${file_type:36:4}" = "b700" ] || { echo "IotButton is not a linux-arm64 executable"; exit 1; }
echo "IotButton published for linux-arm64"

# The gateway for a Raspberry Pi: the linux-arm64 publish profile (self-contained single file) must produce an AArch64 ELF.
echo "== Gateway single file for linux-arm64 =="
gateway_arm64=$(mktemp -d "${TMPDIR:-/tmp}/pantri-gateway-arm64.XXXXXX")
dotnet publish gateway/Pantri.Iot.Gateway -p:PublishProfile=linux-arm64 -p:PublishDir="$gateway_arm64/" -v quiet -nologo
file_type=$(head -c 20 "$gateway_arm64/Pantri.Iot.Gateway" | od -An -tx1 | tr -d ' \n')
[ -f "$gateway_arm64/appsettings.json" ] && [ -d "$gateway_arm64/wwwroot" ] || { echo "the arm64 publish lacks appsettings.json or wwwroot"; exit 1; }
rm -rf "$gateway_arm64"
[ "${file_type:0:8}" = "7f454c46" ] && [ "${file_type:36:4}" = "b700" ] || { echo "the gateway is not a linux-arm64 executable"; exit 1; }
echo "Gateway published for linux-arm64"

# The systemd unit, checked against the x64 single file (systemd-analyze wants ExecStart to exist), and the installer's syntax.
bash -n deploy/install.sh
if command -v systemd-analyze >/dev/null 2>&1; then
  unit_dir=$(mktemp -d "${TMPDIR:-/tmp}/pantri-unit.XXXXXX")
  sed "s|/opt/pantri/Pantri.Iot.Gateway|$gateway_x64/Pantri.Iot.Gateway|" deploy/pantri-gateway.service > "$unit_dir/pantri-gateway.service"
  systemd-analyze verify "$unit_dir/pantri-gateway.service"
  rm -rf "$unit_dir"
  echo "deploy/pantri-gateway.service verified"
fi
