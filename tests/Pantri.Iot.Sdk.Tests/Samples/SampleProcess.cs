using System.Collections.Concurrent;
using System.Diagnostics;

namespace Pantri.Iot.Sdk.Tests.Samples;

/// <summary>A sample (or the C firmware) as a child process: stdin to type into, stdout and stderr kept line by line.</summary>
internal sealed class SampleProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();

    private SampleProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data is null ? null : "stderr: " + e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public IReadOnlyList<string> Lines => _lines.ToArray();

    public string Output => string.Join(Environment.NewLine, _lines);

    /// <summary>Starts a .NET sample from this test's output folder (<c>dotnet {name}.dll args</c>).</summary>
    public static SampleProcess StartDotnet(string name, string workingDirectory, params string[] args) =>
        Start("dotnet", workingDirectory, [Path.Combine(AppContext.BaseDirectory, name + ".dll"), .. args]);

    public static SampleProcess Start(string fileName, string workingDirectory, IEnumerable<string> args)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return new SampleProcess(Process.Start(info)!);
    }

    public void Type(string line)
    {
        _process.StandardInput.WriteLine(line);
        _process.StandardInput.Flush();
    }

    public void CloseInput() => _process.StandardInput.Close();

    /// <summary>Waits until <paramref name="count"/> lines match; fails with the output so far when they do not.</summary>
    public async Task<IReadOnlyList<string>> WaitForLinesAsync(Func<string, bool> match, int count = 1, int seconds = 20)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(seconds);
        while (DateTime.UtcNow < deadline)
        {
            var found = Lines.Where(match).ToList();
            if (found.Count >= count)
            {
                return found;
            }

            if (_process.HasExited && Lines.Where(match).Count() < count)
            {
                await Task.Delay(100); // the last lines may still be on their way
                if (Lines.Where(match).Count() >= count)
                {
                    continue;
                }

                Assert.Fail($"The process exited ({_process.ExitCode}) before {count} matching lines:{Environment.NewLine}{Output}");
            }

            await Task.Delay(20);
        }

        Assert.Fail($"No {count} matching lines within {seconds} s:{Environment.NewLine}{Output}");
        return [];
    }

    public async Task<int> WaitForExitAsync(int seconds = 30)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"The process did not exit within {seconds} s:{Environment.NewLine}{Output}");
        }

        _process.WaitForExit(); // the output is read to its end
        return _process.ExitCode;
    }

    /// <summary>SIGKILL: no shutdown code runs, as when a device loses power.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            Kill();
        }

        _process.Dispose();
    }

    private void Keep(string? line)
    {
        if (line is not null)
        {
            _lines.Enqueue(line);
        }
    }
}
