namespace Pantri.Iot.Gateway.Storage;

/// <summary>A store several gateway instances write at once (PostgreSQL). Each instance's writer decides with its own
/// copy of the state, so before each batch it takes the store's batch lock and takes in what other instances
/// committed since it last loaded or committed: every batch is decided on the latest committed state.</summary>
public interface ISharedGatewayStore
{
    /// <summary>Takes the cluster-wide batch lock, held until the next <see cref="IGatewayStore.Commit"/> or
    /// <see cref="ReleaseBatch"/>; returns what other instances stored since this one last loaded or committed (null
    /// when nothing), for the writer to take in before deciding. Called by the writer thread only.</summary>
    SharedChanges? BeginBatch();

    /// <summary>Gives the batch lock back without committing (the batch was refused). Called by the writer thread only.</summary>
    void ReleaseBatch();
}
