using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Pantri.Iot.Contract;

namespace Pantri.Iot.Gateway.HomeAssistant;

/// <summary>The messages Home Assistant's MQTT discovery expects (https://www.home-assistant.io/integrations/mqtt/,
/// "MQTT Discovery" and "MQTT Sensor"): per instruction, retained configs on
/// <c>{discovery prefix}/sensor/{node id}/{Instruction_Ref}_{sensor}/config</c> and retained JSON states the configs'
/// <c>value_template</c>s read. A tracked instruction has three sensors (level, usage per day, days to re-order),
/// every instruction an "open order" sensor (an enum: <c>None</c> or the open order's state).</summary>
internal sealed class HomeAssistantDiscovery(HomeAssistantOptions options)
{
    /// <summary>States the open-order sensor can take.</summary>
    internal static readonly string[] OrderOptions = ["None", "Placed", "Submitted", "Confirmed", "Shipped"];

    /// <summary>The bridge's availability topic (retained <c>online</c>; the will sets <c>offline</c>).</summary>
    public string AvailabilityTopic => options.StatePrefix + "/status";

    /// <summary>The inventory state topic of an instruction.</summary>
    public string InventoryTopic(long instructionRef) => $"{options.StatePrefix}/{Ref(instructionRef)}/inventory";

    /// <summary>The order state topic of an instruction.</summary>
    public string OrderTopic(long instructionRef) => $"{options.StatePrefix}/{Ref(instructionRef)}/order";

    /// <summary>The discovery topic of one sensor.</summary>
    public string ConfigTopic(long instructionRef, string sensor) => $"{options.DiscoveryPrefix}/sensor/{options.NodeId}/{Ref(instructionRef)}_{sensor}/config";

    /// <summary>Configs of a tracked instruction's three inventory sensors.</summary>
    public IEnumerable<(string Topic, byte[] Payload)> InventoryConfigs(long instructionRef, InstructionLookup.Info info)
    {
        var unit = info.Unit ?? "count";
        yield return Config(instructionRef, info, "level", "Level", InventoryTopic(instructionRef), "{{ value_json.level }}", extra =>
        {
            extra["unit_of_measurement"] = unit;
            extra["state_class"] = "measurement";
            extra["icon"] = "mdi:archive-outline";
        });
        yield return Config(instructionRef, info, "usage_per_day", "Usage per day", InventoryTopic(instructionRef), "{{ value_json.usage_per_day }}", extra =>
        {
            extra["unit_of_measurement"] = unit + "/d";
            extra["state_class"] = "measurement";
            extra["icon"] = "mdi:chart-line";
        });
        yield return Config(instructionRef, info, "days_to_reorder", "Days to re-order", InventoryTopic(instructionRef), "{{ value_json.days_to_reorder }}", extra =>
        {
            extra["unit_of_measurement"] = "d";
            extra["device_class"] = "duration";
            extra["state_class"] = "measurement";
        });
    }

    /// <summary>Config of an instruction's open-order sensor.</summary>
    public (string Topic, byte[] Payload) OrderConfig(long instructionRef, InstructionLookup.Info info) =>
        Config(instructionRef, info, "order", "Open order", OrderTopic(instructionRef), "{{ value_json.state }}", extra =>
        {
            extra["device_class"] = "enum";
            extra["options"] = new JsonArray(OrderOptions.Select(o => (JsonNode)o).ToArray());
            extra["json_attributes_topic"] = OrderTopic(instructionRef);
            extra["icon"] = "mdi:truck-delivery-outline";
        });

    /// <summary>The inventory state: level, trigger point, armed, the forecast's usage per day and days to re-order
    /// (null while the forecast is unknown, which Home Assistant shows as unknown).</summary>
    public static byte[] InventoryState(InventoryStatus status)
    {
        var days = status.Forecast.HoursToReorder is { } hours ? Math.Round(hours / 24, 2) : (double?)null;
        var usage = status.Forecast.UsagePerDay is { } perDay ? Math.Round(perDay, 3) : (double?)null;
        return JsonSerializer.SerializeToUtf8Bytes(new JsonObject
        {
            ["level"] = status.Level,
            ["reorder_at"] = status.ReorderAt,
            ["unit"] = status.Unit,
            ["armed"] = status.Armed,
            ["forecast"] = status.Forecast.State,
            ["usage_per_day"] = usage,
            ["days_to_reorder"] = days,
            ["updated_at"] = status.UpdatedAt.ToString("O", CultureInfo.InvariantCulture),
        });
    }

    /// <summary>The order state of an instruction that has had no order since the gateway started.</summary>
    public static byte[] NoOrderState => "{\"state\":\"None\"}"u8.ToArray();

    /// <summary>The order state: <c>None</c> once the last order closed, else its state; the order's ref, product and
    /// last state as attributes.</summary>
    public static byte[] OrderState(OrderStatus order, bool open) =>
        JsonSerializer.SerializeToUtf8Bytes(new JsonObject
        {
            ["state"] = open ? order.State : "None",
            ["order_ref"] = order.OrderRef,
            ["last_state"] = order.State,
            ["product"] = order.Product,
            ["retailer"] = order.Retailer,
            ["quantity"] = order.Quantity,
            ["updated_at"] = order.UpdatedAt.ToString("O", CultureInfo.InvariantCulture),
        });

    private (string Topic, byte[] Payload) Config(long instructionRef, InstructionLookup.Info info, string sensor, string name, string stateTopic, string valueTemplate, Action<JsonObject> extra)
    {
        var uniqueId = $"{options.NodeId}_{Ref(instructionRef)}_{sensor}";
        var config = new JsonObject
        {
            ["name"] = name,
            ["unique_id"] = uniqueId,
            ["object_id"] = uniqueId,
            ["state_topic"] = stateTopic,
            ["value_template"] = valueTemplate,
            ["availability_topic"] = AvailabilityTopic,
            ["payload_available"] = "online",
            ["payload_not_available"] = "offline",
            ["device"] = new JsonObject
            {
                ["identifiers"] = new JsonArray((JsonNode)$"{options.NodeId}_instruction_{Ref(instructionRef)}"),
                ["name"] = info.Product,
                ["manufacturer"] = "Pantri",
                ["model"] = "Replenishment instruction",
                ["serial_number"] = Ref(instructionRef),
            },
            ["origin"] = new JsonObject { ["name"] = "Pantri IoT gateway" },
        };
        extra(config);
        return (ConfigTopic(instructionRef, sensor), JsonSerializer.SerializeToUtf8Bytes(config));
    }

    private static string Ref(long instructionRef) => instructionRef.ToString(CultureInfo.InvariantCulture);
}
