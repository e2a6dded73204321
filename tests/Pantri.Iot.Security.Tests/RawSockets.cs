using System.Net;
using System.Net.Sockets;

namespace Pantri.Iot.Security.Tests;

/// <summary>Plain TCP clients from chosen loopback source addresses, for what an attacker does before any MQTT.</summary>
public static class RawSockets
{
    /// <summary>Opens a TCP connection from <paramref name="source"/> (any 127.0.0.0/8 address) and sends nothing.</summary>
    public static async Task<Socket> OpenAsync(int port, IPAddress? source = null)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            socket.Bind(new IPEndPoint(source ?? IPAddress.Loopback, 0));
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>True when the gateway closes <paramref name="socket"/> within <paramref name="timeout"/> (a read
    /// returns end of stream or the connection is reset); false when it is still open then.</summary>
    public static async Task<bool> IsClosedWithinAsync(Socket socket, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var buffer = new byte[256];
        try
        {
            while (true)
            {
                if (await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token) == 0)
                {
                    return true;
                }
            }
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (SocketException)
        {
            return true;
        }
    }

    /// <summary>127.0.0.<paramref name="last"/>.</summary>
    public static IPAddress Loopback(byte last) => new([127, 0, 0, last]);
}
