using System.ComponentModel.DataAnnotations;
using Pantri.Iot.Broker.Transport;

namespace Pantri.Iot.Broker.Tests;

public sealed class BrokerOptionsTests
{
    [Test]
    public void The_defaults_are_the_documented_ones_and_valid()
    {
        var options = new BrokerOptions();

        Assert.Multiple(() =>
        {
            Assert.That(options.ConnectTimeout, Is.EqualTo(TimeSpan.FromSeconds(5)));
            Assert.That(options.MaxConnectionsPerAddress, Is.EqualTo(1_000));
            Assert.That(options.MaxSubscriptionsPerClient, Is.EqualTo(32));
            Assert.That(options.MaxTopicLength, Is.EqualTo(256));
            Assert.That(options.MaxLoginFailuresPerClientId, Is.EqualTo(5));
            Assert.That(options.MaxLoginFailuresPerAddress, Is.EqualTo(20));
            Assert.That(options.LoginBackoff, Is.EqualTo(TimeSpan.FromMinutes(1)));
            Assert.That(options.RefusalLogLinesPerMinute, Is.EqualTo(10));
            Assert.That(options.ProxyAddresses, Is.Empty);
            Assert.That(Validate(options), Is.Empty);
        });
    }

    [Test]
    public void A_proxy_address_that_is_not_an_ip_address_fails_validation()
    {
        var options = new BrokerOptions { ProxyAddresses = ["127.0.0.1", "proxy.example"] };

        Assert.That(Validate(options), Has.One.Contains("proxy.example"));
    }

    [Test]
    public void A_guessable_ops_password_fails_validation_and_a_long_one_passes()
    {
        Assert.That(Validate(new BrokerOptions { OpsUsername = "ops", OpsPassword = "change-me" }), Has.One.Contains("16 characters"));
        Assert.That(Validate(new BrokerOptions { OpsUsername = "ops", OpsPassword = "0123456789abcdef" }), Is.Empty);
        Assert.That(Validate(new BrokerOptions()), Is.Empty, "no ops credential at all is fine");
    }

    [Test]
    public void A_connect_timeout_of_zero_fails_validation() =>
        Assert.That(Validate(new BrokerOptions { ConnectTimeout = TimeSpan.Zero }), Is.Not.Empty);

    [TestCase(100_000, 20_000L, 18_976)]
    [TestCase(100_000, 1_024L, 768)]
    [TestCase(100_000, 100L, 36)]
    [TestCase(500, 20_000L, 500)]
    [TestCase(100_000, null, 100_000)]
    public void The_connection_cap_leaves_room_below_the_open_file_limit(int configured, long? limit, int expected) =>
        Assert.That(OpenFileLimit.Clamp(configured, limit), Is.EqualTo(expected));

    [Test]
    public void The_soft_open_file_limit_is_read_from_proc()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllLines(path, ["Limit                     Soft Limit           Hard Limit           Units", "Max open files            4096                 524288               files"]);
            Assert.That(OpenFileLimit.ReadSoftLimit(path), Is.EqualTo(4096));
            File.WriteAllLines(path, ["Max open files            unlimited            unlimited            files"]);
            Assert.That(OpenFileLimit.ReadSoftLimit(path), Is.Null);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static List<string> Validate(BrokerOptions options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return results.Select(r => r.ErrorMessage ?? string.Empty).ToList();
    }
}
