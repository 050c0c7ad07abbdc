using System.Security.Cryptography;
using System.Text;

namespace Platform.Oci.Tests.Support;

/// <summary>
/// Valid WebAssembly modules with unique content: the 8-byte module header plus one custom section
/// (ignored by engines, valid per the core spec) carrying random bytes, so every test pushes distinct blobs.
/// </summary>
internal static class TestModules
{
    public static byte[] Unique(int payloadBytes = 64)
    {
        var name = "platform.test"u8.ToArray();
        var payload = RandomNumberGenerator.GetBytes(payloadBytes);
        var body = new List<byte>();
        body.AddRange(Leb128((uint)name.Length));
        body.AddRange(name);
        body.AddRange(payload);

        var module = new List<byte> { 0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00, 0x00 }; // magic, version 1, custom section id
        module.AddRange(Leb128((uint)body.Count));
        module.AddRange(body);
        return [.. module];
    }

    public static string UniqueAppName(string stem = "app") => $"{stem}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}";

    private static IEnumerable<byte> Leb128(uint value)
    {
        do
        {
            var b = (byte)(value & 0x7F);
            value >>= 7;
            yield return value == 0 ? b : (byte)(b | 0x80);
        }
        while (value != 0);
    }

    public static string Ascii(byte[] bytes) => Encoding.ASCII.GetString(bytes);
}
