
namespace Pantri.Iot.Contract.Tests;

public sealed class RequestIdsTests
{
    [TestCase(null)]
    [TestCase("")]
    public void A_missing_or_empty_header_means_no_RequestId(string? raw)
    {
        Assert.That(RequestIds.TryNormalize(raw, out var requestId, out var error), Is.True);
        Assert.That(requestId, Is.Null);
        Assert.That(error, Is.Null);
    }

    [Test]
    public void A_header_of_exactly_the_maximum_length_is_kept_as_it_is()
    {
        var raw = new string('r', RequestIds.MaxLength);

        Assert.That(RequestIds.TryNormalize(raw, out var requestId, out var error), Is.True);
        Assert.That(requestId, Is.EqualTo(raw));
        Assert.That(error, Is.Null);
    }

    [Test]
    public void A_header_one_character_too_long_is_refused_with_the_contract_text()
    {
        Assert.That(RequestIds.TryNormalize(new string('r', RequestIds.MaxLength + 1), out var requestId, out var error), Is.False);
        Assert.That(requestId, Is.Null);
        Assert.That(error, Is.EqualTo("RequestId longer than 128 characters"));
    }

    [Test]
    public void The_maximum_length_is_the_one_the_error_text_names() =>
        Assert.That(RequestIds.MaxLength, Is.EqualTo(128));
}
