using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Platform.Oci;

// Request sending and the auth handshake: anonymous first; on 401 follow the registry's challenge
// (Basic: resend with the configured credentials; Bearer: get a token for the challenge's scope from its realm)
// and retry once. Tokens are cached per scope so later requests send them up front.
public sealed partial class OciClient
{
    private enum SentAuth
    {
        None,
        Basic,
        Bearer,
    }

    private async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> createRequest, string scope,
        CancellationToken cancellationToken, HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
    {
        var request = createRequest();
        var sent = ApplyAuth(request, scope);
        var response = await SendOnceAsync(request, completion, cancellationToken);
        if (response.StatusCode != HttpStatusCode.Unauthorized)
        {
            return response;
        }

        var described = Describe(request);
        var challenges = ReadChallenges(response);
        var (code, message) = await ReadRegistryErrorAsync(response, cancellationToken);
        response.Dispose();
        request.Dispose();

        await AnswerChallengeAsync(challenges, scope, sent, described, code, message, cancellationToken);

        var retry = createRequest();
        var retrySent = ApplyAuth(retry, scope);
        var retried = await SendOnceAsync(retry, completion, cancellationToken);
        if (retried.StatusCode != HttpStatusCode.Unauthorized)
        {
            return retried;
        }
        (code, message) = await ReadRegistryErrorAsync(retried, cancellationToken);
        retried.Dispose();
        if (retrySent == SentAuth.Bearer)
        {
            _auth.Forget(scope);
        }
        var reason = _basicCredentials is null
            ? $"the registry requires credentials for {described} but none are configured (set {OciRegistryOptions.SectionName}:Username and :Password)"
            : $"the registry rejected the configured credentials of user '{_options.Username}' for {described}";
        _logger.AuthenticationFailed(described, reason);
        throw new OciAuthenticationException($"Authentication to the registry at '{_baseUri}' failed: {reason}.{RegistrySaid(message)}",
            HttpStatusCode.Unauthorized, code);
    }

    // HEAD answers carry no body, so there is not always something to quote.
    private static string RegistrySaid(string message) => message == NoErrorBody ? "" : $" Registry said: \"{message}\".";

    private SentAuth ApplyAuth(HttpRequestMessage request, string scope)
    {
        if (_auth.TryGetToken(scope, _time.GetUtcNow(), out var token))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            return SentAuth.Bearer;
        }
        // Credentials go out only after the registry asked for Basic, so an anonymous registry never sees them.
        if (_basicCredentials is not null && _auth.BasicRequested)
        {
            request.Headers.Authorization = _basicCredentials;
            return SentAuth.Basic;
        }
        return SentAuth.None;
    }

    private static IReadOnlyList<AuthChallenge> ReadChallenges(HttpResponseMessage response)
    {
        // Raw values: the typed WwwAuthenticate collection re-splits and re-formats challenges.
        if (!response.Headers.NonValidated.TryGetValues("WWW-Authenticate", out var values))
        {
            return [];
        }
        var result = new List<AuthChallenge>();
        foreach (var value in values)
        {
            if (AuthChallenge.TryParse(value, out var parsed))
            {
                result.AddRange(parsed);
            }
        }
        return result;
    }

    private async Task AnswerChallengeAsync(IReadOnlyList<AuthChallenge> challenges, string scope, SentAuth sent, string described,
        string? code, string message, CancellationToken cancellationToken)
    {
        var bearer = challenges.FirstOrDefault(c => c.IsBearer);
        if (bearer is not null)
        {
            _logger.AuthChallenged(bearer.Scheme, bearer.Realm, bearer.Scope);
            await FetchTokenAsync(bearer, scope, cancellationToken);
            return;
        }

        var basic = challenges.FirstOrDefault(c => c.IsBasic);
        if (basic is not null)
        {
            _logger.AuthChallenged(basic.Scheme, basic.Realm, null);
            if (_basicCredentials is null)
            {
                throw Fail($"the registry requires credentials (Basic realm \"{basic.Realm}\") for {described} but none are configured " +
                    $"(set {OciRegistryOptions.SectionName}:Username and :Password)");
            }
            if (sent == SentAuth.Basic)
            {
                throw Fail($"the registry rejected the configured credentials of user '{_options.Username}' for {described}");
            }
            _auth.BasicRequested = true;
            return;
        }

        var offered = challenges.Count == 0 ? "no WWW-Authenticate challenge" : $"only the challenge(s) '{string.Join("', '", challenges.Select(c => c.Scheme))}'";
        throw Fail($"the registry answered 401 to {described} with {offered}; this client speaks Basic and Bearer");

        OciAuthenticationException Fail(string reason)
        {
            _logger.AuthenticationFailed(described, reason);
            return new OciAuthenticationException($"Authentication to the registry at '{_baseUri}' failed: {reason}.{RegistrySaid(message)}",
                HttpStatusCode.Unauthorized, code);
        }
    }

    /// <summary>The token flow of the distribution spec: GET realm?service=..&amp;scope=.. (with Basic credentials when configured).</summary>
    private async Task FetchTokenAsync(AuthChallenge challenge, string requestScope, CancellationToken cancellationToken)
    {
        var realm = challenge.Realm;
        if (string.IsNullOrEmpty(realm) || !Uri.TryCreate(realm, UriKind.Absolute, out var realmUri)
            || (realmUri.Scheme != Uri.UriSchemeHttp && realmUri.Scheme != Uri.UriSchemeHttps))
        {
            throw new OciAuthenticationException(
                $"The registry at '{_baseUri}' sent a Bearer challenge whose realm '{realm}' is not an absolute http(s) URL: '{challenge}'.",
                HttpStatusCode.Unauthorized);
        }

        // Ask for what the registry's challenge names plus what this operation needs: a push starts with a HEAD
        // (challenged for pull only), and asking for pull,push right away lets the upload reuse the same token.
        var scopes = (challenge.Scope ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Concat(requestScope.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Distinct(StringComparer.Ordinal)
            .ToList();
        var scope = string.Join(' ', scopes);
        var query = new List<string>();
        if (!string.IsNullOrEmpty(challenge.Service))
        {
            query.Add("service=" + Uri.EscapeDataString(challenge.Service));
        }
        foreach (var s in scopes)
        {
            query.Add("scope=" + Uri.EscapeDataString(s));
        }
        if (!string.IsNullOrEmpty(_options.Username))
        {
            query.Add("account=" + Uri.EscapeDataString(_options.Username));
        }
        var tokenUri = query.Count == 0
            ? realmUri
            : new Uri(realmUri.GetLeftPart(UriPartial.Query) + (realmUri.Query.Length > 1 ? "&" : realmUri.Query == "?" ? "" : "?") + string.Join('&', query));

        using var request = new HttpRequestMessage(HttpMethod.Get, tokenUri);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (_basicCredentials is not null)
        {
            request.Headers.Authorization = _basicCredentials;
        }
        using var response = await SendOnceAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        var realmText = realmUri.GetLeftPart(UriPartial.Path);
        if (!response.IsSuccessStatusCode)
        {
            var (code, message) = await ReadRegistryErrorAsync(response, cancellationToken);
            var why = response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden
                ? (_basicCredentials is null ? "it requires credentials but none are configured" : $"it rejected the credentials of user '{_options.Username}'")
                : "it failed";
            _logger.AuthenticationFailed($"GET {realmText}", why);
            var text = $"The token service '{realmText}' answered {(int)response.StatusCode} {response.ReasonPhrase} for scope '{scope}': {why}. It said: \"{message}\".";
            throw response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden
                ? new OciAuthenticationException(text, response.StatusCode, code)
                : new OciRegistryException(text, response.StatusCode, code);
        }

        byte[] body = await ReadLimitedAsync(response, MaxTokenResponseBytes, hasher: null, $"Token response of '{realmText}'", cancellationToken);
        TokenResponse? parsed;
        try
        {
            parsed = JsonSerializer.Deserialize(body, OciJsonContext.Default.TokenResponse);
        }
        catch (JsonException ex)
        {
            // The body may contain a token: do not quote it.
            throw new OciAuthenticationException($"The token service '{realmText}' answered with invalid JSON ({ex.Message}).", response.StatusCode);
        }
        var token = !string.IsNullOrEmpty(parsed?.Token) ? parsed.Token : parsed?.AccessToken;
        if (string.IsNullOrEmpty(token))
        {
            throw new OciAuthenticationException($"The token service '{realmText}' answered without a 'token' or 'access_token' for scope '{scope}'.", response.StatusCode);
        }

        // The spec's default lifetime is 60 s; renew a little early so a token never expires in flight.
        var lifetime = parsed!.ExpiresIn is > 0 ? parsed.ExpiresIn.Value : 60;
        var expiresAt = _time.GetUtcNow() + TimeSpan.FromSeconds(lifetime * 0.9);
        // Cached under the scope this kind of request asks for, so the next one sends it up front.
        _auth.StoreToken(requestScope, token, expiresAt);
        _logger.TokenObtained(realmText, scope, lifetime);
    }

    /// <summary>One HTTP exchange; unreachable, timed out and 502/503/504 become <see cref="OciRegistryUnavailableException"/>.</summary>
    private async Task<HttpResponseMessage> SendOnceAsync(HttpRequestMessage request, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, completion, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            _logger.RegistryUnavailable(request.Method.Method, request.RequestUri?.AbsolutePath ?? "", ex.Message);
            throw new OciRegistryUnavailableException($"The registry at '{_baseUri}' is unreachable ({Describe(request)}): {ex.Message}", null, ex);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            // HttpClient.Timeout surfaces as a cancellation the caller did not ask for.
            _logger.RegistryUnavailable(request.Method.Method, request.RequestUri?.AbsolutePath ?? "", "timeout");
            throw new OciRegistryUnavailableException($"The registry at '{_baseUri}' did not answer {Describe(request)} within {_http.Timeout}.", null, ex);
        }

        if (response.StatusCode is HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout)
        {
            var (_, message) = await ReadRegistryErrorAsync(response, cancellationToken);
            var status = response.StatusCode;
            response.Dispose();
            _logger.RegistryUnavailable(request.Method.Method, request.RequestUri?.AbsolutePath ?? "", $"{(int)status} {message}");
            throw new OciRegistryUnavailableException(
                $"The registry at '{_baseUri}' is unavailable: {Describe(request)} answered {(int)status} with \"{message}\".", status);
        }
        return response;
    }
}
