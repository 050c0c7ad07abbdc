using System.Net;
using Platform.Runtime.Outbound;

namespace Platform.Runtime.Tests.Unit;

[Trait("Category", "Unit")]
public sealed class OutboundAllowListTests
{
    private static OutboundUrl Url(string text) =>
        OutboundUrl.TryParse(text, out var url, out var error) ? url! : throw new InvalidOperationException(error);

    private static bool Allows(string entry, string url) => AllowedHosts.Parse([entry]).Allows(Url(url));

    [Theory]
    [InlineData("https://api.example.com", "https://api.example.com/v1?x=1", true)]
    [InlineData("https://api.example.com", "https://api.example.com:443/", true)]
    [InlineData("https://api.example.com", "http://api.example.com/", false)]
    [InlineData("https://api.example.com", "https://api.example.com:8443/", false)]
    [InlineData("https://api.example.com", "https://other.example.com/", false)]
    [InlineData("https://*.example.com", "https://a.b.example.com/", true)]
    [InlineData("https://*.example.com", "https://example.com/", false)]
    [InlineData("https://*.example.com", "https://badexample.com/", false)]
    [InlineData("*://example.com:8080", "http://example.com:8080/", true)]
    [InlineData("*://example.com:8080", "https://example.com:8080/", true)]
    [InlineData("http://127.0.0.1:*", "http://127.0.0.1:1234/", true)]
    [InlineData("http://127.0.0.1:*", "http://127.0.0.2:1234/", false)]
    [InlineData("http://example.com:8000..8010", "http://example.com:8009/", true)]
    [InlineData("http://example.com:8000..8010", "http://example.com:8010/", false)]
    [InlineData("*://10.0.0.0/8:80", "http://10.1.2.3/", true)]
    [InlineData("*://10.0.0.0/8:80", "http://11.1.2.3/", false)]
    [InlineData("http://[::1]:8001", "http://[::1]:8001/", true)]
    [InlineData("http://[::1]:8001", "http://[0:0:0:0:0:0:0:1]:8001/", true)]
    [InlineData("*://*:*", "https://anything.example:1/", true)]
    [InlineData("HTTPS://API.Example.COM", "https://api.example.com/", true)]
    [InlineData("https://api.example.com.", "https://API.EXAMPLE.COM./", true)]
    [InlineData("http://127.0.0.1", "http://2130706433/", true)]
    [InlineData("http://127.0.0.1", "http://[::ffff:127.0.0.1]/", true)]
    [InlineData("http://localhost", "http://127.0.0.1/", false)]
    [InlineData("http://127.0.0.1", "http://localhost/", false)]
    [InlineData("http://self", "http://self/", false)]
    public void Entries_match_the_scheme_host_and_port_that_would_be_connected(string entry, string url, bool allowed) =>
        Assert.Equal(allowed, Allows(entry, url));

    [Theory]
    [InlineData("example.com", "no scheme")]
    [InlineData("example.com:80", "no scheme")]
    [InlineData("http://example.com/path", "no path")]
    [InlineData("http://example.com:80/a/b", "no path")]
    [InlineData("*://example.com", "needs a port")]
    [InlineData("ftp://example.com", "no well-known port")]
    [InlineData("http://ex*ample.com", "wildcard")]
    [InlineData("http://*.*.example.com", "wildcard")]
    [InlineData("http://example.com:99999", "port")]
    [InlineData("http://example.com:", "empty")]
    [InlineData("http://example.com:90..80", "range")]
    [InlineData("http://[::1", "closing")]
    [InlineData("http://::1:80", "brackets")]
    [InlineData("insecure:allow-all", "insecure:allow-all")]
    [InlineData("http://user@example.com", "user")]
    [InlineData("http://{a,b}.com", "")]
    [InlineData("http://10.0.0.0/33:80", "IP range")]
    [InlineData("", "empty")]
    [InlineData("h ttp://example.com", "whitespace")]
    public void Malformed_entries_are_refused_with_a_message_quoting_the_entry(string entry, string why)
    {
        Assert.False(AllowedHosts.TryParse([entry], out _, out var error));
        Assert.Contains($"'{entry}'", error);
        Assert.Contains(why, error);
        Assert.Throws<FormatException>(() => AllowedHosts.Parse(["https://fine.example", entry]));
    }

    [Theory]
    [InlineData("http://user:pass@evil.example/", "evil.example", 80)]
    [InlineData("http://allowed.example@evil.example:81/", "evil.example", 81)]
    [InlineData("http://a@b@evil.example/", "evil.example", 80)]
    [InlineData("http://2130706433/", "127.0.0.1", 80)]
    [InlineData("http://0177.0.0.01/", "127.0.0.1", 80)]
    [InlineData("http://0x7f.0.0.1/", "127.0.0.1", 80)]
    [InlineData("http://0x7f000001/", "127.0.0.1", 80)]
    [InlineData("http://127.1/", "127.0.0.1", 80)]
    [InlineData("http://127.0.0.1./", "127.0.0.1", 80)]
    [InlineData("HTTP://ExAmPlE.CoM./x", "example.com", 80)]
    [InlineData("https://[::FFFF:127.0.0.1]:8443/", "[::ffff:127.0.0.1]", 8443)]
    [InlineData("http://bücher.example/", "xn--bcher-kva.example", 80)]
    [InlineData("https://example.com#frag", "example.com", 443)]
    public void Urls_are_parsed_into_the_host_and_port_actually_connected(string text, string host, int port)
    {
        var url = Url(text);
        Assert.Equal(host, url.Host);
        Assert.Equal(port, url.Port);
        Assert.Equal(host, url.ToUri().Host.Length > 0 ? (url.ToUri().HostNameType == UriHostNameType.IPv6 ? "[" + url.ToUri().IdnHost.Trim('[', ']') + "]" : url.ToUri().IdnHost) : "");
        Assert.DoesNotContain("@", url.ToUri().ToString());
    }

    [Theory]
    [InlineData("http://%31%32%37.0.0.1/", "percent-encoded")]
    [InlineData("http://256.0.0.1/", "IPv4")]
    [InlineData("http://1.2.3.4.5/", "IPv4")]
    [InlineData("http://0x100000000/", "IPv4")]
    [InlineData("http://[fe80::1%25eth0]/", "IPv6")]
    [InlineData("http:///path", "no host")]
    [InlineData("http://exa mple.com/", "whitespace")]
    [InlineData("http:\\\\example.com\\", "backslash")]
    [InlineData("//example.com/", "scheme")]
    [InlineData("example.com/", "scheme")]
    [InlineData("http://example.com:0/", "port")]
    [InlineData("http://example.com:65536/", "port")]
    [InlineData("http://example.com:8o/", "port")]
    [InlineData("http://exa_mple..com/", "domain")]
    [InlineData("gopher://example.com/", "no default")]
    public void Ambiguous_or_malformed_urls_are_refused_with_a_reason(string text, string why)
    {
        Assert.False(OutboundUrl.TryParse(text, out _, out var error));
        Assert.Contains(why, error);
    }

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("10.1.2.3", true)]
    [InlineData("172.16.0.1", true)]
    [InlineData("192.168.1.1", true)]
    [InlineData("169.254.169.254", true)]
    [InlineData("100.64.0.1", true)]
    [InlineData("0.0.0.0", true)]
    [InlineData("224.0.0.1", true)]
    [InlineData("::1", true)]
    [InlineData("::", true)]
    [InlineData("fd00:ec2::254", true)]
    [InlineData("fe80::1", true)]
    [InlineData("::ffff:127.0.0.1", true)]
    [InlineData("::ffff:10.0.0.1", true)]
    [InlineData("64:ff9b::7f00:1", true)]
    [InlineData("2002:7f00:1::", true)]
    [InlineData("93.184.215.14", false)]
    [InlineData("2606:2800:21f:cb07:6820:80da:af6b:8b2c", false)]
    [InlineData("::ffff:93.184.215.14", false)]
    public void Loopback_private_link_local_and_metadata_addresses_are_special(string address, bool special) =>
        Assert.Equal(special, AddressGuard.IsSpecial(IPAddress.Parse(address)));

    [Fact]
    public void A_special_address_is_connected_to_only_when_the_list_names_it_or_its_range()
    {
        var loopback = IPAddress.Parse("127.0.0.1");
        Assert.NotNull(AddressGuard.Check(loopback, 8080, "http", AllowedHosts.Parse(["http://*:8080"]), []));
        Assert.NotNull(AddressGuard.Check(loopback, 8080, "http", AllowedHosts.Parse(["http://api.example.com:8080"]), []));
        Assert.Null(AddressGuard.Check(loopback, 8080, "http", AllowedHosts.Parse(["http://127.0.0.1:8080"]), []));
        Assert.Null(AddressGuard.Check(loopback, 8080, "http", AllowedHosts.Parse(["*://127.0.0.0/8:*"]), []));
        Assert.Null(AddressGuard.Check(IPAddress.Parse("::ffff:127.0.0.1"), 8080, "http", AllowedHosts.Parse(["http://127.0.0.1:8080"]), []));
        Assert.Null(AddressGuard.Check(loopback, 8080, "http", AllowedHosts.Parse(["http://localhost:8080"]), []));
        Assert.NotNull(AddressGuard.Check(IPAddress.Parse("169.254.169.254"), 80, "http", AllowedHosts.Parse(["http://localhost"]), []));
        Assert.NotNull(AddressGuard.Check(loopback, 8080, "https", AllowedHosts.Parse(["http://127.0.0.1:8080"]), []));
        Assert.Null(AddressGuard.Check(IPAddress.Parse("93.184.215.14"), 443, "https", AllowedHosts.Parse(["https://example.com"]), []));
    }

    [Fact]
    public void The_platforms_own_endpoints_need_the_address_and_exact_port_named()
    {
        ProtectedEndpoint[] own = [new(IPAddress.Loopback, 5080), new(null, 9090)];
        var loopback = IPAddress.Loopback;
        Assert.NotNull(AddressGuard.Check(loopback, 5080, "http", AllowedHosts.Parse(["http://127.0.0.1:*"]), own));
        Assert.NotNull(AddressGuard.Check(loopback, 5080, "http", AllowedHosts.Parse(["http://127.0.0.1:5000..6000"]), own));
        Assert.Null(AddressGuard.Check(loopback, 5080, "http", AllowedHosts.Parse(["http://127.0.0.1:5080"]), own));
        Assert.NotNull(AddressGuard.Check(IPAddress.Parse("93.184.215.14"), 9090, "http", AllowedHosts.Parse(["*://*:*"]), own));
        Assert.Null(AddressGuard.Check(loopback, 5081, "http", AllowedHosts.Parse(["http://127.0.0.1:*"]), own));
    }

    [Fact]
    public void Protected_endpoints_are_read_from_urls_and_host_port_pairs()
    {
        Assert.Equal([new ProtectedEndpoint(IPAddress.Loopback, 5080)], OutboundHttpClient.ParseProtectedEndpoint("http://127.0.0.1:5080"));
        Assert.Equal([new ProtectedEndpoint(null, 8080)], OutboundHttpClient.ParseProtectedEndpoint("http://0.0.0.0:8080"));
        Assert.Equal([new ProtectedEndpoint(null, 8080)], OutboundHttpClient.ParseProtectedEndpoint("http://*:8080"));
        Assert.Equal([new ProtectedEndpoint(IPAddress.Parse("10.0.0.5"), 5000)], OutboundHttpClient.ParseProtectedEndpoint("10.0.0.5:5000"));
        Assert.Throws<FormatException>(() => OutboundHttpClient.ParseProtectedEndpoint("nonsense"));
    }

    [Fact]
    public void Guest_header_strings_are_name_colon_value_lines()
    {
        Assert.True(WasiExperimentalHttp.TryParseHeaders("Content-Type: text/plain\r\nX-A:1\n\nX-A:2\n", out var headers, out _));
        Assert.Equal([new("Content-Type", "text/plain"), new("X-A", "1"), new("X-A", "2")], headers);
        Assert.False(WasiExperimentalHttp.TryParseHeaders("no colon here\n", out _, out var error));
        Assert.Contains("no colon here", error);
        Assert.False(WasiExperimentalHttp.TryParseHeaders("Bad Name:1\n", out _, out _));
        Assert.False(WasiExperimentalHttp.TryParseHeaders("X:a\u0001b\n", out _, out _));
    }

    [Fact]
    public void The_call_budget_refuses_beyond_its_maximum_until_a_slot_is_released()
    {
        var budget = new OutboundCallBudget(2);
        Assert.True(budget.TryAcquire());
        Assert.True(budget.TryAcquire());
        Assert.False(budget.TryAcquire());
        budget.Release();
        Assert.True(budget.TryAcquire());
    }
}
