using System.Security.Cryptography;
using Platform.Runtime;
using Platform.Testing;

namespace Platform.Runtime.Tests.Integration;

/// <summary>
/// One real Wasmtime engine (pooling allocator, 10 ms epoch) shared by the integration tests, as the router
/// shares one per process.
/// </summary>
public sealed class RuntimeFixture : IDisposable
{
    public RuntimeFixture()
    {
        Host = new WasmEngineHost(new WasmRuntimeOptions { PoolMaxInstances = 400 });
        Cache = new ModuleCache(Host);
        Executor = new WagiExecutor(Host);
    }

    public WasmEngineHost Host { get; }
    public ModuleCache Cache { get; }
    public WagiExecutor Executor { get; }

    public static string DigestOf(byte[] bytes) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>Compiles (once) and returns a test app from tests/apps/out.</summary>
    public CachedModule Load(string app)
    {
        var bytes = TestApps.Bytes(app);
        return Cache.GetAsync(DigestOf(bytes), _ => Task.FromResult(bytes), CancellationToken.None).AsTask().GetAwaiter().GetResult();
    }

    public void Dispose()
    {
        Executor.Dispose();
        Cache.Dispose();
        Host.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class RuntimeCollection : ICollectionFixture<RuntimeFixture>
{
    public const string Name = "Wasmtime runtime";
}
