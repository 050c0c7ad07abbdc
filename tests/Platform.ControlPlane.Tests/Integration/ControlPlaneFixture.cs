using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Platform.Testing;

namespace Platform.ControlPlane.Tests.Integration;

/// <summary>
/// The control plane hosted in-process against a real throwaway PostgreSQL cluster and a real docker-registry.
/// Migrations run at start, exactly as a single-replica deployment does.
/// </summary>
public sealed class ControlPlaneFixture : IAsyncLifetime
{
    public const string AdminKey = "test-admin-key-0123456789abcdef";
    public const string RouterToken = "test-router-token-0123456789abcdef";

    public PostgresServer Postgres { get; private set; } = null!;
    public RegistryServer Registry { get; private set; } = null!;
    public string ConnectionString { get; private set; } = "";
    public WebApplicationFactory<Program> Factory { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Postgres = await PostgresServer.StartAsync();
        ConnectionString = await Postgres.CreateDatabaseAsync();
        Registry = await RegistryServer.StartNewAsync();
        Factory = CreateFactory();
        // Starting the host applies the migrations.
        using var client = Factory.CreateClient();
        (await client.GetAsync("/healthz")).EnsureSuccessStatusCode();
    }

    /// <summary>A control plane on the shared database and registry, with extra settings for one test.</summary>
    public WebApplicationFactory<Program> CreateFactory(IReadOnlyDictionary<string, string>? settings = null) =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseEnvironment("Development");
            b.UseSetting("Platform:Database:ConnectionString", ConnectionString);
            b.UseSetting("Platform:Database:MigrateOnStart", "true");
            b.UseSetting("Platform:Registry:Url", Registry.Url);
            b.UseSetting("Platform:Auth:AdminKey", AdminKey);
            b.UseSetting("Platform:Auth:RouterToken", RouterToken);
            foreach (var (k, v) in settings ?? new Dictionary<string, string>())
            {
                b.UseSetting(k, v);
            }
        });

    public HttpClient CreateClient(string? key = AdminKey, WebApplicationFactory<Program>? factory = null)
    {
        var client = (factory ?? Factory).CreateClient();
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        return client;
    }

    public async Task DisposeAsync()
    {
        await Factory.DisposeAsync();
        await Registry.DisposeAsync();
        await Postgres.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class ControlPlaneCollection : ICollectionFixture<ControlPlaneFixture>
{
    public const string Name = "control plane";
}
