#!/usr/bin/env bash
# The project's test command: installs what the tests need (Debian's Mosquitto broker and clients, jq, libmosquitto-dev
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
# The ops dashboard's browser test drives Debian's headless Chromium through its chromedriver.
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing ${missing[*]} for the tests..."
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
  # The Debian package starts a system broker on 1883; the tests start their own and the gateway wants 1883 free.
  $SUDO systemctl disable --now mosquitto >/dev/null 2>&1 || $SUDO service mosquitto stop >/dev/null 2>&1 || true
fi

# The C firmware sample, warnings as errors (the SDK tests run it against a gateway).
make -C samples/firmware

# Build once, then test one project at a time: `dotnet test` on a solution would run the test projects side by side,
# and the gateway and broker tests start real brokers, child processes and timed waits that must not compete.
dotnet build Pantri.Iot.sln -c Release
dotnet test Pantri.Iot.sln -c Release --no-build -m:1 --logger "console;verbosity=normal" "$@"

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
