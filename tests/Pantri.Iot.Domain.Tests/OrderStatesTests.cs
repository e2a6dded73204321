namespace Pantri.Iot.Domain.Tests;

/// <summary>Order states as the API spells them: exact names only.</summary>
public sealed class OrderStatesTests
{
    [TestCase("Cancelled", OrderState.Cancelled)]
    [TestCase("cancelled", OrderState.Cancelled)]
    [TestCase("SUBMITTED", OrderState.Submitted)]
    [TestCase("Placed", OrderState.Placed)]
    public void Order_state_names_parse_exactly_in_any_case(string name, OrderState expected)
    {
        Assert.That(OrderStates.TryParse(name, out var state), Is.True);
        Assert.That(state, Is.EqualTo(expected));
    }

    [TestCase("1")]
    [TestCase("0")]
    [TestCase("-1")]
    [TestCase("Cancelled, Delivered")]
    [TestCase("Cancelled,Delivered")]
    [TestCase(" Cancelled")]
    [TestCase("Cancelled\n")]
    [TestCase("")]
    [TestCase(null)]
    public void Order_state_numbers_flags_and_padding_do_not_parse(string? name) =>
        Assert.That(OrderStates.TryParse(name, out _), Is.False);
}
