using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Pantri.Iot.Gateway.Telemetry;

namespace Pantri.Iot.Gateway.Retail;

/// <summary>The retailers' instruments, on the gateway's meter: submissions by retailer and outcome, retried attempts,
/// and each webhook retailer's circuit state. Retailer names come from configuration (plus the sandbox's), so the label
/// stays a small set.</summary>
public sealed class RetailMetrics
{
    private readonly Counter<long> _submissions;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _cancels;
    private readonly ConcurrentDictionary<string, int> _circuits = new(StringComparer.Ordinal);

    /// <summary>Creates the instruments on the gateway's meter of <paramref name="meterFactory"/>.</summary>
    public RetailMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(GatewayMetrics.MeterName);
        _submissions = meter.CreateCounter<long>("pantri.retail.submissions", "{submission}", "Orders sent to a retailer, by retailer and outcome (submitted, confirmed, rejected, unavailable: retries used up or circuit open, the order stays queued).");
        _cancels = meter.CreateCounter<long>("pantri.retail.cancels", "{cancel}", "Household cancels forwarded to a retailer, by retailer and outcome (accepted, refused, unavailable: it stays queued).");
        _retries = meter.CreateCounter<long>("pantri.retail.retries", "{attempt}", "Attempts of a webhook submission that were retried after a transient failure, by retailer.");
        meter.CreateObservableGauge("pantri.retail.circuit.state", ObserveCircuits, "{state}", "Each webhook retailer's circuit breaker: 0 closed, 1 open, 2 half-open.");
    }

    /// <summary>Counts one submission of <paramref name="retailer"/> that ended in <paramref name="outcome"/>.</summary>
    public void Submitted(string retailer, string outcome) =>
        _submissions.Add(1, new KeyValuePair<string, object?>("pantri.retailer", retailer), new KeyValuePair<string, object?>("pantri.outcome", outcome));

    /// <summary>Counts one forwarded cancel of <paramref name="retailer"/> that ended in <paramref name="outcome"/>.</summary>
    public void Cancelled(string retailer, string outcome) =>
        _cancels.Add(1, new KeyValuePair<string, object?>("pantri.retailer", retailer), new KeyValuePair<string, object?>("pantri.outcome", outcome));

    /// <summary>Counts one retried attempt.</summary>
    public void Retried(string retailer) => _retries.Add(1, new KeyValuePair<string, object?>("pantri.retailer", retailer));

    /// <summary>Records a circuit state change (0 closed, 1 open, 2 half-open).</summary>
    public void CircuitIs(string retailer, int state) => _circuits[retailer] = state;

    private IEnumerable<Measurement<int>> ObserveCircuits() =>
        _circuits.Select(c => new Measurement<int>(c.Value, new KeyValuePair<string, object?>("pantri.retailer", c.Key)));
}
