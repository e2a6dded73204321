using Pantri.Iot.Gateway.Pipeline;

namespace Pantri.Iot.Gateway.Tests;

public sealed class RefPermutationTests
{
    private readonly RefPermutation _permutation = new(RefAllocator.NewKey());

    [Test]
    public void Every_ref_maps_back_to_its_sequence()
    {
        foreach (var sequence in new long[] { 0, 1, 2, 99_999, 100_000, 123_456_789, RefPermutation.Domain - 1 })
        {
            Assert.That(_permutation.SequenceOf(_permutation.RefOf(sequence)), Is.EqualTo(sequence));
        }
    }

    [Test]
    public void Refs_are_positive_unique_and_do_not_follow_the_sequence()
    {
        var refs = Enumerable.Range(1, 50_000).Select(i => _permutation.RefOf(i)).ToList();

        Assert.That(refs, Is.All.InRange(1L, RefPermutation.Domain));
        Assert.That(refs.Distinct().Count(), Is.EqualTo(refs.Count));
        var ascendingSteps = refs.Zip(refs.Skip(1)).Count(p => p.Second > p.First);
        Assert.That(ascendingSteps, Is.InRange(20_000, 30_000), "neighbouring refs go up or down as if at random");
    }

    [TestCase(0L)]
    [TestCase(-5L)]
    [TestCase(RefPermutation.Domain + 1)]
    public void Values_no_ref_can_have_map_to_no_sequence(long reference) =>
        Assert.That(_permutation.SequenceOf(reference), Is.EqualTo(-1));
}
