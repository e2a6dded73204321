using System.Text;
using System.Text.Json;

namespace Pantri.Iot.Contract.Tests;

public sealed class DemoHouseholdFileTests
{
    private static readonly DemoHouseholdFile Demo = new()
    {
        AccountId = "demo",
        UserAuth = "token-secret",
        Devices =
        [
            new DemoHouseholdDevice { DeviceId = "demo-button", DeviceKey = "button-secret", InstructionRef = 123456789 },
            new DemoHouseholdDevice { DeviceId = "demo-jar", DeviceKey = "jar-secret", InstructionRef = 987654321, Level = 12, ReorderAt = 5 },
        ],
    };

    public static IEnumerable<TestCaseData> MalformedFiles()
    {
        TestCaseData Case(string json, string problem) => new TestCaseData(json, problem).SetName("Refused: " + problem);

        yield return Case("", "is not a valid demo household file");
        yield return Case("{", "is not a valid demo household file");
        yield return Case("null", "it holds null");
        yield return Case("""{"User_Auth": "t", "Devices": []}""", "AccountId");
        yield return Case("""{"AccountId": "", "User_Auth": "t", "Devices": []}""", "AccountId is empty");
        yield return Case("""{"AccountId": "demo", "User_Auth": null, "Devices": []}""", "User_Auth is empty");
        yield return Case("""{"AccountId": "demo", "User_Auth": "t", "Devices": null}""", "Devices is null");
        yield return Case("""{"AccountId": "demo", "User_Auth": "t", "Devices": [null]}""", "a device is null");
        yield return Case("""{"AccountId": "demo", "User_Auth": "t", "Devices": [{"DeviceId": "Demo Button", "Device_Key": "k", "Instruction_Ref": 1}]}""", "device \"Demo Button\" is not a valid DeviceId");
        yield return Case("""{"AccountId": "demo", "User_Auth": "t", "Devices": [{"DeviceId": "demo-button", "Device_Key": "", "Instruction_Ref": 1}]}""", "device \"demo-button\" has an empty Device_Key");
        yield return Case("""{"AccountId": "demo", "User_Auth": "t", "Devices": [{"DeviceId": "demo-button", "Device_Key": "k", "Instruction_Ref": 0}]}""", "device \"demo-button\" has no positive Instruction_Ref");
        yield return Case("""{"AccountId": "demo", "User_Auth": "t", "Devices": [{"DeviceId": "demo-button", "Device_Key": "k"}]}""", "Instruction_Ref");
        yield return Case("""{"AccountId": "demo", "User_Auth": "t", "Devices": [{"DeviceId": "demo-button", "Device_Key": "k", "Instruction_Ref": "x"}]}""", "is not a valid demo household file");
    }

    [Test]
    public void The_file_round_trips_to_an_equal_household()
    {
        var read = DemoHouseholdFile.FromJson(Demo.ToJson());

        Assert.That(read, Is.EqualTo(Demo));
        Assert.That(read.Devices, Is.EqualTo(Demo.Devices));
    }

    [Test]
    public void The_file_is_indented_with_the_contract_field_names_and_leaves_nulls_out()
    {
        var text = Encoding.UTF8.GetString(Demo.ToJson());
        using var json = JsonDocument.Parse(text);
        var root = json.RootElement;

        Assert.That(text, Does.Contain("\n  \"AccountId\": \"demo\""));
        Assert.That(root.EnumerateObject().Select(p => p.Name), Is.EqualTo(new[] { "AccountId", "User_Auth", "Devices" }));
        Assert.That(root.GetProperty("Devices")[0].EnumerateObject().Select(p => p.Name), Is.EqualTo(new[] { "DeviceId", "Device_Key", "Instruction_Ref" }));
        Assert.That(
            root.GetProperty("Devices")[1].EnumerateObject().Select(p => p.Name),
            Is.EqualTo(new[] { "DeviceId", "Device_Key", "Instruction_Ref", "Level", "ReorderAt" }));
    }

    [Test]
    public void The_contract_example_reads_as_documented()
    {
        var file = DemoHouseholdFile.FromJson("""
            {"AccountId": "demo", "User_Auth": "<token>",
             "Devices": [
              {"DeviceId": "demo-button", "Device_Key": "<key>", "Instruction_Ref": 123456789},
              {"DeviceId": "demo-jar", "Device_Key": "<key>", "Instruction_Ref": 987654321, "Level": 12, "ReorderAt": 5}]}
            """u8);

        Assert.That(file.AccountId, Is.EqualTo("demo"));
        Assert.That(file.UserAuth, Is.EqualTo("<token>"));
        Assert.That(file.Device("demo-button"), Is.EqualTo(new DemoHouseholdDevice { DeviceId = "demo-button", DeviceKey = "<key>", InstructionRef = 123456789 }));
        Assert.That(
            file.Device("demo-jar"),
            Is.EqualTo(new DemoHouseholdDevice { DeviceId = "demo-jar", DeviceKey = "<key>", InstructionRef = 987654321, Level = 12, ReorderAt = 5 }));
    }

    [Test]
    public void Field_names_are_read_in_any_case()
    {
        var file = DemoHouseholdFile.FromJson("""
            {"accountid": "demo", "user_auth": "t", "devices": [{"deviceid": "demo-button", "device_key": "k", "instruction_ref": 1}]}
            """u8);

        Assert.That(file.Device("demo-button").DeviceKey, Is.EqualTo("k"));
    }

    [Test]
    public void Asking_for_an_unknown_device_names_it_and_the_ones_listed()
    {
        var exception = Assert.Throws<KeyNotFoundException>(() => Demo.Device("demo-kettle"));

        Assert.That(exception!.Message, Does.Contain("\"demo-kettle\"").And.Contain("\"demo-button\", \"demo-jar\""));
    }

    [TestCaseSource(nameof(MalformedFiles))]
    public void A_malformed_file_is_refused_with_what_is_wrong(string json, string problem)
    {
        var exception = Assert.Throws<InvalidDataException>(() => DemoHouseholdFile.FromJson(Encoding.UTF8.GetBytes(json)));

        Assert.That(exception!.Message, Does.StartWith("the demo household JSON is not a valid demo household file").And.Contain(problem));
    }

    [Test]
    public void Households_with_different_devices_are_not_equal()
    {
        var other = Demo with { Devices = [Demo.Devices[0]] };

        Assert.That(other, Is.Not.EqualTo(Demo));
        Assert.That(Demo with { }, Is.EqualTo(Demo));
    }

    [Test]
    public void Printing_the_household_leaves_the_secrets_out()
    {
        var printed = Demo.ToString();

        Assert.That(printed, Does.Contain("demo-button").And.Contain("demo-jar").And.Contain("987654321"));
        Assert.That(printed, Does.Not.Contain("secret"));
    }

    [Test]
    [Category("Integration")]
    public void A_file_written_to_a_data_directory_reads_back_by_path_and_by_directory()
    {
        var directory = Directory.CreateTempSubdirectory("pantri-demo-");
        try
        {
            var path = Path.Combine(directory.FullName, DemoHouseholdFile.FileName);
            File.WriteAllBytes(path, Demo.ToJson());

            Assert.That(DemoHouseholdFile.Read(path), Is.EqualTo(Demo));
            Assert.That(DemoHouseholdFile.ReadFromDirectory(directory.FullName), Is.EqualTo(Demo));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Test]
    [Category("Integration")]
    public void A_malformed_file_on_disk_is_refused_naming_its_path()
    {
        var directory = Directory.CreateTempSubdirectory("pantri-demo-");
        try
        {
            var path = Path.Combine(directory.FullName, DemoHouseholdFile.FileName);
            File.WriteAllText(path, "{\"AccountId\": ");

            Assert.That(() => DemoHouseholdFile.Read(path), Throws.TypeOf<InvalidDataException>().With.Message.StartWith(path + " is not a valid demo household file"));
            Assert.That(() => DemoHouseholdFile.ReadFromDirectory(Path.Combine(directory.FullName, "missing")), Throws.TypeOf<DirectoryNotFoundException>());
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
