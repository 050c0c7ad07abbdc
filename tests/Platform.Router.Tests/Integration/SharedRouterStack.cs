using Platform.Testing;

namespace Platform.Router.Tests.Integration;

/// <summary>
/// The <see cref="PlatformStack"/> that router tests which stop nothing share (per class, or per collection through
/// <see cref="SharedRouterCollection"/>); tests that stop parts of the platform start a stack of their own.
/// </summary>
public sealed class SharedRouterStack : PlatformStackFixture;

[CollectionDefinition(Name)]
public sealed class SharedRouterCollection : ICollectionFixture<SharedRouterStack>
{
    public const string Name = "shared router stack";
}
