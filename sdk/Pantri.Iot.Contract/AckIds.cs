namespace Pantri.Iot.Contract;

/// <summary>The <c>ID</c> values of an acknowledgement; over HTTP they are also the status code.</summary>
public static class AckIds
{
    /// <summary>A level/usage report was recorded, no order needed.</summary>
    public const int Recorded = 200;

    /// <summary>An order was placed.</summary>
    public const int OrderPlaced = 201;

    /// <summary>Accepted, not yet ordered: the household approves orders of this instruction first (approval mode).
    /// <c>OrderRef</c> names the order awaiting approval; <c>Status</c> is <see cref="AwaitingApprovalStatus"/>. A
    /// success, not an error.</summary>
    public const int AwaitingApproval = 202;

    /// <summary>Malformed message.</summary>
    public const int Malformed = 400;

    /// <summary>HTTP only: no valid <c>Device_Key</c> or <c>User_Auth</c>. Nothing was processed, so the ack's
    /// <c>CommandRef</c> is 0.</summary>
    public const int NotAuthenticated = 401;

    /// <summary>The instruction is not paired with this device or not in this account.</summary>
    public const int NotPaired = 403;

    /// <summary>Unknown instruction.</summary>
    public const int UnknownInstruction = 404;

    /// <summary>An order for this instruction is already in progress, or the request conflicts with the state.</summary>
    public const int Conflict = 409;

    /// <summary>Not ordered: the order would take the household past its monthly spend limit (or the limit is reached).</summary>
    public const int SpendLimitReached = 422;

    /// <summary>Not ordered: the instruction or the household is paused (a tracked level is still recorded).</summary>
    public const int Paused = 423;

    /// <summary>The device is sending too fast.</summary>
    public const int TooFast = 429;

    /// <summary>Storage or a dependency is unavailable; nothing was recorded.</summary>
    public const int Unavailable = 503;

    /// <summary>The <c>Status</c> of a successful acknowledgement.</summary>
    public const string Done = "Done";

    /// <summary>The <c>Status</c> of an order awaiting the household's approval.</summary>
    public const string AwaitingApprovalStatus = "Accepted - waiting for household approval";

    /// <summary>Builds the <c>Status</c> of a refusal.</summary>
    public static string DidNotDo(string reason) => "Didn't do - " + reason;

    /// <summary>True for 200, 201 and 202.</summary>
    public static bool IsSuccess(int id) => id is Recorded or OrderPlaced or AwaitingApproval;
}
