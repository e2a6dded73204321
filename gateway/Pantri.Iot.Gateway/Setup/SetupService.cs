using Pantri.Iot.Contract;
using Pantri.Iot.Domain;
using Pantri.Iot.Gateway.Pipeline;

namespace Pantri.Iot.Gateway.Setup;

/// <summary>The household setup API (devices, instructions, pairing, trigger points, order states) as calls: each
/// builds one <see cref="SetupCommand{T}"/> and hands it to the writer, on behalf of the request's user (the audit
/// log's <c>By</c>) when there is one.</summary>
public sealed class SetupService(CommandWriter writer, IHttpContextAccessor http)
{
    /// <summary>Runs any setup command on the writer (households, users, devices…).</summary>
    public Task<SetupResult<T>> RunAsync<T>(SetupCommand<T> command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        var user = http.HttpContext?.User;
        return writer.SubmitAsync(user?.Identity?.IsAuthenticated == true ? command with { By = Entry.Http.AccountClaims.UserOf(user) } : command, cancellationToken);
    }

    /// <summary>Creates a device in an account with a gateway-assigned id; its key is returned once.</summary>
    public Task<SetupResult<DeviceWithKey>> CreateDeviceAsync(string accountId, string name, CancellationToken cancellationToken) =>
        RunAsync(new CreateDevice(accountId, name), cancellationToken);

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
