namespace Platform.Oci;

/// <summary>
/// The 8-byte header of a WebAssembly binary: the magic <c>00 61 73 6D</c> ("\0asm"), then a 16-bit version and a
/// 16-bit layer (little endian). A core module is version 1, layer 0 (<c>01 00 00 00</c>); a component is layer 1
/// (<c>xx xx 01 00</c>, the version counting the component model's pre-releases, <c>0d 00</c> today).
/// </summary>
/// <remarks>
/// Here, in the lowest project the uploader, the registry client and both runtimes share, because the Wasm OCI
/// artifact layout needs it too: a component's config says <c>wasip2</c>, a core module's <c>wasip1</c>.
/// These checks read only the header; whether the rest is valid is Wasmtime's to say.
/// </remarks>
public static class WasmBinary
{
    /// <summary>The magic and the version/layer field.</summary>
    public const int HeaderLength = 8;

    /// <summary>The magic bytes as error texts quote them.</summary>
    public const string MagicHex = "0061736D";

    /// <summary><c>00 61 73 6D</c>: "\0asm".</summary>
    public static ReadOnlySpan<byte> Magic => [0x00, 0x61, 0x73, 0x6D];

    /// <summary>Version 1, layer 0.</summary>
    private static ReadOnlySpan<byte> CoreModuleVersion => [0x01, 0x00, 0x00, 0x00];

    /// <summary>True when the bytes start with the magic (the version and layer may be missing).</summary>
    public static bool HasMagic(ReadOnlySpan<byte> bytes) => bytes.StartsWith(Magic);

    /// <summary>True when the bytes hold a whole header: the magic and the version/layer field after it.</summary>
    public static bool HasHeader(ReadOnlySpan<byte> bytes) => bytes.Length >= HeaderLength && HasMagic(bytes);

    /// <summary>True for the component binary format (layer 1), false for a core module or anything else.</summary>
    public static bool IsComponent(ReadOnlySpan<byte> bytes) => HasHeader(bytes) && bytes[6] == 0x01 && bytes[7] == 0x00;

    /// <summary>True for a core module of version 1 (layer 0), the only core version there is.</summary>
    public static bool IsCoreModule(ReadOnlySpan<byte> bytes) => HasHeader(bytes) && bytes[Magic.Length..HeaderLength].SequenceEqual(CoreModuleVersion);

    /// <summary>The first bytes (at most a header's worth) in hex, for texts that say what some bytes start with instead.</summary>
    public static string HeadHex(ReadOnlySpan<byte> bytes) => Convert.ToHexString(bytes[..Math.Min(HeaderLength, bytes.Length)]);
}
