#!/usr/bin/env bash
# Installs (or upgrades) the Pantri gateway as a systemd service on Debian/Raspberry Pi OS:
#   dotnet publish gateway/Pantri.Iot.Gateway -p:PublishProfile=linux-arm64   # on any machine; linux-x64 for a PC
#   sudo deploy/install.sh gateway/Pantri.Iot.Gateway/bin/publish/linux-arm64  # on the Pi, from a copy of the repo
# Creates the system user `pantri`, copies the published files to /opt/pantri, creates /etc/pantri/gateway.env
# (mode 0640, kept on upgrade) for secrets, installs and starts pantri-gateway.service. Data lives in /var/lib/pantri
# (made by systemd, StateDirectory) and is never touched here. Idempotent: run it again to upgrade.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="${1:?usage: sudo $0 <publish directory, e.g. gateway/Pantri.Iot.Gateway/bin/publish/linux-arm64>}"
[ "$(id -u)" -eq 0 ] || { echo "run as root (sudo)" >&2; exit 1; }
[ -x "$src/Pantri.Iot.Gateway" ] || { echo "$src/Pantri.Iot.Gateway not found: publish first (see the top of $0)" >&2; exit 1; }

id -u pantri >/dev/null 2>&1 || useradd --system --home-dir /var/lib/pantri --no-create-home --shell /usr/sbin/nologin pantri

# Replace the program as a whole (a new wwwroot may drop files); the data directory is elsewhere.
install -d -m 0755 /opt/pantri
staging="$(mktemp -d /opt/pantri.new.XXXXXX)"
cp -a "$src"/. "$staging"/
cp "$here/../README.md" "$staging/README.md" 2>/dev/null || true
chmod -R u=rwX,go=rX "$staging"
was_running=0
systemctl is-active --quiet pantri-gateway && was_running=1 && systemctl stop pantri-gateway
rm -rf /opt/pantri.old && mv /opt/pantri /opt/pantri.old && mv "$staging" /opt/pantri && rm -rf /opt/pantri.old

install -d -m 0750 -o root -g pantri /etc/pantri
if [ ! -f /etc/pantri/gateway.env ]; then
  install -m 0640 -o root -g pantri /dev/null /etc/pantri/gateway.env
  cat >/etc/pantri/gateway.env <<'ENV'
# Environment of pantri-gateway.service: configuration keys as Pantri__Section__Key=value (see README "Configuration").
# TLS with a generated private CA (devices trust /var/lib/pantri/tls/ca.pem):
Pantri__Tls__Enabled=true
Pantri__Tls__GenerateSelfSigned=true
ASPNETCORE_URLS=https://0.0.0.0:5001;http://127.0.0.1:5000
# Plain MQTT only on this machine; devices use MQTT over TLS on 8883 (Pantri__Mqtt__PlainTcp=false turns it off):
Pantri__Mqtt__BindAddress=127.0.0.1
# Pantri__Mqtt__OpsUsername=ops
# Pantri__Mqtt__OpsPassword=<openssl rand -base64 24>
# Pantri__Admin__Key=<openssl rand -base64 33>   (for online backups)
ENV
fi

install -m 0644 "$here/pantri-gateway.service" /etc/systemd/system/pantri-gateway.service
systemctl daemon-reload
systemctl enable pantri-gateway >/dev/null
systemctl start pantri-gateway
[ "$was_running" -eq 1 ] && echo "pantri-gateway upgraded and restarted" || echo "pantri-gateway installed and started"
echo "logs: journalctl -u pantri-gateway -f    data: /var/lib/pantri    settings: /etc/pantri/gateway.env"
