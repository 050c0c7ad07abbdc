using System.Text;

namespace Platform.Bench;

/// <summary>
/// Distinct modules made from the built test apps without a compiler: a custom section changes the digest (so each
/// app is its own module in the registry and the router's cache), a patched string makes a version recognisable.
/// </summary>
public static class ModuleVariants
{
    /// <summary>The module with a custom section "platform-bench" holding <paramref name="label"/> appended; behaviour unchanged.</summary>
    public static byte[] WithCustomSection(byte[] module, string label)
    {
        var name = "platform-bench"u8.ToArray();
        var payload = Encoding.UTF8.GetBytes(label);
        var body = new List<byte>();
        body.AddRange(Leb128((uint)name.Length));
        body.AddRange(name);
        body.AddRange(payload);
        var result = new List<byte>(module.Length + body.Count + 8);
        result.AddRange(module);
        result.Add(0); // custom section id
        result.AddRange(Leb128((uint)body.Count));
        result.AddRange(body);
        return [.. result];
    }

    /// <summary>
    /// hello.wasm answering "&lt;marker&gt; from GET ..." instead of "Hello from GET ...": the marker (5 ASCII characters)
    /// replaces "Hello" in the module's format string, so a response shows which upload served it.
    /// </summary>
    public static byte[] HelloWithMarker(byte[] hello, string marker)
    {
        if (marker.Length != 5 || !marker.All(char.IsAsciiLetterOrDigit))
        {
            throw new ArgumentException($"Marker '{marker}' must be 5 ASCII letters or digits (it replaces 'Hello').", nameof(marker));
        }
        var needle = "Hello from "u8;
        var at = hello.AsSpan().IndexOf(needle);
        if (at < 0 || hello.AsSpan(at + 1).IndexOf(needle) >= 0)
        {
            throw new InvalidOperationException("hello.wasm does not hold its format string 'Hello from ' exactly once; rebuild tests/apps.");
        }
        var copy = (byte[])hello.Clone();
        Encoding.ASCII.GetBytes(marker).CopyTo(copy, at);
        return copy;
    }

    private static IEnumerable<byte> Leb128(uint value)
    {
        do
        {
            var b = (byte)(value & 0x7f);
            value >>= 7;
            yield return value != 0 ? (byte)(b | 0x80) : b;
        }
        while (value != 0);
    }
}
