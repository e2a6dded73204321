using Pantri.Iot.Broker.Abstractions;
using Pantri.Iot.Contract;
using Pantri.Iot.Gateway.Security;

namespace Pantri.Iot.Gateway.Events;

/// <summary>Tells a household's open event streams when one of its devices goes offline (<c>event: device-offline</c>,
/// the ops presence payload). Nothing is built when the household has no stream open.</summary>
public sealed class PresenceEvents(DeviceDirectory directory, HouseholdEvents events) : IPresenceObserver
{
    /// <inheritdoc/>
    public void PresenceChanged(string deviceId, string status, string? reason, DateTimeOffset at)
    {
        if (status != PresenceStatus.Offline || directory.AccountOf(deviceId) is not { } account || !events.IsListening(account))
        {
            return;
        }

        var presence = new DevicePresence { DeviceId = deviceId, Status = status, LastSeen = at, Reason = reason };
        events.Publish([new HouseholdEvent(account, HouseholdEventTypes.DeviceOffline, ContractJson.Serialize(presence))]);
    }
}
