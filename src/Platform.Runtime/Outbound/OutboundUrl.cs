using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Platform.Runtime.Outbound;

/// <summary>
/// A guest's request URL, parsed once and strictly, in the form that is then both matched against the allow-list
/// and connected to: the scheme lower-cased, the host canonical (lower-case, no trailing dot, IDN as punycode, IPv4
/// in any WHATWG notation — decimal <c>2130706433</c>, octal <c>0177.0.0.1</c>, hex <c>0x7f.1</c> — as its
/// dotted quad, IPv6 in brackets), the port explicit. User info is parsed off and never sent; a percent-encoded,
/// empty or otherwise ambiguous host is refused rather than guessed at.
/// </summary>
public sealed class OutboundUrl
{
    private OutboundUrl(string scheme, string host, int port, IPAddress? address, string pathAndQuery, bool hadUserInfo)
    {
        Scheme = scheme;
        Host = host;
        Port = port;
        Address = address;
        PathAndQuery = pathAndQuery;
        HadUserInfo = hadUserInfo;
    }

    /// <summary>Lower-case scheme (only http and https can be sent).</summary>
    public string Scheme { get; }

    /// <summary>Canonical host: a lower-case name, a dotted-quad IPv4 address or a bracketed IPv6 address.</summary>
    public string Host { get; }

    /// <summary>The port that will be connected to (the scheme's default when the URL gives none).</summary>
    public int Port { get; }

    /// <summary>The host as an address when it is an IP literal (IPv4-mapped IPv6 given as IPv4), else null.</summary>
    public IPAddress? Address { get; }

    /// <summary>Path and query as sent, starting with '/'.</summary>
    public string PathAndQuery { get; }

    public bool HadUserInfo { get; }

    /// <summary>scheme://host:port, what logs and metrics name (never the path, query or user info).</summary>
    public string Origin => $"{Scheme}://{Host}:{Port.ToString(CultureInfo.InvariantCulture)}";

    public override string ToString() => Origin;

    /// <summary>The URI handed to the HTTP client, built from the parsed parts only.</summary>
    public Uri ToUri() => new($"{Scheme}://{Host}:{Port.ToString(CultureInfo.InvariantCulture)}{PathAndQuery}", UriKind.Absolute);

    public static int? WellKnownPort(string scheme) => scheme switch
    {
        "http" => 80,
        "https" => 443,
        "postgres" => 5432,
        "mysql" => 3306,
        "redis" => 6379,
        "mqtt" => 1883,
        _ => null,
    };

    /// <summary>Parses <paramref name="url"/>; false with a reason (fit for the app's log) when it is not a usable absolute URL.</summary>
    public static bool TryParse(string url, out OutboundUrl? parsed, out string? error)
    {
        parsed = null;
        error = null;
        if (string.IsNullOrEmpty(url))
        {
            error = "the URL is empty";
            return false;
        }
        if (url.Length > 8192)
        {
            error = "the URL is longer than 8192 characters";
            return false;
        }
        foreach (var c in url)
        {
            if (c <= ' ' || c == 0x7F || c == '\\')
            {
                error = "the URL contains whitespace, a control character or a backslash";
                return false;
            }
        }

        var colon = url.IndexOf(':');
        if (colon <= 0 || !char.IsAsciiLetter(url[0]) || !url[..colon].All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '.'))
        {
            error = "the URL has no scheme";
            return false;
        }
        var scheme = url[..colon].ToLowerInvariant();
        if (!url.AsSpan(colon + 1).StartsWith("//"))
        {
            error = "the URL is not absolute (scheme://host/...)";
            return false;
        }
        var rest = url[(colon + 3)..];
        var authorityEnd = rest.IndexOfAny(['/', '?', '#']);
        var authority = authorityEnd < 0 ? rest : rest[..authorityEnd];
        var tail = authorityEnd < 0 ? "" : rest[authorityEnd..];

        var at = authority.LastIndexOf('@');
        var hadUserInfo = at >= 0;
        var hostPort = at >= 0 ? authority[(at + 1)..] : authority;

        string rawHost;
        string rawPort;
        if (hostPort.StartsWith('['))
        {
            var close = hostPort.IndexOf(']');
            if (close < 0)
            {
                error = "the IPv6 address has no closing ']'";
                return false;
            }
            rawHost = hostPort[..(close + 1)];
            var after = hostPort[(close + 1)..];
            if (after.Length > 0 && after[0] != ':')
            {
                error = "unexpected characters after the IPv6 address";
                return false;
            }
            rawPort = after.Length > 0 ? after[1..] : "";
        }
        else
        {
            var portColon = hostPort.LastIndexOf(':');
            rawHost = portColon < 0 ? hostPort : hostPort[..portColon];
            rawPort = portColon < 0 ? "" : hostPort[(portColon + 1)..];
        }

        if (rawHost.Length == 0)
        {
            error = "the URL has no host";
            return false;
        }

        string host;
        IPAddress? address;
        if (rawHost.StartsWith('['))
        {
            var inner = rawHost[1..^1];
            if (inner.Contains('%') || !inner.Contains(':') || !IPAddress.TryParse(inner, out var v6) || v6.AddressFamily != AddressFamily.InterNetworkV6)
            {
                error = $"'{rawHost}' is not an IPv6 address (zone ids are not allowed)";
                return false;
            }
            host = "[" + v6.ToString() + "]";
            address = AddressGuard.Normalize(v6);
        }
        else
        {
            var canonical = CanonicalHost(rawHost, out address, out error);
            if (canonical is null)
            {
                return false;
            }
            host = canonical;
        }

        int port;
        if (rawPort.Length == 0)
        {
            if (WellKnownPort(scheme) is not int known)
            {
                error = $"the URL gives no port and the scheme '{scheme}' has no default one";
                return false;
            }
            port = known;
        }
        else if (rawPort.Length > 5 || !int.TryParse(rawPort, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)
        {
            error = $"the port '{rawPort}' is not a number from 1 to 65535";
            return false;
        }

        // The fragment never goes on the wire; the path keeps its percent-encoding, non-ASCII is encoded as UTF-8.
        var hash = tail.IndexOf('#');
        if (hash >= 0)
        {
            tail = tail[..hash];
        }
        if (tail.Length == 0 || tail[0] == '?')
        {
            tail = "/" + tail;
        }
        parsed = new OutboundUrl(scheme, host, port, address, EncodeNonAscii(tail), hadUserInfo);
        return true;
    }

    /// <summary>
    /// Canonical form of a host that is not in brackets: an IPv4 address in WHATWG notation becomes a dotted quad
    /// (and <paramref name="address"/>), a name becomes lower-case ASCII without a trailing dot. Null when invalid.
    /// </summary>
    internal static string? CanonicalHost(string raw, out IPAddress? address, out string? error)
    {
        address = null;
        error = null;
        if (raw.Contains('%'))
        {
            error = $"the host '{raw}' is percent-encoded, which is refused";
            return null;
        }
        if (raw.Contains(':') || raw.Contains('[') || raw.Contains(']'))
        {
            error = $"the host '{raw}' is malformed (IPv6 addresses go in brackets)";
            return null;
        }
        var host = raw;
        if (host.Any(c => c > 0x7F))
        {
            try
            {
                host = new IdnMapping { UseStd3AsciiRules = true }.GetAscii(host);
            }
            catch (ArgumentException)
            {
                error = $"the host '{raw}' is not a valid international domain name";
                return null;
            }
        }
        host = host.ToLowerInvariant();
        if (host.EndsWith('.'))
        {
            host = host[..^1];
        }
        if (host.Length == 0)
        {
            error = $"the host '{raw}' is empty";
            return null;
        }
        var labels = host.Split('.');
        if (EndsInNumber(labels))
        {
            if (!TryParseIPv4(labels, out var v4))
            {
                error = $"the host '{raw}' looks like an IPv4 address but is not a valid one";
                return null;
            }
            address = v4;
            return v4.ToString();
        }
        if (!IsValidDomainName(host))
        {
            error = $"the host '{raw}' is not a valid domain name";
            return null;
        }
        return host;
    }

    /// <summary>Lower-case ASCII labels of letters, digits, '-' and '_', 1-63 characters each, 253 in all.</summary>
    internal static bool IsValidDomainName(string host)
    {
        if (host.Length is 0 or > 253)
        {
            return false;
        }
        foreach (var label in host.Split('.'))
        {
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-')
            {
                return false;
            }
            foreach (var c in label)
            {
                if (!(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '_'))
                {
                    return false;
                }
            }
        }
        return true;
    }

    // WHATWG: a host whose last label is a number (decimal, or 0x-hex) is an IPv4 address or invalid.
    private static bool EndsInNumber(string[] labels)
    {
        var last = labels[^1];
        if (last.Length > 0 && last.All(char.IsAsciiDigit))
        {
            return true;
        }
        return last.Length >= 2 && last[0] == '0' && (last[1] is 'x' or 'X') && last[2..].All(char.IsAsciiHexDigit);
    }

    private static bool TryParseIPv4(string[] labels, out IPAddress address)
    {
        address = IPAddress.None;
        if (labels.Length > 4)
        {
            return false;
        }
        var numbers = new ulong[labels.Length];
        for (var i = 0; i < labels.Length; i++)
        {
            if (!TryParseIPv4Number(labels[i], out numbers[i]))
            {
                return false;
            }
        }
        for (var i = 0; i < numbers.Length - 1; i++)
        {
            if (numbers[i] > 255)
            {
                return false;
            }
        }
        var lastLimit = 1UL << (8 * (5 - numbers.Length));
        if (numbers[^1] >= lastLimit)
        {
            return false;
        }
        ulong value = numbers[^1];
        for (var i = 0; i < numbers.Length - 1; i++)
        {
            value += numbers[i] << (8 * (3 - i));
        }
        address = new IPAddress([(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value]);
        return true;
    }

    private static bool TryParseIPv4Number(string text, out ulong value)
    {
        value = 0;
        if (text.Length == 0 || text.Length > 32)
        {
            return false;
        }
        var radix = 10;
        if (text.Length >= 2 && text[0] == '0' && text[1] is 'x' or 'X')
        {
            radix = 16;
            text = text[2..];
        }
        else if (text.Length >= 2 && text[0] == '0')
        {
            radix = 8;
            text = text[1..];
        }
        foreach (var c in text)
        {
            var digit = char.IsAsciiDigit(c) ? c - '0' : char.IsAsciiHexDigit(c) ? (char.ToLowerInvariant(c) - 'a' + 10) : 99;
            if (digit >= radix)
            {
                return false;
            }
            value = value * (ulong)radix + (ulong)digit;
            if (value > uint.MaxValue)
            {
                return false;
            }
        }
        return true;
    }

    private static string EncodeNonAscii(string text)
    {
        if (text.All(c => c < 0x80))
        {
            return text;
        }
        var builder = new StringBuilder(text.Length * 2);
        Span<byte> bytes = stackalloc byte[4];
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c < 0x80)
            {
                builder.Append(c);
                continue;
            }
            var length = char.IsHighSurrogate(c) && i + 1 < text.Length
                ? Encoding.UTF8.GetBytes(text.AsSpan(i++, 2), bytes)
                : Encoding.UTF8.GetBytes(text.AsSpan(i, 1), bytes);
            foreach (var b in bytes[..length])
            {
                builder.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }
        return builder.ToString();
    }
}
