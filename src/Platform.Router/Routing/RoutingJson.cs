using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Platform.Router.Routing;

/// <summary>How routers read routing documents (from the control plane and from disk).</summary>
public static class RoutingJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web) { Converters = { new PooledStringConverter() } };
}

/// <summary>
/// Keeps one instance of each short string a routing document repeats: an entry's digests again in its component,
/// the engine fingerprint, kinds, routes, modules and repositories shared by apps. A router holding 100,000 apps
/// would otherwise keep hundreds of bytes per app in copies. Strings are looked up without allocating; the pool
/// starts over when it is full, so it never grows without bound.
/// </summary>
public sealed class PooledStringConverter : JsonConverter<string>
{
    /// <summary>Longer strings (large variable values) are rarely repeated and are read as they are.</summary>
    public const int MaxPooledLength = 256;

    public const int MaxEntries = 1 << 20;

    private readonly ConcurrentDictionary<string, string> _pool = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> _lookup;

    public PooledStringConverter() => _lookup = _pool.GetAlternateLookup<ReadOnlySpan<char>>();

    public int Count => _pool.Count;

    public override string Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => Pooled(ref reader);

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);

    public override string ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => Pooled(ref reader);

    public override void WriteAsPropertyName(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WritePropertyName(value);

    private string Pooled(ref Utf8JsonReader reader)
    {
        var bytes = reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length;
        if (bytes > MaxPooledLength)
        {
            return reader.GetString()!;
        }
        // Unescaped, a string never has more UTF-16 characters than it has UTF-8 bytes.
        Span<char> buffer = stackalloc char[MaxPooledLength];
        var text = buffer[..reader.CopyString(buffer)];
        if (_lookup.TryGetValue(text, out var pooled))
        {
            return pooled;
        }
        if (_pool.Count >= MaxEntries)
        {
            _pool.Clear();
        }
        var value = text.ToString();
        return _pool.GetOrAdd(value, value);
    }
}
