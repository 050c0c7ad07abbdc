using System.Text;

namespace Platform.Oci;

/// <summary>
/// One challenge of a <c>WWW-Authenticate</c> header (RFC 9110 section 11.6.1): a scheme plus either auth-params or a token68.
/// A header value may hold several challenges separated by commas, and quoted values may contain commas, '=' and escaped quotes,
/// so a plain split on ',' is wrong; <see cref="Parse(string)"/> tokenizes properly.
/// </summary>
public sealed class AuthChallenge
{
    private AuthChallenge(string scheme, IReadOnlyDictionary<string, string> parameters, string? token68)
    {
        Scheme = scheme;
        Parameters = parameters;
        Token68 = token68;
    }

    /// <summary>The scheme as sent (compare case-insensitively; see <see cref="IsScheme"/>).</summary>
    public string Scheme { get; }

    /// <summary>Auth-params by case-insensitive name, values unquoted and unescaped.</summary>
    public IReadOnlyDictionary<string, string> Parameters { get; }

    /// <summary>The token68 form (<c>Negotiate abc==</c>), when the challenge uses it instead of parameters.</summary>
    public string? Token68 { get; }

    public string? Realm => Get("realm");
    public string? Service => Get("service");
    public string? Scope => Get("scope");
    public string? Error => Get("error");

    public bool IsBearer => IsScheme("Bearer");
    public bool IsBasic => IsScheme("Basic");

    public bool IsScheme(string scheme) => string.Equals(Scheme, scheme, StringComparison.OrdinalIgnoreCase);

    public string? Get(string name) => Parameters.TryGetValue(name, out var v) ? v : null;

    public override string ToString()
    {
        var sb = new StringBuilder(Scheme);
        if (Token68 is not null)
        {
            sb.Append(' ').Append(Token68);
        }
        var first = true;
        foreach (var (k, v) in Parameters)
        {
            sb.Append(first ? " " : ",").Append(k).Append("=\"").Append(v.Replace("\\", "\\\\").Replace("\"", "\\\"")).Append('"');
            first = false;
        }
        return sb.ToString();
    }

    /// <summary>Parses every challenge of several header values (one response may carry several WWW-Authenticate headers).</summary>
    public static IReadOnlyList<AuthChallenge> Parse(IEnumerable<string> headerValues)
    {
        ArgumentNullException.ThrowIfNull(headerValues);
        var all = new List<AuthChallenge>();
        foreach (var value in headerValues)
        {
            all.AddRange(Parse(value));
        }
        return all;
    }

    /// <summary>
    /// Parses one WWW-Authenticate header value into its challenges.
    /// </summary>
    /// <exception cref="FormatException">The value is not a challenge list; the message quotes it.</exception>
    public static IReadOnlyList<AuthChallenge> Parse(string headerValue)
    {
        ArgumentNullException.ThrowIfNull(headerValue);
        var parser = new Parser(headerValue);
        return parser.ParseAll();
    }

    /// <summary>Like <see cref="Parse(string)"/> but returns false instead of throwing on malformed input.</summary>
    public static bool TryParse(string? headerValue, out IReadOnlyList<AuthChallenge> challenges)
    {
        challenges = [];
        if (headerValue is null)
        {
            return false;
        }
        try
        {
            challenges = Parse(headerValue);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private ref struct Parser(string input)
    {
        private readonly string _s = input;
        private int _pos;

        public List<AuthChallenge> ParseAll()
        {
            var result = new List<AuthChallenge>();
            while (true)
            {
                SkipWhitespaceAndCommas();
                if (_pos >= _s.Length)
                {
                    return result;
                }
                var scheme = ReadToken();
                if (scheme.Length == 0)
                {
                    throw Error("expected an auth scheme");
                }
                result.Add(ParseChallengeBody(scheme));
            }
        }

        private AuthChallenge ParseChallengeBody(string scheme)
        {
            var parameters = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            string? token68 = null;

            // A scheme needs at least one space before its credentials; "Basic,Bearer x" means Basic has none.
            if (_pos < _s.Length && _s[_pos] != ' ' && _s[_pos] != '\t' && _s[_pos] != ',')
            {
                throw Error($"unexpected '{_s[_pos]}' after scheme '{scheme}'");
            }
            SkipWhitespace();

            var firstItem = true;
            while (_pos < _s.Length)
            {
                var itemStart = _pos;
                if (_s[_pos] == ',')
                {
                    // Empty list elements are allowed ("a=1,,b=2"); after a comma a token68 can no longer follow.
                    _pos++;
                    SkipWhitespace();
                    firstItem = false;
                    continue;
                }

                var name = ReadToken();
                SkipWhitespace();
                if (name.Length > 0 && _pos < _s.Length && _s[_pos] == '=' && !LooksLikeToken68End(firstItem))
                {
                    _pos++;
                    SkipWhitespace();
                    var value = _pos < _s.Length && _s[_pos] == '"' ? ReadQuotedString() : ReadBareValue();
                    parameters[name] = value;
                }
                else if (firstItem && name.Length > 0 && IsToken68Start(itemStart))
                {
                    _pos = itemStart;
                    token68 = ReadToken68();
                }
                else if (name.Length > 0)
                {
                    // A bare token after a comma starts the next challenge ("Basic realm=x, Bearer realm=y").
                    _pos = itemStart;
                    break;
                }
                else
                {
                    throw Error($"unexpected '{_s[_pos]}'");
                }

                firstItem = false;
                SkipWhitespace();
                if (_pos < _s.Length)
                {
                    if (_s[_pos] != ',')
                    {
                        throw Error($"expected ',' but found '{_s[_pos]}'");
                    }
                    _pos++;
                    SkipWhitespaceAndCommas();
                }
            }
            return new AuthChallenge(scheme, parameters, token68);
        }

        // "abc==" followed by the end or a comma is a token68, not the parameter "abc" with an empty value.
        private readonly bool LooksLikeToken68End(bool firstItem)
        {
            if (!firstItem)
            {
                return false;
            }
            var p = _pos;
            while (p < _s.Length && _s[p] == '=')
            {
                p++;
            }
            while (p < _s.Length && (_s[p] == ' ' || _s[p] == '\t'))
            {
                p++;
            }
            return p >= _s.Length || _s[p] == ',';
        }

        private readonly bool IsToken68Start(int p) => p < _s.Length && IsToken68Char(_s[p]);

        private string ReadToken68()
        {
            var start = _pos;
            while (_pos < _s.Length && IsToken68Char(_s[_pos]))
            {
                _pos++;
            }
            while (_pos < _s.Length && _s[_pos] == '=')
            {
                _pos++;
            }
            return _s[start.._pos];
        }

        private string ReadToken()
        {
            var start = _pos;
            while (_pos < _s.Length && IsTokenChar(_s[_pos]))
            {
                _pos++;
            }
            return _s[start.._pos];
        }

        // RFC values are tokens, but some servers send bare URLs (realm=https://...): take everything up to a separator.
        private string ReadBareValue()
        {
            var start = _pos;
            while (_pos < _s.Length && _s[_pos] is not (' ' or '\t' or ',' or '"'))
            {
                _pos++;
            }
            return _s[start.._pos];
        }

        private string ReadQuotedString()
        {
            var sb = new StringBuilder();
            _pos++; // opening quote
            while (_pos < _s.Length)
            {
                var c = _s[_pos++];
                if (c == '"')
                {
                    return sb.ToString();
                }
                if (c == '\\' && _pos < _s.Length)
                {
                    c = _s[_pos++];
                }
                sb.Append(c);
            }
            throw Error("unterminated quoted string");
        }

        private void SkipWhitespace()
        {
            while (_pos < _s.Length && (_s[_pos] == ' ' || _s[_pos] == '\t'))
            {
                _pos++;
            }
        }

        private void SkipWhitespaceAndCommas()
        {
            while (_pos < _s.Length && (_s[_pos] == ' ' || _s[_pos] == '\t' || _s[_pos] == ','))
            {
                _pos++;
            }
        }

        private readonly FormatException Error(string what) =>
            new($"WWW-Authenticate value '{_s}' is not a valid challenge list: {what} at position {_pos}.");

        // RFC 9110 tchar.
        private static bool IsTokenChar(char c) =>
            char.IsAsciiLetterOrDigit(c) || c is '!' or '#' or '$' or '%' or '&' or '\'' or '*' or '+' or '-' or '.' or '^' or '_' or '`' or '|' or '~';

        private static bool IsToken68Char(char c) =>
            char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~' or '+' or '/';
    }
}
