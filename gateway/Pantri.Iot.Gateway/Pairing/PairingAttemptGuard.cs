using System.Net;
using Microsoft.Extensions.Options;

namespace Pantri.Iot.Gateway.Pairing;

/// <summary>Makes guessing pairing codes hopeless: counts wrong codes per source address (a burst blocks the address
/// for a while, valid codes included) and for the whole installation (a flood from many addresses stops all attempts
/// for the rest of the minute). With 31⁸ ≈ 8.5 × 10¹¹ codes and 60 wrong codes a minute, a year of guessing hits a given
/// unused code with a chance of about 1 in 27,000 (and a code lives ten minutes).
/// Thread-safe; its memory is bounded (<see cref="MaxAddresses"/>).</summary>
public sealed class PairingAttemptGuard(IOptions<PairingOptions> options, TimeProvider time)
{
    /// <summary>Most addresses remembered; beyond it the oldest entries are dropped.</summary>
    public const int MaxAddresses = 10_000;

    private readonly PairingOptions _options = options.Value;
    private readonly Dictionary<IPAddress, AddressState> _addresses = [];
    private readonly Lock _lock = new();
    private DateTimeOffset _minuteStart;
    private int _failuresThisMinute;

    /// <summary>True when an attempt from <paramref name="address"/> may be looked at now.</summary>
    public bool IsAllowed(IPAddress? address)
    {
        var now = time.GetUtcNow();
        lock (_lock)
        {
            if (now - _minuteStart < TimeSpan.FromMinutes(1) && _failuresThisMinute >= _options.FailuresPerMinute)
            {
                return false;
            }

            return address is null || !_addresses.TryGetValue(address, out var state) || state.BlockedUntil <= now;
        }
    }

    /// <summary>Records a wrong (or malformed) code from <paramref name="address"/>; true when this blocked the address.</summary>
    public bool Failed(IPAddress? address)
    {
        var now = time.GetUtcNow();
        lock (_lock)
        {
            if (now - _minuteStart >= TimeSpan.FromMinutes(1))
            {
                _minuteStart = now;
                _failuresThisMinute = 0;
            }

            _failuresThisMinute++;
            if (address is null)
            {
                return false;
            }

            if (!_addresses.TryGetValue(address, out var state) || now - state.WindowStart >= _options.FailureWindow)
            {
                Prune(now);
                state = new AddressState { WindowStart = now };
                _addresses[address] = state;
            }

            state.Failures++;
            if (state.Failures >= _options.FailuresPerAddress && state.BlockedUntil <= now)
            {
                state.BlockedUntil = now + _options.BlockTime;
                return true;
            }

            return false;
        }
    }

    private void Prune(DateTimeOffset now)
    {
        if (_addresses.Count < MaxAddresses)
        {
            return;
        }

        foreach (var (address, state) in _addresses.ToList())
        {
            if (now - state.WindowStart >= _options.FailureWindow && state.BlockedUntil <= now)
            {
                _addresses.Remove(address);
            }
        }

        // Still full (a flood of live entries): forget the oldest windows rather than grow.
        foreach (var address in _addresses.OrderBy(a => a.Value.WindowStart).Take(_addresses.Count - MaxAddresses + 1).Select(a => a.Key).ToList())
        {
            _addresses.Remove(address);
        }
    }

    private sealed class AddressState
    {
        public DateTimeOffset WindowStart { get; init; }

        public int Failures { get; set; }

        public DateTimeOffset BlockedUntil { get; set; }
    }
}
