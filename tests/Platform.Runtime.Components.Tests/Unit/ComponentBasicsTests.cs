using Platform.Runtime.Components;
using Platform.Runtime.Components.Host;

namespace Platform.Runtime.Components.Tests.Unit;

[Trait("Category", "Unit")]
public sealed class ComponentBasicsTests
{
    [Fact]
    public void A_component_without_the_handler_is_described_by_its_exports()
    {
        var info = new ComponentInfo(null, [], ["wasi:cli/run@0.2.3"], []);

        Assert.False(info.IsServable);
        Assert.Contains("wasi:cli/run@0.2.3", info.Problem);
    }

    [Fact]
    public void A_component_with_missing_imports_is_described_by_them()
    {
        var info = new ComponentInfo("wasi:http/incoming-handler@0.2.3", ["wasi:sockets/tcp@0.2.3"], [], ["wasi:sockets/tcp@0.2.3"]);

        Assert.False(info.IsServable);
        Assert.Contains("wasi:sockets/tcp@0.2.3", info.Problem);
    }

    [Theory]
    [InlineData("content-type", true)]
    [InlineData("X-Custom_1", true)]
    [InlineData("", false)]
    [InlineData("bad header", false)]
    [InlineData("bad:header", false)]
    [InlineData("bäd", false)]
    public void Field_names_must_be_tokens(string name, bool valid) => Assert.Equal(valid, WasiImports.IsValidFieldName(name));

    [Theory]
    [InlineData("text/plain; charset=utf-8", true)]
    [InlineData("tab\tinside", true)]
    [InlineData("injected\r\nx-evil: 1", false)]
    [InlineData("nul\0byte", false)]
    public void Field_values_may_not_carry_line_breaks_or_controls(string value, bool valid) =>
        Assert.Equal(valid, WasiImports.IsValidFieldValue(WasiImports.Latin1(value)));

    [Theory]
    [InlineData("Connection")]
    [InlineData("transfer-encoding")]
    [InlineData("Host")]
    public void Guests_may_not_set_connection_level_headers_or_host(string name) => Assert.True(WasiImports.IsForbiddenField(name));

    [Fact]
    public void The_host_header_reaches_the_guest_but_hop_by_hop_headers_do_not()
    {
        Assert.False(WasiImports.IsHopByHop("host"));
        Assert.True(WasiImports.IsHopByHop("keep-alive"));
    }

    [Fact]
    public void Every_provided_function_belongs_to_a_provided_interface_and_is_defined_once()
    {
        var interfaces = ComponentHost.ProvidedInterfaces.ToHashSet();

        Assert.All(WasiImports.Functions, f => Assert.Contains(f.Interface, interfaces));
        Assert.Equal(WasiImports.Functions.Length, WasiImports.Functions.Select(f => f.Interface + "#" + f.Name).Distinct().Count());
        Assert.All(WasiImports.Resources.Keys, i => Assert.Contains(i, interfaces));
    }
}
