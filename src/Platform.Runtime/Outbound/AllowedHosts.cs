using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Platform.Runtime.Outbound;

/// <summary>
/// An app's or component's outbound allow-list in Spin's <c>allowed_outbound_hosts</c> syntax, parsed once:
/// <c>scheme://host[:port]</c>, where the scheme may be <c>*</c>; the host an exact name, <c>*</c>, <c>*.domain</c>
/// (any subdomain, not the domain itself), an IP literal (<c>[::1]</c> for IPv6) or a CIDR range
/// (<c>10.0.0.0/8</c>); the port a number, <c>*</c>, or a range <c>a..b</c> (end exclusive, as in Spin). Without a
/// port the scheme's well-known port applies (http 80, https 443). An empty list allows nothing.
/// </summary>
public sealed class AllowedHosts
{
    private readonly AllowedHostEntry[] _entries;

    private AllowedHosts(AllowedHostEntry[] entries) => _entries = entries;

    /// <summary>The list that allows nothing (the default).</summary>
    public static AllowedHosts None { get; } = new([]);

    public IReadOnlyList<AllowedHostEntry> Entries => _entries;

    public bool IsEmpty => _entries.Length == 0;

    /// <summary>Parses every entry; on the first malformed one returns false with a message that quotes it.</summary>
    public static bool TryParse(IEnumerable<string>? entries, out AllowedHosts hosts, out string? error)
    {
        hosts = None;
        error = null;
        if (entries is null)
        {
            return true;
        }
        var parsed = new List<AllowedHostEntry>();
        foreach (var entry in entries)
        {
            if (!AllowedHostEntry.TryParse(entry, out var e, out error))
            {
                return false;
            }
            parsed.Add(e!);
        }
        hosts = parsed.Count == 0 ? None : new AllowedHosts([.. parsed]);
        return true;
    }

    /// <summary>Parses or throws <see cref="FormatException"/> quoting the malformed entry.</summary>
    public static AllowedHosts Parse(IEnumerable<string>? entries) =>
        TryParse(entries, out var hosts, out var error) ? hosts : throw new FormatException(error);

    /// <summary>Whether a URL with this (already canonical) scheme, host and port may be requested.</summary>
    public bool Allows(OutboundUrl url)
    {
        foreach (var e in _entries)
        {
            if (e.Allows(url))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// Whether the list names <paramref name="address"/> explicitly (an IP literal or a CIDR range containing it, or a
    /// <c>localhost</c> entry for a loopback address) for this scheme and port. Loopback, private, link-local and
    /// metadata addresses are only connected to when this holds; for the platform's own endpoints the port must
    /// also be named exactly (<paramref name="exactPort"/>), not through <c>*</c> or a range.
    /// </summary>
    public bool NamesAddress(IPAddress address, string scheme, int port, bool exactPort)
    {
        address = AddressGuard.Normalize(address);
        foreach (var e in _entries)
        {
            if (!e.AllowsScheme(scheme) || !e.AllowsPort(port, scheme))
            {
                continue;
            }
            if (exactPort && !e.NamesExactPort(port, scheme))
            {
                continue;
            }
            if (e.NamesAddress(address))
            {
                return true;
            }
        }
        return false;
    }

    public override string ToString() => string.Join(", ", _entries.Select(e => e.Original));
}

/// <summary>One parsed allow-list entry.</summary>
public sealed class AllowedHostEntry
{
    private enum HostKind { Any, Name, Subdomain, Address, Range, Self }

    private readonly string? _scheme; // null: any
    private readonly HostKind _hostKind;
    private readonly string _host = "";
    private readonly IPAddress? _network;
    private readonly int _prefix;
    private readonly int _portStart; // inclusive
    private readonly int _portEnd; // exclusive; -1 means the scheme's well-known port
    private readonly bool _anyPort;

    private AllowedHostEntry(string original, string? scheme, HostKind hostKind, string host, IPAddress? network, int prefix,
        bool anyPort, int portStart, int portEnd)
    {
        Original = original;
        _scheme = scheme;
        _hostKind = hostKind;
        _host = host;
        _network = network;
        _prefix = prefix;
        _anyPort = anyPort;
        _portStart = portStart;
        _portEnd = portEnd;
    }

    /// <summary>The entry as written.</summary>
    public string Original { get; }

    public static bool TryParse(string? entry, out AllowedHostEntry? parsed, out string? error)
    {
        parsed = null;
        var original = entry ?? "";
        error = Validate(original, out parsed);
        return error is null;
    }

    private static string? Validate(string original, out AllowedHostEntry? parsed)
    {
        parsed = null;
        string Bad(string why) => $"Allowed outbound host '{original}' is malformed: {why}.";
        var text = original.Trim();
        if (text.Length == 0)
        {
            return Bad("it is empty");
        }
        if (text.Length > 1024)
        {
            return Bad("it is longer than 1024 characters");
        }
        if (text == "insecure:allow-all")
        {
            return Bad("'insecure:allow-all' is not supported; write '*://*:*' to allow every public host");
        }
        foreach (var c in text)
        {
            if (c <= ' ' || c >= 0x7F)
            {
                return Bad("it contains whitespace, a control or a non-ASCII character");
            }
        }
        if (text.Contains("{{", StringComparison.Ordinal))
        {
            return Bad("variable templates are not supported here");
        }
        var schemeEnd = text.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd < 0)
        {
            return Bad("it has no scheme (write e.g. 'https://' or '*://')");
        }
        var scheme = text[..schemeEnd];
        var rest = text[(schemeEnd + 3)..];
        if (scheme != "*" && (scheme.Length == 0 || !scheme.All(char.IsAsciiLetter)))
        {
            return Bad($"the scheme '{scheme}' must be letters or '*'");
        }
        string? schemeValue = scheme == "*" ? null : scheme.ToLowerInvariant();

        // A trailing '/' is tolerated as in Spin; any path, query or fragment is not.
        if (rest.EndsWith('/'))
        {
            rest = rest[..^1];
        }
        if (rest.IndexOfAny(['?', '#', '@', '\\']) >= 0)
        {
            return Bad("it must be scheme://host[:port], with no path, user, query or fragment");
        }

        string hostPart;
        string portPart;
        if (rest.StartsWith('['))
        {
            var close = rest.IndexOf(']');
            if (close < 0)
            {
                return Bad("the IPv6 address has no closing ']'");
            }
            hostPart = rest[..(close + 1)];
            var after = rest[(close + 1)..];
            if (after.Length > 0 && after[0] != ':' && after[0] != '/')
            {
                return Bad("unexpected text after the IPv6 address");
            }
            // [addr]/prefix:port is a CIDR range in brackets.
            if (after.StartsWith('/'))
            {
                var colon = after.IndexOf(':');
                hostPart += colon < 0 ? after : after[..colon];
                after = colon < 0 ? "" : after[colon..];
            }
            portPart = after.Length > 0 ? after[1..] : "";
            if (after.Length > 0 && portPart.Length == 0)
            {
                return Bad("the port after ':' is empty");
            }
        }
        else
        {
            var colon = rest.LastIndexOf(':');
            // An unbracketed IPv6 CIDR like ff00::/8:80 (Spin's syntax): the port follows the prefix length.
            var slash = rest.IndexOf('/');
            if (slash >= 0 && !IPAddress.TryParse(rest[..slash], out _))
            {
                return Bad("it must be scheme://host[:port], with no path, user, query or fragment");
            }
            if (slash >= 0)
            {
                var portColon = rest.IndexOf(':', slash);
                hostPart = portColon < 0 ? rest : rest[..portColon];
                portPart = portColon < 0 ? "" : rest[(portColon + 1)..];
                if (portColon >= 0 && portPart.Length == 0)
                {
                    return Bad("the port after ':' is empty");
                }
            }
            else if (colon >= 0)
            {
                hostPart = rest[..colon];
                portPart = rest[(colon + 1)..];
                if (portPart.Length == 0)
                {
                    return Bad("the port after ':' is empty");
                }
                if (hostPart.Contains(':'))
                {
                    return Bad("an IPv6 address must be written in brackets, e.g. 'http://[::1]:8080'");
                }
            }
            else
            {
                hostPart = rest;
                portPart = "";
            }
        }

        if (hostPart.Length == 0)
        {
            return Bad("the host is empty");
        }

        HostKind kind;
        var host = "";
        IPAddress? network = null;
        var prefix = 0;
        if (hostPart == "*")
        {
            kind = HostKind.Any;
        }
        else if (hostPart == "self")
        {
            kind = HostKind.Self;
        }
        else if (hostPart.StartsWith('{'))
        {
            return Bad("host lists are not supported; write one entry per host");
        }
        else if (hostPart.Contains('/'))
        {
            var cidr = hostPart.Replace("[", "", StringComparison.Ordinal).Replace("]", "", StringComparison.Ordinal);
            var slash = cidr.IndexOf('/');
            if (!IPAddress.TryParse(cidr[..slash], out var net) || cidr[..slash].Contains('%')
                || !int.TryParse(cidr[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out prefix)
                || prefix > (net.AddressFamily == AddressFamily.InterNetwork ? 32 : 128)
                || (net.AddressFamily == AddressFamily.InterNetwork && cidr[..slash].Count(c => c == '.') != 3))
            {
                return Bad($"'{hostPart}' is not an IP range (write e.g. '10.0.0.0/8' or '[fd00::]/8')");
            }
            network = AddressGuard.Normalize(net);
            if (network.AddressFamily == AddressFamily.InterNetwork && net.AddressFamily == AddressFamily.InterNetworkV6)
            {
                prefix = Math.Max(0, prefix - 96);
            }
            kind = HostKind.Range;
        }
        else if (hostPart.StartsWith('['))
        {
            var inner = hostPart[1..^1];
            if (inner.Contains('%') || !IPAddress.TryParse(inner, out var v6) || v6.AddressFamily != AddressFamily.InterNetworkV6)
            {
                return Bad($"'{hostPart}' is not an IPv6 address");
            }
            network = AddressGuard.Normalize(v6);
            prefix = network.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
            kind = HostKind.Address;
        }
        else if (hostPart.StartsWith("*.", StringComparison.Ordinal))
        {
            var domain = hostPart[2..].TrimEnd('.').ToLowerInvariant();
            if (domain.Contains('*'))
            {
                return Bad("a wildcard may only be the first label ('*.example.com')");
            }
            if (!OutboundUrl.IsValidDomainName(domain))
            {
                return Bad($"'{domain}' is not a valid domain name");
            }
            kind = HostKind.Subdomain;
            host = "." + domain;
        }
        else if (hostPart.Contains('*'))
        {
            return Bad("a wildcard may only be the whole host ('*') or its first label ('*.example.com')");
        }
        else
        {
            // IP literals are matched as addresses, in their canonical form, so "127.0.0.1" and a URL's
            // "2130706433" compare equal; everything else is a lower-case DNS name without a trailing dot.
            var canonical = OutboundUrl.CanonicalHost(hostPart, out var address, out var hostError);
            if (canonical is null)
            {
                return Bad(hostError ?? $"'{hostPart}' is not a valid host");
            }
            if (address is not null)
            {
                network = address;
                prefix = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
                kind = HostKind.Address;
            }
            else
            {
                kind = HostKind.Name;
                host = canonical;
            }
        }

        var anyPort = false;
        int portStart;
        int portEnd;
        if (portPart.Length == 0)
        {
            if (schemeValue is null || OutboundUrl.WellKnownPort(schemeValue) is not int known)
            {
                return Bad(schemeValue is null
                    ? "an entry with any scheme ('*://') needs a port (a number, a range 'a..b' or '*')"
                    : $"the scheme '{schemeValue}' has no well-known port, so the entry needs one");
            }
            portStart = known;
            portEnd = known + 1;
        }
        else if (portPart == "*")
        {
            anyPort = true;
            portStart = 0;
            portEnd = 65536;
        }
        else if (portPart.StartsWith('{'))
        {
            return Bad("port lists are not supported; write one entry per port");
        }
        else if (portPart.Contains("..", StringComparison.Ordinal))
        {
            var dots = portPart.IndexOf("..", StringComparison.Ordinal);
            if (!TryPort(portPart[..dots], out portStart) || !TryPort(portPart[(dots + 2)..], out portEnd) || portEnd <= portStart)
            {
                return Bad($"the port range '{portPart}' must be 'start..end' with start < end, both 0-65535");
            }
        }
        else
        {
            if (!TryPort(portPart, out portStart))
            {
                return Bad($"the port '{portPart}' is not a number from 0 to 65535");
            }
            portEnd = portStart + 1;
        }

        parsed = new AllowedHostEntry(original, schemeValue, kind, host, network, prefix, anyPort, portStart, portEnd);
        return null;
    }

    private static bool TryPort(string text, out int port) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port is >= 0 and <= 65535 && text.Length <= 5;

    internal bool AllowsScheme(string scheme) => _scheme is null || _scheme == scheme;

    internal bool AllowsPort(int port, string scheme) => _anyPort || (port >= _portStart && port < _portEnd);

    internal bool NamesExactPort(int port, string scheme) => !_anyPort && _portEnd == _portStart + 1 && _portStart == port;

    internal bool NamesAddress(IPAddress address) => _hostKind switch
    {
        HostKind.Address or HostKind.Range => AddressGuard.InRange(address, _network!, _prefix),
        // "localhost" is loopback by definition (RFC 6761), so naming it is naming loopback.
        HostKind.Name => (_host == "localhost" || _host.EndsWith(".localhost", StringComparison.Ordinal)) && IPAddress.IsLoopback(address),
        HostKind.Subdomain => _host == ".localhost" && IPAddress.IsLoopback(address),
        _ => false,
    };

    internal bool Allows(OutboundUrl url)
    {
        if (!AllowsScheme(url.Scheme) || !AllowsPort(url.Port, url.Scheme))
        {
            return false;
        }
        return _hostKind switch
        {
            HostKind.Any => true,
            HostKind.Name => url.Address is null && url.Host == _host,
            HostKind.Subdomain => url.Address is null && url.Host.EndsWith(_host, StringComparison.Ordinal) && url.Host.Length > _host.Length,
            HostKind.Address or HostKind.Range => url.Address is not null && AddressGuard.InRange(url.Address, _network!, _prefix),
            // Spin's "self" means the app's own relative URLs; this platform has no relative outbound URLs.
            _ => false,
        };
    }

    public override string ToString() => Original;
}
