namespace Pantri.Iot.Testing;

/// <summary>Base of test classes whose tests share one gateway (they do not change each other's outcome): started
/// once for the class, checked for unexpected logged errors after every test.</summary>
[Category("Integration")]
public abstract class SharedGatewayTest
{
    /// <summary>The class's gateway.</summary>
    protected TestGateway Gateway { get; private set; } = null!;

    [OneTimeSetUp]
    public async Task StartGateway() => Gateway = await TestGateway.StartAsync();

    [OneTimeTearDown]
    public async Task StopGateway() => await Gateway.DisposeAsync();

    // The gateway outlives each test, and a failing OneTimeTearDown is only printed, not reported as a failed test.
    [TearDown]
    public void FailOnUnexpectedLoggedErrors() => Gateway.ThrowIfLoggedErrors();
}
