using Pantri.Iot.Contract;
using Pantri.Iot.Domain;
using Pantri.Iot.Gateway.Events;
using Pantri.Iot.Gateway.Pipeline;
using Pantri.Iot.Gateway.Storage;

namespace Pantri.Iot.Gateway.Commands;

/// <summary>A trigger, level or usage command from a device or an app, whichever entry it came by, and its one
/// acknowledgement: rate limit, idempotency replay, the ledger's decision, the command record and the ops event —
/// all decided on the writer and committed before the ack exists.</summary>
public sealed class DeviceCommand : IWriterCommand<CommandAck>
{
    private readonly DeviceTopicKind _kind;
    private readonly CommandSource _source;
    private readonly DeviceRequest? _request;
    private readonly MalformedRequest? _malformed;
    private readonly string? _idempotencyKey;

    private DeviceCommand(DeviceTopicKind kind, CommandSource source, DeviceRequest? request, MalformedRequest? malformed, string? correlationKey)
    {
        _kind = kind;
        _source = source;
        _request = request;
        _malformed = malformed;
        var requestKey = RequestId ?? correlationKey;
        _idempotencyKey = requestKey is null ? null : source.ActorKey + "\n" + requestKey;
    }

    private string? RequestId => _request?.RequestId ?? _malformed?.RequestId;

    private long? NamedInstructionRef => _request?.NamedInstructionRef ?? _malformed?.InstructionRef;

    /// <summary>A well-formed request. <paramref name="correlationKey"/> (MQTT 5 CorrelationData) deduplicates when
    /// the request has no RequestId.</summary>
    public static DeviceCommand For(DeviceRequest request, CommandSource source, string? correlationKey = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new DeviceCommand(request.Kind, source, request, null, correlationKey);
    }

    /// <summary>A request that failed validation: it still gets a recorded 400 ack.</summary>
    public static DeviceCommand Malformed(DeviceTopicKind kind, MalformedRequest malformed, CommandSource source, string? correlationKey = null)
    {
        ArgumentNullException.ThrowIfNull(malformed);
        return new DeviceCommand(kind, source, null, malformed, correlationKey);
    }

    /// <inheritdoc/>
    public CommandAck Execute(UnitOfWork work)
    {
        ArgumentNullException.ThrowIfNull(work);
        var id = work.NextCommandId();
        if (!work.Limiter.TryTake(_source.ActorKey, work.Now))
        {
            // Not recorded: a flood must not turn into writes. The device may retry with the same RequestId.
            return Refusal(id.Ref, AckIds.TooFast, "too many commands; slow down");
        }

        if (_idempotencyKey is not null && work.FindCommand(_idempotencyKey) is { } prior)
        {
            return CommandAck.Of(ContractJson.DeserializeAcknowledgement(prior.Ack)! with { Replayed = true });
        }

        var accountId = AccountOf(work.Ledger, out var result);
        result ??= Decide(work, accountId!, id.Ref);
        var ack = CommandAck.Of(ToAck(id.Ref, result));
        var kind = Topics.Name(_kind);
        work.Record(new CommandRecord
        {
            Sequence = id.Sequence,
            CommandRef = id.Ref,
            IdempotencyKey = _idempotencyKey,
            DeviceId = _source.DeviceId,
            AccountId = accountId,
            Kind = kind,
            At = work.Now,
            Ack = ack.Json.ToArray(),
        });
        work.Publish(OutboundMessages.Event(ack.Json, kind, _source.DeviceId, accountId, work.Now));
        if (result.Id is AckIds.SpendLimitReached or AckIds.Paused && accountId is not null)
        {
            work.Notify(accountId, HouseholdEventTypes.Refused, () => RefusalEvent(ack.Json, _source.DeviceId));
        }

        return ack;
    }

    // {"DeviceId":"demo-button","Ack":{…the ack as the device got it…}}
    private static ReadOnlyMemory<byte> RefusalEvent(ReadOnlyMemory<byte> ack, string? deviceId)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(ack.Length + 64);
        using (var json = new System.Text.Json.Utf8JsonWriter(buffer, new System.Text.Json.JsonWriterOptions { Encoder = ContractJson.Options.Encoder }))
        {
            json.WriteStartObject();
            if (deviceId is not null)
            {
                json.WriteString("DeviceId", deviceId);
            }

            json.WritePropertyName("Ack");
            json.WriteRawValue(ack.Span, skipInputValidation: true);
            json.WriteEndObject();
        }

        return buffer.WrittenMemory;
    }

    /// <inheritdoc/>
    public CommandAck Unavailable(long commandRef) =>
        Refusal(commandRef, AckIds.Unavailable, "storage unavailable; nothing was recorded, safe to retry");

    /// <summary>The contract has no 500: an internal error is a 503 that says so, true to the contract's promise
    /// because the writer undid the command ("nothing was recorded, safe to retry").</summary>
    public CommandAck Failed(long commandRef) =>
        Refusal(commandRef, AckIds.Unavailable, "internal error; nothing was recorded, safe to retry");

    // A device acts for the account that owns it; the record and the ops event name it even for a refusal.
    private string? AccountOf(ReplenishmentLedger ledger, out LedgerResult? refusal)
    {
        refusal = null;
        if (_source.DeviceId is not { } deviceId)
        {
            return _source.AccountId;
        }

        if (ledger.Devices.TryGetValue(deviceId, out var device))
        {
            return device.AccountId;
        }

        refusal = LedgerResult.Refused(AckIds.NotPaired, "this device is no longer registered");
        return null;
    }

    private LedgerResult Decide(UnitOfWork work, string accountId, long commandRef)
    {
        var actor = new Actor(accountId, _source.DeviceId, _source.DeviceId is null ? "app" : Topics.Name(_kind));
        var ledger = work.Ledger;
        return _request switch
        {
            TriggerRequest trigger => ledger.Trigger(actor, trigger.InstructionRef, work.NextRef, commandRef, work.Now),
            LevelReport level => ledger.ReportLevel(actor, level.InstructionRef, level.Level, work.NextRef, commandRef, work.Now),
            UsageReport usage => ledger.ReportUsage(actor, usage.InstructionRef, usage.Used, work.NextRef, commandRef, work.Now),
            _ => LedgerResult.Refused(AckIds.Malformed, _malformed?.Reason ?? "malformed request"),
        };
    }

    private Acknowledgement ToAck(long commandRef, LedgerResult result)
    {
        var tracking = _kind == DeviceTopicKind.Trigger || !result.IsSuccess ? null : result.Instruction?.Tracking;
        return new Acknowledgement
        {
            CommandRef = commandRef,
            Id = result.Id,
            Status = result.Id == AckIds.AwaitingApproval ? AckIds.AwaitingApprovalStatus : result.IsSuccess ? AckIds.Done : AckIds.DidNotDo(result.Reason ?? "refused"),
            InstructionRef = result.Instruction?.Ref ?? NamedInstructionRef,
            RequestId = RequestId,
            OrderRef = result.PlacedOrder?.Ref ?? result.BlockingOrder?.Ref,
            Level = tracking?.Level,
            ReorderAt = tracking?.ReorderAt,
            Unit = tracking?.Unit,
            Armed = tracking?.Armed,
            Forecast = tracking is null ? null : ForecastCalculator.Compute(tracking),
            Note = result.Note,
        };
    }

    private CommandAck Refusal(long commandRef, int id, string reason) => CommandAck.Of(new Acknowledgement
    {
        CommandRef = commandRef,
        Id = id,
        Status = AckIds.DidNotDo(reason),
        InstructionRef = NamedInstructionRef,
        RequestId = RequestId,
    });
}
