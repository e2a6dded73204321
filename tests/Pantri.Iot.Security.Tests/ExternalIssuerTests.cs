using System.Net;
using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Pantri.Iot.Gateway.Setup;
using Pantri.Iot.Testing;

namespace Pantri.Iot.Security.Tests;

/// <summary>With an external OIDC issuer configured, <c>User_Auth</c> is validated against that issuer's discovery
/// document and keys (a real HTTP server on loopback plays the identity provider), the household comes from the
/// configured claim and must exist, and the role from the role claim.</summary>
[Category("Integration")]
public sealed class ExternalIssuerTests
{
    private readonly RSA _issuerKey = RSA.Create(2048);
    private WebApplication _issuer = null!;
    private TestGateway _gateway = null!;
    private string _authority = null!;

    [OneTimeSetUp]
    public async Task StartIssuerAndGateway()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _issuer = builder.Build();
        var key = new RsaSecurityKey(_issuerKey.ExportParameters(false)) { KeyId = "test-key" };
        var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(key);
        _issuer.MapGet("/.well-known/openid-configuration", () => Results.Json(new Dictionary<string, object>
        {
            ["issuer"] = _authority,
            ["jwks_uri"] = _authority + "/keys",
        }));
        _issuer.MapGet("/keys", () => Results.Json(new { keys = new[] { new { kty = jwk.Kty, kid = jwk.Kid, use = "sig", alg = "RS256", n = jwk.N, e = jwk.E } } }));
        await _issuer.StartAsync();
        _authority = _issuer.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

        _gateway = await TestGateway.StartAsync([
            $"--Pantri:Auth:Authority={_authority}", "--Pantri:Auth:RequireHttpsMetadata=false", "--Pantri:Auth:Audience=pantri-api",
            "--Pantri:Auth:AccountClaim=household_id", "--Pantri:Auth:RoleClaim=household_role", "--Pantri:Demo:Enabled=false"]);
        var created = await _gateway.Services.GetRequiredService<SetupService>().RunAsync(new CreateHousehold("external-house", "External", null), CancellationToken.None);
        Assert.That(created.Error, Is.Null);
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        await _gateway.DisposeAsync();
        await _issuer.DisposeAsync();
        _issuerKey.Dispose();
    }

    [Test]
    public async Task A_token_of_the_issuer_acts_for_the_household_in_the_configured_claim()
    {
        using var member = _gateway.Http(Token("external-house"));
        using var owner = _gateway.Http(Token("external-house", role: "owner"));

        Assert.That((await member.GetAsync("/v1/household")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await member.PostAsync("/v1/devices", HouseholdApi.Json("""{"Name":"x"}"""))).StatusCode, Is.EqualTo(HttpStatusCode.Forbidden), "no role claim: a member");
        Assert.That((await owner.PostAsync("/v1/devices", HouseholdApi.Json("""{"Name":"x"}"""))).StatusCode, Is.EqualTo(HttpStatusCode.Created), "role claim owner");
    }

    [Test]
    public async Task Tokens_for_an_unknown_household_another_key_another_issuer_or_audience_are_refused()
    {
        using var otherKey = RSA.Create(2048);

        foreach (var token in new[]
        {
            Token("no-such-house"),
            Token("external-house", key: otherKey),
            Token("external-house", issuer: "https://evil.example"),
            Token("external-house", audience: "pantri"),
            Token("external-house", expires: TimeSpan.FromMinutes(-10)),
        })
        {
            using var http = _gateway.Http(token);
            Assert.That((await http.GetAsync("/v1/household")).StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        }
    }

    private string Token(string household, string? role = null, RSA? key = null, string? issuer = null, string? audience = null, TimeSpan? expires = null)
    {
        var now = DateTime.UtcNow;
        var lifetime = expires ?? TimeSpan.FromHours(1);
        List<Claim> claims = [new("sub", "someone@example.com"), new("household_id", household)];
        if (role is not null)
        {
            claims.Add(new Claim("household_role", role));
        }

        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer ?? _authority,
            Audience = audience ?? "pantri-api",
            Subject = new ClaimsIdentity(claims),
            IssuedAt = now + lifetime - TimeSpan.FromHours(2),
            NotBefore = now + lifetime - TimeSpan.FromHours(2),
            Expires = now + lifetime,
            SigningCredentials = new SigningCredentials(new RsaSecurityKey(key ?? _issuerKey) { KeyId = "test-key" }, SecurityAlgorithms.RsaSha256),
        });
    }
}
