namespace Platform.Runtime.Components;

/// <summary>
/// The Spin variables one component reads (<c>fermyon:spin/variables</c>, <c>wasi:config/store</c>,
/// <c>fermyon:spin/config</c>): key -> value, or the reason it has none. Built once per routing-table version by the
/// router (templates resolved there), shared by every request of that component.
/// </summary>
public sealed class ComponentVariables
{
    private readonly Dictionary<string, ComponentVariable> _values;
    private readonly KeyValuePair<string, ComponentVariable>[] _ordered;

    public ComponentVariables(string componentId, IEnumerable<KeyValuePair<string, ComponentVariable>> values)
    {
        ArgumentNullException.ThrowIfNull(componentId);
        ArgumentNullException.ThrowIfNull(values);
        ComponentId = componentId;
        _values = new Dictionary<string, ComponentVariable>(values, StringComparer.Ordinal);
        _ordered = [.. _values.OrderBy(v => v.Key, StringComparer.Ordinal)];
    }

    public static ComponentVariables Empty { get; } = new("", []);

    public string ComponentId { get; }

    public int Count => _values.Count;

    /// <summary>False when the component has no variable <paramref name="key"/> (Spin's <c>undefined</c>).</summary>
    public bool TryGet(string key, out ComponentVariable variable) => _values.TryGetValue(key, out variable);

    /// <summary>Every variable, by key.</summary>
    public IReadOnlyList<KeyValuePair<string, ComponentVariable>> All => _ordered;
}

/// <summary>A component variable's value, or (<see cref="Value"/> null) the <see cref="Error"/> a guest gets for it.</summary>
public readonly record struct ComponentVariable(string? Value, string? Error);
