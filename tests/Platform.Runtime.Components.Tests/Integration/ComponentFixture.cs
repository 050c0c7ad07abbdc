using System.Collections.Concurrent;
using Platform.Runtime;
using Platform.Runtime.Components;
using Platform.Testing;

namespace Platform.Runtime.Components.Tests.Integration;

/// <summary>
/// One real Wasmtime engine (10 ms epoch, no pooling: the router's pool reserves no component instances yet) and a
/// component host on it; each test app from tests/apps/out/components is compiled once.
/// </summary>
public sealed class ComponentFixture : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<LoadedComponent>> _components = new();

    public ComponentFixture()
    {
        Engine = new WasmEngineHost(new WasmRuntimeOptions { UsePoolingAllocator = false });
        Host = new ComponentHost(Engine);
    }

    public WasmEngineHost Engine { get; }

    public ComponentHost Host { get; }

    public static byte[] Bytes(string name) => TestApps.Bytes("components/" + name);

    public LoadedComponent Load(string name) =>
        _components.GetOrAdd(name, n => new Lazy<LoadedComponent>(() => Host.Compile(Bytes(n)))).Value;

    public static ComponentRequest Get(string path, params (string Name, string Value)[] headers) => new()
    {
        Method = "GET",
        Authority = "app.apps.localhost:8080",
        PathWithQuery = path,
        Headers = [.. headers.Select(h => KeyValuePair.Create(h.Name, h.Value))],
        AppName = "test",
    };

    public void Dispose()
    {
        foreach (var component in _components.Values.Where(c => c.IsValueCreated))
        {
            component.Value.Dispose();
        }
        Engine.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class ComponentCollection : ICollectionFixture<ComponentFixture>
{
    public const string Name = "Wasmtime components";
}
