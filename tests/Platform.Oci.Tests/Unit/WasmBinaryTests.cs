namespace Platform.Oci.Tests.Unit;

/// <summary>The one reader of the WebAssembly header: the uploader, the registry client and both runtimes ask it.</summary>
[Trait("Category", "Unit")]
public sealed class WasmBinaryTests
{
    private static readonly byte[] s_coreModule = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
    private static readonly byte[] s_component = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];

    [Fact]
    public void The_component_header_is_told_from_a_core_module_header()
    {
        Assert.True(WasmBinary.IsComponent(s_component));
        Assert.False(WasmBinary.IsComponent(s_coreModule));
        Assert.False(WasmBinary.IsComponent([0x00, 0x61, 0x73]));
        Assert.False(WasmBinary.IsComponent("not wasm at all"u8));

        Assert.True(WasmBinary.IsCoreModule(s_coreModule));
        Assert.False(WasmBinary.IsCoreModule(s_component));
    }

    [Fact]
    public void A_core_module_of_another_version_is_neither_a_core_module_nor_a_component()
    {
        byte[] version2 = [0x00, 0x61, 0x73, 0x6d, 0x02, 0x00, 0x00, 0x00];

        Assert.True(WasmBinary.HasHeader(version2));
        Assert.False(WasmBinary.IsCoreModule(version2));
        Assert.False(WasmBinary.IsComponent(version2));
    }

    [Fact]
    public void The_magic_alone_is_enough_for_HasMagic_but_not_for_a_whole_header()
    {
        byte[] magicOnly = [0x00, 0x61, 0x73, 0x6d];

        Assert.True(WasmBinary.HasMagic(magicOnly));
        Assert.False(WasmBinary.HasHeader(magicOnly));
        Assert.False(WasmBinary.IsCoreModule(magicOnly));
    }

    [Theory]
    [InlineData(new byte[0])]
    [InlineData(new byte[] { 0x00, 0x61, 0x73 })]
    [InlineData(new byte[] { 0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0, 0, 0 })]
    [InlineData(new byte[] { 0x00, 0x61, 0x73, 0x6e, 0x01, 0x00, 0x00, 0x00 })]
    public void Bytes_without_the_magic_are_no_WebAssembly_at_all(byte[] bytes)
    {
        Assert.False(WasmBinary.HasMagic(bytes));
        Assert.False(WasmBinary.HasHeader(bytes));
        Assert.False(WasmBinary.IsCoreModule(bytes));
        Assert.False(WasmBinary.IsComponent(bytes));
    }

    [Fact]
    public void The_magic_is_the_four_bytes_of_backslash_zero_asm()
    {
        Assert.Equal("\0asm"u8.ToArray(), WasmBinary.Magic.ToArray());
        Assert.Equal(WasmBinary.MagicHex, Convert.ToHexString(WasmBinary.Magic));
    }

    [Fact]
    public void An_error_text_quotes_at_most_the_first_eight_bytes_in_hex()
    {
        Assert.Equal("7F454C4602010100", WasmBinary.HeadHex([0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0, 0, 0]));
        Assert.Equal("0061", WasmBinary.HeadHex([0x00, 0x61]));
        Assert.Equal("", WasmBinary.HeadHex([]));
    }
}
