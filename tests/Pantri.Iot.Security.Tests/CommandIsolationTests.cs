using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Pantri.Iot.Contract;
using Pantri.Iot.Domain;
using Pantri.Iot.Gateway.Commands;
using Pantri.Iot.Gateway.Pipeline;
using Pantri.Iot.Gateway.Storage;
using Pantri.Iot.Testing;
using Serilog.Core;
using Serilog.Events;

namespace Pantri.Iot.Security.Tests;

/// <summary>An exception inside one command (a bug, a bad day) fails that command alone: what it changed before
/// throwing is undone, the rest of its batch commits, and nothing reloads every household's state.</summary>
[Category("Integration")]
public sealed class CommandIsolationTests
{
    private readonly LogRecorder _log = new();
    private TestGateway _gateway = null!;

    [SetUp]
    public async Task StartGateway() => _gateway = await TestGateway.StartAsync(configure: b => b.Services.AddSingleton<ILogEventSink>(_log));

    [TearDown]
    public async Task StopGateway() => await _gateway.DisposeAsync();

    [Test]
    public async Task A_command_that_throws_after_changing_state_fails_alone_leaves_no_trace_and_reloads_nothing()
    {
        _gateway.ExpectLoggedErrors(MutateThenThrow.Message);
        var writer = _gateway.Services.GetRequiredService<CommandWriter>();
        await using var ops = await OpsClient.ConnectAsync(_gateway, Topics.OpsEvents);
        _log.Clear();

        // Hold the writer on one command so that the next ones queue up and are decided in one batch.
        using var gate = new Gate();
        var held = writer.SubmitAsync(gate, CancellationToken.None);
        Assert.That(gate.Entered.Wait(TimeSpan.FromSeconds(10)), Is.True, "the writer picked up the gate");
        var failing = new MutateThenThrow();
        var failed = writer.SubmitAsync(failing, CancellationToken.None);
        var press = writer.SubmitAsync(
            DeviceCommand.For(new TriggerRequest(DemoCredentials.ButtonRef) { RequestId = "after-the-failure" }, CommandSource.Device(DemoCredentials.Button)),
            CancellationToken.None);
        var keySeen = writer.SubmitAsync(new SeesIdempotencyKey(MutateThenThrow.IdempotencyKey), CancellationToken.None);
        gate.Release();
        await held;

        var ack = (await press).Ack;
        var failedResult = await failed;
        var ledger = await writer.SubmitAsync(new ReadLedger(), CancellationToken.None);
        var pressEvent = await ops.NextJsonAsync(Topics.OpsEvents, e => e.GetProperty("Ack").GetProperty("CommandRef").GetInt64() == ack.CommandRef);

        Assert.Multiple(() =>
        {
            Assert.That(failing.Reached, Is.True, "the failing command changed state before it threw");
            Assert.That(failedResult, Is.EqualTo("failed"), "the failed command is answered with its Failed result, not as a storage outage");
            Assert.That(ack.Id, Is.EqualTo(AckIds.OrderPlaced), "the press after the failure is decided on the state before it: " + ack.Status);
            Assert.That(_gateway.Store.FindOrder(ack.OrderRef!.Value), Is.Not.Null, "the press was stored with its batch");
            Assert.That(_gateway.Store.FindCommandByRef(ack.CommandRef), Is.Not.Null);
            Assert.That(keySeen.Result, Is.False, "a later command of the batch does not see the failed command's RequestId");

            Assert.That(ledger.JarLevel, Is.EqualTo(12), "the jar's level is what it was");
            Assert.That(ledger.JarOpenOrder, Is.Null, "no order from the failed command is open");
            Assert.That(ledger.ButtonOpenOrder, Is.EqualTo(ack.OrderRef), "the button's one open order is the press's");
            Assert.That(ledger.HasGhostInstruction, Is.False, "the instruction the failed command created is gone");
            Assert.That(ledger.PendingChanges, Is.Zero);

            Assert.That(_gateway.Store.FindOrder(failing.JarOrderRef), Is.Null, "nothing of the failed command was stored");
            Assert.That(_gateway.Store.FindOrder(failing.ButtonOrderRef), Is.Null);
            Assert.That(_gateway.Store.FindCommandByRef(failing.CommandRef), Is.Null);
            Assert.That(_gateway.Orders(DemoCredentials.JarRef), Is.Empty);

            Assert.That(pressEvent.GetProperty("Kind").GetString(), Is.EqualTo("trigger"));
            Assert.That(_log.Count("State reloaded"), Is.Zero, "no household's state was reloaded");
            Assert.That(_log.Events(LogEventLevel.Error), Has.Count.EqualTo(1), "one error, for the one failed command");
        });
        Assert.That(await ops.ReceivesNothingAsync(_ => true, TimeSpan.Zero), Is.True, "ops saw no event of the failed command");
    }

    /// <summary>Blocks the writer thread until released.</summary>
    private sealed class Gate : IWriterCommand<bool>, IDisposable
    {
        private readonly ManualResetEventSlim _release = new();

        public ManualResetEventSlim Entered { get; } = new();

        public bool Execute(UnitOfWork work)
        {
            Entered.Set();
            return _release.Wait(TimeSpan.FromSeconds(10));
        }

        public bool Unavailable(long commandRef) => false;

        public void Release() => _release.Set();

        public void Dispose()
        {
            _release.Set();
            _release.Dispose();
            Entered.Dispose();
        }
    }

    /// <summary>A command with a bug: it changes existing and new entities, records itself and publishes, then throws.</summary>
    private sealed class MutateThenThrow : IWriterCommand<string>
    {
        public const string Message = "provoked by CommandIsolationTests";
        public const string IdempotencyKey = "demo-button\nfailed-command";

        public bool Reached { get; private set; }

        public long JarOrderRef { get; private set; }

        public long ButtonOrderRef { get; private set; }

        public long CommandRef { get; private set; }

        public string Execute(UnitOfWork work)
        {
            var ledger = work.Ledger;
            var id = work.NextCommandId();
            CommandRef = id.Ref;
            var low = ledger.ReportLevel(new Actor("demo", DemoCredentials.Jar, "level"), DemoCredentials.JarRef, 1, work.NextRef, id.Ref, work.Now);
            var press = ledger.Trigger(new Actor("demo", DemoCredentials.Button, "trigger"), DemoCredentials.ButtonRef, work.NextRef, id.Ref, work.Now);
            ledger.CreateInstruction("demo", new InstructionSpec("Ghost", "shop", 1, [DemoCredentials.Button], null), work.NextRef, work.Now);
            JarOrderRef = low.PlacedOrder!.Ref;
            ButtonOrderRef = press.PlacedOrder!.Ref;
            var ackJson = JsonSerializer.SerializeToUtf8Bytes(new { CommandRef = id.Ref, ID = 201, Status = "Done" });
            work.Record(new CommandRecord { Sequence = id.Sequence, CommandRef = id.Ref, IdempotencyKey = IdempotencyKey, Kind = "failed", At = work.Now, Ack = ackJson });
            work.Publish(OutboundMessages.Event(ackJson, "failed", DemoCredentials.Button, "demo", work.Now));
            Reached = true;
            throw new InvalidOperationException(Message);
        }

        public string Unavailable(long commandRef) => "unavailable";

        public string Failed(long commandRef) => "failed";
    }

    private sealed class SeesIdempotencyKey(string key) : IWriterCommand<bool>
    {
        public bool Execute(UnitOfWork work) => work.FindCommand(key) is not null;

        public bool Unavailable(long commandRef) => false;
    }

    private sealed record LedgerView(double? JarLevel, long? JarOpenOrder, long? ButtonOpenOrder, bool HasGhostInstruction, int PendingChanges);

    private sealed class ReadLedger : IWriterCommand<LedgerView>
    {
        public LedgerView Execute(UnitOfWork work)
        {
            var ledger = work.Ledger;
            return new LedgerView(
                ledger.Instructions[DemoCredentials.JarRef].Tracking!.Level,
                ledger.OpenOrderFor(DemoCredentials.JarRef)?.Ref,
                ledger.OpenOrderFor(DemoCredentials.ButtonRef)?.Ref,
                ledger.Instructions.Values.Any(i => i.Product == "Ghost"),
                ledger.PendingChanges.Count);
        }

        public LedgerView Unavailable(long commandRef) => throw new InvalidOperationException("the writer is unavailable");
    }
}
