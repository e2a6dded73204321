using System.Net;
using Microsoft.Extensions.Time.Testing;

namespace Pantri.Iot.Broker.Tests;

public sealed class LoginThrottleTests
{
    private static readonly IPAddress Attacker = IPAddress.Parse("203.0.113.7");
    private static readonly IPAddress Home = IPAddress.Parse("198.51.100.20");
    private static readonly IPAddress Proxy = IPAddress.Parse("10.0.0.2");
    private readonly FakeTimeProvider _time = new();

    [Test]
    public void A_client_id_is_throttled_at_the_failing_address_only_and_for_the_backoff()
    {
        var throttle = Throttle();
        for (var i = 0; i < 4; i++)
        {
            throttle.Failed("demo-button", Attacker);
        }

        Assert.That(throttle.IsThrottled("demo-button", Attacker), Is.False, "four failures are allowed");
        throttle.Failed("demo-button", Attacker);
        Assert.That(throttle.IsThrottled("demo-button", Attacker), Is.True);
        Assert.That(throttle.IsThrottled("demo-button", Home), Is.False, "the device at home is not locked out");
        Assert.That(throttle.IsThrottled("demo-jar", Attacker), Is.False);

        _time.Advance(TimeSpan.FromSeconds(61));
        Assert.That(throttle.IsThrottled("demo-button", Attacker), Is.False, "the back-off is over");
    }

    [Test]
    public void Failures_older_than_the_window_do_not_count()
    {
        var throttle = Throttle();
        for (var i = 0; i < 4; i++)
        {
            throttle.Failed("demo-button", Attacker);
        }

        _time.Advance(TimeSpan.FromMinutes(1));
        throttle.Failed("demo-button", Attacker);
        Assert.That(throttle.IsThrottled("demo-button", Attacker), Is.False);
    }

    [Test]
    public void An_address_is_throttled_for_all_client_ids_after_its_own_limit()
    {
        var throttle = Throttle();
        for (var i = 0; i < 20; i++)
        {
            throttle.Failed($"ghost-{i}", Attacker);
        }

        Assert.That(throttle.IsThrottled("demo-jar", Attacker), Is.True);
        Assert.That(throttle.IsThrottled("demo-jar", Home), Is.False);
    }

    [Test]
    public void A_proxy_address_is_not_throttled_as_an_address_but_a_client_id_behind_it_is()
    {
        var throttle = Throttle(Proxy);
        for (var i = 0; i < 50; i++)
        {
            throttle.Failed($"ghost-{i}", Proxy);
        }

        Assert.That(throttle.IsThrottled("demo-jar", Proxy), Is.False);
        for (var i = 0; i < 5; i++)
        {
            throttle.Failed("demo-button", Proxy);
        }

        Assert.That(throttle.IsThrottled("demo-button", Proxy), Is.True);
    }

    [Test]
    public void A_success_forgets_the_client_ids_failures()
    {
        var throttle = Throttle();
        for (var i = 0; i < 4; i++)
        {
            throttle.Failed("demo-button", Home);
        }

        throttle.Succeeded("demo-button", Home);
        throttle.Failed("demo-button", Home);
        Assert.That(throttle.IsThrottled("demo-button", Home), Is.False);
    }

    [Test]
    public void A_spray_of_client_ids_keeps_a_bounded_table_and_the_address_limit_still_holds()
    {
        var throttle = Throttle();
        for (var i = 0; i < LoginThrottle.MaxEntries + 5_000; i++)
        {
            throttle.Failed($"ghost-{i}", new IPAddress([10, (byte)(i >> 16), (byte)(i >> 8), (byte)i]));
        }

        Assert.That(throttle.EntryCounts, Is.EqualTo((LoginThrottle.MaxEntries, LoginThrottle.MaxEntries)));
        for (var i = 0; i < 20; i++)
        {
            throttle.Failed($"late-{i}", Attacker);
        }

        Assert.That(throttle.IsThrottled("anything", Attacker), Is.False, "new addresses are not tracked while the table is full of live entries");
        _time.Advance(TimeSpan.FromMinutes(2));
        for (var i = 0; i < 20; i++)
        {
            throttle.Failed($"late-{i}", Attacker);
        }

        Assert.That(throttle.IsThrottled("anything", Attacker), Is.True, "expired entries were pruned to make room");
    }

    private LoginThrottle Throttle(params IPAddress[] proxies) => new(_time, 5, 20, TimeSpan.FromMinutes(1), proxies.ToHashSet());
}
