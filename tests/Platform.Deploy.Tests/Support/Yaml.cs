using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;

namespace Platform.Deploy.Tests.Support;

/// <summary>
/// YAML as plain trees: mappings are <see cref="Dictionary{TKey,TValue}"/> of string to node, sequences are
/// <see cref="List{T}"/>, scalars are strings. Plain data is easy to walk in checks and to break on purpose in tests.
/// </summary>
public static class Yaml
{
    /// <summary>Every document of a multi-document stream; merge keys (<c>&lt;&lt;: *anchor</c>) are applied.</summary>
    public static IReadOnlyList<object?> LoadAll(string text, string source)
    {
        var deserializer = new DeserializerBuilder().Build();
        try
        {
            var parser = new MergingParser(new Parser(new StringReader(text)));
            parser.Consume<StreamStart>();
            var documents = new List<object?>();
            while (parser.Accept<DocumentStart>(out _))
            {
                documents.Add(Normalize(deserializer.Deserialize<object?>(parser)));
            }
            return documents;
        }
        catch (YamlException ex)
        {
            throw new InvalidDataException($"{source} is not valid YAML at line {ex.Start.Line}, column {ex.Start.Column}: {ex.Message}", ex);
        }
        catch (InvalidOperationException ex)
        {
            // YamlDotNet's scanner throws this for some malformed flow collections.
            throw new InvalidDataException($"{source} is not valid YAML: {ex.Message}", ex);
        }
    }

    public static Dictionary<string, object?> LoadMapping(string text, string source) =>
        LoadAll(text, source) switch
        {
            [Dictionary<string, object?> map] => map,
            var docs => throw new InvalidDataException($"{source} should hold exactly one YAML mapping, found {docs.Count} document(s)."),
        };

    private static object? Normalize(object? node) => node switch
    {
        IDictionary<object, object?> map => map.ToDictionary(kv => kv.Key.ToString() ?? "", kv => Normalize(kv.Value)),
        IList<object?> list => list.Select(Normalize).ToList(),
        _ => node,
    };

    /// <summary>A deep copy, so a test can break one copy and keep the original.</summary>
    public static object? Clone(object? node) => node switch
    {
        Dictionary<string, object?> map => map.ToDictionary(kv => kv.Key, kv => Clone(kv.Value)),
        List<object?> list => list.Select(Clone).ToList(),
        _ => node,
    };

    /// <summary>Walks string keys (mappings) and int indices (sequences); null when any step is missing.</summary>
    public static object? At(this object? node, params object[] path)
    {
        foreach (var step in path)
        {
            node = (node, step) switch
            {
                (Dictionary<string, object?> map, string key) => map.GetValueOrDefault(key),
                (List<object?> list, int index) => index >= 0 && index < list.Count ? list[index] : null,
                _ => null,
            };
            if (node is null)
            {
                return null;
            }
        }
        return node;
    }

    public static Dictionary<string, object?>? Map(this object? node, params object[] path) => node.At(path) as Dictionary<string, object?>;

    /// <summary>The sequence at the path, or an empty one.</summary>
    public static IReadOnlyList<object?> Items(this object? node, params object[] path) => node.At(path) as List<object?> ?? [];

    public static IEnumerable<Dictionary<string, object?>> Maps(this object? node, params object[] path) =>
        node.Items(path).OfType<Dictionary<string, object?>>();

    public static string? Text(this object? node, params object[] path) => node.At(path) as string;

    public static bool Has(this object? node, params object[] path) => node.Map(path[..^1])?.ContainsKey((string)path[^1]) == true;

    /// <summary>String-to-string mapping at the path (labels, matchLabels, ConfigMap data); empty when absent.</summary>
    public static IReadOnlyDictionary<string, string> StringMap(this object? node, params object[] path) =>
        node.Map(path)?.Where(kv => kv.Value is string).ToDictionary(kv => kv.Key, kv => (string)kv.Value!) ?? new Dictionary<string, string>();

    public static bool IsTrue(this object? node, params object[] path) => string.Equals(node.Text(path), "true", StringComparison.OrdinalIgnoreCase);

    public static bool IsFalse(this object? node, params object[] path) => string.Equals(node.Text(path), "false", StringComparison.OrdinalIgnoreCase);
}
