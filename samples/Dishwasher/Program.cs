// Shows: a dishwasher that reports one tablet used per wash cycle (ReportUsageAsync), so the gateway counts the box
// down and re-orders at the trigger point. On its first run it sets itself up through the gateway's HTTP setup API
// with the demo household's User_Auth: it creates a device named "Dishwasher" (the gateway assigns its DeviceId; its Device_Key is
// shown once, so both are kept in dishwasher.json) and a tracked instruction "Dishwasher tablets" (30 tablets in the box, reorder at 5, 30 per
// pack). Cycles are simulated: one every --cycle-seconds, or Enter ends one.
//
// Run:  dotnet run --project samples/Dishwasher                   (3 cycles; gateway HTTP at http://127.0.0.1:5000)
//       dotnet run --project samples/Dishwasher -- --http http://127.0.0.1:5000 --cycles 30 --cycle-seconds 1
// Common options: see samples/Shared/DeviceArgs.cs (--household, --host, --port, --queue, --mqtt311).
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Pantri.Iot.Contract;
using Pantri.Iot.Samples;
using Pantri.Iot.Sdk;

var args2 = DeviceArgs.Parse(args);
var household = args2.Get("household") ?? Path.Combine("data", DemoHouseholdFile.FileName);
var statePath = args2.Get("state") ?? "dishwasher.json";
var cycles = args2.GetInt("cycles", 3);
var cycleTime = TimeSpan.FromSeconds(args2.GetDouble("cycle-seconds", 2));

var state = File.Exists(statePath)
    ? JsonNode.Parse(File.ReadAllText(statePath))!.AsObject()
    : await SetUpAsync(new Uri(args2.Get("http") ?? "http://127.0.0.1:5000"), DemoHouseholdFile.Read(household).UserAuth, statePath);
var deviceId = (string)state["DeviceId"]!;
var instructionRef = (long)state[FieldNames.InstructionRef]!;

var options = new PantriDeviceOptions
{
    Host = args2.Get("host") ?? "127.0.0.1",
    Port = args2.GetInt("port", 1883),
    DeviceId = deviceId,
    DeviceKey = (string)state[FieldNames.DeviceKey]!,
    ProtocolVersion = args2.Has("mqtt311") ? PantriProtocolVersion.Mqtt311 : PantriProtocolVersion.Mqtt5,
    QueuePath = args2.Get("queue") ?? deviceId + ".queue",
};
await using var dishwasher = new PantriDeviceClient(options);
Console.WriteLine($"Dishwasher {options}: tablets are instruction {instructionRef}; {cycles} cycles of {cycleTime.TotalSeconds} s");

using var cycleEnded = new SemaphoreSlim(0);
if (!Console.IsInputRedirected)
{
    _ = Task.Run(() => { while (true) { Console.ReadKey(intercept: true); cycleEnded.Release(); } });
}

for (var cycle = 1; cycle <= cycles; cycle++)
{
    await cycleEnded.WaitAsync(cycleTime);
    try
    {
        var ack = await dishwasher.ReportUsageAsync(instructionRef, used: 1);
        Console.WriteLine(
            $"cycle {cycle}: one tablet used → {ack.Level?.ToString(CultureInfo.InvariantCulture)} {ack.Unit} left, ID {ack.Id} {ack.Status}" +
            (ack.Id == AckIds.OrderPlaced ? $", ORDER {ack.OrderRef} placed" : "") +
            (ack.Note is { } note ? $" ({note})" : ""));
    }
    catch (PantriAckTimeoutException exception)
    {
        Console.WriteLine($"cycle {cycle}: {exception.Message}");
    }
}

return 0;

// One-time setup through the HTTP API, as the household's app would do it.
static async Task<JsonObject> SetUpAsync(Uri gateway, string userAuth, string statePath)
{
    using var http = new HttpClient { BaseAddress = gateway };
    http.DefaultRequestHeaders.Add("User_Auth", userAuth);

    var device = await http.PostAsJsonAsync("/v1/devices", new { Name = "Dishwasher" });
    if (!device.IsSuccessStatusCode)
    {
        throw new InvalidOperationException($"Creating the dishwasher failed: {(int)device.StatusCode} {await device.Content.ReadAsStringAsync()}");
    }

    // The gateway assigns the DeviceId; the key is shown this once and kept in the state file.
    var created = JsonNode.Parse(await device.Content.ReadAsStringAsync())!;
    var instruction = await http.PostAsJsonAsync("/v1/instructions", new
    {
        Product = "Dishwasher tablets",
        Retailer = "shop",
        Quantity = 1,
        DeviceIds = new[] { (string)created["DeviceId"]! },
        Tracking = new { ReorderAt = 5, Unit = "tablets", UnitsPerPack = 30, Level = 30 },
    });
    var body = await instruction.Content.ReadAsStringAsync();
    if (!instruction.IsSuccessStatusCode)
    {
        throw new InvalidOperationException($"Creating the tablets instruction failed: {(int)instruction.StatusCode} {body}");
    }

    var state = new JsonObject
    {
        ["DeviceId"] = (string)created["DeviceId"]!,
        [FieldNames.DeviceKey] = (string)created[FieldNames.DeviceKey]!,
        [FieldNames.InstructionRef] = (long)JsonNode.Parse(body)![FieldNames.InstructionRef]!,
    };
    await File.WriteAllTextAsync(statePath, state.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    Console.WriteLine($"set up dishwasher {state["DeviceId"]} and instruction {state[FieldNames.InstructionRef]}; its key is kept in {statePath}");
    return state;
}
