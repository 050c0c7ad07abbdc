using System.Collections.Concurrent;
using System.Security.Cryptography;
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
        _components.GetOrAdd(name, n => new Lazy<LoadedComponent>(() => CompileOrLoadCached(n))).Value;

    /// <summary>Time the JS app's compile took in this run, or null when its artifact came from the test cache.</summary>
    public TimeSpan? JsCompileTime { get; private set; }

    // The JS app takes 10-60 s to compile on a busy 2-core machine, so its artifact is kept between runs, keyed by
    // the Wasm bytes and the engine fingerprint (as the router's cache is). The small WAT apps always compile.
    private LoadedComponent CompileOrLoadCached(string name)
    {
        var bytes = Bytes(name);
        if (!name.StartsWith("js-", StringComparison.Ordinal))
        {
            return Host.Compile(bytes);
        }
        var directory = Path.Combine(TestApps.OutputDirectory, "components", ".precompiled");
        var path = Path.Combine(directory, $"{name}-{Convert.ToHexStringLower(SHA256.HashData(bytes))[..16]}-{Engine.Fingerprint}.cwasm");
        if (File.Exists(path))
        {
            try
            {
                return Host.DeserializeFile(path);
            }
            catch (ComponentLoadException)
            {
                File.Delete(path);
            }
        }
        var component = Host.Compile(bytes);
        JsCompileTime = component.LoadTime;
        Directory.CreateDirectory(directory);
        File.WriteAllBytes(path + ".tmp", component.Serialize());
        File.Move(path + ".tmp", path, overwrite: true);
        return component;
    }

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
