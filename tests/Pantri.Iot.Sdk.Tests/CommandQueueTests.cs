using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Pantri.Iot.Sdk.Queue;

namespace Pantri.Iot.Sdk.Tests;

/// <summary>The durable queue on its own: real files in a temp directory, no gateway.</summary>
[Category("Integration")]
public sealed class CommandQueueTests
{
    private string _directory = null!;
    private string _path = null!;

    [SetUp]
    public void CreateDirectory()
    {
        _directory = Path.Combine(Path.GetTempPath(), "pantri-queue-test-" + Guid.NewGuid().ToString("N"));
        _path = Path.Combine(_directory, "sub", "device.queue");
    }

    [TearDown]
    public void DeleteDirectory()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private CommandQueue Open(int capacity = 10) => CommandQueue.Open(_path, capacity, NullLogger.Instance);

    private static PantriCommand Press(CommandQueue queue, string requestId) =>
        queue.Enqueue(DeviceTopicKind.Trigger, 123456789, null, requestId, DateTimeOffset.UnixEpoch);

    private string[] Lines() => File.ReadAllLines(_path).Where(l => l.Length > 0).ToArray();

    [Test]
    public void Enqueued_commands_are_in_the_file_when_Enqueue_returns_and_a_new_process_resumes_them_in_order()
    {
        PantriCommand[] queued;
        using (var queue = Open())
        {
            queued = [Press(queue, "a"), queue.Enqueue(DeviceTopicKind.Level, 987654321, 4.5, "b", DateTimeOffset.UnixEpoch), Press(queue, "c")];

            // Read while the queue is still open, as a process killed now would leave it.
            Assert.That(Lines(), Has.Length.EqualTo(4), "header + three adds");
        }

        using var reopened = Open();
        Assert.That(reopened.Snapshot(), Is.EqualTo(queued));
        var next = Press(reopened, "d");
        Assert.That(next.Sequence, Is.EqualTo(4), "sequence numbers continue");
    }

    [Test]
    public void Completed_commands_are_not_resumed_and_an_empty_queue_shrinks_the_file_to_its_header()
    {
        using (var queue = Open())
        {
            var a = Press(queue, "a");
            var b = Press(queue, "b");
            queue.Complete(a.Sequence);
            Assert.That(Lines(), Has.Length.EqualTo(4), "header, two adds, one done");
            queue.Complete(b.Sequence);
            Assert.That(Lines(), Has.Length.EqualTo(1), "header only");
            Press(queue, "c");
        }

        using var reopened = Open();
        Assert.That(reopened.Snapshot().Select(c => c.RequestId), Is.EqualTo(new[] { "c" }));
        Assert.That(reopened.Snapshot()[0].Sequence, Is.EqualTo(3), "the header keeps the sequence going");
    }

    [Test]
    public void A_torn_last_line_from_a_crash_is_ignored_and_cut_off()
    {
        using (var queue = Open())
        {
            Press(queue, "a");
            Press(queue, "b");
        }

        File.AppendAllText(_path, "{\"Op\":\"add\",\"Seq\":3,\"Kind\":\"trig", Encoding.UTF8);

        using (var queue = Open())
        {
            Assert.That(queue.Snapshot().Select(c => c.RequestId), Is.EqualTo(new[] { "a", "b" }));
            Press(queue, "c");
        }

        using var reopened = Open();
        Assert.That(reopened.Snapshot().Select(c => c.RequestId), Is.EqualTo(new[] { "a", "b", "c" }));
        Assert.That(File.ReadAllText(_path), Does.Not.Contain("trig\""));
    }

    [Test]
    public void An_unreadable_line_is_skipped_and_the_others_are_kept()
    {
        using (var queue = Open())
        {
            Press(queue, "a");
        }

        File.AppendAllText(_path, "\0\0\0\0garbage\n");
        using (var queue = Open())
        {
            Press(queue, "b");
        }

        using var reopened = Open();
        Assert.That(reopened.Snapshot().Select(c => c.RequestId), Is.EqualTo(new[] { "a", "b" }));
    }

    [Test]
    public void A_full_queue_refuses_the_new_command_and_keeps_the_queued_ones()
    {
        using var queue = Open(capacity: 2);
        Press(queue, "a");
        Press(queue, "b");

        var full = Assert.Throws<PantriQueueFullException>(() => Press(queue, "c"));

        Assert.That(full!.Capacity, Is.EqualTo(2));
        Assert.That(queue.Snapshot().Select(c => c.RequestId), Is.EqualTo(new[] { "a", "b" }));
        queue.Complete(queue.Snapshot()[0].Sequence);
        Assert.That(Press(queue, "c").RequestId, Is.EqualTo("c"), "room again once one is acknowledged");
    }

    [Test]
    public void A_second_open_of_the_same_queue_is_refused_while_the_first_holds_it()
    {
        using var queue = Open();

        var busy = Assert.Throws<IOException>(() => Open());

        Assert.That(busy!.Message, Does.Contain("in use"));
    }

    [Test]
    public void Done_records_behind_a_long_backlog_are_compacted_and_nothing_pending_is_lost()
    {
        using (var queue = Open(capacity: 50))
        {
            for (var i = 0; i < 40; i++)
            {
                Press(queue, "old-" + i);
            }

            for (var i = 0; i < 300; i++)
            {
                queue.Complete(queue.Snapshot()[0].Sequence);
                Press(queue, "new-" + i);
            }

            Assert.That(Lines(), Has.Length.LessThan(200), "the file does not grow with every ack");
        }

        using var reopened = Open(capacity: 50);
        Assert.That(reopened.Snapshot().Select(c => c.RequestId), Is.EqualTo(Enumerable.Range(260, 40).Select(i => "new-" + i)));
        Assert.That(File.Exists(_path + ".tmp"), Is.False);
    }

    [Test]
    public void A_queue_written_by_a_newer_format_is_refused_rather_than_misread()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
        File.WriteAllText(_path, "{\"Op\":\"format\",\"Version\":2,\"Seq\":1}\n");

        var newer = Assert.Throws<InvalidDataException>(() => Open());

        Assert.That(newer!.Message, Does.Contain("newer"));
        Assert.That(File.ReadAllText(_path), Does.Contain("\"Version\":2"), "left as it was");
    }

    [Test]
    public async Task WaitForHeadAsync_wakes_when_a_command_is_queued()
    {
        using var queue = CommandQueue.Open(null, 10, NullLogger.Instance);
        var head = queue.WaitForHeadAsync(CancellationToken.None);
        await Task.Delay(50);
        Assert.That(head.IsCompleted, Is.False);

        Press(queue, "a");

        Assert.That((await head.WaitAsync(TimeSpan.FromSeconds(5))).RequestId, Is.EqualTo("a"));
    }
}
