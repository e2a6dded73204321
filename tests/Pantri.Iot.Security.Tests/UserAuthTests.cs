using System.Net;
using System.Security.Claims;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Pantri.Iot.Gateway.Security;
using Pantri.Iot.Gateway.Setup;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Security.Tests;

/// <summary><c>User_Auth</c> is checked by the standard JwtBearer handler and then against the installation's
/// households and users: a token that is not signed by the installation's key for its issuer and audience, has expired,
/// or names a household or user that no longer exists answers 401 on the setup API and on the trigger alike.</summary>
public sealed class UserAuthTests : SharedGatewayTest
{
    private const string Household = "auth-household";
    private const string User = "auth-user";

    [OneTimeSetUp]
    public async Task CreateTheHousehold()
    {
        var created = await Gateway.Services.GetRequiredService<SetupService>().RunAsync(new CreateHousehold(Household, "Auth", User), CancellationToken.None);
        Assert.That(created.Error, Is.Null);
    }

    [Test]
    public async Task A_token_the_installation_signed_for_an_existing_user_is_accepted()
    {
        var token = Token(Household, User);

        Assert.That(await StatusOfAsync(token), Is.EqualTo((HttpStatusCode.OK, HttpStatusCode.NotFound)), "setup 200; trigger of an unknown instruction 404");
    }

    [Test]
    public async Task A_token_of_another_issuer_is_refused() =>
        Assert.That(await StatusOfAsync(Token(Household, User, issuer: "https://evil.example")), Is.EqualTo(Unauthorized));

    [Test]
    public async Task A_token_for_another_audience_is_refused() =>
        Assert.That(await StatusOfAsync(Token(Household, User, audience: "not-pantri")), Is.EqualTo(Unauthorized));

    [Test]
    public async Task An_expired_token_is_refused() =>
        Assert.That(await StatusOfAsync(Token(Household, User, expires: TimeSpan.FromMinutes(-10))), Is.EqualTo(Unauthorized));

    [Test]
    public async Task A_token_signed_with_another_key_is_refused() =>
        Assert.That(await StatusOfAsync(Token(Household, User, key: new SymmetricSecurityKey(new byte[32]))), Is.EqualTo(Unauthorized));

    [Test]
    public async Task An_unsigned_alg_none_token_is_refused()
    {
        var valid = Token(Household, User);
        var payload = valid.Split('.')[1];
        var header = Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes("""{"alg":"none","typ":"JWT"}"""));

        Assert.That(await StatusOfAsync(header + "." + payload + "."), Is.EqualTo(Unauthorized));
    }

    [Test]
    public async Task A_token_for_a_household_that_does_not_exist_is_refused() =>
        Assert.That(await StatusOfAsync(Token("no-such-household", User)), Is.EqualTo(Unauthorized));

    [Test]
    public async Task A_removed_users_token_stops_working_at_once()
    {
        var setup = Gateway.Services.GetRequiredService<SetupService>();
        await setup.RunAsync(new AddUser(Household, "leaving-user", Pantri.Iot.Domain.UserRole.Member), CancellationToken.None);
        var token = Token(Household, "leaving-user");
        var before = await StatusOfAsync(token);

        var removed = await setup.RunAsync(new RemoveUser(Household, "leaving-user"), CancellationToken.None);

        Assert.That(removed.Error, Is.Null);
        Assert.That(before.Setup, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await StatusOfAsync(token), Is.EqualTo(Unauthorized));
    }

    [Test]
    public async Task A_deleted_households_tokens_stop_working_at_once()
    {
        using var http = await HouseholdApi.AsAccountAsync(Gateway, "short-lived-household");
        var before = await http.GetAsync("/v1/household");

        var deleted = await http.DeleteAsync("/v1/household");
        var after = await http.GetAsync("/v1/instructions");

        Assert.That(before.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(deleted.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(after.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
    }

    private static (HttpStatusCode Setup, HttpStatusCode Trigger) Unauthorized => (HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized);

    private string Token(string household, string user, string? issuer = null, string? audience = null, TimeSpan? expires = null, SecurityKey? key = null)
    {
        var now = DateTime.UtcNow;
        var lifetime = expires ?? TimeSpan.FromHours(1);
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer ?? "pantri-embedded",
            Audience = audience ?? "pantri",
            Subject = new ClaimsIdentity([new Claim("sub", user), new Claim("pantri_account", household)]),
            IssuedAt = now + lifetime - TimeSpan.FromHours(2),
            NotBefore = now + lifetime - TimeSpan.FromHours(2),
            Expires = now + lifetime,
            SigningCredentials = new SigningCredentials(key ?? Gateway.Services.GetRequiredService<UserTokens>().SigningKey, SecurityAlgorithms.HmacSha256),
        });
    }

    // The same token on a setup call and on the seed's trigger (with an instruction nobody has).
    private async Task<(HttpStatusCode Setup, HttpStatusCode Trigger)> StatusOfAsync(string token)
    {
        using var http = Gateway.Http(token);
        var setup = await http.GetAsync("/v1/instructions");
        using var trigger = new HttpRequestMessage(HttpMethod.Post, "/v1/trigger");
        trigger.Headers.Add("Instruction_Ref", "999999999");
        var triggered = await http.SendAsync(trigger);
        return (setup.StatusCode, triggered.StatusCode);
    }
}
