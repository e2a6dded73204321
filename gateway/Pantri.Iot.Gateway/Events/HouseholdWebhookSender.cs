using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using Pantri.Iot.Gateway.Retail;

namespace Pantri.Iot.Gateway.Events;

/// <summary>POSTs queued household events to their webhooks: <c>{"Type":…,"Data":…}</c>, signed like the retailer
/// webhooks (<c>Pantri-Signature: t=…,v1=HMAC-SHA256(secret, "{t}.{body}")</c>), one attempt and one retry, each
/// bounded by <see cref="EventOptions.WebhookTimeout"/>. The URL is the household's, so it is not trusted: every
/// address it resolves to is checked when connecting, and loopback, private, link-local and other non-public addresses
/// are refused unless <see cref="EventOptions.WebhookAllowPrivateNetworks"/> is set.</summary>
public sealed partial class HouseholdWebhookSender : BackgroundService
{
    private readonly HouseholdWebhooks _webhooks;
    private readonly EventOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<HouseholdWebhookSender> _logger;
    private readonly HttpClient _http;

    /// <summary>Creates the sender.</summary>
    public HouseholdWebhookSender(HouseholdWebhooks webhooks, IOptions<EventOptions> options, TimeProvider time, ILogger<HouseholdWebhookSender> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _webhooks = webhooks;
        _options = options.Value;
        _time = time;
        _logger = logger;
        var allowPrivate = _options.WebhookAllowPrivateNetworks;
        _http = new HttpClient(new SocketsHttpHandler
        {
            ConnectTimeout = _options.WebhookTimeout,
            AllowAutoRedirect = false,
            ConnectCallback = (context, token) => ConnectAsync(context, allowPrivate, token),
        })
        {
            Timeout = _options.WebhookTimeout,
        };
    }

    /// <inheritdoc/>
    public override void Dispose()
    {
        _http.Dispose();
        base.Dispose();
    }

    /// <summary>True for addresses a household's webhook must not reach by default: loopback, private (RFC 1918, ULA),
    /// link-local, carrier-grade NAT, unspecified, multicast and IPv4-mapped forms of them.</summary>
    public static bool IsNonPublic(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any))
        {
            return true;
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return b[0] is 10 or 0 || (b[0] == 172 && b[1] is >= 16 and <= 31) || (b[0] == 192 && b[1] == 168)
                || (b[0] == 169 && b[1] == 254) || (b[0] == 100 && b[1] is >= 64 and <= 127) || b[0] >= 224;
        }

        return address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6UniqueLocal || address.IsIPv6Multicast;
    }

    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var item in _webhooks.Queue.ReadAllAsync(stoppingToken).ConfigureAwait(false))
            {
                if (_webhooks.Of(item.AccountId) is not { } hook)
                {
                    continue;
                }

                var body = Body(item);
                for (var attempt = 1; attempt <= 2; attempt++)
                {
                    try
                    {
                        using var request = new HttpRequestMessage(HttpMethod.Post, hook.Url) { Content = new ByteArrayContent(body) };
                        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                        request.Headers.Add(WebhookSignature.Header, WebhookSignature.Sign(hook.Secret, _time.GetUtcNow(), body));
                        using var response = await _http.SendAsync(request, stoppingToken).ConfigureAwait(false);
                        if (response.IsSuccessStatusCode)
                        {
                            break;
                        }

                        LogRefused(_logger, item.Type, item.AccountId, (int)response.StatusCode, attempt);
                    }
                    catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !stoppingToken.IsCancellationRequested)
                    {
                        LogFailed(_logger, item.Type, item.AccountId, ex.Message, attempt);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, bool allowPrivate, CancellationToken cancellationToken)
    {
        var addresses = await Dns.GetHostAddressesAsync(context.DnsEndPoint.Host, cancellationToken).ConfigureAwait(false);
        // Checked on the addresses actually connected to, so a name that resolves to an internal address is refused too.
        var allowed = addresses.Where(a => allowPrivate || !IsNonPublic(a)).ToArray();
        if (allowed.Length == 0)
        {
            throw new HttpRequestException($"{context.DnsEndPoint.Host} resolves only to non-public addresses, which household webhooks may not reach");
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static byte[] Body(HouseholdEvent item)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(item.Data.Length + 64);
        using (var json = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("Type", item.Type);
            json.WritePropertyName("Data");
            json.WriteRawValue(item.Data.Span, skipInputValidation: true);
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    [LoggerMessage(EventId = 3802, Level = LogLevel.Warning, Message = "Household {AccountId}'s webhook answered HTTP {Status} to a {Type} event (attempt {Attempt} of 2)")]
    private static partial void LogRefused(ILogger logger, string type, string accountId, int status, int attempt);

    [LoggerMessage(EventId = 3803, Level = LogLevel.Warning, Message = "Household {AccountId}'s webhook could not be reached for a {Type} event: {Problem} (attempt {Attempt} of 2)")]
    private static partial void LogFailed(ILogger logger, string type, string accountId, string problem, int attempt);
}
