namespace Platform.Runtime;

/// <summary>
/// Compiles, serializes and loads compiled code that is not a core module (wasi:http components, whose host lives in
/// <c>Platform.Runtime.Components</c>), so <see cref="ModuleCache"/> keeps one memory LRU, one disk store and one
/// precompiled-artifact path for both kinds. The digest determines the bytes and so the kind: a cache entry is never
/// asked to be both.
/// </summary>
public interface ICodeLoader
{
    /// <summary>Compiles Wasm bytes; throws when they do not compile (the message says why).</summary>
    IDisposable Compile(string digest, byte[] wasm);

    /// <summary>Loads an artifact made by <see cref="Serialize"/> in an engine with the same fingerprint.</summary>
    IDisposable Deserialize(string digest, byte[] artifact);

    /// <summary>Like <see cref="Deserialize"/>, mapping the file instead of copying it.</summary>
    IDisposable DeserializeFile(string digest, string path);

    byte[] Serialize(IDisposable code);

    /// <summary>Whether an exception from the methods above means "these bytes are unusable" (as opposed to a bug).</summary>
    bool IsLoadFailure(Exception exception);
}
