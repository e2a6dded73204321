#!/usr/bin/env bash
# The SDK as a device maker gets it: packs Pantri.Iot.Sdk (and the Pantri.Iot.Contract package it depends on) into a
# local folder, creates a new console project in a temp directory that references only the Pantri.Iot.Sdk package
# from that folder, and runs it against a freshly started gateway: it must press the demo button and get ID 201.
# Called by scripts/test.sh; runs on its own too (after `dotnet build Pantri.Iot.sln -c Release`).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/pantri-package-check.XXXXXX")
gateway_pid=""
cleanup() {
  if [ -n "$gateway_pid" ]; then kill "$gateway_pid" 2>/dev/null || true; wait "$gateway_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

version=$(dotnet msbuild sdk/Pantri.Iot.Sdk -getProperty:PackageVersion)
echo "Packing Pantri.Iot.Sdk $version into $work/feed"
dotnet pack sdk/Pantri.Iot.Sdk -c Release -o "$work/feed" -v quiet -nologo
ls "$work/feed"

# A console project outside the repository (no Directory.*.props apply): one PackageReference, nothing else.
# Packages restore into a private folder, so this check never leaves a Pantri package in the machine's NuGet cache;
# what the cache already holds (MQTTnet, Polly…) is used from there instead of being downloaded again.
mkdir -p "$work/console"
cat > "$work/console/nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <config><add key="globalPackagesFolder" value="$work/packages" /></config>
  <fallbackPackageFolders><add key="machine-cache" value="$HOME/.nuget/packages" /></fallbackPackageFolders>
  <packageSources><add key="pantri-local" value="$work/feed" /></packageSources>
</configuration>
XML
cat > "$work/console/PressDemoButton.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <ImplicitUsings>enable</ImplicitUsings>
    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="Pantri.Iot.Sdk" Version="$version" />
  </ItemGroup>
</Project>
XML
cat > "$work/console/Program.cs" <<'CS'
using Pantri.Iot.Contract;
using Pantri.Iot.Sdk;

var button = DemoHouseholdFile.Read(args[0]).Device("demo-button");
await using var device = new PantriDeviceClient(new PantriDeviceOptions
{
    Host = "127.0.0.1",
    Port = int.Parse(args[1]),
    DeviceId = button.DeviceId,
    DeviceKey = button.DeviceKey,
});
using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
await device.ConnectAsync(timeout.Token);
var ack = await device.TriggerReorderAsync(button.InstructionRef, cancellationToken: timeout.Token);
Console.WriteLine($"ID {ack.Id} {ack.Status} (CommandRef {ack.CommandRef}, OrderRef {ack.OrderRef})");
return ack.Id == AckIds.OrderPlaced ? 0 : 1;
CS
echo "Building a console project that references only Pantri.Iot.Sdk $version"
dotnet build "$work/console" -c Release -v quiet -nologo

echo "Starting a gateway on free ports"
gateway_dll="$repo/gateway/Pantri.Iot.Gateway/bin/Release/net10.0/Pantri.Iot.Gateway.dll"
[ -f "$gateway_dll" ] || dotnet build gateway/Pantri.Iot.Gateway -c Release -v quiet -nologo
dotnet "$gateway_dll" --Pantri:DataDirectory="$work/data" --Pantri:Mqtt:Port=0 --Pantri:Mqtt:BindAddress=127.0.0.1 \
  --urls=http://127.0.0.1:0 >"$work/gateway.log" 2>&1 &
gateway_pid=$!
port=""
for _ in $(seq 1 300); do
  port=$(grep -oE 'listening on [0-9.]+:[0-9]+' "$work/gateway.log" | tail -1 | sed 's/.*://' || true)
  [ -n "$port" ] && [ -f "$work/data/demo-household.json" ] && break
  kill -0 "$gateway_pid" 2>/dev/null || { cat "$work/gateway.log"; echo "the gateway exited"; exit 1; }
  sleep 0.1
done
[ -n "$port" ] || { cat "$work/gateway.log"; echo "the gateway did not start"; exit 1; }

echo "Pressing the demo button through the package (MQTT port $port)"
dotnet "$work/console/bin/Release/net10.0/PressDemoButton.dll" "$work/data/demo-household.json" "$port"
echo "SDK package check passed"
