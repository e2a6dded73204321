using System.Text.Json;

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
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dataDirectory, "demo-household.json")));
        var root = doc.RootElement;
        string KeyOf(string id) => root.GetProperty("Devices").EnumerateArray().Single(d => d.GetProperty("DeviceId").GetString() == id).GetProperty("Device_Key").GetString()!;
        return new DemoCredentials(root.GetProperty("AccountId").GetString()!, root.GetProperty("User_Auth").GetString()!, KeyOf(Button), KeyOf(Jar));
    }
}
