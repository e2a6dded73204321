using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Pantri.Iot.Sdk.Tests;

/// <summary><c>AddPantriDevice</c> in a real generic host against a real gateway.</summary>
[Category("Integration")]
public sealed class HostingTests
{
    [Test]
    public async Task AddPantriDevice_binds_Pantri_Device_and_runs_the_client_with_the_host()
    {
        await using var gateway = await GatewayLogs.StartAsync();
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Pantri:Device:Host"] = "127.0.0.1",
            ["Pantri:Device:Port"] = gateway.MqttPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Pantri:Device:DeviceId"] = DemoCredentials.Button,
            ["Pantri:Device:DeviceKey"] = gateway.Demo.ButtonKey,
            ["Pantri:Device:ProtocolVersion"] = "Mqtt311",
        });
        builder.AddPantriDevice(options => options.AckTimeout = TimeSpan.FromSeconds(5));
        using var host = builder.Build();

        await host.StartAsync();
        var device = host.Services.GetRequiredService<PantriDeviceClient>();
        var ack = await device.TriggerReorderAsync(DemoCredentials.ButtonRef);
        await host.StopAsync();

        Assert.That(ack.Id, Is.EqualTo(AckIds.OrderPlaced));
        Assert.That(device.State, Is.EqualTo(PantriConnectionState.Stopped));
    }

    [Test]
    public void AddPantriDevice_with_an_invalid_DeviceId_fails_when_the_host_starts()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Pantri:Device:DeviceId"] = "Not A Device",
            ["Pantri:Device:DeviceKey"] = "secret",
        });
        builder.AddPantriDevice();
        using var host = builder.Build();

        var error = Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.That(error!.Message, Does.Contain("DeviceId"));
    }
}
