using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Pantri.Iot.Contract;
using Pantri.Iot.Domain;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace Pantri.Iot.Gateway.Retail;

/// <summary>Sends orders to a retailer's URL: a JSON POST with <c>Idempotency-Key</c> = the OrderRef on every
/// attempt and a <see cref="WebhookSignature"/>, through a Polly pipeline of its own (retry with exponential back-off
/// and jitter on connection errors, timeouts, 408, 429 and 5xx honouring <c>Retry-After</c>; a circuit breaker; a
/// timeout per attempt). Any other 4xx, or a 2xx answering <c>{"Status":"Rejected"}</c>, is a refusal: not retried.</summary>
public sealed class WebhookConnector : IRetailerConnector, IDisposable
{
    private readonly string _name;
    private readonly RetailerOptions _options;
    private readonly Uri? _callbackBase;
    private readonly TimeProvider _time;
    private readonly HttpClient _http;
    private readonly ResiliencePipeline<HttpResponseMessage> _pipeline;

    /// <summary>A connector for retailer <paramref name="name"/>.</summary>
    public WebhookConnector(string name, RetailerOptions options, Uri? callbackBase, TimeProvider time, RetailMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(options);
        _name = name;
        _options = options;
        _callbackBase = callbackBase;
        _time = time;
        // Timeouts are the pipeline's; the handler only bounds connecting.
        _http = new HttpClient(new SocketsHttpHandler { ConnectTimeout = options.AttemptTimeout, PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        var transient = new PredicateBuilder<HttpResponseMessage>()
            .Handle<HttpRequestException>()
            .Handle<TimeoutRejectedException>()
            .HandleResult(r => IsTransient(r.StatusCode));
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = time };
        // MaxRetries = 0 (allowed: one attempt per dispatch round) is no retry strategy at all; Polly refuses zero.
        if (options.MaxRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                ShouldHandle = transient,
                MaxRetryAttempts = options.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryDelay,
                MaxDelay = options.MaxRetryDelay,
                DelayGenerator = args => ValueTask.FromResult(RetryAfter(args.Outcome.Result)),
                OnRetry = _ =>
                {
                    metrics.Retried(name);
                    return ValueTask.CompletedTask;
                },
            });
        }

        _pipeline = builder
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions<HttpResponseMessage>
            {
                ShouldHandle = transient,
                FailureRatio = 0.5,
                MinimumThroughput = options.BreakerMinimumThroughput,
                SamplingDuration = TimeSpan.FromSeconds(30),
                BreakDuration = options.BreakDuration,
                OnOpened = _ =>
                {
                    metrics.CircuitIs(name, 1);
                    return ValueTask.CompletedTask;
                },
                OnHalfOpened = _ =>
                {
                    metrics.CircuitIs(name, 2);
                    return ValueTask.CompletedTask;
                },
                OnClosed = _ =>
                {
                    metrics.CircuitIs(name, 0);
                    return ValueTask.CompletedTask;
                },
            })
            .AddTimeout(options.AttemptTimeout)
            .Build();
        metrics.CircuitIs(name, 0);
    }

    /// <inheritdoc/>
    public async Task<SubmissionResult> SubmitAsync(Order order, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(order);
        using var response = await SendAsync(_options.Url!, Body(order), IdempotencyKey(order), cancellationToken).ConfigureAwait(false);
        var answer = await ReadAnswerAsync(response, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            return new SubmissionResult(OrderState.Rejected, answer.Reason ?? $"{_name} refused the order: HTTP {(int)response.StatusCode}");
        }

        if (string.Equals(answer.Status, nameof(OrderState.Rejected), StringComparison.OrdinalIgnoreCase))
        {
            return new SubmissionResult(OrderState.Rejected, answer.Reason ?? $"{_name} refused the order");
        }

        return string.Equals(answer.Status, nameof(OrderState.Confirmed), StringComparison.OrdinalIgnoreCase)
            ? new SubmissionResult(OrderState.Confirmed, answer.Reason, answer.Quote?.UnitPrice, answer.Quote?.Currency)
            : new SubmissionResult(OrderState.Submitted, answer.Reason);
    }

    /// <summary>POSTs <c>{"OrderRef":…,"Retailer":…,"Reason":…}</c> to the cancel URL under <c>Idempotency-Key</c> =
    /// "{OrderRef}-cancel", signed and retried like a submission. A 2xx accepts (unless it answers
    /// <c>{"Status":"Refused"}</c> or <c>"Rejected"</c>); any other non-transient status refuses, with the retailer's
    /// <c>Reason</c> when it gives one.</summary>
    public async Task<CancelResult> CancelAsync(Order order, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(order);
        var reference = order.Ref.ToString(CultureInfo.InvariantCulture);
        var url = _options.CancelUrl ?? new Uri(_options.Url!.ToString().TrimEnd('/') + "/" + reference + "/cancel");
        using var response = await SendAsync(url, CancelBody(order), IdempotencyKey(order) + "-cancel", cancellationToken).ConfigureAwait(false);
        var answer = await ReadAnswerAsync(response, cancellationToken).ConfigureAwait(false);
        var refused = !response.IsSuccessStatusCode
            || string.Equals(answer.Status, "Refused", StringComparison.OrdinalIgnoreCase)
            || string.Equals(answer.Status, nameof(OrderState.Rejected), StringComparison.OrdinalIgnoreCase);
        return refused
            ? new CancelResult(false, answer.Reason ?? $"{_name} refused the cancel: HTTP {(int)response.StatusCode}")
            : new CancelResult(true, answer.Reason);
    }

    // One signed POST through the pipeline; a transient answer that outlived the retries, or no answer, is
    // RetailerUnavailableException (the work stays queued).
    private async Task<HttpResponseMessage> SendAsync(Uri url, byte[] body, string idempotencyKey, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await _pipeline.ExecuteAsync(
                async token =>
                {
                    using var request = new HttpRequestMessage(HttpMethod.Post, url);
                    request.Content = new ByteArrayContent(body);
                    request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                    request.Headers.Add(Contract.HttpHeaders.IdempotencyKey, idempotencyKey);
                    request.Headers.Add(WebhookSignature.Header, WebhookSignature.Sign(_options.Secret!, _time.GetUtcNow(), body));
                    return await _http.SendAsync(request, token).ConfigureAwait(false);
                },
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutRejectedException or BrokenCircuitException)
        {
            throw new RetailerUnavailableException($"{_name}: {Describe(ex)}", ex);
        }

        if (IsTransient(response.StatusCode))
        {
            var status = (int)response.StatusCode;
            response.Dispose();
            throw new RetailerUnavailableException($"{_name}: HTTP {status} after {_options.MaxRetries + 1} attempts");
        }

        return response;
    }

    private static byte[] CancelBody(Order order)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = ContractJson.Options.Encoder }))
        {
            json.WriteStartObject();
            json.WriteNumber("OrderRef", order.Ref);
            json.WriteString("Retailer", order.Retailer);
            json.WriteString("Reason", "cancelled by the household");
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <inheritdoc/>
    public void Dispose() => _http.Dispose();

    /// <summary>The order's key at its current retailer: the OrderRef at the instruction's own retailer, and
    /// "{OrderRef}-{n}" at its n-th fallback, so no retailer's de-duplication ever meets another retailer's key.</summary>
    public static string IdempotencyKey(Order order)
    {
        ArgumentNullException.ThrowIfNull(order);
        var reference = order.Ref.ToString(CultureInfo.InvariantCulture);
        return order.RetailerIndex == 0 ? reference : reference + "-" + order.RetailerIndex.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>408, 429 and 5xx: worth another attempt.</summary>
    public static bool IsTransient(HttpStatusCode status) =>
        status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)status >= 500;

    private TimeSpan? RetryAfter(HttpResponseMessage? response)
    {
        var header = response?.Headers.RetryAfter;
        var wait = header?.Delta ?? (header?.Date is { } date ? date - _time.GetUtcNow() : null);
        return wait is { } w ? TimeSpan.FromTicks(Math.Clamp(w.Ticks, 0, _options.MaxRetryDelay.Ticks)) : null;
    }

    private byte[] Body(Order order)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = ContractJson.Options.Encoder }))
        {
            json.WriteStartObject();
            json.WriteNumber("OrderRef", order.Ref);
            json.WriteNumber(FieldNames.InstructionRef, order.InstructionRef);
            json.WriteString("Product", order.Product);
            json.WriteNumber("Quantity", order.Quantity);
            json.WriteString("Retailer", order.Retailer);
            json.WriteString("DeliveryRef", order.AccountId);
            json.WriteString("PlacedAt", order.CreatedAt);
            if (_callbackBase is not null)
            {
                json.WriteString("CallbackUrl", new Uri(_callbackBase, $"v1/retailers/{Uri.EscapeDataString(_name)}/orders/{order.Ref.ToString(CultureInfo.InvariantCulture)}/status").ToString());
            }

            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static async Task<(string? Status, string? Reason, RetailerQuote? Quote)> ReadAnswerAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            if (bytes.Length is 0 or > 16 * 1024)
            {
                return (null, null, null);
            }

            using var document = JsonDocument.Parse(bytes);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return (null, null, null);
            }

            string? status = null;
            string? reason = null;
            RetailerQuote.TryRead(document.RootElement, out var quote);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Value.ValueKind == JsonValueKind.String && property.Name.Equals("Status", StringComparison.OrdinalIgnoreCase))
                {
                    status = property.Value.GetString();
                }
                else if (property.Value.ValueKind == JsonValueKind.String && property.Name.Equals("Reason", StringComparison.OrdinalIgnoreCase))
                {
                    reason = property.Value.GetString();
                }
            }

            return (status, reason, quote);
        }
        catch (JsonException)
        {
            return (null, null, null);
        }
    }

    private static string Describe(Exception ex) => ex switch
    {
        BrokenCircuitException => "circuit open after repeated failures",
        TimeoutRejectedException => "timed out",
        HttpRequestException { HttpRequestError: var error } => $"connection failed ({error})",
        _ => ex.GetType().Name,
    };
}

/// <summary>The retailer could not be reached (or kept failing) within one dispatch round: the submission stays
/// queued.</summary>
public sealed class RetailerUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public RetailerUnavailableException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public RetailerUnavailableException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public RetailerUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
