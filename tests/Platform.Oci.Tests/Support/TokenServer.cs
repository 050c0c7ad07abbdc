using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Platform.Oci.Tests.Support;

/// <summary>
/// A token service per the distribution token-auth spec, for a real docker-registry configured with <c>auth.token</c>:
/// it checks Basic credentials and issues RS256 JWTs whose <c>x5c</c> header carries a self-signed certificate
/// that the registry trusts through its <c>rootcertbundle</c>. The registry, not this class, validates the tokens.
/// </summary>
public sealed class TokenServer : IAsyncDisposable
{
    public const string Service = "platform-test-registry";
    public const string Issuer = "platform-test-token-issuer";

    private readonly RSA _key;
    private readonly X509Certificate2 _certificate;
    private readonly WebApplication _app;
    private readonly string _username;
    private readonly string _password;

    private TokenServer(RSA key, X509Certificate2 certificate, WebApplication app, string username, string password, string rootCertBundlePath)
    {
        _key = key;
        _certificate = certificate;
        _app = app;
        _username = username;
        _password = password;
        RootCertBundlePath = rootCertBundlePath;
    }

    public string Realm { get; private set; } = "";

    public string RootCertBundlePath { get; }

    /// <summary>Answer with <c>access_token</c> only (as OAuth2-style services do) instead of <c>token</c>.</summary>
    public bool AccessTokenOnly { get; set; }

    public int ExpiresInSeconds { get; set; } = 300;

    public ConcurrentQueue<TokenRequest> Requests { get; } = new();

    public ConcurrentQueue<string> IssuedTokens { get; } = new();

    public static async Task<TokenServer> StartAsync(string directory, string username, string password)
    {
        var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={Issuer}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyCertSign, critical: true));
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(1));
        var bundle = Path.Combine(directory, "token-root.pem");
        await File.WriteAllTextAsync(bundle, certificate.ExportCertificatePem());

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var server = new TokenServer(key, certificate, app, username, password, bundle);
        app.MapGet("/token", server.Issue);
        await app.StartAsync();
        server.Realm = app.Urls.Single().TrimEnd('/') + "/token";
        return server;
    }

    private IResult Issue(HttpContext context)
    {
        var service = context.Request.Query["service"].ToString();
        var scopes = context.Request.Query["scope"].Where(s => !string.IsNullOrEmpty(s)).Select(s => s!).ToList();
        string? user = null;
        string? pass = null;
        var authorization = context.Request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(authorization["Basic ".Length..].Trim()));
            var colon = decoded.IndexOf(':');
            (user, pass) = colon < 0 ? (decoded, "") : (decoded[..colon], decoded[(colon + 1)..]);
        }
        Requests.Enqueue(new TokenRequest(service, scopes, user, context.Request.Query["account"].ToString()));

        if (user != _username || pass != _password)
        {
            context.Response.Headers.WWWAuthenticate = "Basic realm=\"token\"";
            return Results.Json(new JsonObject { ["errors"] = new JsonArray(new JsonObject { ["code"] = "UNAUTHORIZED", ["message"] = "invalid username or password" }) },
                statusCode: StatusCodes.Status401Unauthorized);
        }
        if (service != Service)
        {
            return Results.Json(new JsonObject { ["errors"] = new JsonArray(new JsonObject { ["code"] = "DENIED", ["message"] = $"unknown service '{service}'" }) },
                statusCode: StatusCodes.Status400BadRequest);
        }

        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var access = new JsonArray();
        foreach (var scope in scopes)
        {
            // type:name:actions, where the name itself may not contain ':' for repositories.
            var first = scope.IndexOf(':');
            var last = scope.LastIndexOf(':');
            var actions = new JsonArray();
            foreach (var a in scope[(last + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                actions.Add(a);
            }
            access.Add(new JsonObject { ["type"] = scope[..first], ["name"] = scope[(first + 1)..last], ["actions"] = actions });
        }
        var header = new JsonObject
        {
            ["typ"] = "JWT",
            ["alg"] = "RS256",
            ["x5c"] = new JsonArray(Convert.ToBase64String(_certificate.RawData)),
        };
        var claims = new JsonObject
        {
            ["iss"] = Issuer,
            ["sub"] = user,
            ["aud"] = Service,
            ["exp"] = now + ExpiresInSeconds,
            ["nbf"] = now - 5,
            ["iat"] = now,
            ["jti"] = Guid.NewGuid().ToString("N"),
            ["access"] = access,
        };
        var signingInput = Base64Url(Encoding.UTF8.GetBytes(header.ToJsonString())) + "." + Base64Url(Encoding.UTF8.GetBytes(claims.ToJsonString()));
        var signature = _key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var token = signingInput + "." + Base64Url(signature);
        IssuedTokens.Enqueue(token);

        var body = new JsonObject { ["expires_in"] = ExpiresInSeconds, ["issued_at"] = DateTimeOffset.UtcNow.ToString("O") };
        body[AccessTokenOnly ? "access_token" : "token"] = token;
        return Results.Json(body);
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _certificate.Dispose();
        _key.Dispose();
    }

    public sealed record TokenRequest(string Service, IReadOnlyList<string> Scopes, string? User, string Account);
}
