using Pantri.Iot.Contract;
using Pantri.Iot.Domain;
using Pantri.Iot.Gateway.Pipeline;
using Pantri.Iot.Gateway.Security;

namespace Pantri.Iot.Gateway.Setup;

/// <summary>The household setup API (devices, instructions, pairing, trigger points, order states) as calls: each
/// builds one <see cref="SetupCommand{T}"/> and hands it to the writer, on behalf of the request's user (the audit
/// log's <c>By</c>) when there is one.</summary>
public sealed class SetupService(CommandWriter writer, IDeviceCredentialSync credentials, IHttpContextAccessor http)
{
    /// <summary>Runs any setup command on the writer (households, users, devices…).</summary>
    public Task<SetupResult<T>> RunAsync<T>(SetupCommand<T> command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        var user = http.HttpContext?.User;
        return writer.SubmitAsync(user?.Identity?.IsAuthenticated == true ? command with { By = Entry.Http.AccountClaims.UserOf(user) } : command, cancellationToken);
    }

    /// <summary>Creates a device in an account with a gateway-assigned id; its key is returned once. With an external
    /// broker the device's credentials reach the broker before the key is returned; when they could not, the call
    /// answers 503 and the device must be re-keyed (the key was never shown).</summary>
    public async Task<SetupResult<DeviceWithKey>> CreateDeviceAsync(string accountId, string name, CancellationToken cancellationToken) =>
        await ThenBrokerAsync(
            await RunAsync(new CreateDevice(accountId, name), cancellationToken).ConfigureAwait(false),
            device => credentials.DeviceCreatedAsync(device.DeviceId, device.DeviceKey, cancellationToken),
            "the device was created but the broker did not take its credentials ({0}); re-key it").ConfigureAwait(false);

    /// <summary>Gives a device a new key (returned once); the old one stops working here at once and, with an external
    /// broker, at the broker before the new key is returned (503 when the broker did not take it: rotate again).</summary>
    public async Task<SetupResult<DeviceWithKey>> RotateDeviceKeyAsync(string accountId, string deviceId, CancellationToken cancellationToken) =>
        await ThenBrokerAsync(
            await RunAsync(new RotateDeviceKey(accountId, deviceId), cancellationToken).ConfigureAwait(false),
            device => credentials.KeyChangedAsync(device.DeviceId, device.DeviceKey, cancellationToken),
            "the key was changed but the broker did not take it ({0}); rotate it again").ConfigureAwait(false);

    /// <summary>Revokes a device; with an external broker its client is removed there too (the gateway refuses a
    /// revoked device's commands either way).</summary>
    public async Task<SetupResult<DeviceView>> RevokeDeviceAsync(string accountId, string deviceId, CancellationToken cancellationToken) =>
        await ThenBrokerAsync(
            await RunAsync(new RevokeDevice(accountId, deviceId), cancellationToken).ConfigureAwait(false),
            device => credentials.DeviceRemovedAsync(device.DeviceId, cancellationToken),
            "the device was revoked here but the broker did not remove it ({0}); its commands are refused, remove its client at the broker").ConfigureAwait(false);

    // After a committed credential change: tell an external broker (a no-op for the embedded one) before answering, so a
    // key is never shown that the broker does not know; a broker that did not take it makes the call a 503.
    private static async Task<SetupResult<T>> ThenBrokerAsync<T>(SetupResult<T> committed, Func<T, Task> sync, string failure)
    {
        if (committed.Value is not { } value)
        {
            return committed;
        }

        try
        {
            await sync(value).ConfigureAwait(false);
            return committed;
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or MQTTnet.Exceptions.MqttCommunicationException)
        {
            return SetupResult.Fail<T>(StatusCodes.Status503ServiceUnavailable, string.Format(System.Globalization.CultureInfo.InvariantCulture, failure, ex.Message));
        }
    }

    /// <summary>Creates an instruction (optionally tracked, optionally paired).</summary>
    public Task<SetupResult<InstructionView>> CreateInstructionAsync(string accountId, NewInstruction body, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        return RunAsync(new CreateInstruction(accountId, body.ToSpec()), cancellationToken);
    }

    /// <summary>Pairs a device of the account with an instruction.</summary>
    public Task<SetupResult<InstructionView>> PairAsync(string accountId, long instructionRef, string deviceId, CancellationToken cancellationToken) =>
        RunAsync(new PairDevice(accountId, instructionRef, deviceId), cancellationToken);

    /// <summary>Sets the user's trigger point and tracking settings (tracking starts if it was off).</summary>
    public Task<SetupResult<InstructionView>> ConfigureTrackingAsync(string accountId, long instructionRef, TrackingSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return RunAsync(new ConfigureTracking(accountId, instructionRef, settings.ToSpec()), cancellationToken);
    }

    /// <summary>The account's instructions.</summary>
    public Task<SetupResult<IReadOnlyList<InstructionView>>> ListInstructionsAsync(string accountId, CancellationToken cancellationToken) =>
        RunAsync(new ListInstructions(accountId), cancellationToken);

    /// <summary>Moves an open order (cancel, mark delivered…). Delivery of a tracked item raises its level.</summary>
    public Task<SetupResult<OrderStatus>> MoveOrderAsync(string accountId, long orderRef, OrderState state, string by, CancellationToken cancellationToken) =>
        RunAsync(new MoveOrder(accountId, orderRef, state, by), cancellationToken);
}
