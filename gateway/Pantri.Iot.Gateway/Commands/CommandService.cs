using System.Text;
using Microsoft.Extensions.Options;
using Pantri.Iot.Contract;
using Pantri.Iot.Domain;
using Pantri.Iot.Gateway.Processing;
using Pantri.Iot.Gateway.Storage;

namespace Pantri.Iot.Gateway.Commands;

/// <summary>Turns a command into exactly one acknowledgement: rate limit, idempotency, the ledger's decision, the
/// command record, and the ops messages — all decided and committed on the writer before the ack exists.</summary>
public sealed class CommandService(CommandProcessor processor, IOptions<GatewayOptions> options)
{
    private readonly TimeSpan _idempotencyWindow = options.Value.IdempotencyWindow;

    /// <summary>Processes <paramref name="input"/>; the ack is returned only after its effect is committed.</summary>
    public Task<Acknowledgement> SubmitAsync(CommandInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        return processor.RunAsync(context => Decide(context, input), commandRef => Unavailable(commandRef, input), cancellationToken);
    }

    private Acknowledgement Decide(WorkContext context, CommandInput input)
    {
        var now = context.Now;
        var commandRef = context.NextRef();
        var actorKey = input.DeviceId ?? "app:" + input.AccountId;
        var instructionRef = input.Request?.NamedInstructionRef;
        if (!context.Limiter.TryTake(actorKey, now))
        {
            // Not recorded: a flood must not turn into writes. The device may retry with the same RequestId.
            return Refusal(commandRef, AckIds.TooFast, "too many commands; slow down", instructionRef, input.RequestId);
        }

        var requestKey = input.RequestId ?? input.CorrelationKey;
        var idempotencyKey = requestKey is null ? null : actorKey + "\n" + requestKey;
        if (idempotencyKey is not null && context.FindCommand(idempotencyKey, now - _idempotencyWindow) is { } prior)
        {
            return ContractJson.DeserializeAcknowledgement(Encoding.UTF8.GetBytes(prior.AckJson))! with { Replayed = true };
        }

        // A device acts for the account that owns it; the record and the ops event name it even for a refusal.
        Device? device = null;
        var accountId = input.DeviceId is { } deviceId
            ? (context.Ledger.Devices.TryGetValue(deviceId, out device) ? device.AccountId : null)
            : input.AccountId;
        LedgerResult result;
        if (input.DeviceId is not null && device is null)
        {
            result = LedgerResult.Refused(AckIds.NotPaired, "this device is no longer registered");
        }
        else if (input.Error is not null || input.Request is null)
        {
            result = LedgerResult.Refused(AckIds.Malformed, input.Error ?? "malformed request");
        }
        else
        {
            result = Apply(context, input, accountId!, commandRef);
        }

        var ack = ToAck(commandRef, result, instructionRef, input);
        var kind = input.Kind.ToString().ToLowerInvariant();
        context.Record(new CommandRecord
        {
            CommandRef = commandRef,
            IdempotencyKey = idempotencyKey,
            DeviceId = input.DeviceId,
            AccountId = accountId,
            Kind = kind,
            At = now,
            AckJson = Encoding.UTF8.GetString(ContractJson.Serialize(ack)),
        });
        Persist(context, result, now);
        context.Outbound.Add(OutboundMessages.Event(ack, kind, input.DeviceId, accountId, now));
        return ack;
    }

    private static LedgerResult Apply(WorkContext context, CommandInput input, string accountId, long commandRef)
    {
        var request = input.Request!;
        var ledger = context.Ledger;
        var actor = new Actor(accountId, input.DeviceId, input.DeviceId is null ? "app" : input.Kind.ToString().ToLowerInvariant());
        return request switch
        {
            TriggerRequest trigger => ledger.Trigger(actor, trigger.InstructionRef, context.NextRef, commandRef, context.Now),
            LevelReport level => ledger.ReportLevel(actor, level.InstructionRef, level.Level, context.NextRef, commandRef, context.Now),
            UsageReport usage => ledger.ReportUsage(actor, usage.InstructionRef, usage.Used, context.NextRef, commandRef, context.Now),
            _ => LedgerResult.Refused(AckIds.Malformed, "not a request topic"),
        };
    }

    private static void Persist(WorkContext context, LedgerResult result, DateTimeOffset now)
    {
        if (result.PlacedOrder is { } order)
        {
            context.Batch.Orders[order.Ref] = order;
            context.Outbound.AddRange(OutboundMessages.Order(order, result.Instruction));
        }

        if (result.InstructionChanged && result.Instruction is { } instruction)
        {
            context.Batch.Instructions[instruction.Ref] = instruction;
            if (instruction.Tracking is not null)
            {
                // Retained: ops only ever sees the last value, so a batch publishes each instruction's once.
                context.PublishLatest(Topics.OpsInventory(instruction.Ref), () => OutboundMessages.Inventory(instruction, now));
            }
        }
    }

    private static Acknowledgement ToAck(long commandRef, LedgerResult result, long? requestedRef, CommandInput input)
    {
        var tracking = input.Kind == DeviceTopicKind.Trigger ? null : result.Instruction?.Tracking;
        var reportAccepted = tracking is not null && result.IsSuccess;
        return new Acknowledgement
        {
            CommandRef = commandRef,
            Id = result.Id,
            Status = result.IsSuccess ? AckIds.Done : AckIds.DidNotDo(result.Reason ?? "refused"),
            InstructionRef = result.Instruction?.Ref ?? requestedRef,
            RequestId = input.RequestId,
            OrderRef = result.PlacedOrder?.Ref ?? result.BlockingOrder?.Ref,
            Level = reportAccepted ? tracking!.Level : null,
            ReorderAt = reportAccepted ? tracking!.ReorderAt : null,
            Unit = reportAccepted ? tracking!.Unit : null,
            Armed = reportAccepted ? tracking!.Armed : null,
            Forecast = reportAccepted ? ForecastCalculator.Compute(tracking!) : null,
            Note = result.Note,
        };
    }

    private static Acknowledgement Refusal(long commandRef, int id, string reason, long? instructionRef, string? requestId) => new()
    {
        CommandRef = commandRef,
        Id = id,
        Status = AckIds.DidNotDo(reason),
        InstructionRef = instructionRef,
        RequestId = requestId,
    };

    private static Acknowledgement Unavailable(long commandRef, CommandInput input) =>
        Refusal(commandRef, AckIds.Unavailable, "storage unavailable; nothing was recorded, safe to retry", input.Request?.NamedInstructionRef, input.RequestId);
}
