using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Pantri.Iot.Contract;
using Pantri.Iot.Domain;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Gateway.Tests.Retail;

/// <summary>Household safeguards end to end: a real MQTT device presses, the household answers over HTTP, and a local
/// retailer server sees only what the household allowed.</summary>
[Category("Integration")]
public sealed class SafeguardFlowTests
{
    private const string Button = "123456789";

    [Test]
    public async Task Approval_a_press_waits_with_202_a_second_press_gets_409_naming_it_and_only_the_approved_order_reaches_the_retailer()
    {
        await using var retailer = await LocalRetailer.StartAsync();
        await using var gateway = await TestGateway.StartAsync(retailer.Args("demo-retailer"));
        using var http = gateway.Http(gateway.Demo.UserAuth);
        await PutAsync(http, $"/v1/instructions/{Button}/safeguards", new { ApprovalRequired = true });
        await using var button = await gateway.ConnectButtonAsync();

        var first = await button.RequestAsync(DeviceTopicKind.Trigger, Button);
        var second = await button.RequestAsync(DeviceTopicKind.Trigger, Button);
        var quietBeforeApproval = await retailer.QuietAsync(TimeSpan.FromMilliseconds(600));
        var waiting = await http.GetFromJsonAsync<OrderStatus>($"/v1/orders/{first.OrderRef}", ContractJson.Options);
        using var approve = await http.PostAsync($"/v1/orders/{first.OrderRef}/approve", null);
        var submitted = await WaitForAsync(gateway, first.OrderRef!.Value, o => o.State == OrderState.Submitted);

        Assert.That(first.Id, Is.EqualTo(AckIds.AwaitingApproval));
        Assert.That(first.Status, Is.EqualTo("Accepted - waiting for household approval"));
        Assert.That(first.OrderRef, Is.Not.Null);
        Assert.That(second.Id, Is.EqualTo(AckIds.Conflict));
        Assert.That(second.OrderRef, Is.EqualTo(first.OrderRef), "the 409 names the order awaiting approval");
        Assert.That(second.Status, Does.Contain("awaitingapproval"));
        Assert.That(quietBeforeApproval, Is.True, "nothing reaches the retailer before approval");
        Assert.That(waiting!.State, Is.EqualTo("AwaitingApproval"));
        Assert.That((int)approve.StatusCode, Is.EqualTo(200));
        Assert.That(submitted.History.Select(h => h.State), Is.EqualTo(new[] { OrderState.AwaitingApproval, OrderState.Placed, OrderState.Submitted }));
        Assert.That(retailer.Requests.Select(r => r.IdempotencyKey), Is.EqualTo(new[] { first.OrderRef.Value.ToString(CultureInfo.InvariantCulture) }),
            "two presses during approval: one order");
    }

    [Test]
    public async Task Approval_declined_nothing_reaches_the_retailer_and_the_button_orders_again()
    {
        await using var retailer = await LocalRetailer.StartAsync();
        await using var gateway = await TestGateway.StartAsync(retailer.Args("demo-retailer"));
        using var http = gateway.Http(gateway.Demo.UserAuth);
        await PutAsync(http, "/v1/safeguards", new { ApprovalRequired = true });
        await using var button = await gateway.ConnectButtonAsync();

        var pressed = await button.RequestAsync(DeviceTopicKind.Trigger, Button);
        using var decline = await http.PostAsync($"/v1/orders/{pressed.OrderRef}/decline", null);
        var declined = await decline.Content.ReadFromJsonAsync<OrderStatus>(ContractJson.Options);
        using var approveLate = await http.PostAsync($"/v1/orders/{pressed.OrderRef}/approve", null);
        var again = await button.RequestAsync(DeviceTopicKind.Trigger, Button);

        Assert.That(pressed.Id, Is.EqualTo(AckIds.AwaitingApproval), "the household's default");
        Assert.That(declined!.State, Is.EqualTo("Cancelled"));
        Assert.That(declined.Reason, Is.EqualTo("declined by the household"));
        Assert.That((int)approveLate.StatusCode, Is.EqualTo(404), "a closed order is not approved");
        Assert.That(again.Id, Is.EqualTo(AckIds.AwaitingApproval));
        Assert.That(again.OrderRef, Is.Not.EqualTo(pressed.OrderRef));
        Assert.That(await retailer.QuietAsync(TimeSpan.FromMilliseconds(600)), Is.True);
        Assert.That(retailer.Requests, Is.Empty, "nothing unapproved reaches the retailer");
    }

    [Test]
    public async Task Approval_an_order_nobody_answers_is_cancelled_when_it_expires()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var gateway = await TestGateway.StartAsync(
            ["--Pantri:Safeguards:ApprovalTimeout=01:00:00", "--Pantri:Safeguards:ExpiryCheckInterval=00:00:01"],
            builder => builder.Services.AddSingleton<TimeProvider>(time));
        using var http = gateway.Http(gateway.Demo.UserAuth);
        await PutAsync(http, $"/v1/instructions/{Button}/safeguards", new { ApprovalRequired = true });
        await using var button = await gateway.ConnectButtonAsync();
        var pressed = await button.RequestAsync(DeviceTopicKind.Trigger, Button);

        time.Advance(TimeSpan.FromMinutes(59));
        var beforeTimeout = await StillAsync(gateway, pressed.OrderRef!.Value, TimeSpan.FromMilliseconds(500));
        time.Advance(TimeSpan.FromMinutes(2));
        var expired = await WaitForAsync(gateway, pressed.OrderRef.Value, o => o.State == OrderState.Cancelled);

        Assert.That(pressed.Id, Is.EqualTo(AckIds.AwaitingApproval));
        Assert.That(beforeTimeout, Is.EqualTo(OrderState.AwaitingApproval));
        Assert.That(expired.History[^1].Reason, Is.EqualTo("approval expired"));
        Assert.That(expired.History[^1].Source, Is.EqualTo(OrderSources.Gateway));
    }

    [Test]
    public async Task Pause_answers_423_orders_nothing_and_still_records_the_jars_level()
    {
        await using var gateway = await TestGateway.StartAsync();
        using var http = gateway.Http(gateway.Demo.UserAuth);
        var until = DateTimeOffset.UtcNow.AddDays(7);
        await PutAsync(http, "/v1/safeguards", new { PausedUntil = until });
        await using var button = await gateway.ConnectButtonAsync();
        await using var jar = await gateway.ConnectJarAsync();

        var press = await button.RequestAsync(DeviceTopicKind.Trigger, Button);
        var low = await jar.RequestAsync(DeviceTopicKind.Level, """{"Instruction_Ref":987654321,"Level":2}""");
        var instructions = await http.GetFromJsonAsync<JsonElement>("/v1/instructions");
        var jarLevel = instructions.EnumerateArray().Single(i => i.GetProperty("Instruction_Ref").GetInt64() == DemoCredentials.JarRef).GetProperty("Inventory").GetProperty("Level").GetDouble();
        using var httpPress = new HttpRequestMessage(HttpMethod.Post, "/v1/trigger");
        httpPress.Headers.Add(HttpHeaders.InstructionRef, Button);
        using var overHttp = await http.SendAsync(httpPress);

        Assert.That(press.Id, Is.EqualTo(AckIds.Paused));
        Assert.That(press.Status, Is.EqualTo("Didn't do - paused until " + until.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)));
        Assert.That(press.OrderRef, Is.Null);
        Assert.That(low.Id, Is.EqualTo(AckIds.Paused), "a low level orders nothing either");
        Assert.That(jarLevel, Is.EqualTo(2), "the level is recorded");
        Assert.That((int)overHttp.StatusCode, Is.EqualTo(423));
        Assert.That(gateway.Orders(DemoCredentials.ButtonRef).Concat(gateway.Orders(DemoCredentials.JarRef)), Is.Empty);
    }

    [Test]
    public async Task Spend_limit_two_devices_pressing_at_once_near_the_limit_cannot_both_pass_and_the_refused_one_never_reaches_the_retailer()
    {
        await using var retailer = await LocalRetailer.StartAsync();
        await using var gateway = await TestGateway.StartAsync(retailer.Args("demo-retailer"));
        using var http = gateway.Http(gateway.Demo.UserAuth);
        var (doser, doserRef) = await NewDeviceAsync(gateway, http, "kitchen-doser", "demo-retailer");
        await using var _ = doser;
        await PutAsync(http, "/v1/safeguards", new { MonthlySpendLimit = 60.00m, Currency = "EUR" });
        await PutAsync(http, $"/v1/instructions/{Button}/safeguards", new { MaxUnitPrice = 35.50m });
        await PutAsync(http, $"/v1/instructions/{doserRef}/safeguards", new { MaxUnitPrice = 35.50m });
        await using var button = await gateway.ConnectButtonAsync();

        var acks = await Task.WhenAll(
            button.RequestAsync(DeviceTopicKind.Trigger, Button),
            doser.RequestAsync(DeviceTopicKind.Trigger, doserRef.ToString(CultureInfo.InvariantCulture)));
        var placed = acks.Single(a => a.Id == AckIds.OrderPlaced);
        var refused = acks.Single(a => a.Id != AckIds.OrderPlaced);
        await WaitForAsync(gateway, placed.OrderRef!.Value, o => o.State == OrderState.Submitted);
        var safeguards = await http.GetFromJsonAsync<JsonElement>("/v1/safeguards");

        Assert.That(refused.Id, Is.EqualTo(AckIds.SpendLimitReached));
        Assert.That(refused.Status, Is.EqualTo("Didn't do - monthly spend limit of 60.00 EUR reached (35.50 spent)"));
        Assert.That(await retailer.QuietAsync(TimeSpan.FromMilliseconds(500)), Is.True);
        Assert.That(retailer.Requests.Select(r => r.IdempotencyKey), Is.EqualTo(new[] { placed.OrderRef.Value.ToString(CultureInfo.InvariantCulture) }),
            "only the order that passed reaches the retailer");
        Assert.That(safeguards.GetProperty("Spent").GetDecimal(), Is.EqualTo(35.50m));
    }

    [Test]
    public async Task Spend_limit_a_new_calendar_month_starts_from_nothing()
    {
        // Starts at the real time (the demo's User_Auth is issued on the gateway's clock and checked on the real one).
        var start = DateTimeOffset.UtcNow;
        var nextMonth = new DateTimeOffset(start.Year, start.Month, 1, 0, 30, 0, TimeSpan.Zero).AddMonths(1);
        var time = new FakeTimeProvider(start);
        await using var gateway = await TestGateway.StartAsync(configure: builder => builder.Services.AddSingleton<TimeProvider>(time));
        using var http = gateway.Http(gateway.Demo.UserAuth);
        var (doser, doserRef) = await NewDeviceAsync(gateway, http, "kitchen-doser", "shop");
        await using var _ = doser;
        await PutAsync(http, "/v1/safeguards", new { MonthlySpendLimit = 10m });
        await PutAsync(http, $"/v1/instructions/{Button}/safeguards", new { MaxUnitPrice = 6m });
        await PutAsync(http, $"/v1/instructions/{doserRef}/safeguards", new { MaxUnitPrice = 6m });
        await using var button = await gateway.ConnectButtonAsync();

        var thisMonth = await button.RequestAsync(DeviceTopicKind.Trigger, Button);
        var crossing = await doser.RequestAsync(DeviceTopicKind.Trigger, doserRef.ToString(CultureInfo.InvariantCulture));
        time.Advance(nextMonth - start);
        var next = await doser.RequestAsync(DeviceTopicKind.Trigger, doserRef.ToString(CultureInfo.InvariantCulture));
        var safeguards = await http.GetFromJsonAsync<JsonElement>("/v1/safeguards");

        Assert.That(thisMonth.Id, Is.EqualTo(AckIds.OrderPlaced));
        Assert.That(crossing.Id, Is.EqualTo(AckIds.SpendLimitReached));
        Assert.That(crossing.Status, Is.EqualTo("Didn't do - monthly spend limit of 10.00 EUR reached (6.00 spent)"));
        Assert.That(next.Id, Is.EqualTo(AckIds.OrderPlaced), "00:30 UTC on the 1st: a new month");
        Assert.That(safeguards.GetProperty("Month").GetString(), Is.EqualTo(nextMonth.ToString("yyyy-MM", CultureInfo.InvariantCulture)));
        Assert.That(safeguards.GetProperty("Spent").GetDecimal(), Is.EqualTo(6m));
    }

    [Test]
    public async Task Safeguards_spending_fallbacks_and_an_order_awaiting_approval_survive_a_restart()
    {
        await using var gateway = await TestGateway.StartAsync();
        long awaiting;
        using (var http = gateway.Http(gateway.Demo.UserAuth))
        {
            await PutAsync(http, "/v1/safeguards", new { MonthlySpendLimit = 10m, Currency = "CHF" });
            await PutAsync(http, $"/v1/instructions/{Button}/safeguards", new { ApprovalRequired = true, MaxUnitPrice = 6m });
            using var fallbacks = await http.PutAsJsonAsync($"/v1/instructions/{Button}/retailers", new { Fallbacks = new[] { new { Retailer = "shop-b", Product = "B1" } } });
            await using var button = await gateway.ConnectButtonAsync();
            awaiting = (await button.RequestAsync(DeviceTopicKind.Trigger, Button)).OrderRef!.Value;
        }

        await gateway.RestartAsync();
        using var after = gateway.Http(gateway.Demo.UserAuth);
        var safeguards = await after.GetFromJsonAsync<JsonElement>("/v1/safeguards");
        await using var again = await gateway.ConnectButtonAsync();
        var blocked = await again.RequestAsync(DeviceTopicKind.Trigger, Button);
        using var approve = await after.PostAsync($"/v1/orders/{awaiting}/approve", null);
        var instruction = gateway.Store.Load().Instructions.Single(i => i.Ref == DemoCredentials.ButtonRef);

        Assert.That(safeguards.GetProperty("MonthlySpendLimit").GetDecimal(), Is.EqualTo(10m));
        Assert.That(safeguards.GetProperty("Currency").GetString(), Is.EqualTo("CHF"));
        Assert.That(safeguards.GetProperty("Spent").GetDecimal(), Is.EqualTo(6m), "the reserve of the order awaiting approval");
        Assert.That(blocked.Id, Is.EqualTo(AckIds.Conflict));
        Assert.That(blocked.OrderRef, Is.EqualTo(awaiting), "still awaiting approval after the restart");
        Assert.That((int)approve.StatusCode, Is.EqualTo(200));
        Assert.That((instruction.ApprovalRequired, instruction.MaxUnitPrice), Is.EqualTo(((bool?)true, (decimal?)6m)));
        Assert.That(instruction.Fallbacks.Select(f => (f.Retailer, f.Product)), Is.EqualTo(new[] { ("shop-b", "B1") }));
    }

    [Test]
    public async Task Price_guard_a_confirmation_above_it_is_cancelled_at_the_retailer_and_the_household_and_device_are_told_why()
    {
        await using var retailer = await LocalRetailer.StartAsync();
        retailer.Then(LocalRetailer.Status(200, """{"Status":"Confirmed","UnitPrice":5.25,"Currency":"EUR"}"""));
        await using var gateway = await TestGateway.StartAsync(retailer.Args("demo-retailer"));
        using var http = gateway.Http(gateway.Demo.UserAuth);
        await PutAsync(http, $"/v1/instructions/{Button}/safeguards", new { MaxUnitPrice = 4.00m });
        await using var button = await gateway.ConnectButtonAsync();
        await button.SubscribeAsync(Topics.Device(DemoCredentials.Button, DeviceTopicKind.Orders));

        var pressed = await button.RequestAsync(DeviceTopicKind.Trigger, Button);
        var cancelled = await WaitForAsync(gateway, pressed.OrderRef!.Value, o => o.State == OrderState.Cancelled);
        var seen = await http.GetFromJsonAsync<OrderStatus>($"/v1/orders/{pressed.OrderRef}", ContractJson.Options);
        var told = await button.NextMessageAsync(m => m.Payload.ToArray() is var p && System.Text.Encoding.UTF8.GetString(p).Contains("price guard", StringComparison.Ordinal), TestDevice.AckTimeout);

        Assert.That(retailer.Cancels.Select(c => (c.IdempotencyKey, c.Signed)), Is.EqualTo(new[] { (pressed.OrderRef.Value.ToString(CultureInfo.InvariantCulture) + "-cancel", true) }),
            "one signed cancel at the retailer");
        Assert.That(cancelled.History.Select(h => h.State), Is.EqualTo(new[] { OrderState.Placed, OrderState.Confirmed, OrderState.Cancelled }));
        Assert.That(seen!.Reason, Is.EqualTo("price guard: the retailer quoted 5.25 EUR per unit, above the limit of 4.00 EUR"));
        Assert.That(seen.UnitPrice, Is.EqualTo(5.25m));
        Assert.That(told, Is.Not.Null, "the paired device heard why");
    }

    private static async Task PutAsync(HttpClient http, string path, object body)
    {
        using var response = await http.PutAsJsonAsync(path, body);
        Assert.That(response.IsSuccessStatusCode, Is.True, await response.Content.ReadAsStringAsync());
    }

    private static async Task<(TestDevice Device, long InstructionRef)> NewDeviceAsync(TestGateway gateway, HttpClient http, string name, string retailer)
    {
        using var created = await http.PostAsJsonAsync("/v1/devices", new { Name = name });
        var device = await created.Content.ReadFromJsonAsync<JsonElement>();
        var deviceId = device.GetProperty("DeviceId").GetString()!;
        var key = device.GetProperty("Device_Key").GetString()!;
        using var instruction = await http.PostAsJsonAsync("/v1/instructions", new { Product = "Detergent", Retailer = retailer, Quantity = 1, DeviceIds = new[] { deviceId } });
        var reference = (await instruction.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("Instruction_Ref").GetInt64();
        return (await gateway.ConnectAsync(deviceId, key), reference);
    }

    private static async Task<OrderState> StillAsync(TestGateway gateway, long orderRef, TimeSpan quiet)
    {
        await Task.Delay(quiet);
        return gateway.Store.FindOrder(orderRef)!.State;
    }

    private static async Task<Order> WaitForAsync(TestGateway gateway, long orderRef, Func<Order, bool> done)
    {
        var clock = Stopwatch.StartNew();
        var order = gateway.Store.FindOrder(orderRef)!;
        while (clock.Elapsed < TimeSpan.FromSeconds(15) && !done(order))
        {
            await Task.Delay(50);
            order = gateway.Store.FindOrder(orderRef)!;
        }

        Assert.That(done(order), Is.True, $"order {orderRef} is {order.State}");
        return order;
    }
}
