// Shows: a real IoT button on a Raspberry Pi. A push button on a GPIO pin (to ground, internal pull-up, debounced)
// re-orders through the SDK, and an LED blinks the ack: one long blink for an order placed (201), two short ones for
// "already ordered" (409), five fast ones for any other refusal. Without GPIO (a PC) the keyboard is the button.
// Presses made while the gateway is unreachable wait in a durable queue file and are sent, each exactly once, when it
// comes back — even if this program is restarted in between.
//
// Run:  dotnet run --project samples/IotButton                       (demo-button from data/demo-household.json)
//       dotnet run --project samples/IotButton -- --pin 17 --led-pin 27 --host pantri.local --port 1883
//       dotnet run --project samples/IotButton -- --keyboard          (force the keyboard even where GPIO exists)
// Publish for a Pi: dotnet publish samples/IotButton -c Release -r linux-arm64 -o out/iotbutton
// Common options: see samples/Shared/DeviceArgs.cs (--household, --host, --port, --device-id, --device-key,
// --instruction-ref, --queue, --mqtt311).
using System.Device.Gpio;
using System.Diagnostics;
using System.Threading.Channels;
using Pantri.Iot.Contract;
using Pantri.Iot.Samples;
using Pantri.Iot.Sdk;

var args2 = DeviceArgs.Parse(args);
var (options, instructionRef) = args2.Device("demo-button");
var buttonPin = args2.GetInt("pin", 17);
var ledPin = args2.GetInt("led-pin", 27);
var debounce = TimeSpan.FromMilliseconds(args2.GetInt("debounce-ms", 50));

await using var device = new PantriDeviceClient(options);
var presses = Channel.CreateUnbounded<string>();
using var quit = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; quit.Cancel(); };

// Every ack is reported here, also those of presses queued before a restart, whose original caller is gone.
device.CommandCompleted += (_, e) => Console.WriteLine(e.Acknowledgement is { } ack
    ? $"ack {e.Command.RequestId}: ID {ack.Id} {ack.Status} (CommandRef {ack.CommandRef}{(ack.OrderRef is { } o ? $", OrderRef {o}" : "")}{(ack.Replayed == true ? ", replayed" : "")})"
    : $"refused {e.Command.RequestId}: {e.Error?.Message}");
device.ConnectionStateChanged += (_, e) => Console.WriteLine($"connection: {e.State}{(e.Error is null ? "" : " (" + e.Error.Message + ")")}");

await device.StartAsync();
if (device.PendingCommands > 0)
{
    Console.WriteLine($"{device.PendingCommands} queued presses from before; sending them when connected");
}

using var led = OpenGpio(args2.Has("keyboard"), buttonPin, ledPin, debounce, presses.Writer);
Console.WriteLine(led is null
    ? $"IotButton {options}: no GPIO here, so Enter (or space) presses the button, q quits"
    : $"IotButton {options}: button on GPIO {buttonPin}, LED on GPIO {ledPin}; Ctrl+C quits");
if (led is null)
{
    _ = Task.Run(() => ReadKeyboard(presses.Writer, quit));
}

var inFlight = new List<Task>();
try
{
    await foreach (var source in presses.Reader.ReadAllAsync(quit.Token))
    {
        // A RequestId per press: a resend after an uncertain send (or a restart) replays the same ack.
        var requestId = Guid.NewGuid().ToString("N");
        var ack = device.TriggerReorderAsync(instructionRef, requestId, quit.Token); // on disk before this returns
        Console.WriteLine($"press {requestId} queued ({source}, {device.PendingCommands} waiting)");
        inFlight.Add(BlinkWhenAcknowledged(ack, requestId, led));
    }
}
catch (OperationCanceledException)
{
}

// Input ended (q or end of input): give the presses made a moment to be acknowledged; the queue keeps the rest.
await Task.WhenAny(Task.WhenAll(inFlight), Task.Delay(TimeSpan.FromSeconds(15)));
Console.WriteLine($"bye ({device.PendingCommands} presses still queued)");
return 0;

static async Task BlinkWhenAcknowledged(Task<Acknowledgement> pending, string requestId, Led? led)
{
    try
    {
        var ack = await pending;
        await Blink(led, ack.Id switch { AckIds.OrderPlaced => 1, AckIds.Conflict => 2, _ => 5 }, ack.Id == AckIds.OrderPlaced ? 600 : 120);
    }
    catch (PantriAckTimeoutException)
    {
        Console.WriteLine($"press {requestId}: no ack yet; it stays queued and is sent when the gateway is reachable");
    }
    catch (Exception exception) when (exception is PantriAuthenticationException or PantriCommandRejectedException or PantriQueueFullException or ObjectDisposedException or OperationCanceledException)
    {
        Console.WriteLine($"press {requestId}: {exception.Message}");
    }
}

static async Task Blink(Led? led, int times, int milliseconds)
{
    if (led is null)
    {
        Console.WriteLine("LED " + string.Join(' ', Enumerable.Repeat(milliseconds > 300 ? "▬" : "•", times)));
        return;
    }

    for (var i = 0; i < times; i++)
    {
        led.Set(true);
        await Task.Delay(milliseconds);
        led.Set(false);
        await Task.Delay(120);
    }
}

static void ReadKeyboard(ChannelWriter<string> presses, CancellationTokenSource quit)
{
    if (Console.IsInputRedirected)
    {
        // Piped input (scripts, tests): every line is a press, "q" or the end of input quits.
        while (Console.In.ReadLine() is { } line && line.Trim() != "q")
        {
            presses.TryWrite("line");
        }
    }
    else
    {
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key is ConsoleKey.Q or ConsoleKey.Escape)
            {
                break;
            }

            if (key.Key is ConsoleKey.Enter or ConsoleKey.Spacebar)
            {
                presses.TryWrite("key");
            }
        }
    }

    presses.TryComplete();
    quit.CancelAfter(TimeSpan.FromSeconds(15));
}

static Led? OpenGpio(bool keyboard, int buttonPin, int ledPin, TimeSpan debounce, ChannelWriter<string> presses)
{
    if (keyboard)
    {
        return null;
    }

    GpioController gpio;
    try
    {
        gpio = new GpioController();
        gpio.OpenPin(buttonPin, PinMode.InputPullUp);
        gpio.OpenPin(ledPin, PinMode.Output, PinValue.Low);
    }
    catch (Exception exception) when (exception is PlatformNotSupportedException or IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException)
    {
        return null;
    }

    // The button pulls the pin to ground: a falling edge is a press; edges within the debounce time are contact bounce.
    var last = Stopwatch.StartNew();
    var first = true;
    gpio.RegisterCallbackForPinValueChangedEvent(buttonPin, PinEventTypes.Falling, (_, _) =>
    {
        if (first || last.Elapsed >= debounce)
        {
            first = false;
            last.Restart();
            presses.TryWrite("GPIO " + buttonPin);
        }
    });
    return new Led(gpio, ledPin);
}

internal sealed class Led(GpioController gpio, int pin) : IDisposable
{
    public void Set(bool on) => gpio.Write(pin, on ? PinValue.High : PinValue.Low);

    public void Dispose() => gpio.Dispose();
}
