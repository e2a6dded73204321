namespace Pantri.Iot.Gateway.Tests.Storage;

/// <summary>A test that opens LiteDB stores on disk: each test gets an empty directory of its own, deleted after it.</summary>
public abstract class StoreDirectoryTest
{
    /// <summary>The test's directory.</summary>
    protected string Dir { get; private set; } = null!;

    /// <summary>The store's database file in <see cref="Dir"/>.</summary>
    protected string StorePath { get; private set; } = null!;

    [SetUp]
    public void CreateDirectory()
    {
        Dir = Path.Combine(Path.GetTempPath(), "pantri-store-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Dir);
        StorePath = Path.Combine(Dir, "pantri.db");
    }

    [TearDown]
    public void DeleteDirectory() => Directory.Delete(Dir, recursive: true);
}
