using Platform.Testing;

namespace Platform.Oci.Tests.Integration;

/// <summary>One real anonymous docker-registry per test class that uses it.</summary>
public sealed class RegistryFixture : IAsyncLifetime
{
    public RegistryServer Registry { get; private set; } = null!;

    public async Task InitializeAsync() => Registry = await RegistryServer.StartNewAsync();

    public async Task DisposeAsync() => await Registry.DisposeAsync();
}
