// Shows: a smart cookie jar. A load cell under the jar (an HX711 amplifier on two GPIO pins, read through
// Iot.Device.Bindings) weighs it; cookies = (weight − empty jar) / grams per cookie. Whenever the count changes the jar
// reports the new level through the SDK and prints the gateway's answer: level, whether the trigger point is armed,
// the forecast, and the order placed when the level reaches the trigger point (demo-jar: 12 cookies, reorder at 5).
// Without an HX711 the scale is simulated: a cookie is taken every --interval seconds (or on Enter).
//
// Run:  dotnet run --project samples/CookieJar                 (simulated; demo-jar from data/demo-household.json;
//                                                                takes 8 cookies, then stops)
//       dotnet run --project samples/CookieJar -- --hx711 --dout 5 --sck 6 --ratio 420 --jar-grams 350 --grams-per-unit 12
//       (real load cell: --ratio is raw units per gram from your calibration; the scale is tared empty at start)
// Common options: see samples/Shared/DeviceArgs.cs.
using System.Device.Gpio;
using System.Globalization;
using Iot.Device.Hx711;
using Pantri.Iot.Contract;
using Pantri.Iot.Samples;
using Pantri.Iot.Sdk;

var args2 = DeviceArgs.Parse(args);
var (options, instructionRef) = args2.Device("demo-jar");
if (instructionRef is not { } jarRef)
{
    Console.Error.WriteLine("--instruction-ref is required with --device-key (a tracked instruction)");
    return 2;
}

var gramsPerUnit = args2.GetDouble("grams-per-unit", 12);
var jarGrams = args2.GetDouble("jar-grams", 350);
var interval = TimeSpan.FromSeconds(args2.GetDouble("interval", 2));
var take = args2.GetInt("take", 8);

using IScale scale = args2.Has("hx711")
    ? new Hx711Scale(args2.GetInt("dout", 5), args2.GetInt("sck", 6), args2.GetDouble("ratio", 420))
    : new SimulatedScale(jarGrams + (DemoStartLevel(args2) * gramsPerUnit), gramsPerUnit);
Console.WriteLine($"CookieJar {options}: {scale}, {gramsPerUnit} g per cookie, empty jar {jarGrams} g");

await using var jar = new PantriDeviceClient(options);
using var quit = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; quit.Cancel(); };
if (scale is SimulatedScale simulated && !Console.IsInputRedirected)
{
    _ = Task.Run(() => { while (Console.ReadKey(intercept: true).Key != ConsoleKey.Q) { simulated.TakeOne(); } quit.Cancel(); });
}

int? reported = null;
var taken = 0;
try
{
    while (!quit.IsCancellationRequested)
    {
        var cookies = (int)Math.Max(0, Math.Round((scale.ReadGrams() - jarGrams) / gramsPerUnit));
        if (cookies != reported)
        {
            try
            {
                Print(await jar.ReportLevelAsync(jarRef, cookies, cancellationToken: quit.Token));
                reported = cookies;
            }
            catch (PantriAckTimeoutException exception)
            {
                // Queued durably and still delivered; the next change is reported after it, in order.
                Console.WriteLine($"level {cookies}: {exception.Message}");
                reported = cookies;
            }
        }

        if (scale is SimulatedScale simulation)
        {
            if (taken++ == take)
            {
                break;
            }

            await Task.Delay(interval, quit.Token);
            simulation.TakeOne();
        }
        else
        {
            await Task.Delay(interval, quit.Token);
        }
    }
}
catch (OperationCanceledException)
{
}

return 0;

static double DemoStartLevel(DeviceArgs args)
{
    if (args.Get("start") is { } start)
    {
        return double.Parse(start, CultureInfo.InvariantCulture);
    }

    var file = args.Get("household") ?? Path.Combine("data", DemoHouseholdFile.FileName);
    return File.Exists(file) ? DemoHouseholdFile.Read(file).Device(args.Get("device-id") ?? "demo-jar").Level ?? 12 : 12;
}

static void Print(Acknowledgement ack) => Console.WriteLine(
    $"level {ack.Level?.ToString(CultureInfo.InvariantCulture) ?? "-",3} {ack.Unit}: ID {ack.Id} {ack.Status}" +
    $"  armed {ack.Armed}  forecast {ack.Forecast?.State}" +
    (ack.Forecast?.HoursToReorder is { } hours ? $" ({hours.ToString("0.0", CultureInfo.InvariantCulture)} h to reorder)" : "") +
    (ack.Id == AckIds.OrderPlaced ? $"  ORDER {ack.OrderRef} placed" : "") +
    (ack.Note is { } note ? $"  ({note})" : ""));

internal interface IScale : IDisposable
{
    double ReadGrams();
}

/// <summary>A load cell through an HX711 on two GPIO pins.</summary>
internal sealed class Hx711Scale : IScale
{
    private readonly GpioController _gpio = new();
    private readonly Hx711 _hx711;

    public Hx711Scale(int dout, int sck, double ratio)
    {
        _hx711 = new Hx711(dout, sck, new Hx711Options(Hx711Mode.ChannelAGain128, useByteLittleEndian: false), _gpio, shouldDispose: false);
        _hx711.PowerUp();
        _hx711.SetConversionRatio(ratio);
        _hx711.Tare(); // start with the scale empty, then put the jar on it
    }

    public double ReadGrams() => _hx711.GetWeight().Grams;

    public override string ToString() => "HX711 load cell";

    public void Dispose()
    {
        _hx711.Dispose();
        _gpio.Dispose();
    }
}

/// <summary>A jar someone takes cookies from: the weight drops by about one cookie (±1 g of noise) each time.</summary>
internal sealed class SimulatedScale(double grams, double gramsPerUnit) : IScale
{
    private double _grams = grams;

    public void TakeOne() => _grams -= gramsPerUnit + ((Random.Shared.NextDouble() * 2) - 1);

    public double ReadGrams() => _grams;

    public override string ToString() => "simulated scale";

    public void Dispose()
    {
    }
}
