#!/usr/bin/env bash
# The project's test command: installs what the tests need (Debian's Mosquitto broker and clients), then runs
# every test. Safe to run on a fresh Debian 12 machine with the .NET 10 SDK; does nothing extra when all is there.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
command -v mosquitto_rr >/dev/null 2>&1 || missing+=(mosquitto-clients)
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing ${missing[*]} for the tests..."
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
  # The Debian package starts a system broker on 1883; the tests start their own and the gateway wants 1883 free.
  $SUDO systemctl disable --now mosquitto >/dev/null 2>&1 || $SUDO service mosquitto stop >/dev/null 2>&1 || true
fi

# Build once, then test one project at a time: `dotnet test` on a solution would run the test projects side by side,
# and the gateway and broker tests start real brokers, child processes and timed waits that must not compete.
dotnet build Pantri.Iot.sln -c Release
dotnet test Pantri.Iot.sln -c Release --no-build -m:1 --logger "console;verbosity=normal" "$@"
