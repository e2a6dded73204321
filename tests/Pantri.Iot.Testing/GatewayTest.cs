namespace Pantri.Iot.Testing;

/// <summary>Base of tests that each need a fresh gateway with the demo household.</summary>
[Category("Integration")]
public abstract class GatewayTest
{
    protected TestGateway Gateway { get; private set; } = null!;

    [SetUp]
    public async Task StartGateway() => Gateway = await TestGateway.StartAsync();

    [TearDown]
    public async Task StopGateway() => await Gateway.DisposeAsync();
}
