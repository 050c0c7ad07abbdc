using System.Net;
using System.Net.Sockets;

namespace Platform.Runtime.Outbound;

/// <summary>An address and port of the platform itself (control plane, registry, router); a null address means every address.</summary>
public sealed record ProtectedEndpoint(IPAddress? Address, int Port)
{
    public bool Matches(IPAddress address, int port) =>
        port == Port && (Address is null || AddressGuard.Normalize(Address).Equals(AddressGuard.Normalize(address)));

    public override string ToString() => $"{(Address is null ? "*" : Address.ToString())}:{Port}";
}

/// <summary>
/// Decides, for the address a connection is about to be made to, whether the allow-list permits it. This runs on
/// the resolved address (in the HTTP handler's connect callback), so a name that is allowed but resolves — or is
/// rebound — to loopback, a private network, link-local or a cloud metadata address is refused, unless the
/// allow-list names that address or a range containing it. The platform's own endpoints additionally need their
/// exact port named.
/// </summary>
public static class AddressGuard
{
    private static readonly (IPAddress Network, int Prefix)[] s_specialV4 =
    [
        (IPAddress.Parse("0.0.0.0"), 8),        // "this network", 0.0.0.0 reaches the local host
        (IPAddress.Parse("10.0.0.0"), 8),       // private
        (IPAddress.Parse("100.64.0.0"), 10),    // carrier-grade NAT
        (IPAddress.Parse("127.0.0.0"), 8),      // loopback
        (IPAddress.Parse("169.254.0.0"), 16),   // link-local, cloud metadata (169.254.169.254)
        (IPAddress.Parse("172.16.0.0"), 12),    // private
        (IPAddress.Parse("192.0.0.0"), 24),     // IETF protocol assignments
        (IPAddress.Parse("192.0.2.0"), 24),     // documentation
        (IPAddress.Parse("192.168.0.0"), 16),   // private
        (IPAddress.Parse("198.18.0.0"), 15),    // benchmarking
        (IPAddress.Parse("198.51.100.0"), 24),  // documentation
        (IPAddress.Parse("203.0.113.0"), 24),   // documentation
        (IPAddress.Parse("224.0.0.0"), 4),      // multicast
        (IPAddress.Parse("240.0.0.0"), 4),      // reserved, broadcast
    ];

    private static readonly (IPAddress Network, int Prefix)[] s_specialV6 =
    [
        (IPAddress.Parse("::"), 96),            // unspecified, loopback, IPv4-compatible
        (IPAddress.Parse("64:ff9b::"), 96),     // NAT64 (checked again on the embedded IPv4 below)
        (IPAddress.Parse("64:ff9b:1::"), 48),   // local NAT64
        (IPAddress.Parse("100::"), 64),         // discard
        (IPAddress.Parse("2001:db8::"), 32),    // documentation
        (IPAddress.Parse("2002::"), 16),        // 6to4 (embeds an IPv4 address)
        (IPAddress.Parse("fc00::"), 7),         // unique local, includes fd00::/8 and fd00:ec2::254 (metadata)
        (IPAddress.Parse("fe80::"), 10),        // link-local
        (IPAddress.Parse("fec0::"), 10),        // site-local (deprecated)
        (IPAddress.Parse("ff00::"), 8),         // multicast
    ];

    /// <summary>IPv4-mapped IPv6 (::ffff:a.b.c.d) as the IPv4 address it is; anything else unchanged.</summary>
    public static IPAddress Normalize(IPAddress address) =>
        address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    /// <summary>
    /// Whether the address is loopback, private, link-local, metadata, multicast, reserved or otherwise not a
    /// public unicast address: such addresses are only connected to when the allow-list names them.
    /// </summary>
    public static bool IsSpecial(IPAddress address)
    {
        address = Normalize(address);
        var table = address.AddressFamily == AddressFamily.InterNetwork ? s_specialV4 : s_specialV6;
        foreach (var (network, prefix) in table)
        {
            if (InRange(address, network, prefix))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Whether <paramref name="address"/> lies in <paramref name="network"/>/<paramref name="prefix"/> (same family after normalizing).</summary>
    public static bool InRange(IPAddress address, IPAddress network, int prefix)
    {
        address = Normalize(address);
        network = Normalize(network);
        if (address.AddressFamily != network.AddressFamily)
        {
            return false;
        }
        Span<byte> a = stackalloc byte[16];
        Span<byte> n = stackalloc byte[16];
        address.TryWriteBytes(a, out var length);
        network.TryWriteBytes(n, out _);
        var bits = Math.Min(prefix, length * 8);
        var whole = bits / 8;
        if (!a[..whole].SequenceEqual(n[..whole]))
        {
            return false;
        }
        var remaining = bits % 8;
        if (remaining == 0)
        {
            return true;
        }
        var mask = (byte)(0xFF << (8 - remaining));
        return (a[whole] & mask) == (n[whole] & mask);
    }

    /// <summary>
    /// Null when a connection to <paramref name="address"/>:<paramref name="port"/> is allowed under
    /// <paramref name="hosts"/>; otherwise the reason, for the app's log.
    /// </summary>
    public static string? Check(IPAddress address, int port, string scheme, AllowedHosts hosts, IReadOnlyList<ProtectedEndpoint> protectedEndpoints)
    {
        address = Normalize(address);
        foreach (var endpoint in protectedEndpoints)
        {
            if (endpoint.Matches(address, port))
            {
                return hosts.NamesAddress(address, scheme, port, exactPort: true)
                    ? null
                    : $"{address}:{port} is one of the platform's own endpoints, which only an entry naming that address and port exactly allows";
            }
        }
        if (IsSpecial(address) && !hosts.NamesAddress(address, scheme, port, exactPort: false))
        {
            return $"{address} is a loopback, private, link-local or reserved address, which only an entry naming that address or its range allows";
        }
        return null;
    }
}
