using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Pantri.Iot.Broker.Abstractions;
using Pantri.Iot.Contract;

namespace Pantri.Iot.Broker;

/// <summary>Who a login is, by the embedded broker's rules: an ops user (<c>ops-</c> client id with the configured ops
/// credential or an ops user's own) or a device (client id = username = DeviceId with its key). One place, so the
/// embedded broker and the HTTP endpoints an external broker calls decide alike. Provisioning logins are the embedded
/// broker's own business and are not answered here.</summary>
public sealed class ClientCredentials(IDeviceAuthenticator devices, IOpsAuthenticator ops, IOptions<BrokerOptions> options)
{
    private readonly BrokerOptions _options = options.Value;

    /// <summary>The identity of a login with <paramref name="clientId"/>, <paramref name="userName"/> and
    /// <paramref name="password"/>, or null when the credentials are wrong or name nobody.</summary>
    public ClientIdentity? Authenticate(string clientId, string userName, byte[]? password)
    {
        ArgumentNullException.ThrowIfNull(clientId);
        ArgumentNullException.ThrowIfNull(userName);
        if (ClientIds.IsOps(clientId) && IsOpsLogin(userName, password))
        {
            return new ClientIdentity(userName, IsOps: true);
        }

        if (DeviceIds.IsValid(clientId) && clientId == userName && password is not null && devices.IsValid(clientId, Encoding.UTF8.GetString(password)))
        {
            return new ClientIdentity(clientId, IsOps: false);
        }

        return null;
    }

    private bool IsOpsLogin(string userName, byte[]? password)
    {
        if (string.IsNullOrEmpty(_options.OpsUsername) || string.IsNullOrEmpty(_options.OpsPassword) || userName != _options.OpsUsername)
        {
            // Not the configured shared credential: an ops user of its own (added with the CLI), or nobody.
            return password is not null && ops.IsValid(userName, Encoding.UTF8.GetString(password));
        }

        return CryptographicOperations.FixedTimeEquals(password ?? [], Encoding.UTF8.GetBytes(_options.OpsPassword));
    }
}
