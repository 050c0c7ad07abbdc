using System.Collections.Frozen;

namespace Platform.Runtime.Http;

/// <summary>
/// The one list of connection-level (hop-by-hop) header fields (RFC 9110 section 7.6.1, plus HTTP/2's settings header):
/// they belong to one connection, so the server that frames a message sets them and no guest may pass or read them.
/// </summary>
public static class HopByHopHeaders
{
    private static readonly FrozenSet<string> s_names = FrozenSet.Create(StringComparer.OrdinalIgnoreCase,
        "Connection", "Keep-Alive", "Proxy-Connection", "TE", "Trailer", "Transfer-Encoding", "Upgrade", "HTTP2-Settings");

    public static IReadOnlySet<string> Names => s_names;

    public static bool Contains(string name) => s_names.Contains(name);
}
