// Shows: an ops dashboard in the terminal. It logs in with the ops credential (the gateway's Pantri:Mqtt:OpsUsername /
// OpsPassword) under a client id in the ops namespace (ops-console-<random>), subscribes to pantri/v1/ops/#, and keeps a
// Spectre.Console live view of device presence, inventory levels, orders and the latest command events. Retained
// messages fill the view at once; everything after arrives live.
//
// Run:  export Pantri__Mqtt__OpsUsername=ops Pantri__Mqtt__OpsPassword="$(openssl rand -base64 24)"
//       dotnet run --project gateway/Pantri.Iot.Gateway
//       PANTRI_OPS_PASSWORD="$Pantri__Mqtt__OpsPassword" dotnet run --project samples/OpsConsole -- --user ops [--host 127.0.0.1] [--port 1883]
//       (--seconds N quits after N seconds; --password P works too, but is visible to other local users)
using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using MQTTnet;
using MQTTnet.Protocol;
using Pantri.Iot.Contract;
using Spectre.Console;

var options = ParseArgs(args);
var host = options.GetValueOrDefault("host") ?? "127.0.0.1";
var port = int.Parse(options.GetValueOrDefault("port") ?? "1883", CultureInfo.InvariantCulture);
var user = options.GetValueOrDefault("user") ?? "ops";
var password = options.GetValueOrDefault("password") ?? Environment.GetEnvironmentVariable("PANTRI_OPS_PASSWORD")
    ?? throw new ArgumentException("--password (or PANTRI_OPS_PASSWORD) is required: the gateway's Pantri:Mqtt:OpsPassword");
var clientId = "ops-console-" + Guid.NewGuid().ToString("N")[..8];

var presence = new ConcurrentDictionary<string, DevicePresence>();
var inventory = new ConcurrentDictionary<long, InventoryStatus>();
var orders = new ConcurrentDictionary<long, OrderStatus>();
var events = new ConcurrentQueue<OpsEvent>();
var changed = new SemaphoreSlim(0);

using var client = new MqttClientFactory().CreateMqttClient();
client.ApplicationMessageReceivedAsync += e =>
{
    var topic = e.ApplicationMessage.Topic;
    var json = System.Buffers.BuffersExtensions.ToArray(e.ApplicationMessage.Payload);
    try
    {
        if (topic == Topics.OpsEvents && JsonSerializer.Deserialize(json, ContractJson.Default.OpsEvent) is { } opsEvent)
        {
            events.Enqueue(opsEvent);
            while (events.Count > 10 && events.TryDequeue(out _))
            {
            }
        }
        else if (topic.StartsWith(Topics.OpsPrefix + "devices/", StringComparison.Ordinal) && JsonSerializer.Deserialize(json, ContractJson.Default.DevicePresence) is { } device)
        {
            presence[device.DeviceId] = device;
        }
        else if (topic.StartsWith(Topics.OpsPrefix + "inventory/", StringComparison.Ordinal) && JsonSerializer.Deserialize(json, ContractJson.Default.InventoryStatus) is { } level)
        {
            inventory[level.InstructionRef] = level;
        }
        else if (topic.StartsWith(Topics.OpsPrefix + "orders/", StringComparison.Ordinal) && JsonSerializer.Deserialize(json, ContractJson.Default.OrderStatus) is { } order)
        {
            orders[order.OrderRef] = order;
        }
    }
    catch (JsonException)
    {
        // A message this version does not understand: skip it, keep the view.
    }

    changed.Release();
    return Task.CompletedTask;
};

var connect = await client.ConnectAsync(new MqttClientOptionsBuilder()
    .WithTcpServer(host, port).WithClientId(clientId).WithCredentials(user, password).WithTimeout(TimeSpan.FromSeconds(10)).Build());
if (connect.ResultCode != MqttClientConnectResultCode.Success)
{
    AnsiConsole.MarkupLineInterpolated($"[red]The gateway refused {user} as {clientId}: {connect.ResultCode}[/] (check OpsUsername/OpsPassword)");
    return 1;
}

await client.SubscribeAsync(Topics.OpsAll, MqttQualityOfServiceLevel.AtLeastOnce);
using var quit = options.TryGetValue("seconds", out var seconds) && seconds is not null
    ? new CancellationTokenSource(TimeSpan.FromSeconds(double.Parse(seconds, CultureInfo.InvariantCulture)))
    : new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; quit.Cancel(); };

await AnsiConsole.Live(Render()).StartAsync(async live =>
{
    while (!quit.IsCancellationRequested)
    {
        try
        {
            await changed.WaitAsync(TimeSpan.FromSeconds(1), quit.Token);
        }
        catch (OperationCanceledException)
        {
        }

        live.UpdateTarget(Render());
    }
});

await client.DisconnectAsync();
return 0;

Rows Render()
{
    var devices = new Table().Title($"Devices ({clientId} @ {host}:{port})").AddColumns("Device", "Status", "Last seen", "Reason");
    foreach (var d in presence.Values.OrderBy(d => d.DeviceId, StringComparer.Ordinal))
    {
        devices.AddRow(d.DeviceId, d.Status == PresenceStatus.Online ? "[green]online[/]" : "[grey]offline[/]", d.LastSeen is { } seen ? Time(seen) : "-", d.Reason ?? "");
    }

    var levels = new Table().Title("Inventory").AddColumns("Instruction", "Level", "Reorder at", "Armed", "Forecast");
    foreach (var i in inventory.Values.OrderBy(i => i.InstructionRef))
    {
        levels.AddRow(Number(i.InstructionRef), $"{Number(i.Level)} {Markup.Escape(i.Unit)}", Number(i.ReorderAt), i.Armed ? "yes" : "no",
            i.Forecast.HoursToReorder is { } h ? $"{h.ToString("0.0", CultureInfo.InvariantCulture)} h to reorder" : Markup.Escape(i.Forecast.Reason ?? i.Forecast.State));
    }

    var orderTable = new Table().Title("Orders").AddColumns("Order", "Instruction", "State", "Product", "Updated");
    foreach (var o in orders.Values.OrderByDescending(o => o.UpdatedAt).Take(10))
    {
        orderTable.AddRow(Number(o.OrderRef), Number(o.InstructionRef), Markup.Escape(o.State), Markup.Escape($"{o.Quantity} × {o.Product} ({o.Retailer})"), Time(o.UpdatedAt));
    }

    var eventTable = new Table().Title("Latest commands").AddColumns("At", "Kind", "Device", "ID", "Status");
    foreach (var e in events.Reverse())
    {
        var colour = AckIds.IsSuccess(e.Ack.Id) ? "green" : "yellow";
        eventTable.AddRow(Time(e.At), Markup.Escape(e.Kind), Markup.Escape(e.DeviceId ?? "(app)"), $"[{colour}]{e.Ack.Id}[/]", Markup.Escape(e.Ack.Status));
    }

    return new Rows(devices, levels, orderTable, eventTable);
}

static string Time(DateTimeOffset at) => at.ToLocalTime().ToString("HH:mm:ss", CultureInfo.InvariantCulture);

static string Number(double? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "-";

static Dictionary<string, string?> ParseArgs(string[] args)
{
    var parsed = new Dictionary<string, string?>(StringComparer.Ordinal);
    for (var i = 0; i < args.Length; i++)
    {
        var hasValue = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal);
        parsed[args[i].TrimStart('-')] = hasValue ? args[++i] : null;
    }

    return parsed;
}
