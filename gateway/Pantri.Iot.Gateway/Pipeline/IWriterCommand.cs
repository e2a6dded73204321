namespace Pantri.Iot.Gateway.Pipeline;

/// <summary>A request the single writer carries out: a device command, a setup change, the demo household. The
/// entry adapter builds one and hands it to <see cref="CommandWriter.SubmitAsync{TResult}"/>; that is the only
/// hand-off between an entry and the writer.</summary>
/// <typeparam name="TResult">What the caller gets back once the batch holding this command is committed.</typeparam>
public interface IWriterCommand<out TResult>
{
    /// <summary>Decides the command on the writer thread, changing state only through <paramref name="work"/>'s
    /// ledger and recording methods. Its result is released only after the batch commits.</summary>
    TResult Execute(UnitOfWork work);

    /// <summary>The result when nothing could be recorded (the commit failed or the queue is full);
    /// <paramref name="commandRef"/> is a fresh ref that names this refusal.</summary>
    TResult Unavailable(long commandRef);

    /// <summary>The result when deciding this command threw: the writer undid everything it changed, so nothing of
    /// it is recorded and a retry is safe. <paramref name="commandRef"/> is a fresh ref that names this refusal.
    /// Defaults to <see cref="Unavailable"/>.</summary>
    TResult Failed(long commandRef) => Unavailable(commandRef);
}
