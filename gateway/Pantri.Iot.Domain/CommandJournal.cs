namespace Pantri.Iot.Domain;

/// <summary>The undo journal of the ledger's current command: for each entity the command touched, its state before
/// the first change (or "new" for one the command created). Snapshots are taken on first touch only and reused from
/// command to command, so a command that changes nothing costs nothing and a level report costs no allocation once
/// warm. Lists are copied element by element: their elements (device ids, usage samples, order transitions) are
/// never changed in place, only added or removed.</summary>
internal sealed class CommandJournal
{
    private readonly List<Entry> _entries = [];
    private readonly List<InstructionSnapshot> _instructions = [];
    private readonly List<OrderSnapshot> _orders = [];
    private readonly List<DeviceSnapshot> _devices = [];
    private readonly List<HouseholdSnapshot> _households = [];
    private readonly List<UserSnapshot> _users = [];
    private readonly List<PairingCodeSnapshot> _codes = [];
    private readonly List<SafeguardsSnapshot> _safeguards = [];
    private int _safeguardsUsed;
    private int _instructionsUsed;
    private int _ordersUsed;
    private int _devicesUsed;
    private int _householdsUsed;
    private int _usersUsed;
    private int _codesUsed;

    /// <summary>Entries in the order the entities were first touched.</summary>
    public int Count => _entries.Count;

    public Entry this[int index] => _entries[index];

    /// <summary>True when the current command already journaled <paramref name="entity"/>.</summary>
    public bool Contains(object entity)
    {
        foreach (var entry in _entries)
        {
            if (ReferenceEquals(entry.Entity, entity))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>An entity this command creates: undoing it removes it.</summary>
    public void Added(object entity) => _entries.Add(new Entry(entity, null));

    /// <summary>Before the first change of an existing instruction in this command.</summary>
    public void Touch(Instruction instruction)
    {
        if (!Contains(instruction))
        {
            _entries.Add(new Entry(instruction, Next(_instructions, ref _instructionsUsed).Capture(instruction)));
        }
    }

    /// <summary>Before the first change of an existing order; <paramref name="open"/> says whether it is indexed as open.</summary>
    public void Touch(Order order, bool open)
    {
        if (!Contains(order))
        {
            _entries.Add(new Entry(order, Next(_orders, ref _ordersUsed).Capture(order, open)));
        }
    }

    /// <summary>Before the first change of an existing device.</summary>
    public void Touch(Device device)
    {
        if (!Contains(device))
        {
            _entries.Add(new Entry(device, Next(_devices, ref _devicesUsed).Capture(device)));
        }
    }

    /// <summary>Before the first change (or the removal) of an existing household.</summary>
    public void Touch(Household household)
    {
        if (!Contains(household))
        {
            _entries.Add(new Entry(household, Next(_households, ref _householdsUsed).Capture(household)));
        }
    }

    /// <summary>Before the first change (or the removal) of an existing user.</summary>
    public void Touch(HouseholdUser user)
    {
        if (!Contains(user))
        {
            _entries.Add(new Entry(user, Next(_users, ref _usersUsed).Capture(user)));
        }
    }

    /// <summary>Before the removal of an existing pairing code.</summary>
    public void Touch(PairingCode code)
    {
        if (!Contains(code))
        {
            _entries.Add(new Entry(code, Next(_codes, ref _codesUsed).Capture(code)));
        }
    }

    /// <summary>Before the first change of an existing household's safeguards.</summary>
    public void Touch(HouseholdSafeguards safeguards)
    {
        if (!Contains(safeguards))
        {
            _entries.Add(new Entry(safeguards, Next(_safeguards, ref _safeguardsUsed).Capture(safeguards)));
        }
    }

    /// <summary>Forgets the entries; the snapshots stay allocated for the next command.</summary>
    public void Clear()
    {
        if (_entries.Count == 0)
        {
            return;
        }

        _entries.Clear();
        _instructionsUsed = 0;
        _ordersUsed = 0;
        _devicesUsed = 0;
        _householdsUsed = 0;
        _usersUsed = 0;
        _codesUsed = 0;
        _safeguardsUsed = 0;
    }

    private static T Next<T>(List<T> pool, ref int used)
        where T : new()
    {
        if (used == pool.Count)
        {
            pool.Add(new T());
        }

        return pool[used++];
    }

    /// <summary>An entity and its state before the command, or null when the command created it.</summary>
    internal readonly record struct Entry(object Entity, object? Before);
}

/// <summary>An instruction's state, tracking included, restorable into the same objects.</summary>
internal sealed class InstructionSnapshot
{
    private readonly List<string> _deviceIds = [];
    private readonly TrackingSnapshot _tracking = new();
    private string _accountId = string.Empty;
    private string _product = string.Empty;
    private string _retailer = string.Empty;
    private int _quantity;
    private bool? _approvalRequired;
    private DateTimeOffset? _pausedUntil;
    private decimal? _maxUnitPrice;
    private List<RetailerChoice> _fallbackList = [];
    private readonly List<RetailerChoice> _fallbacks = [];
    private List<string> _deviceIdList = [];
    private Tracking? _trackingObject;

    /// <summary>The device ids paired before the command.</summary>
    public IReadOnlyList<string> DeviceIds => _deviceIds;

    public InstructionSnapshot Capture(Instruction instruction)
    {
        _accountId = instruction.AccountId;
        _product = instruction.Product;
        _retailer = instruction.Retailer;
        _quantity = instruction.Quantity;
        _approvalRequired = instruction.ApprovalRequired;
        _pausedUntil = instruction.PausedUntil;
        _maxUnitPrice = instruction.MaxUnitPrice;
        _fallbackList = instruction.Fallbacks;
        _fallbacks.Clear();
        _fallbacks.AddRange(instruction.Fallbacks);
        _deviceIdList = instruction.DeviceIds;
        _deviceIds.Clear();
        _deviceIds.AddRange(instruction.DeviceIds);
        _trackingObject = instruction.Tracking;
        if (_trackingObject is not null)
        {
            _tracking.Capture(_trackingObject);
        }

        return this;
    }

    public void Restore(Instruction instruction)
    {
        instruction.AccountId = _accountId;
        instruction.Product = _product;
        instruction.Retailer = _retailer;
        instruction.Quantity = _quantity;
        instruction.ApprovalRequired = _approvalRequired;
        instruction.PausedUntil = _pausedUntil;
        instruction.MaxUnitPrice = _maxUnitPrice;
        _fallbackList.Clear();
        _fallbackList.AddRange(_fallbacks);
        instruction.Fallbacks = _fallbackList;
        _deviceIdList.Clear();
        _deviceIdList.AddRange(_deviceIds);
        instruction.DeviceIds = _deviceIdList;
        if (_trackingObject is not null)
        {
            _tracking.Restore(_trackingObject);
        }

        instruction.Tracking = _trackingObject;
    }
}

/// <summary>A tracking's settings and rule state.</summary>
internal sealed class TrackingSnapshot
{
    private readonly List<UsageSample> _history = [];
    private List<UsageSample> _historyList = [];
    private double? _level;
    private double _reorderAt;
    private string _unit = string.Empty;
    private double? _unitsPerPack;
    private double _hysteresis;
    private int _debounce;
    private bool _armed;
    private int _lowReadings;
    private DateTimeOffset? _updatedAt;

    public void Capture(Tracking tracking)
    {
        _level = tracking.Level;
        _reorderAt = tracking.ReorderAt;
        _unit = tracking.Unit;
        _unitsPerPack = tracking.UnitsPerPack;
        _hysteresis = tracking.Hysteresis;
        _debounce = tracking.Debounce;
        _armed = tracking.Armed;
        _lowReadings = tracking.LowReadings;
        _updatedAt = tracking.UpdatedAt;
        _historyList = tracking.History;
        _history.Clear();
        _history.AddRange(tracking.History);
    }

    public void Restore(Tracking tracking)
    {
        tracking.Level = _level;
        tracking.ReorderAt = _reorderAt;
        tracking.Unit = _unit;
        tracking.UnitsPerPack = _unitsPerPack;
        tracking.Hysteresis = _hysteresis;
        tracking.Debounce = _debounce;
        tracking.Armed = _armed;
        tracking.LowReadings = _lowReadings;
        tracking.UpdatedAt = _updatedAt;
        _historyList.Clear();
        _historyList.AddRange(_history);
        tracking.History = _historyList;
    }
}

/// <summary>An order's state and whether it was indexed as open.</summary>
internal sealed class OrderSnapshot
{
    private readonly List<OrderTransition> _history = [];
    private List<OrderTransition> _historyList = [];
    private long _instructionRef;
    private string _accountId = string.Empty;
    private string? _deviceId;
    private string _origin = string.Empty;
    private long _commandRef;
    private OrderState _state;
    private string _product = string.Empty;
    private string _retailer = string.Empty;
    private int _quantity;
    private DateTimeOffset _createdAt;
    private DateTimeOffset _updatedAt;
    private DateTimeOffset? _sentAt;
    private int _retailerIndex;
    private string? _cancelReason;
    private decimal? _unitPrice;
    private decimal? _amount;
    private string? _currency;
    private string? _spendMonth;
    private DateTimeOffset? _cancelRequestedAt;
    private string? _cancelRefusal;

    /// <summary>The order was in the open-order indexes before the command.</summary>
    public bool WasOpen { get; private set; }

    public OrderSnapshot Capture(Order order, bool open)
    {
        WasOpen = open;
        _instructionRef = order.InstructionRef;
        _accountId = order.AccountId;
        _deviceId = order.DeviceId;
        _origin = order.Origin;
        _commandRef = order.CommandRef;
        _state = order.State;
        _product = order.Product;
        _retailer = order.Retailer;
        _quantity = order.Quantity;
        _createdAt = order.CreatedAt;
        _updatedAt = order.UpdatedAt;
        _sentAt = order.SentAt;
        _cancelReason = order.CancelReason;
        _unitPrice = order.UnitPrice;
        _amount = order.Amount;
        _currency = order.Currency;
        _spendMonth = order.SpendMonth;
        _retailerIndex = order.RetailerIndex;
        _cancelRequestedAt = order.CancelRequestedAt;
        _cancelRefusal = order.CancelRefusal;
        _historyList = order.History;
        _history.Clear();
        _history.AddRange(order.History);
        return this;
    }

    public void Restore(Order order)
    {
        order.InstructionRef = _instructionRef;
        order.AccountId = _accountId;
        order.DeviceId = _deviceId;
        order.Origin = _origin;
        order.CommandRef = _commandRef;
        order.State = _state;
        order.Product = _product;
        order.Retailer = _retailer;
        order.Quantity = _quantity;
        order.CreatedAt = _createdAt;
        order.UpdatedAt = _updatedAt;
        order.SentAt = _sentAt;
        order.CancelReason = _cancelReason;
        order.UnitPrice = _unitPrice;
        order.Amount = _amount;
        order.Currency = _currency;
        order.SpendMonth = _spendMonth;
        order.RetailerIndex = _retailerIndex;
        order.CancelRequestedAt = _cancelRequestedAt;
        order.CancelRefusal = _cancelRefusal;
        _historyList.Clear();
        _historyList.AddRange(_history);
        order.History = _historyList;
    }
}

/// <summary>A device's owner, name and credentials.</summary>
internal sealed class DeviceSnapshot
{
    private string _accountId = string.Empty;
    private string _name = string.Empty;
    private string _keyHash = string.Empty;
    private DateTimeOffset _createdAt;
    private DateTimeOffset? _keyRotatedAt;
    private DateTimeOffset? _revokedAt;

    public DeviceSnapshot Capture(Device device)
    {
        _accountId = device.AccountId;
        _name = device.Name;
        _keyHash = device.KeyHash;
        _createdAt = device.CreatedAt;
        _keyRotatedAt = device.KeyRotatedAt;
        _revokedAt = device.RevokedAt;
        return this;
    }

    public void Restore(Device device)
    {
        device.AccountId = _accountId;
        device.Name = _name;
        device.KeyHash = _keyHash;
        device.CreatedAt = _createdAt;
        device.KeyRotatedAt = _keyRotatedAt;
        device.RevokedAt = _revokedAt;
    }
}

/// <summary>A household's name.</summary>
internal sealed class HouseholdSnapshot
{
    private string _accountId = string.Empty;
    private string _name = string.Empty;
    private DateTimeOffset _createdAt;

    public HouseholdSnapshot Capture(Household household)
    {
        _accountId = household.AccountId;
        _name = household.Name;
        _createdAt = household.CreatedAt;
        return this;
    }

    public void Restore(Household household)
    {
        household.AccountId = _accountId;
        household.Name = _name;
        household.CreatedAt = _createdAt;
    }
}

/// <summary>A user's role and credential.</summary>
internal sealed class UserSnapshot
{
    private string _key = string.Empty;
    private string _accountId = string.Empty;
    private string _userId = string.Empty;
    private UserRole _role;
    private string _credentialHash = string.Empty;
    private DateTimeOffset _createdAt;

    public UserSnapshot Capture(HouseholdUser user)
    {
        _key = user.Key;
        _accountId = user.AccountId;
        _userId = user.UserId;
        _role = user.Role;
        _credentialHash = user.CredentialHash;
        _createdAt = user.CreatedAt;
        return this;
    }

    public void Restore(HouseholdUser user)
    {
        user.Key = _key;
        user.AccountId = _accountId;
        user.UserId = _userId;
        user.Role = _role;
        user.CredentialHash = _credentialHash;
        user.CreatedAt = _createdAt;
    }
}

/// <summary>A pairing code's binding.</summary>
internal sealed class PairingCodeSnapshot
{
    private readonly List<long> _instructionRefs = [];
    private List<long> _instructionRefList = [];
    private string _codeHash = string.Empty;
    private string _accountId = string.Empty;
    private string _deviceName = string.Empty;
    private string _createdBy = string.Empty;
    private DateTimeOffset _createdAt;
    private DateTimeOffset _expiresAt;

    public PairingCodeSnapshot Capture(PairingCode code)
    {
        _codeHash = code.CodeHash;
        _accountId = code.AccountId;
        _deviceName = code.DeviceName;
        _createdBy = code.CreatedBy;
        _createdAt = code.CreatedAt;
        _expiresAt = code.ExpiresAt;
        _instructionRefList = code.InstructionRefs;
        _instructionRefs.Clear();
        _instructionRefs.AddRange(code.InstructionRefs);
        return this;
    }

    public void Restore(PairingCode code)
    {
        code.CodeHash = _codeHash;
        code.AccountId = _accountId;
        code.DeviceName = _deviceName;
        code.CreatedBy = _createdBy;
        code.CreatedAt = _createdAt;
        code.ExpiresAt = _expiresAt;
        _instructionRefList.Clear();
        _instructionRefList.AddRange(_instructionRefs);
        code.InstructionRefs = _instructionRefList;
    }
}

/// <summary>A household's safeguards and spending.</summary>
internal sealed class SafeguardsSnapshot
{
    private string _accountId = string.Empty;
    private bool _approvalRequired;
    private DateTimeOffset? _pausedUntil;
    private decimal? _monthlySpendLimit;
    private string _currency = string.Empty;
    private string? _spendMonth;
    private decimal _spent;
    private string? _webhookUrl;
    private string? _webhookSecret;

    public SafeguardsSnapshot Capture(HouseholdSafeguards safeguards)
    {
        _accountId = safeguards.AccountId;
        _approvalRequired = safeguards.ApprovalRequired;
        _pausedUntil = safeguards.PausedUntil;
        _monthlySpendLimit = safeguards.MonthlySpendLimit;
        _currency = safeguards.Currency;
        _spendMonth = safeguards.SpendMonth;
        _spent = safeguards.Spent;
        _webhookUrl = safeguards.WebhookUrl;
        _webhookSecret = safeguards.WebhookSecret;
        return this;
    }

    public void Restore(HouseholdSafeguards safeguards)
    {
        safeguards.AccountId = _accountId;
        safeguards.ApprovalRequired = _approvalRequired;
        safeguards.PausedUntil = _pausedUntil;
        safeguards.MonthlySpendLimit = _monthlySpendLimit;
        safeguards.Currency = _currency;
        safeguards.SpendMonth = _spendMonth;
        safeguards.Spent = _spent;
        safeguards.WebhookUrl = _webhookUrl;
        safeguards.WebhookSecret = _webhookSecret;
    }
}
