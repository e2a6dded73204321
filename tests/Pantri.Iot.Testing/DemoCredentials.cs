using Pantri.Iot.Contract;

namespace Pantri.Iot.Testing;

/// <summary>What the gateway wrote to demo-household.json.</summary>
public sealed record DemoCredentials(string AccountId, string UserAuth, string ButtonKey, string JarKey)
{
    public const string Button = "demo-button";
    public const string Jar = "demo-jar";
    public const long ButtonRef = 123456789;
    public const long JarRef = 987654321;

    public static DemoCredentials Read(string dataDirectory)
    {
        var demo = DemoHouseholdFile.ReadFromDirectory(dataDirectory);
        return new DemoCredentials(demo.AccountId, demo.UserAuth, demo.Device(Button).DeviceKey, demo.Device(Jar).DeviceKey);
    }
}
