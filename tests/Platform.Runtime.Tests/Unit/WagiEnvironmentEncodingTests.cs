using System.Text;
using Platform.Runtime;

namespace Platform.Runtime.Tests.Unit;

/// <summary>
/// The executor encodes argv and the environment straight into pooled buffers; what the module reads must be exactly
/// what <see cref="WagiEnvironment.Build"/> describes.
/// </summary>
[Trait("Category", "Unit")]
public sealed class WagiEnvironmentEncodingTests
{
    public static TheoryData<string> Cases => ["plain", "app-variables", "overwrites", "joined-headers", "unicode", "long-header", "excluded", "query"];

    private static WagiRequest Case(string name) => name switch
    {
        "plain" => new WagiRequest { Method = "GET", PathInfo = "/", ServerName = "a.apps.localhost", RemoteAddress = "127.0.0.1" },
        "app-variables" => new WagiRequest { Method = "GET", AppVariables = [new("GREETING", "hi"), new("EMPTY", ""), new("GREETING", "again")] },
        "overwrites" => new WagiRequest
        {
            Method = "POST",
            AppVariables = [new("REQUEST_METHOD", "FAKE"), new("HTTP_ACCEPT", "app"), new("HTTP_X_ONLY_APP", "kept")],
            Headers = [new("Accept", "text/html"), new("X-Other", "o")],
            Body = new byte[] { 1, 2, 3 },
        },
        "joined-headers" => new WagiRequest { Method = "GET", Headers = [new("Accept", "a"), new("X-A", "1"), new("accept", "b"), new("x_a", "2"), new("X-a", "3")] },
        "unicode" => new WagiRequest { Method = "GET", PathInfo = "/grüße/日本", Headers = [new("X-Ünicode", "wert ✓"), new("X-Emoji", "😀")], AppVariables = [new("NAME_Ä", "ö")] },
        "long-header" => new WagiRequest { Method = "GET", Headers = [new("X-" + new string('a', 300) + "😀" + new string('b', 200), new string('v', 5000))] },
        "excluded" => new WagiRequest { Method = "GET", Headers = [new("Authorization", "secret"), new("Connection", "close"), new("Proxy", "evil"), new("Content-Type", "x/y"), new("Via", "1.1 a")] },
        _ => new WagiRequest { Method = "GET", ScriptName = "/app", QueryString = "a=1&b&&c=%20&ü=ä" },
    };

    private static List<string> Decode(byte[] blob, int length, int[] offsets, int count)
    {
        var result = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var end = Array.IndexOf(blob, (byte)0, offsets[i]);
            Assert.InRange(end, offsets[i], length - 1);
            result.Add(Encoding.UTF8.GetString(blob, offsets[i], end - offsets[i]));
        }
        Assert.Equal(length, count == 0 ? 0 : Array.IndexOf(blob, (byte)0, offsets[count - 1]) + 1);
        return result;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Encoded_variables_are_the_built_ones_in_the_same_order(string name)
    {
        var request = Case(name);
        var built = WagiEnvironment.Build(request).Variables.Select(v => $"{v.Key}={v.Value}").ToList();

        var encoded = WagiEnvironment.EncodeVariables(request);
        try
        {
            Assert.Equal(built, Decode(encoded.Blob, encoded.Length, encoded.Offsets, encoded.Count));
        }
        finally
        {
            encoded.Return();
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Encoded_arguments_are_the_built_ones(string name)
    {
        var request = Case(name);
        var built = WagiEnvironment.Build(request).Arguments;

        var encoded = WagiEnvironment.EncodeArguments(request);
        try
        {
            Assert.Equal(built, Decode(encoded.Blob, encoded.Length, encoded.Offsets, encoded.Count));
        }
        finally
        {
            encoded.Return();
        }
    }

    [Fact]
    public void Headers_that_name_the_same_variable_are_joined_in_arrival_order()
    {
        var env = WagiEnvironment.Build(Case("joined-headers")).Variables.ToDictionary(v => v.Key, v => v.Value);

        Assert.Equal("a, b", env["HTTP_ACCEPT"]);
        Assert.Equal("1, 2, 3", env["HTTP_X_A"]);
    }

    [Fact]
    public void A_header_replaces_the_app_variable_of_its_name_in_place()
    {
        var variables = WagiEnvironment.Build(Case("overwrites")).Variables;

        Assert.Equal(new KeyValuePair<string, string>("REQUEST_METHOD", "POST"), variables[0]);
        Assert.Equal(new KeyValuePair<string, string>("HTTP_ACCEPT", "text/html"), variables[1]);
        Assert.Equal(new KeyValuePair<string, string>("HTTP_X_ONLY_APP", "kept"), variables[2]);
        Assert.Single(variables, v => v.Key == "HTTP_ACCEPT");
    }

    [Fact]
    public void A_NUL_in_a_header_value_is_refused_naming_its_variable()
    {
        var ex = Assert.Throws<ArgumentException>(() => WagiEnvironment.EncodeVariables(new WagiRequest { Method = "GET", Headers = [new("X-Bad", "a\0b")] }));

        Assert.Contains("HTTP_X_BAD", ex.Message);
        Assert.Contains("a\\0b", ex.Message);
    }
}
