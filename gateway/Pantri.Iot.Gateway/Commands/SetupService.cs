using Pantri.Iot.Contract;
using Pantri.Iot.Domain;
using Pantri.Iot.Gateway.Processing;
using Pantri.Iot.Gateway.Security;

namespace Pantri.Iot.Gateway.Commands;

/// <summary>The household setup API (devices, instructions, pairing, trigger points, order states). Every call
/// runs on the writer like a device command, so setup and presses never race.</summary>
public sealed class SetupService(CommandProcessor processor)
{
    private static SetupResult<T> Unavailable<T>(long _) => SetupResult<T>.Fail(503, "storage unavailable; nothing was recorded");

    /// <summary>Creates a device in an account; its key is returned once.</summary>
    public Task<SetupResult<CreatedDevice>> CreateDeviceAsync(string accountId, string deviceId, CancellationToken cancellationToken) =>
        processor.RunAsync(context =>
        {
            if (!DeviceIds.IsValid(deviceId))
            {
                return SetupResult<CreatedDevice>.Fail(400, "DeviceId must match ^[a-z0-9][a-z0-9-]{2,63}$");
            }

            if (context.Ledger.Devices.ContainsKey(deviceId))
            {
                return SetupResult<CreatedDevice>.Fail(409, "a device with this id exists");
            }

            var key = DeviceKeys.NewKey();
            var device = new Device { DeviceId = deviceId, AccountId = accountId, KeyHash = DeviceKeys.Hash(key), CreatedAt = context.Now };
            context.Ledger.PutDevice(device);
            context.Batch.Devices[deviceId] = device;
            context.DeviceChanges.Add(device);
            return SetupResult<CreatedDevice>.Ok(new CreatedDevice(deviceId, key), 201);
        }, Unavailable<CreatedDevice>, cancellationToken);

    /// <summary>Creates an instruction (optionally tracked, optionally paired).</summary>
    public Task<SetupResult<InstructionView>> CreateInstructionAsync(string accountId, NewInstruction body, CancellationToken cancellationToken) =>
        processor.RunAsync(context =>
        {
            foreach (var deviceId in body.DeviceIds)
            {
                if (!context.Ledger.Devices.TryGetValue(deviceId, out var device) || device.AccountId != accountId)
                {
                    return SetupResult<InstructionView>.Fail(403, $"device {deviceId} is not in this account");
                }
            }

            long reference;
            do
            {
                reference = context.NextRef();
            }
            while (context.Ledger.Instructions.ContainsKey(reference));

            var instruction = new Instruction
            {
                Ref = reference,
                AccountId = accountId,
                Product = body.Product,
                Retailer = body.Retailer,
                Quantity = body.Quantity,
                DeviceIds = body.DeviceIds.Distinct(StringComparer.Ordinal).ToList(),
                Tracking = body.Tracking is null ? null : ToTracking(body.Tracking, null, context.Now),
            };
            Store(context, instruction);
            return SetupResult<InstructionView>.Ok(View(context, instruction), 201);
        }, Unavailable<InstructionView>, cancellationToken);

    /// <summary>Pairs a device of the account with an instruction.</summary>
    public Task<SetupResult<InstructionView>> PairAsync(string accountId, long instructionRef, string deviceId, CancellationToken cancellationToken) =>
        processor.RunAsync(context =>
        {
            if (Owned(context, accountId, instructionRef) is not { } instruction)
            {
                return SetupResult<InstructionView>.Fail(404, "unknown instruction");
            }

            if (!context.Ledger.Devices.TryGetValue(deviceId, out var device) || device.AccountId != accountId)
            {
                return SetupResult<InstructionView>.Fail(403, "the device is not in this account");
            }

            if (!instruction.DeviceIds.Contains(deviceId))
            {
                instruction.DeviceIds.Add(deviceId);
                Store(context, instruction);
            }

            return SetupResult<InstructionView>.Ok(View(context, instruction));
        }, Unavailable<InstructionView>, cancellationToken);

    /// <summary>Sets the user's trigger point and tracking settings (tracking starts if it was off).</summary>
    public Task<SetupResult<InstructionView>> ConfigureTrackingAsync(string accountId, long instructionRef, TrackingSettings settings, CancellationToken cancellationToken) =>
        processor.RunAsync(context =>
        {
            if (Owned(context, accountId, instructionRef) is not { } instruction)
            {
                return SetupResult<InstructionView>.Fail(404, "unknown instruction");
            }

            instruction.Tracking = ToTracking(settings, instruction.Tracking, context.Now);
            Store(context, instruction);
            return SetupResult<InstructionView>.Ok(View(context, instruction));
        }, Unavailable<InstructionView>, cancellationToken);

    /// <summary>The account's instructions.</summary>
    public Task<SetupResult<IReadOnlyList<InstructionView>>> ListInstructionsAsync(string accountId, CancellationToken cancellationToken) =>
        processor.RunAsync(context => SetupResult<IReadOnlyList<InstructionView>>.Ok(
            context.Ledger.Instructions.Values.Where(i => i.AccountId == accountId).Select(i => View(context, i)).ToList()),
            Unavailable<IReadOnlyList<InstructionView>>, cancellationToken);

    /// <summary>Moves an open order (cancel, mark delivered…). Delivery of a tracked item raises its level.</summary>
    public Task<SetupResult<OrderStatus>> MoveOrderAsync(string accountId, long orderRef, OrderState state, string by, CancellationToken cancellationToken) =>
        processor.RunAsync(context =>
        {
            var moved = context.Ledger.MoveOrder(accountId, orderRef, state, by, context.Now);
            switch (moved.Outcome)
            {
                case OrderMoveOutcome.NotOpen:
                    return SetupResult<OrderStatus>.Fail(404, "no open order with this ref in this account");
                case OrderMoveOutcome.NotAllowed:
                    return SetupResult<OrderStatus>.Fail(409, $"an order that is {moved.Order!.State} cannot become {state}");
            }

            var order = moved.Order!;
            context.Batch.Orders[order.Ref] = order;
            var instruction = context.Ledger.Instructions.GetValueOrDefault(order.InstructionRef);
            context.Outbound.AddRange(OutboundMessages.Order(order, instruction));
            if (moved.ChangedInstruction is { } changed)
            {
                Store(context, changed);
            }

            return SetupResult<OrderStatus>.Ok(OutboundMessages.ToStatus(order));
        }, Unavailable<OrderStatus>, cancellationToken);

    private static Instruction? Owned(WorkContext context, string accountId, long instructionRef) =>
        context.Ledger.Instructions.TryGetValue(instructionRef, out var instruction) && instruction.AccountId == accountId ? instruction : null;

    private static void Store(WorkContext context, Instruction instruction)
    {
        context.Ledger.PutInstruction(instruction);
        context.Batch.Instructions[instruction.Ref] = instruction;
        if (instruction.Tracking is not null)
        {
            context.Outbound.Add(OutboundMessages.Inventory(instruction, context.Now));
        }
    }

    private static Tracking ToTracking(TrackingSettings settings, Tracking? existing, DateTimeOffset now)
    {
        var tracking = existing ?? new Tracking();
        tracking.ReorderAt = settings.ReorderAt;
        tracking.Unit = settings.Unit;
        tracking.UnitsPerPack = settings.UnitsPerPack;
        tracking.Hysteresis = settings.Hysteresis;
        tracking.Debounce = settings.Debounce;
        if (settings.Level is { } level)
        {
            InventoryRule.Apply(tracking, level, now);
        }

        return tracking;
    }

    private static InstructionView View(WorkContext context, Instruction instruction) => new()
    {
        InstructionRef = instruction.Ref,
        Product = instruction.Product,
        Retailer = instruction.Retailer,
        Quantity = instruction.Quantity,
        DeviceIds = instruction.DeviceIds.ToList(),
        Inventory = instruction.Tracking is null ? null : OutboundMessages.ToInventory(instruction, context.Now),
        OpenOrderRef = context.Ledger.OpenOrderFor(instruction.Ref)?.Ref,
    };
}
